//! Plain scalar twins of the optimized kernels: the readable definition of each, kept so
//! tests can compare the fast path against it.

#![allow(clippy::needless_range_loop)] // index loops are the readable definition here

/// Reference for [`super::dot`].
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Reference for [`super::axpy`].
pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    for (vy, vx) in y.iter_mut().zip(x) {
        *vy += alpha * vx;
    }
}

/// Reference for [`super::matmul_a_bt_bias`].
pub fn matmul_a_bt_bias(a: &[f32], b: &[f32], bias: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for p in 0..k {
                s += a[i * k + p] * b[j * k + p];
            }
            c[i * n + j] = s + bias[j];
        }
    }
}

/// Reference for [`super::matmul_a_b`].
pub fn matmul_a_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for p in 0..k {
                s += a[i * k + p] * b[p * n + j];
            }
            c[i * n + j] = s;
        }
    }
}

/// Reference for [`super::matmul_at_b`].
pub fn matmul_at_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    for p in 0..k {
        for j in 0..n {
            let mut s = 0.0;
            for i in 0..m {
                s += a[i * k + p] * b[i * n + j];
            }
            c[p * n + j] = s;
        }
    }
}

/// Reference for [`super::gemm`]: `c = a·b` (or `c += a·b`), all row-major.
pub fn gemm(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    for i in 0..m {
        for j in 0..n {
            let mut s = if accumulate { c[i * n + j] } else { 0.0 };
            for p in 0..k {
                s += a[i * k + p] * b[p * n + j];
            }
            c[i * n + j] = s;
        }
    }
}
