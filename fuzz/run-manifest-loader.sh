#!/bin/sh
# Fuzzes ManifestLoader (and, for inputs that load, PolicyCompiler against ReferenceEvaluator) with libFuzzer and
# AddressSanitizer.
#
# Usage: fuzz/run-manifest-loader.sh [SECONDS]   (default 60)
#
# Builds NetworkTypes, Yams (its C target CYaml with clang, its Swift sources with swiftc), PolicyModel and
# VerdictEngine straight from their sources with -sanitize=fuzzer,address, links them with
# fuzz/ManifestLoaderFuzz.swift, then runs over the seed corpus fuzz/corpus/manifest-loader/ (read only; new
# inputs go to fuzz/artifacts/manifest-loader/corpus). Crashing inputs are written to fuzz/crashes/ as
# manifest-loader-crash-<sha1> (or leak-, timeout-, oom-); replay one with
#   fuzz/artifacts/manifest-loader/build/manifest-loader-fuzz fuzz/crashes/<file>
#
# Yams comes from the package's own checkout: the newest .build*/checkouts/Yams whose commit is the one pinned in
# Package.resolved (any checkout when none matches), or else a fresh `swift package resolve` into
# .build-fuzz-manifest. Set YAMS_DIR to a Yams checkout to override.
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/fuzz/artifacts/manifest-loader"
out="$work/build"
crashes="$root/fuzz/crashes"
mkdir -p "$out" "$work/corpus" "$crashes"

# --- Find Yams -------------------------------------------------------------------------------------------------
pinned=$(sed -n '/"identity" *: *"yams"/,/}/s/.*"revision" *: *"\([0-9a-f]*\)".*/\1/p' "$root/Package.resolved" \
    2>/dev/null | head -n 1)
find_yams() {
    fallback=""
    for dir in "$root"/.build*/checkouts/Yams "$root"/.build*/checkouts/yams; do
        [ -d "$dir/Sources/Yams" ] && [ -d "$dir/Sources/CYaml/src" ] || continue
        head=$(git -C "$dir" rev-parse HEAD 2>/dev/null || true)
        if [ -n "$pinned" ] && [ "$head" = "$pinned" ]; then
            echo "$dir"
            return 0
        fi
        [ -n "$fallback" ] || fallback="$dir"
    done
    [ -n "$fallback" ] && echo "$fallback"
    return 0
}
yams=${YAMS_DIR:-$(find_yams)}
if [ -z "$yams" ]; then
    echo "no Yams checkout found; resolving packages into .build-fuzz-manifest" >&2
    (cd "$root" && swift package resolve --scratch-path "$root/.build-fuzz-manifest")
    yams=$(find_yams)
fi
if [ -z "$yams" ] || [ ! -d "$yams/Sources/CYaml/include" ]; then
    echo "error: cannot find the Yams sources (set YAMS_DIR)" >&2
    exit 1
fi
echo "using Yams from $yams${pinned:+ (pinned $pinned)}" >&2

# --- Build -----------------------------------------------------------------------------------------------------
clang_bin=$(dirname "$(command -v swiftc)")/clang
[ -x "$clang_bin" ] || clang_bin=clang
cyaml="$yams/Sources/CYaml"
flags="-O -sanitize=fuzzer,address -parse-as-library -wmo"
# Yams imports CYaml only when built as a package (SWIFT_PACKAGE); CYaml's headers want YAML_DECLARE_STATIC.
yaml_flags="-DSWIFT_PACKAGE -I $cyaml/include -Xcc -DYAML_DECLARE_STATIC"

cyaml_objects=""
for source in "$cyaml"/src/*.c; do
    object="$out/cyaml-$(basename "$source" .c).o"
    "$clang_bin" -O1 -g -fsanitize=fuzzer-no-link,address -DYAML_DECLARE_STATIC \
        -I "$cyaml/include" -I "$cyaml/src" -c "$source" -o "$object"
    cyaml_objects="$cyaml_objects $object"
done
# shellcheck disable=SC2086 # word splitting of the flag lists is intended
swiftc $flags $yaml_flags -module-name Yams -emit-module -emit-module-path "$out/Yams.swiftmodule" \
    -c "$yams"/Sources/Yams/*.swift -o "$out/Yams.o"
# shellcheck disable=SC2086
swiftc $flags -module-name NetworkTypes -emit-module -emit-module-path "$out/NetworkTypes.swiftmodule" \
    -c "$root"/Sources/NetworkTypes/*.swift -o "$out/NetworkTypes.o"
# shellcheck disable=SC2086
swiftc $flags $yaml_flags -module-name PolicyModel -I "$out" -emit-module \
    -emit-module-path "$out/PolicyModel.swiftmodule" \
    -c "$root"/Sources/PolicyModel/*.swift -o "$out/PolicyModel.o"
# shellcheck disable=SC2086
swiftc $flags $yaml_flags -module-name VerdictEngine -I "$out" -emit-module \
    -emit-module-path "$out/VerdictEngine.swiftmodule" \
    -c "$root"/Sources/VerdictEngine/*.swift -o "$out/VerdictEngine.o"
# shellcheck disable=SC2086
swiftc $flags $yaml_flags -module-name ManifestLoaderFuzz -I "$out" "$root/fuzz/ManifestLoaderFuzz.swift" \
    "$out/NetworkTypes.o" "$out/Yams.o" $cyaml_objects "$out/PolicyModel.o" "$out/VerdictEngine.o" \
    -o "$out/manifest-loader-fuzz"

# --- Run -------------------------------------------------------------------------------------------------------
# The dictionary teaches the fuzzer the keys, kinds and values a manifest uses.
cat >"$work/manifest.dict" <<'EOF'
"apiVersion: "
"kind: "
"metadata:"
"name: "
"namespace: "
"labels:"
"spec:"
"status:"
"podSelector:"
"namespaceSelector:"
"matchLabels:"
"matchExpressions:"
"operator: "
"values:"
"key: "
"policyTypes:"
"ingress:"
"egress:"
"from:"
"to:"
"ipBlock:"
"cidr: "
"except:"
"ports:"
"port: "
"endPort: "
"protocol: "
"containers:"
"initContainers:"
"restartPolicy: Always"
"containerPort: "
"hostNetwork: true"
"podIP: "
"podIPs:"
"ip: "
"phase: "
"items:"
"v1"
"networking.k8s.io/v1"
"Namespace"
"Pod"
"NetworkPolicy"
"List"
"PodList"
"Ingress"
"Egress"
"In"
"NotIn"
"Exists"
"DoesNotExist"
"TCP"
"UDP"
"SCTP"
"Running"
"Succeeded"
"Failed"
"10.0.0.0/8"
"10.0.0.1"
"fd00::1"
"::/0"
"0.0.0.0/0"
"---"
"- "
"{}"
"[]"
"&a "
"*a"
"!!str "
"null"
"~"
EOF
# Manifests are small; 16 KiB leaves room for Lists of many objects.
status=0
"$out/manifest-loader-fuzz" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$work/manifest.dict" \
    -artifact_prefix="$crashes/manifest-loader-" "$work/corpus" "$root/fuzz/corpus/manifest-loader" || status=$?
if [ "$status" -ne 0 ]; then
    echo "the fuzzer stopped with status $status; reproducers are in $crashes" >&2
fi
exit "$status"
