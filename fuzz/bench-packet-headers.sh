#!/bin/sh
# Micro-benchmark of PacketParser.parse across a module boundary (as the datapath calls it), release build.
# Usage: fuzz/bench-packet-headers.sh [MILLIONS]   (default 10 million parses over a mix of IPv4/IPv6 packets)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/fuzz/artifacts/bench"
mkdir -p "$out"
flags="-O -parse-as-library -wmo"
swiftc $flags -module-name NetworkTypes -emit-module -emit-module-path "$out/NetworkTypes.swiftmodule" \
    -c "$root"/Sources/NetworkTypes/*.swift -o "$out/NetworkTypes.o"
swiftc $flags -module-name PacketHeaders -I "$out" -emit-module -emit-module-path "$out/PacketHeaders.swiftmodule" \
    -c "$root"/Sources/PacketHeaders/*.swift -o "$out/PacketHeaders.o"
cat > "$out/main.swift" <<'SWIFT'
import NetworkTypes
import PacketHeaders

@main enum Bench {
    static func main() {
        let millions = Int(CommandLine.arguments.dropFirst().first ?? "10") ?? 10
        // IPv4 TCP SYN with options, IPv4 UDP, IPv6 TCP SYN, IPv6 Hop-by-Hop + UDP (the test fixtures' layouts).
        let packets: [[UInt8]] = [
            [0x45, 0, 0, 0x3c, 0x70, 0x82, 0x40, 0, 0x40, 6, 0xcc, 0x37, 127, 0, 0, 1, 127, 0, 0, 1,
             0xa4, 0x7a, 0x1f, 0x90] + Array(repeating: 0, count: 36),
            [0x45, 0, 0, 0x21, 0xd9, 0xbb, 0x40, 0, 0x40, 0x11, 0x63, 0x0e, 127, 0, 0, 1, 127, 0, 0, 1,
             0xce, 0x32, 0x14, 0xe9, 0, 0x0d, 0xfe, 0x20, 0x68, 0x65, 0x6c, 0x6c, 0x6f],
            [0x60, 2, 0xd4, 0x5f, 0, 0x28, 6, 0x40] + Array(repeating: 0, count: 15) + [1]
                + Array(repeating: 0, count: 15) + [1] + [0xb6, 0xee, 0x1f, 0x90] + Array(repeating: 0, count: 36),
            [0x60, 0, 0, 0, 0, 0x10, 0, 0x40] + Array(repeating: 0, count: 15) + [1]
                + Array(repeating: 0, count: 15) + [2] + [17, 0, 1, 4, 0, 0, 0, 0, 0x03, 0xe8, 0, 0x35, 0, 8, 0, 0],
        ]
        let buffers = packets.map { bytes -> UnsafeRawBufferPointer in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
            buffer.copyBytes(from: bytes)
            return UnsafeRawBufferPointer(buffer)
        }
        let iterations = millions * 1_000_000
        var checksum = 0
        let clock = ContinuousClock()
        let start = clock.now
        for index in 0..<iterations {
            do throws(PacketParseError) {
                let key = try PacketParser.parse(buffers[index & 3])
                checksum &+= Int(key.destinationPort) &+ Int(key.transport.rawValue)
            } catch {
                checksum &-= 1
            }
        }
        let elapsed = (clock.now - start).components
        let nanoseconds = Double(elapsed.seconds) * 1e9 + Double(elapsed.attoseconds) / 1e9
        print("parsed \(iterations) packets: \(nanoseconds / Double(iterations)) ns/packet (checksum \(checksum))")
    }
}
SWIFT
swiftc $flags -module-name PacketHeadersBench -I "$out" "$out/main.swift" "$out/NetworkTypes.o" "$out/PacketHeaders.o" \
    -o "$out/packet-headers-bench"
"$out/packet-headers-bench" "${1:-10}"
