//! Each optimized kernel against its scalar reference in `embergrad::kernels::reference`,
//! over random shapes (including 1 and sizes that are not multiples of the SIMD width).

use embergrad::kernels::{self, reference};
use proptest::prelude::*;

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

fn shape() -> impl Strategy<Value = (usize, usize, usize)> {
    (1usize..=40, 1usize..=70, 1usize..=40)
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
        kernels::matmul_a_bt_bias(&a, &b, &bias, &mut fast, m, k, n);
        reference::matmul_a_bt_bias(&a, &b, &bias, &mut slow, m, k, n);
        assert_close(&fast, &slow, k)?;
    }

    #[test]
    fn input_gradient_product((a, b, (m, k, n)) in shape().prop_flat_map(|(m, k, n)| {
        (values(m * k), values(k * n), Just((m, k, n)))
    })) {
        let (mut fast, mut slow) = (vec![9.0; m * n], vec![-9.0; m * n]);
        kernels::matmul_a_b(&a, &b, &mut fast, m, k, n);
        reference::matmul_a_b(&a, &b, &mut slow, m, k, n);
        assert_close(&fast, &slow, k)?;
    }

    #[test]
    fn weight_gradient_product((a, b, c, (m, k, n)) in shape().prop_flat_map(|(m, k, n)| {
        (values(m * k), values(m * n), values(k * n), Just((m, k, n)))
    })) {
        let (mut fast, mut slow) = (c.clone(), c);
        kernels::matmul_accumulate_at_b(&a, &b, &mut fast, m, k, n);
        reference::matmul_accumulate_at_b(&a, &b, &mut slow, m, k, n);
        assert_close(&fast, &slow, m)?;
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
