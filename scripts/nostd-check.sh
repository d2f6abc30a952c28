#!/usr/bin/env bash
# Builds and runs examples/nostd-host: a program that links the embergrad core with neither
# std nor libc, trains XOR, and exits 0 only if the network learned it. A dependency that
# pulled std in would make the link fail (duplicate `panic_impl`).
set -euo pipefail
cd "$(dirname "$0")/../examples/nostd-host"
cargo build --release --quiet
binary=target/x86_64-unknown-linux-gnu/release/nostd-host
"$binary"
echo "no_std host check: passed (exit status 0)"
