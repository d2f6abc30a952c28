//! The reference GEMMs the benchmarks set beside embergrad's (`matrixmultiply` and the `gemm`
//! crate, dev-dependencies of the benches only), behind one safe strided interface. Included
//! by `gemm.rs` and `ratios.rs` with `#[path]`.
#![allow(dead_code)] // each bench that includes this uses part of it

/// A strided read-only operand for the reference libraries: element `(i, j)` at
/// `data[i·rows + j·cols]`.
#[derive(Clone, Copy)]
pub struct Strided<'a> {
    data: &'a [f32],
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Strided<'a> {
    /// A row-major matrix with `cols` columns.
    pub fn row_major(data: &'a [f32], cols: usize) -> Self {
        Strided { data, row_stride: cols, col_stride: 1 }
    }
    /// The transpose of a row-major matrix with `cols` columns.
    pub fn transposed(data: &'a [f32], cols: usize) -> Self {
        Strided { data, row_stride: 1, col_stride: cols }
    }
}

/// `c[m×n] = a·b` (row-major c) by `matrixmultiply::sgemm`.
pub fn matrixmultiply_product(m: usize, n: usize, k: usize, a: Strided<'_>, b: Strided<'_>, c: &mut [f32]) {
    assert!(a.data.len() >= m * k && b.data.len() >= k * n && c.len() >= m * n);
    // SAFETY: the asserts above: the strides address only elements of the slices.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// `c[m×n] = a·b` (row-major c) by the `gemm` crate, one thread.
pub fn gemm_crate_product(m: usize, n: usize, k: usize, a: Strided<'_>, b: Strided<'_>, c: &mut [f32]) {
    assert!(a.data.len() >= m * k && b.data.len() >= k * n && c.len() >= m * n);
    // SAFETY: as above; gemm's strides are (column, row) in elements.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
