/// Why the daemon could not start or had to stop, with the place in the code that said so.
public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case invalidConfiguration = "invalid configuration"
        case queueUnavailable = "queue unavailable"
        case rulesFailed = "kernel rules failed"
        case endpointUnavailable = "metrics endpoint unavailable"
        case systemFailure = "system failure"
    }

    public let code: Code
    public let message: String
    public let file: String
    public let line: Int

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
