//! Each optimized kernel against its scalar reference in `embergrad::kernels::reference`,
//! over random shapes (including 1 and sizes that are not multiples of the SIMD width).

use embergrad::kernels::internals::{reference, transpose_with_row_offsets};
use embergrad::kernels::{self, MatRef};
use embergrad::AlignedBuffer;
use proptest::prelude::*;

/// The transpose of a row-major `rows × cols` matrix, row-major.
fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols).flat_map(|j| (0..rows).map(move |i| x[i * cols + j])).collect()
}

fn values(len: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-1.0f32..1.0, len)
}

/// Reassociated f32 sums of `k` terms of magnitude ≤ 1 differ by about k·ε.
fn assert_close(actual: &[f32], expected: &[f32], k: usize) -> Result<(), TestCaseError> {
    let tolerance = 4.0 * f32::EPSILON * (k as f32 + 1.0);
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        prop_assert!((a - e).abs() <= tolerance * (1.0 + e.abs()), "at {i}: {a} vs {e}");
    }
    Ok(())
}

/// Shapes on both sides of the packing threshold, up to 150 in every dimension.
fn shape() -> impl Strategy<Value = (usize, usize, usize)> {
    let extent = || prop_oneof![1usize..=20, 1usize..=150];
    (extent(), extent(), extent())
}

proptest! {
    #[test]
    fn dot_and_axpy((x, y, alpha) in (1usize..=300).prop_flat_map(|n| (values(n), values(n), -2.0f32..2.0))) {
        let d = kernels::dot(&x, &y);
        assert_close(&[d], &[reference::dot(&x, &y)], x.len())?;
        let (mut fast, mut slow) = (y.clone(), y.clone());
        kernels::axpy(&mut fast, alpha, &x);
        reference::axpy(&mut slow, alpha, &x);
        assert_close(&fast, &slow, 1)?;
    }

    #[test]
    fn forward_product((a, b, bias, (m, k, n)) in shape().prop_flat_map(|(m, k, n)| {
        (values(m * k), values(n * k), values(n), Just((m, k, n)))
    })) {
        let (mut fast, mut slow) = (vec![9.0; m * n], vec![-9.0; m * n]);
        let mut scratch = vec![0.0; kernels::forward_scratch_len(m, n, k)];
        kernels::matmul_a_bt_bias(&a, &b, &bias, &mut fast, m, k, n, &mut scratch);
        reference::matmul_a_bt_bias(&a, &b, &bias, &mut slow, m, k, n);
        assert_close(&fast, &slow, k)?;
    }

    #[test]
    fn input_gradient_product((a, b, (m, k, n)) in shape().prop_flat_map(|(m, k, n)| {
        (values(m * k), values(k * n), Just((m, k, n)))
    })) {
        let (mut fast, mut slow) = (vec![9.0; m * n], vec![-9.0; m * n]);
        let mut scratch = vec![0.0; kernels::product_scratch_len(m, n, k)];
        kernels::matmul_a_b(&a, &b, &mut fast, m, k, n, &mut scratch);
        reference::matmul_a_b(&a, &b, &mut slow, m, k, n);
        assert_close(&fast, &slow, k)?;
    }

    #[test]
    fn weight_gradient_product((a, b, (m, k, n)) in shape().prop_flat_map(|(m, k, n)| {
        (values(m * k), values(m * n), Just((m, k, n)))
    })) {
        let (mut fast, mut slow) = (vec![9.0; k * n], vec![-9.0; k * n]);
        let mut scratch = vec![0.0; kernels::product_scratch_len(k, n, m)];
        kernels::matmul_at_b(&a, &b, &mut fast, m, k, n, &mut scratch);
        reference::matmul_at_b(&a, &b, &mut slow, m, k, n);
        assert_close(&fast, &slow, m)?;
    }

    /// The packed GEMM itself, over every shape (it is also used below the threshold here),
    /// overwriting and accumulating, with row-major and transposed operands.
    #[test]
    fn packed_gemm((a, b, c, (m, n, k), (accumulate, transpose_a, transpose_b, on_lines)) in shape().prop_flat_map(|(m, n, k)| {
        (values(m * k), values(k * n), values(m * n), Just((m, n, k)), any::<(bool, bool, bool, bool)>())
    })) {
        check_gemm((m, n, k), &a, &b, c, accumulate, transpose_a, transpose_b, on_lines)?;
    }

    #[test]
    fn transpose_matches_the_definition((x, offsets, (rows, cols)) in (1usize..=40, 1usize..=40).prop_flat_map(|(r, c)| {
        (values(r * c), values(r), Just((r, c)))
    })) {
        let mut fast = vec![f32::NAN; rows * cols];
        transpose_with_row_offsets(&x, rows, cols, &offsets, &mut fast);
        let mut expected = transpose(&x, rows, cols);
        // Entry (j, i) of the transpose came from row i.
        for (k, value) in expected.iter_mut().enumerate() {
            *value += offsets[k % rows];
        }
        prop_assert_eq!(fast, expected);
    }

    #[test]
    fn scale_and_sum((x, alpha) in (0usize..=100).prop_flat_map(|n| (values(n), -2.0f32..2.0))) {
        let mut scaled = x.clone();
        kernels::scale(&mut scaled, alpha);
        let expected: Vec<f32> = x.iter().map(|v| v * alpha).collect();
        prop_assert_eq!(&scaled, &expected);
        assert_close(&[kernels::sum(&x)], &[x.iter().sum()], x.len())?;
    }
}

