// libFuzzer entry point for PacketParser: any byte string must parse to a key or a PacketParseError, never trap or
// read out of bounds (AddressSanitizer watches every read), and a key must be consistent with the bytes.
// Built and run by fuzz/run-packet-headers.sh.
import NetworkTypes
import PacketHeaders

@_cdecl("LLVMFuzzerTestOneInput")
public func packetHeadersFuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // Copy into an exactly-sized allocation so ASan flags a read one byte past the end.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
    defer { buffer.deallocate() }
    if size > 0 { buffer.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }
    do throws(PacketParseError) {
        let key = try PacketParser.parse(UnsafeRawBufferPointer(buffer))
        let version = buffer[0] >> 4
        precondition(key.source.family == key.destination.family, "mixed families")
        precondition((version == 4) == (key.source.family == .ipv4), "family does not match the version nibble")
        if !key.transport.hasPorts { precondition(key.sourcePort == 0 && key.destinationPort == 0, "ports without ports") }
        if key.transport != .icmp && key.transport != .icmpv6 { precondition(key.icmpType == 0, "ICMP type on non-ICMP") }
    } catch {
        _ = error.description
    }
    return 0
}
