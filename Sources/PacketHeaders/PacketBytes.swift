/// A bounds-checked, big-endian view of packet bytes: every read returns `nil` when it would cross ``end``.
///
/// It never traps on short input and never allocates; it only reads through the caller's buffer.
@usableFromInline
@frozen
struct PacketBytes {
    @usableFromInline
    let bytes: UnsafeRawBufferPointer
    /// The first offset that must not be read; never beyond `bytes.count`.
    @usableFromInline
    var end: Int

    @inlinable
    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.end = bytes.count
    }

    /// Lowers the readable end to `length` bytes when the header declares fewer bytes than were delivered.
    @inlinable
    mutating func limit(to length: Int) {
        if length >= 0 && length < end { end = length }
    }

    @inlinable
    func u8(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < end else { return nil }
        return bytes.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inlinable
    func u16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset <= end - 2 else { return nil }
        return UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable
    func u32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= end - 4 else { return nil }
        return UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable
    func u128(at offset: Int) -> UInt128? {
        guard offset >= 0, offset <= end - 16 else { return nil }
        let high = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        return UInt128(high) << 64 | UInt128(low)
    }
}
