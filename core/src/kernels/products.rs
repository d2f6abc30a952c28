//! The three matrix products a dense layer needs, on row-major slices.
//!
//! With `X` the batch of inputs `[batch, n_in]`, `W` the weights `[n_out, n_in]` (PyTorch's
//! `Linear` layout) and `dZ` the gradient at the layer's pre-activation `[batch, n_out]`:
//! - forward  `Y  = X·Wᵀ + b`   ([`matmul_a_bt_bias`]);
//! - backward `dX = dZ·W`       ([`matmul_a_b`]);
//! - backward `dW = dZᵀ·X`      ([`matmul_at_b`]).
//!
//! Compiled once per instruction-set level (`levels.rs`), like `gemm.rs`. Each picks its
//! path by size: the packed, blocked [`gemm`] for products large in every
//! dimension ([`uses_packing`]); one-vector strips (`strips.rs`) for a forward product with
//! at most one vector of outputs and, with AVX-512, an input gradient at most
//! `SHALLOW_MAX_DEPTH` deep; or direct loops over contiguous rows
//! (dot products or axpys) when a dimension is small. Packing copies `O(k·(m + n))` values
//! to save work on `O(m·n·k)` multiply-adds, so it loses when any of m, n, k is small, e.g.
//! batch 1 on a device, where the direct loops are the matrix-vector products they should be.

use super::gemm::gemm;
use super::simd::{load, store, Vector, HAS_SIMD, LANES, TILES};
use super::strips::{narrow_a_bt_bias, shallow_a_b};
use super::transpose::transpose_with_row_offsets;
use super::vector::{axpy, dot};
use crate::kernels::layout::{forward_scratch_len, MatRef};
use crate::kernels::paths::{record, KernelPath};
use crate::kernels::tuning::{forward_transposes, takes_shallow, uses_packing, DIRECT_ROW_VECTORS};

/// `c[m, n] = a[m, k] · b[n, k]ᵀ + bias[n]` (every row of `c` gets `bias` added). `scratch`
/// needs [`forward_scratch_len`]`(m, n, k)` elements.
#[allow(clippy::too_many_arguments)] // shapes, operands and scratch, BLAS style
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn matmul_a_bt_bias(
    a: &[f32],
    b: &[f32],
    bias: &[f32],
    c: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
    scratch: &mut [f32],
) {
    debug_assert!(a.len() >= m * k && b.len() >= n * k && bias.len() >= n && c.len() >= m * n);
    debug_assert!(scratch.len() >= forward_scratch_len(m, n, k));
    if !uses_packing(m, n, k) {
        record(KernelPath::ForwardDirect);
        direct_a_bt_bias(a, b, bias, c, m, k, n);
    } else if n <= LANES {
        record(KernelPath::ForwardNarrow);
        narrow_a_bt_bias(a, b, bias, c, m, k, n, scratch);
    } else if forward_transposes(TILES, m, n) {
        record(KernelPath::ForwardTransposed);
        let (c_t, scratch) = scratch.split_at_mut(m * n);
        gemm(n, m, k, MatRef::row_major(b, k), MatRef::transposed(a, k), c_t, false, scratch);
        // Row j of cᵀ gets bias[j] on its way into column j of c.
        transpose_with_row_offsets(c_t, n, m, bias, c);
    } else {
        record(KernelPath::ForwardGemm);
        for c_row in c.chunks_exact_mut(n).take(m) {
            c_row.copy_from_slice(&bias[..n]);
        }
        gemm(m, n, k, MatRef::row_major(a, k), MatRef::transposed(b, k), c, true, scratch);
    }
}

/// The unpacked path of [`matmul_a_bt_bias`]: rows of A against rows of B, every inner loop
/// a dot product of two contiguous rows.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn direct_a_bt_bias(a: &[f32], b: &[f32], bias: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)).take(m) {
        for ((c_val, b_row), bias_val) in c_row.iter_mut().zip(b.chunks_exact(k)).zip(bias) {
            *c_val = dot(a_row, b_row) + bias_val;
        }
    }
}

