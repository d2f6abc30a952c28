//! The three matrix products a dense layer needs, on row-major slices.
//!
//! With `X` the batch of inputs `[batch, n_in]`, `W` the weights `[n_out, n_in]` (PyTorch's
//! `Linear` layout) and `dZ` the gradient at the layer's pre-activation `[batch, n_out]`:
//! - forward  `Y  = X·Wᵀ + b`   ([`matmul_a_bt_bias`]): rows of X against rows of W, so every
//!   inner loop is a dot product over two contiguous rows;
//! - backward `dX = dZ·W`       ([`matmul_a_b`]): each output row is a sum of W's rows scaled by
//!   dZ's entries, so the inner loop is an axpy over a contiguous row of W;
//! - backward `dW += dZᵀ·X`     ([`matmul_accumulate_at_b`]): each row of dW gathers X's rows
//!   scaled by one column of dZ, again an axpy over contiguous rows.
//!
//! Each shape keeps the innermost loop unit-stride in every operand, which is what lets the
//! level-1 kernels run on full SIMD registers without packing.

use super::vector::{axpy, dot};

/// `c[m, n] = a[m, k] · b[n, k]ᵀ + bias[n]` (every row of `c` gets `bias` added).
pub fn matmul_a_bt_bias(a: &[f32], b: &[f32], bias: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    debug_assert!(a.len() >= m * k && b.len() >= n * k && bias.len() >= n && c.len() >= m * n);
    for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)).take(m) {
        for ((c_val, b_row), bias_val) in c_row.iter_mut().zip(b.chunks_exact(k)).zip(bias) {
            *c_val = dot(a_row, b_row) + bias_val;
        }
    }
}

/// `c[m, n] = a[m, k] · b[k, n]` (overwrites `c`).
pub fn matmul_a_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    debug_assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)).take(m) {
        c_row.fill(0.0);
        for (&a_val, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
            axpy(c_row, a_val, b_row);
        }
    }
}

/// `c[k, n] += a[m, k]ᵀ · b[m, n]` (accumulates into `c`).
pub fn matmul_accumulate_at_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    debug_assert!(a.len() >= m * k && b.len() >= m * n && c.len() >= k * n);
    for (a_row, b_row) in a.chunks_exact(k).zip(b.chunks_exact(n)).take(m) {
        for (&a_val, c_row) in a_row.iter().zip(c.chunks_exact_mut(n)) {
            axpy(c_row, a_val, b_row);
        }
    }
}
