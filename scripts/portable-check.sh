#!/usr/bin/env bash
# Runs the integration tests again at the SIMD levels the main run did not use. The main run
# (`cargo test --workspace`) picks the best level the CPU has (AVX-512 on the project's
# machines); the same tests and tolerances must hold at every level, since a user's CPU may
# have less:
# - EMBERGRAD_SIMD=baseline: the portable level, which in a default build is SSE2 (no AVX,
#   no FMA), what runs on any x86-64;
# - EMBERGRAD_SIMD=avx2: AVX2 + FMA, where the CPU has them;
# - the kernel tests built with `-C target-cpu=x86-64-v3`, where the portable level itself is
#   `wide`'s AVX2 code (what a user who sets that flag gets); kernel_paths there covers every
#   path of every level again.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "--- tests at the baseline level (EMBERGRAD_SIMD=baseline)"
EMBERGRAD_SIMD=baseline cargo test --profile ci -p embergrad-tests
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  echo "--- tests at the AVX2 level (EMBERGRAD_SIMD=avx2)"
  EMBERGRAD_SIMD=avx2 cargo test --profile ci -p embergrad-tests
else
  echo "--- this CPU has no AVX2 + FMA: the AVX2 level is not tested here"
fi
echo "--- kernel tests built for x86-64-v3"
RUSTFLAGS="-C target-cpu=x86-64-v3" cargo test --profile ci -p embergrad-tests --target-dir target/x86-64-v3 \
  --test kernel_paths --test kernels_vs_reference --test gradients_vs_finite_differences --test math_vs_libm
