#!/usr/bin/env bash
# Runs the integration tests once more, built without `-C target-cpu=native`: for the
# x86-64-v2 baseline (SSE4.2, no AVX, no FMA), so the kernels take their 8-lane, unfused
# path with the small AVX2-sized micro-tile. Same tests, same tolerances: a user who builds
# without tuning flags gets the same results, only slower.
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTFLAGS="-C target-cpu=x86-64-v2" cargo test --profile ci -p embergrad-tests --target-dir target/portable
