import Foundation
import LinuxSupport

/// Reads a running daemon's `/status` and `/metrics` over its HTTP endpoint, for `tollgate status`.
public struct DaemonStatusClient: Sendable {
    /// The two documents read one after the other.
    public struct Scrape: Sendable {
        /// The `/status` body as received (`tollgate status --output json` passes it on whole, fields this
        /// version does not know included).
        public var statusJSON: String
        /// The `/status` document.
        public var status: StatusReport
        /// The `/metrics` samples.
        public var metrics: PrometheusSamples
        /// When `/metrics` was read (rates divide counter differences by the time between two scrapes).
        public var time: ContinuousClock.Instant
    }

    /// Why the daemon could not be read.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// Nothing answers: connecting, sending or receiving failed (nothing listens, a timeout...).
        case unreachable(SystemError)
        /// The endpoint answered with another status than 200.
        case httpStatus(path: String, status: Int, body: String)
        /// The answer is not a Tollgate document.
        case malformed(path: String, reason: String)

        /// What happened and, when nothing answers, what to check.
        public var description: String {
            switch self {
            case .unreachable(let error):
                return "no Tollgate daemon answers: \(error)\n"
                    + "Is the service running (systemctl status tollgate)? Is --metrics-addr right?"
            case .httpStatus(let path, let status, let body):
                return "GET \(path) answered HTTP \(status): \(body.prefix(200))"
            case .malformed(let path, let reason):
                return "GET \(path): not a Tollgate answer: \(reason)"
            }
        }
    }

    /// The HTTP client the documents are read with.
    public let http: HTTPClient

    /// Creates a client for the endpoint at `address`; `timeout` bounds connecting and each send and receive.
    public init(address: ListenAddress, timeout: Duration) {
        http = HTTPClient(address: address, timeout: timeout, userAgent: "tollgate-status")
    }

    /// Reads `/status`, then `/metrics`.
    ///
    /// - Throws: ``Failure``.
    public func scrape() throws(Failure) -> Scrape {
        let statusJSON = try body("/status")
        let status: StatusReport
        do {
            status = try JSONDecoder().decode(StatusReport.self, from: Data(statusJSON.utf8))
        } catch {
            throw .malformed(path: "/status", reason: Self.describe(error))
        }
        let metrics = PrometheusSamples(parsing: try body("/metrics"))
        return Scrape(statusJSON: statusJSON, status: status, metrics: metrics, time: .now)
    }

    /// The body of a 200 answer to `GET path`.
    private func body(_ path: String) throws(Failure) -> String {
        let response: HTTPResponse
        do {
            response = try http.get(path)
        } catch {
            switch error {
            case .system(let systemError): throw .unreachable(systemError)
            case .malformedResponse(let path, let reason): throw .malformed(path: path, reason: reason)
            case .invalidPath: throw .malformed(path: path, reason: "\(error)")  // not with /status and /metrics
            }
        }
        let text = String(decoding: response.body, as: UTF8.self)
        guard response.status == 200 else { throw .httpStatus(path: path, status: response.status, body: text) }
        return text
    }

    /// A decoding error in a sentence naming the field: `missing field "snapshot.pods"`.
    static func describe(_ error: any Error) -> String {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            (codingPath + (last.map { [$0] } ?? [])).map { key in
                key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)"
            }.joined().drop { $0 == "." }.description  // no leading dot before the first key
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing field \"\(path(context.codingPath, key))\""
        case .typeMismatch(let type, let context)?, .valueNotFound(let type, let context)?:
            return "field \"\(path(context.codingPath))\": expected \(type)"
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty
                ? "invalid JSON" : "field \"\(path(context.codingPath))\": \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
