/// The number of an NFQUEUE queue (0–65535), as named by `--queue-num` in the NFQUEUE target.
public struct QueueNumber: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The queue number.
    public var rawValue: UInt16

    /// Creates a queue number.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Creates a queue number from an integer literal-like value.
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static func < (lhs: QueueNumber, rhs: QueueNumber) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }
}