/// Checks the GEMM on `a·b` laid out as asked against the reference.
#[allow(clippy::too_many_arguments)]
fn check_gemm(
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    c: Vec<f32>,
    accumulate: bool,
    transpose_a: bool,
    transpose_b: bool,
    on_lines: bool,
) -> Result<(), TestCaseError> {
    // Lay A and B out as asked, keeping the row-major copies for the reference; half the
    // time on a cache line (where B panels with long strides are read in place), half 16
    // bytes off it (where they are packed).
    let offset = if on_lines { 0 } else { 4 };
    let place = |values: Vec<f32>| {
        let mut storage = AlignedBuffer::zeroed(values.len() + offset);
        storage[offset..].copy_from_slice(&values);
        storage
    };
    let a_storage = place(if transpose_a { transpose(a, m, k) } else { a.to_vec() });
    let b_storage = place(if transpose_b { transpose(b, k, n) } else { b.to_vec() });
    let (a_stored, b_stored) = (&a_storage[offset..], &b_storage[offset..]);
    let a_view = if transpose_a { MatRef::transposed(a_stored, m) } else { MatRef::row_major(a_stored, k) };
    let b_view = if transpose_b { MatRef::transposed(b_stored, k) } else { MatRef::row_major(b_stored, n) };
    let mut scratch = vec![f32::NAN; kernels::gemm_scratch_len(m, n, k)];
    let (mut fast, mut slow) = (c.clone(), c);
    kernels::gemm(m, n, k, a_view, b_view, &mut fast, accumulate, &mut scratch);
    reference::gemm(m, n, k, a, b, &mut slow, accumulate);
    assert_close(&fast, &slow, k)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Shapes that cross the GEMM's blocks and layout rules: depths past one `KC` block (the
    /// later blocks add into C), rows past one `MC` block, columns past one `NC` block, and
    /// the strides at which operands read in place or packed switch: multiples of 256
    /// floats, strides over 512 (n and k up to 800 and past 1,000, m near 500), operands on
    /// cache lines or off them.
    #[test]
    fn gemm_across_blocks_and_strides((a, b, c, (m, n, k), (accumulate, transpose_a, transpose_b, on_lines)) in prop_oneof![
        (prop_oneof![1usize..=130, 470usize..=500], prop_oneof![Just(256usize), Just(512), 1usize..=300, 700usize..=800], prop_oneof![Just(256usize), Just(512), 200usize..=600]),
        (1usize..=20, 1020usize..=1100, 1usize..=300),
    ].prop_flat_map(|(m, n, k)| {
        (values(m * k), values(k * n), values(m * n), Just((m, n, k)), any::<(bool, bool, bool, bool)>())
    })) {
        check_gemm((m, n, k), &a, &b, c, accumulate, transpose_a, transpose_b, on_lines)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The one-vector strips (`strips.rs`) at their edges: input gradients at most 15 deep
    /// (with AVX-512) with partial last strips, widths below one vector (a row's whole-vector
    /// store then spills over several following rows) and more than one 64-row block, and
    /// forward products with at most one vector of outputs. The outputs sit inside longer
    /// buffers filled with a sentinel that must survive: the whole-vector stores may run
    /// into the next row, never past the last one.
    #[test]
    fn strips_stay_inside_the_output((a, b, bias, (m, k, n), forward) in prop_oneof![
        (4usize..=140, 1usize..=15, 1usize..=40).prop_map(|s| (s, false)),
        (8usize..=140, 8usize..=200, 8usize..=16).prop_map(|s| (s, true)),
    ].prop_flat_map(|((m, k, n), forward)| {
        (values(m * k), values(k * n), values(n), Just((m, k, n)), Just(forward))
    })) {
        const SENTINEL: f32 = 12345.0;
        let tail = 40;
        let (mut fast, mut slow) = (vec![SENTINEL; m * n + tail], vec![0.0; m * n]);
        if forward {
            // `b` holds the weights `[n, k]` here.
            let mut scratch = vec![0.0; kernels::forward_scratch_len(m, n, k)];
            kernels::matmul_a_bt_bias(&a, &b, &bias, &mut fast, m, k, n, &mut scratch);
            reference::matmul_a_bt_bias(&a, &b, &bias, &mut slow, m, k, n);
        } else {
            let mut scratch = vec![0.0; kernels::product_scratch_len(m, n, k)];
            kernels::matmul_a_b(&a, &b, &mut fast, m, k, n, &mut scratch);
            reference::matmul_a_b(&a, &b, &mut slow, m, k, n);
        }
        prop_assert!(fast[m * n..].iter().all(|&v| v == SENTINEL), "a store ran past the output");
        assert_close(&fast[..m * n], &slow, k)?;
    }
}
