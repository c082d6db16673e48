/// Why the network-namespace harness could not set something up.
public enum NetworkNamespaceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A command ran and exited unsuccessfully.
    case commandFailed(command: [String], exitStatus: Int32, standardError: String)
    /// A command could not be started: the system call and its `errno`.
    case couldNotRun(command: [String], call: String, errno: Int32)
    /// A caller passed something the harness cannot use (an unparsable address, a duplicate pod name).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .commandFailed(let command, let status, let standardError):
            return "`\(command.joined(separator: " "))` exited with status \(status): \(standardError)"
        case .couldNotRun(let command, let call, let errno):
            return "could not run `\(command.joined(separator: " "))`: \(call) failed with errno \(errno)"
        case .invalidArgument(let message):
            return message
        }
    }
}
