#!/bin/sh
# Fuzzes PacketParser with libFuzzer and AddressSanitizer.
# Usage: fuzz/run-packet-headers.sh [SECONDS]   (default 60). Crashes land in fuzz/artifacts/.
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/fuzz/artifacts/build"
mkdir -p "$out" "$root/fuzz/artifacts/corpus"
flags="-O -sanitize=fuzzer,address -parse-as-library -wmo"
swiftc $flags -module-name NetworkTypes -emit-module -emit-module-path "$out/NetworkTypes.swiftmodule" \
    -c "$root"/Sources/NetworkTypes/*.swift -o "$out/NetworkTypes.o"
swiftc $flags -module-name PacketHeaders -I "$out" -emit-module -emit-module-path "$out/PacketHeaders.swiftmodule" \
    -c "$root"/Sources/PacketHeaders/*.swift -o "$out/PacketHeaders.o"
swiftc $flags -module-name PacketHeadersFuzz -I "$out" "$root/fuzz/PacketHeadersFuzz.swift" \
    "$out/NetworkTypes.o" "$out/PacketHeaders.o" -o "$out/packet-headers-fuzz"
# New inputs go to the scratch corpus; the committed seed corpus is read only.
"$out/packet-headers-fuzz" -max_total_time="$seconds" -max_len=256 -print_final_stats=1 \
    -artifact_prefix="$root/fuzz/artifacts/" "$root/fuzz/artifacts/corpus" "$root/fuzz/corpus/packet-headers"
