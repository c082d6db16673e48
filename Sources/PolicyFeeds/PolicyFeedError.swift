/// A problem with a policy feed's configuration or its connection, said so that the operator can act on it.
public struct PolicyFeedError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, in kinds a caller may act on.
    public enum Code: String, Sendable, Hashable {
        /// The kubeconfig or the in-cluster environment is missing, unreadable or incomplete.
        case configuration
        /// The API server could not be reached, or the connection broke.
        case connection
        /// The API server refused the credentials (HTTP 401) or the permission (HTTP 403).
        case unauthorized
        /// The resource version asked for is too old (HTTP 410 Gone): list again.
        case expired
        /// The API server does not serve the resource (HTTP 404), such as AdminNetworkPolicy without its CRD.
        case notServed
        /// Any other HTTP status, or a response that is not what the API sends.
        case response
    }

    /// The kind of failure.
    public var code: Code
    /// The file, URL or object concerned and what is wrong.
    public var message: String

    /// A failure of kind `code`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
