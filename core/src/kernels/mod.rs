//! SIMD building blocks on plain slices: vector operations, activations, and the three
//! matrix products of a dense layer with the blocked GEMM behind them.
//!
//! The kernels are written with `wide`'s vector types through [`simd`](self) (16 lanes with
//! AVX-512, 8 with other SIMD units, 4 scalar lanes without). The scalar autodiff graph
//! (`graph`) and the custom-activation path use `wide::f32x8` as well, as a lane type for
//! evaluating eight samples at once; everything performance-tuned is here.
//!
//! Kernels take slices whose lengths the caller (the `nn` and `optim` modules) has already
//! checked; they only `debug_assert!` them. They never allocate.
//!
//! Which path a product takes (blocked GEMM, strips or direct loops, and inside the GEMM how
//! each operand is read) is decided by the rules and sizes in one table, `tuning.rs`;
//! `docs/TUNING.md` gives the measurements behind them. With the `bench-internals` feature,
//! `internals` exposes that table, the direct loops and the scalar references to
//! benchmarks and tests; with `kernel-paths` it also counts the paths taken.

mod lanes;
mod layout;
mod levels;
mod paths;
#[cfg(any(test, feature = "bench-internals"))]
mod reference;
pub(crate) mod simd;
#[cfg(target_arch = "x86_64")]
pub(crate) mod simd_x86;
mod tuning;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod portable;

use levels::dispatch;

pub use lanes::{ElementFunction, ElementUpdate, Lanes};
#[cfg(feature = "alloc")]
pub(crate) use layout::{floats_to_line, LINE_FLOATS};
/// The portable level's vector, which the per-sample path (`nn/sample.rs`) runs its
/// activations on, with its width and loads.
pub(crate) use simd::{HAS_SIMD, LANES as SAMPLE_LANES};
pub(crate) mod sample_lanes {
    pub(crate) use super::simd::{load, store};
}
pub use layout::{forward_scratch_len, gemm_scratch_len, product_scratch_len, MatRef};
pub use levels::{set_simd_level, simd_level, SimdLevel, UnsupportedSimdLevel};

/// `C = A·B` (or `C += A·B` with `accumulate`), with A `m × k`, B `k × n` (strided views)
/// and C row-major `m × n` in `c[..m·n]`: the cache-blocked, register-tiled product the
/// layer products use. `scratch` needs [`gemm_scratch_len`]`(m, n, k)` elements.
#[allow(clippy::too_many_arguments)] // the BLAS-style signature: three shapes, three matrices, scratch
pub fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [f32],
    accumulate: bool,
    scratch: &mut [f32],
) {
    dispatch!(gemm::gemm(m, n, k, a, b, c, accumulate, scratch))
}

/// A dense layer's forward product `c[m, n] = a[m, k] · b[n, k]ᵀ + bias[n]` (inputs times
/// the transposed `[out, in]` weights, every row of `c` plus the bias). `scratch` needs
/// [`forward_scratch_len`]`(m, n, k)` elements.
#[allow(clippy::too_many_arguments)] // shapes, operands and scratch, BLAS style
pub fn matmul_a_bt_bias(
    a: &[f32],
    b: &[f32],
    bias: &[f32],
    c: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
    scratch: &mut [f32],
) {
    dispatch!(products::matmul_a_bt_bias(a, b, bias, c, m, k, n, scratch))
}

/// `c[m, n] = a[m, k] · b[k, n]` (overwrites `c`), a layer's input gradient `dZ·W`.
/// `scratch` needs [`product_scratch_len`]`(m, n, k)` elements.
pub fn matmul_a_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, scratch: &mut [f32]) {
    dispatch!(products::matmul_a_b(a, b, c, m, k, n, scratch))
}

/// `c[k, n] = a[m, k]ᵀ · b[m, n]` (overwrites `c`), a layer's weight gradient `dZᵀ·X`.
/// `scratch` needs [`product_scratch_len`]`(k, n, m)` elements.
pub fn matmul_at_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, scratch: &mut [f32]) {
    dispatch!(products::matmul_at_b(a, b, c, m, k, n, scratch))
}

/// `dst[j·rows + i] = src[i·cols + j] + offsets[i]`: the transpose of a row-major
/// `rows × cols` matrix, row `i` shifted by `offsets[i]` (see `kernels/transpose.rs`).
pub(crate) fn transpose_with_row_offsets(src: &[f32], rows: usize, cols: usize, offsets: &[f32], dst: &mut [f32]) {
    dispatch!(transpose::transpose_with_row_offsets(src, rows, cols, offsets, dst))
}

/// Dot product `Σ a[i]·b[i]` over the common length.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    dispatch!(vector::dot(a, b))
}

/// `y[i] += alpha · x[i]` over the common length.
pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    dispatch!(vector::axpy(y, alpha, x))
}

/// `y[i] *= alpha`.
pub fn scale(y: &mut [f32], alpha: f32) {
    dispatch!(vector::scale(y, alpha))
}

