#!/usr/bin/env bash
# Runs the integration tests again in the builds a user without `-C target-cpu=native` gets,
# since the kernels' vector width, tile sizes and paths differ per instruction set:
# - the x86-64 baseline (SSE2: no AVX, no FMA), what `cargo add embergrad` gives today: the
#   whole suite, same tests and tolerances (the same results, only slower);
# - x86-64-v3 (AVX2 + FMA): the kernel tests, among them the kernel-path coverage test,
#   whose set of paths differs again from the AVX-512 and SSE2 builds.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "--- tests built for the x86-64 baseline (SSE2)"
RUSTFLAGS="-C target-cpu=x86-64" cargo test --profile ci -p embergrad-tests --target-dir target/portable
echo "--- kernel tests built for x86-64-v3 (AVX2 + FMA)"
RUSTFLAGS="-C target-cpu=x86-64-v3" cargo test --profile ci -p embergrad-tests --target-dir target/x86-64-v3 \
  --test kernel_paths --test kernels_vs_reference --test gradients_vs_finite_differences --test math_vs_libm
