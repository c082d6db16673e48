/// Why rendering, detecting, installing or removing Tollgate's kernel rules failed.
public enum KernelRulesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration cannot be rendered (an empty or overflowing queue range, a prefix of the wrong family).
    case invalidConfiguration(String)
    /// A command ran and exited unsuccessfully.
    case commandFailed(command: [String], exitStatus: Int32, standardError: String)
    /// A command could not be started or supervised: the system call and its `errno`.
    case couldNotRun(command: [String], call: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message):
            return "invalid rule configuration: \(message)"
        case .commandFailed(let command, let status, let standardError):
            let detail = standardError.trimmingTrailingWhitespace
            return "`\(command.joined(separator: " "))` exited with status \(status): \(detail)"
        case .couldNotRun(let command, let call, let errno):
            return "could not run `\(command.joined(separator: " "))`: \(call) failed with errno \(errno)"
        }
    }
}

extension String {
    /// The string without trailing spaces and newlines.
    var trimmingTrailingWhitespace: String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\n" || last == "\t" || last == "\r" {
            text = text.dropLast()
        }
        return String(text)
    }
}