/// `Σ x[i]`.
pub fn sum(x: &[f32]) -> f32 {
    dispatch!(vector::sum(x))
}

/// `F`'s value in place over a slice, on the vectors of the level in use (see
/// [`ElementFunction`]).
pub fn apply_function<F: ElementFunction>(values: &mut [f32]) {
    dispatch!(elementwise::apply_function::<F>(values))
}

/// `F`'s derivative at each value into `derivatives[..values.len()]`, then `F`'s value in
/// place over `values`. Panics if `derivatives` is shorter than `values`.
pub fn apply_function_and_derivative<F: ElementFunction>(values: &mut [f32], derivatives: &mut [f32]) {
    dispatch!(elementwise::apply_function_and_derivative::<F>(values, derivatives))
}

/// Multiplies every `grads[i]` by `F`'s derivative at `arguments[i]`, over the common length.
pub fn scale_by_derivative<F: ElementFunction>(arguments: &[f32], grads: &mut [f32]) {
    dispatch!(elementwise::scale_by_derivative::<F>(arguments, grads))
}

/// Multiplies every `grads[i]` by `factors[i]`, over the common length.
pub fn multiply(factors: &[f32], grads: &mut [f32]) {
    dispatch!(elementwise::multiply(factors, grads))
}

/// `e^x` in place over a slice.
pub fn exp_slice(values: &mut [f32]) {
    dispatch!(elementwise::exp_slice(values))
}

/// Largest value of a slice (`-inf` for an empty one; NaN if any value is NaN).
pub fn max(values: &[f32]) -> f32 {
    dispatch!(elementwise::max(values))
}

/// `ln Σ e^x` of a row, computed as `m + ln Σ e^(x - m)` with `m` the row's maximum, so no
/// exponential overflows. NaN in, NaN out; `-inf` for an empty row.
pub fn log_sum_exp(row: &[f32]) -> f32 {
    dispatch!(elementwise::log_sum_exp(row))
}

/// Replaces a row by its softmax, `e^(x - lse)` with `lse` = [`log_sum_exp`] of the row;
/// returns `lse`.
pub fn softmax_in_place(row: &mut [f32]) -> f32 {
    dispatch!(elementwise::softmax_in_place(row))
}

/// Runs `rule` over every parameter: on SIMD vectors of the level in use, and on the scalar
/// tail. `states` are `S` buffers of `params.len()` values each.
pub fn run_update<U: ElementUpdate<S>, const S: usize>(
    rule: &U,
    params: &mut [f32],
    grads: &[f32],
    states: [&mut [f32]; S],
) {
    dispatch!(update::run_update(rule, params, grads, states))
}

/// Kernel internals for benchmarks and tests, not API: the tuning table, the paths a product
/// can take, the direct loops the dispatchers choose between, and the scalar references.
/// Present only with the `bench-internals` feature; anything here may change at any time.
#[cfg(feature = "bench-internals")]
pub mod internals {
    pub use super::paths::KernelPath;
    #[cfg(feature = "kernel-paths")]
    pub use super::paths::{counts, reset};

    /// The forward product's transpose with the bias added, at the level in use (see
    /// `kernels/transpose.rs`).
    pub fn transpose_with_row_offsets(src: &[f32], rows: usize, cols: usize, offsets: &[f32], dst: &mut [f32]) {
        super::transpose_with_row_offsets(src, rows, cols, offsets, dst)
    }

    /// The direct (unblocked) path of `matmul_a_bt_bias`, at the level in use.
    pub fn direct_a_bt_bias(a: &[f32], b: &[f32], bias: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
        super::dispatch!(products::direct_a_bt_bias(a, b, bias, c, m, k, n))
    }

    /// The direct (unblocked) path of `matmul_a_b`, at the level in use.
    pub fn direct_a_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
        super::dispatch!(products::direct_a_b(a, b, c, m, k, n))
    }

    /// The direct (unblocked) path of `matmul_at_b`, at the level in use.
    pub fn direct_at_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
        super::dispatch!(products::direct_at_b(a, b, c, m, k, n))
    }

    /// Runs `iters` rounds of 12 independent FMA chains at the level in use and returns the
    /// flops done: the peak the benchmarks measure every other figure against.
    pub fn fma_peak(iters: u64) -> u64 {
        super::dispatch!(vector::fma_peak(iters))
    }

    /// Plain scalar twins of the optimized kernels (see `kernels/reference.rs`).
    pub mod reference {
        pub use crate::kernels::reference::*;
    }

    /// When the split pass cuts a product into pieces (see `nn/split.rs`).
    pub mod split {
        pub use crate::nn::split::{MAX_PIECES, MIN_PIECE_ROWS, MIN_SPLIT_WORK};
    }

    /// The kernels' block sizes, thresholds and path rules (see `kernels/tuning.rs`).
    pub mod tuning {
        pub use crate::kernels::tuning::*;
    }
}
