#!/bin/sh
# Builds the NFQUEUE floor reader into bench/out/nfq_floor (needs libnetfilter-queue-dev).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../out"
mkdir -p "$out"
gcc -O2 -Wall -Wextra -o "$out/nfq_floor" "$here/nfq_floor.c" $(pkg-config --cflags --libs libnetfilter_queue)
echo "built $out/nfq_floor"