/// `c[m, n] = a[m, k] · b[k, n]` (overwrites `c`).
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn matmul_a_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, scratch: &mut [f32]) {
    debug_assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    if takes_shallow(TILES, m, n, k) {
        record(KernelPath::InputGradientShallow);
        shallow_a_b(a, b, c, m, k, n);
    } else if uses_packing(m, n, k) {
        record(KernelPath::InputGradientGemm);
        gemm(m, n, k, MatRef::row_major(a, k), MatRef::row_major(b, n), c, false, scratch);
    } else {
        record(KernelPath::InputGradientDirect);
        direct_a_b(a, b, c, m, k, n);
    }
}

/// The unpacked path of [`matmul_a_b`]: each output row is a sum of B's rows scaled by A's
/// entries, axpys over contiguous rows.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn direct_a_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)).take(m) {
        // With SIMD, the row is built a few vectors at a time in registers, so each of the k
        // terms costs loads of B only, not a load and a store of C too; what is left over,
        // and every row on targets without SIMD (where the extra code would cost flash), by
        // axpys.
        let mut done = 0;
        if HAS_SIMD {
            let [wide, middle, last] =
                [KernelPath::DirectRowWide, KernelPath::DirectRowMiddle, KernelPath::DirectRowLast];
            done = row_in_registers::<{ DIRECT_ROW_VECTORS[0] }>(a_row, b, c_row, done, wide);
            done = row_in_registers::<{ DIRECT_ROW_VECTORS[1] }>(a_row, b, c_row, done, middle);
            done = row_in_registers::<{ DIRECT_ROW_VECTORS[2] }>(a_row, b, c_row, done, last);
        }
        if done < n {
            record(KernelPath::DirectRowAxpyTail);
        }
        let c_rest = &mut c_row[done..];
        c_rest.fill(0.0);
        for (&a_val, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
            axpy(c_rest, a_val, &b_row[done..]);
        }
    }
}

/// Writes `c_row[j] = Σ_p a_row[p]·b[p·n + j]` (`n` = `c_row.len()`) for columns from
/// `start` on, `V` vectors at a time kept in registers over all of `a_row`, while `V` whole
/// vectors remain; returns the first column left. `path` names this block width in the
/// kernel-path record.
#[inline(always)]
fn row_in_registers<const V: usize>(
    a_row: &[f32],
    b: &[f32],
    c_row: &mut [f32],
    start: usize,
    path: KernelPath,
) -> usize {
    let n = c_row.len();
    let mut j0 = start;
    if j0 + V * LANES <= n {
        record(path);
    }
    while j0 + V * LANES <= n {
        let mut acc = [Vector::ZERO; V];
        for (&a_val, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
            let a_vec = Vector::splat(a_val);
            for (v, acc_v) in acc.iter_mut().enumerate() {
                *acc_v = a_vec.mul_add(load(&b_row[j0 + v * LANES..j0 + (v + 1) * LANES]), *acc_v);
            }
        }
        for (v, acc_v) in acc.into_iter().enumerate() {
            store(&mut c_row[j0 + v * LANES..j0 + (v + 1) * LANES], acc_v);
        }
        j0 += V * LANES;
    }
    j0
}

/// `c[k, n] = a[m, k]ᵀ · b[m, n]` (overwrites `c`).
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn matmul_at_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, scratch: &mut [f32]) {
    debug_assert!(a.len() >= m * k && b.len() >= m * n && c.len() >= k * n);
    if uses_packing(k, n, m) {
        record(KernelPath::WeightGradientGemm);
        gemm(k, n, m, MatRef::transposed(a, k), MatRef::row_major(b, n), c, false, scratch);
    } else {
        record(KernelPath::WeightGradientDirect);
        direct_at_b(a, b, c, m, k, n);
    }
}

/// The unpacked path of [`matmul_at_b`]: each row of C gathers B's rows scaled by one column
/// of A, axpys over contiguous rows.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn direct_at_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    c[..k * n].fill(0.0);
    for (a_row, b_row) in a.chunks_exact(k).zip(b.chunks_exact(n)).take(m) {
        for (&a_val, c_row) in a_row.iter().zip(c.chunks_exact_mut(n)) {
            axpy(c_row, a_val, b_row);
        }
    }
}
