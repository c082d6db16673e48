import LinuxSupport

/// Why a configuration file (or the configuration it resolves to with flags) was rejected: every problem found,
/// each naming the key, the line and the offending value. Nothing touches the kernel once this is thrown.
public struct ConfigurationFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One rejected key or value.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The line in the file (1-based), or nil when the problem has no place in the file (a flag, a read error).
        public var line: Int?
        /// The key, with an index for list items (`podCIDRs[1]`); a flag such as `--pod-cidr`; empty for the file.
        public var key: String
        /// What is wrong.
        public var message: String
        /// The rejected value as written, or nil.
        public var value: String?

        /// Creates a problem record.
        public init(line: Int?, key: String, message: String, value: String? = nil) {
            self.line = line
            self.key = key
            self.message = message
            self.value = value
        }

        /// `"podCIDRs[1]: not a valid CIDR (expected ADDRESS/LENGTH): \"10.0.0.300/8\""`, without the location.
        public var description: String {
            var text = key.isEmpty ? message : "\(key): \(message)"
            if let value { text += ": \"\(value)\"" }
            return text
        }
    }

    /// The file the problems are in; empty when no file was read (the problems come from flags alone).
    public var path: String
    /// Every problem, in file order.
    public var problems: [Problem]

    /// Creates an error.
    public init(path: String, problems: [Problem]) {
        self.path = path
        self.problems = problems
    }

    /// Creates an error for a file that could not be read at all.
    public init(path: String, readFailure: SystemError) {
        self.init(path: path, problems: [Problem(line: nil, key: "", message: "\(readFailure)")])
    }

    /// One line per problem: `PATH:LINE: KEY: MESSAGE: "VALUE"` (`KEY: MESSAGE: "VALUE"` without a file).
    public var description: String {
        problems.map { problem in
            if path.isEmpty { return "\(problem)" }
            let location = problem.line.map { "\(path):\($0)" } ?? path
            return "\(location): \(problem)"
        }.joined(separator: "\n")
    }

    /// The same failure as the daemon's error type, for callers that report ``DaemonError``.
    public var daemonError: DaemonError {
        DaemonError(.invalidConfiguration, description)
    }
}
