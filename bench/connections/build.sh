#!/bin/sh
# Builds the connection benchmark's load generator and server into bench/out/ (plain gcc, no extra libraries).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../out"
mkdir -p "$out"
for program in loadgen server; do
    gcc -O2 -Wall -Wextra -pthread -o "$out/$program" "$here/$program.c"
done
echo "built $out/loadgen $out/server"
