//! Aims at every path the matrix kernels can take and at both sides of every threshold in
//! `core/src/kernels/tuning.rs`, checks each product and each full training pass against
//! f64 references, and then fails if any path that exists at the SIMD level was never
//! taken (the `kernel-paths` record): a new path without a test here fails CI.
//!
//! One `#[test]` in its own binary, so the path counters see only the shapes aimed here. It
//! runs every level the CPU has (the portable baseline, AVX2, AVX-512), whose paths and tile
//! sizes differ; CI runs it in the default build and in one built for x86-64-v3, where the
//! baseline level is `wide`'s AVX2 code.

use embergrad::kernels::internals::tuning::{
    set_rule_enabled, Rule, Tiles, COLLIDING_B_IN_PLACE, COLLIDING_STRIDE, DIRECT_ROW_VECTORS, KC,
    LONG_STRIDE_B_IN_PLACE_ROWS, MAX_IN_PLACE_STRIDE, MC, NARROW_ROWS, NC, PACKING_THRESHOLD, PACK_COLLIDING_ROWS_FROM,
    SHALLOW_AVOID_STRIDE, SHALLOW_DEPTH, SHALLOW_MAX_DEPTH, SHALLOW_MIN_ROWS, SHALLOW_ROW_BLOCK, SMALL_SIDE_MIN,
    SMALL_SIDE_VOLUME,
};
use embergrad::kernels::internals::{counts, reset, KernelPath};
use embergrad::kernels::{
    forward_scratch_len, gemm, gemm_scratch_len, matmul_a_b, matmul_a_bt_bias, matmul_at_b, product_scratch_len,
    set_simd_level, MatRef, SimdLevel,
};
use embergrad::nn::TargetKind;
use embergrad::{Activation, AlignedBuffer, Batch, LayerSpec, Loss, Spec, Target};
use embergrad_tests::{backprop_f64, forward_f64, RefTarget};

/// A deterministic value in [-1, 1) for index `i` of stream `seed` (a splitmix64 hash).
fn value(seed: u64, i: usize) -> f32 {
    let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(i as u64).wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// `len` values of stream `seed`, starting `offset` floats past a 64-byte line (0 puts them
/// on the line; 1 and 4 put rows of a line-multiple stride off it, as the GEMM's in-place
/// rules distinguish).
fn placed(len: usize, seed: u64, offset: usize) -> AlignedBuffer {
    let mut storage = AlignedBuffer::zeroed(len + offset);
    for (i, v) in storage[offset..].iter_mut().enumerate() {
        *v = value(seed, i);
    }
    storage
}

/// The three layer products, named by what they compute.
#[derive(Clone, Copy, Debug)]
enum Product {
    /// `c[m, n] = a[m, k]·b[n, k]ᵀ + bias`.
    Forward,
    /// `c[m, n] = a[m, k]·b[k, n]`.
    InputGradient,
    /// `c[k, n] = a[m, k]ᵀ·b[m, n]`.
    WeightGradient,
}

/// Runs one product at `(m, k, n)` (the dispatcher's own argument names) with operands
/// `offset` floats off a line, checks every output element against f64
/// ([`assert_within_rounding`]), and that nothing past the output was written.
fn check_product(product: Product, (m, k, n): (usize, usize, usize), offset: usize) {
    const LANES: usize = 16; // the widest level's, for the sentinel margin
    const SENTINEL: f32 = 1.0e30;
    let (a_len, b_len, rows, cols, depth) = match product {
        Product::Forward => (m * k, n * k, m, n, k),
        Product::InputGradient => (m * k, k * n, m, n, k),
        Product::WeightGradient => (m * k, m * n, k, n, m),
    };
    let seed = (m * 1_000_003 + k * 1009 + n) as u64;
    let a_store = placed(a_len, seed, offset);
    let b_store = placed(b_len, seed + 1, offset);
    let bias = placed(n, seed + 2, 0);
    let (a, b) = (&a_store[offset..], &b_store[offset..]);
    let mut c = vec![SENTINEL; rows * cols + 2 * LANES];
    match product {
        Product::Forward => {
            let mut scratch = vec![f32::NAN; forward_scratch_len(m, n, k)];
            matmul_a_bt_bias(a, b, &bias, &mut c, m, k, n, &mut scratch);
        }
        Product::InputGradient => {
            let mut scratch = vec![f32::NAN; product_scratch_len(m, n, k)];
            matmul_a_b(a, b, &mut c, m, k, n, &mut scratch);
        }
        Product::WeightGradient => {
            let mut scratch = vec![f32::NAN; product_scratch_len(k, n, m)];
            matmul_at_b(a, b, &mut c, m, k, n, &mut scratch);
        }
    }
    assert!(c[rows * cols..].iter().all(|&v| v == SENTINEL), "{product:?} {m}x{k}x{n}: a store ran past the output");
    // Element (i, j) as a list of (a, b) factors, in f64.
    let term = |i: usize, j: usize, p: usize| -> f64 {
        let (x, y) = match product {
            Product::Forward => (a[i * k + p], b[j * k + p]),
            Product::InputGradient => (a[i * k + p], b[p * n + j]),
            Product::WeightGradient => (a[p * k + i], b[p * n + j]),
        };
        f64::from(x) * f64::from(y)
    };
    let start = |_i: usize, j: usize| if let Product::Forward = product { f64::from(bias[j]) } else { 0.0 };
    assert_within_rounding(
        &c,
        (rows, cols, depth),
        start,
        term,
        &format!("{product:?} m={m} k={k} n={n} offset {offset}"),
    );
}

/// Checks every element of a `rows × cols` product in `c` against its exact value in f64:
/// `start(i, j)` (what the product adds to: a bias, C's old value, or 0) plus the `depth`
/// terms `term(i, j, p)`. Each must be within the rounding bound of an f32 sum of that many
/// terms, `(depth + 2)·ε·Σ|terms|`; a missing, repeated or misplaced term is far outside it.
fn assert_within_rounding(
    c: &[f32],
    (rows, cols, depth): (usize, usize, usize),
    start: impl Fn(usize, usize) -> f64,
    term: impl Fn(usize, usize, usize) -> f64,
    what: &str,
) {
    let bound_per_term = (depth as f64 + 2.0) * f64::from(f32::EPSILON);
    for i in 0..rows {
        for j in 0..cols {
            let mut exact = start(i, j);
            let mut magnitude = exact.abs();
            for p in 0..depth {
                let t = term(i, j, p);
                exact += t;
                magnitude += t.abs();
            }
            let got = f64::from(c[i * cols + j]);
            assert!(
                (got - exact).abs() <= bound_per_term * magnitude + 1e-30,
                "{what}: element ({i}, {j}) is {got}, exact {exact} (terms {magnitude})"
            );
        }
    }
}

/// The blocked GEMM called directly, with A and B row-major or transposed, overwriting or
/// accumulating, on a line or off it; checked as [`check_product`] does.
fn check_gemm((m, n, k): (usize, usize, usize), transpose_a: bool, transpose_b: bool, accumulate: bool, offset: usize) {
    let seed = (m * 7919 + n * 104_729 + k) as u64;
    let a_store = placed(m * k, seed, offset);
    let b_store = placed(k * n, seed + 1, offset);
    let (a, b) = (&a_store[offset..], &b_store[offset..]);
    // Element (i, p) of A is at i·k + p (row-major) or p·m + i (transposed storage).
    let a_at = |i: usize, p: usize| if transpose_a { a[p * m + i] } else { a[i * k + p] };
    let b_at = |p: usize, j: usize| if transpose_b { b[j * k + p] } else { b[p * n + j] };
    let a_view = if transpose_a { MatRef::transposed(a, m) } else { MatRef::row_major(a, k) };
    let b_view = if transpose_b { MatRef::transposed(b, k) } else { MatRef::row_major(b, n) };
    let start: Vec<f32> = (0..m * n).map(|i| value(seed + 2, i)).collect();
    let mut c = start.clone();
    let mut scratch = vec![f32::NAN; gemm_scratch_len(m, n, k)];
    gemm(m, n, k, a_view, b_view, &mut c, accumulate, &mut scratch);
    let old = |i: usize, j: usize| if accumulate { f64::from(start[i * n + j]) } else { 0.0 };
    let term = |i: usize, j: usize, p: usize| f64::from(a_at(i, p)) * f64::from(b_at(p, j));
    let what = format!(
        "gemm m={m} n={n} k={k} (A{} B{} accumulate {accumulate}, offset {offset})",
        if transpose_a { "ᵀ" } else { "" },
        if transpose_b { "ᵀ" } else { "" },
    );
    assert_within_rounding(&c, (m, n, k), old, term, &what);
}

/// `t - 1`, `t` and `t + 1` (those at least 1).
fn around(t: usize) -> impl Iterator<Item = usize> {
    [t.saturating_sub(1), t, t + 1].into_iter().filter(|&v| v >= 1)
}

/// Offsets cycled over the cases: on a line, one float off, four floats off.
fn offset_for(case: usize) -> usize {
    [0, 1, 4][case % 3]
}

/// Shapes aimed at the dispatch rules of `products.rs` and `strips.rs`.
fn dispatch_shapes(tiles: Tiles) -> Vec<(Product, (usize, usize, usize))> {
    use Product::*;
    let (lanes, mr) = (tiles.lanes, tiles.mr);
    let mut shapes = Vec::new();
    let all = [Forward, InputGradient, WeightGradient];
    // uses_packing: every side around PACKING_THRESHOLD and SMALL_SIDE_MIN, alone and with
    // the other sides large; the volume rule at its boundary.
    for t in [PACKING_THRESHOLD, SMALL_SIDE_MIN] {
        for d in around(t) {
            for shape in [(d, d, d), (d, 64, 64), (64, d, 64), (64, 64, d)] {
                shapes.extend(all.map(|p| (p, shape)));
            }
        }
    }
    let side = (SMALL_SIDE_VOLUME / SMALL_SIDE_MIN).isqrt();
    for (x, y) in [(side, side), (side, side - 1), (side - 1, side), (side + 1, side)] {
        for shape in [(SMALL_SIDE_MIN, x, y), (x, SMALL_SIDE_MIN, y), (x, y, SMALL_SIDE_MIN)] {
            shapes.extend(all.map(|p| (p, shape)));
        }
    }
    // Narrow forward strip: outputs around lanes, rows around NARROW_ROWS and its multiples.
    for n in (1..=lanes + 1).chain([2 * lanes - 1]) {
        for m in [NARROW_ROWS - 1, NARROW_ROWS, NARROW_ROWS + 1, 2 * NARROW_ROWS + 1, 64, 65] {
            for k in [SMALL_SIDE_MIN, 20, 200] {
                shapes.push((Forward, (m, k, n)));
            }
        }
    }
    // Register-held strips: depth around SHALLOW_MAX_DEPTH, rows around SHALLOW_MIN_ROWS and
    // SHALLOW_ROW_BLOCK, widths around lanes and the avoided stride.
    for k in 1..=SHALLOW_MAX_DEPTH + 1 {
        for m in [SHALLOW_MIN_ROWS - 1, SHALLOW_MIN_ROWS, SHALLOW_MIN_ROWS + 1, SHALLOW_ROW_BLOCK + 1] {
            for n in [1, lanes - 1, lanes, lanes + 1, 100] {
                shapes.push((InputGradient, (m, k, n)));
            }
        }
    }
    for m in around(SHALLOW_ROW_BLOCK).chain([2 * SHALLOW_ROW_BLOCK + 1]) {
        for n in around(SHALLOW_AVOID_STRIDE).chain([2 * SHALLOW_AVOID_STRIDE, 1000]) {
            shapes.push((InputGradient, (m, 10, n)));
        }
    }
    // Forward orientation: more outputs than rows, and fewer; tiles that pad either way.
    for (m, n) in [(64, 256), (256, 64), (64, 20), (20, 64), (100, 40), (40, 100), (mr * 3, 2 * lanes + 1)] {
        shapes.push((Forward, (m, 50, n)));
    }
    // Direct loops of `A·B`: one row, widths that end after each register block and the tail.
    let [wide, middle, last] = DIRECT_ROW_VECTORS.map(|v| v * lanes);
    for n in [wide, wide + middle + last + 3, middle, last, 3, wide + 1] {
        for k in [1, 5, 19] {
            shapes.push((InputGradient, (1, k, n)));
        }
    }
    shapes
}

/// Shapes aimed at the GEMM's loop nest and layout rules, through the layer products (whose
/// strides are their widths).
fn gemm_layer_shapes(tiles: Tiles) -> Vec<(Product, (usize, usize, usize))> {
    use Product::*;
    let (lanes, mr, short_mr) = (tiles.lanes, tiles.mr, tiles.short_mr);
    let mut shapes = Vec::new();
    // Row splits: every remainder of mr, below and past one tall tile, shallow and deep.
    for m in 1..=3 * mr + short_mr + 1 {
        for k in [SHALLOW_DEPTH, SHALLOW_DEPTH + 1] {
            shapes.push((Forward, (m, k, 3 * lanes)));
            shapes.push((InputGradient, (m, k, 2 * lanes + 3)));
        }
    }
    // Depth blocks around KC, row blocks around MC, column blocks around NC.
    for k in around(KC).chain([2 * KC + 1, 2048]) {
        shapes.push((InputGradient, (40, k, 70)));
        shapes.push((WeightGradient, (k, 40, 70)));
        shapes.push((Forward, (40, k, 70)));
    }
    for m in around(MC).chain([2 * MC + 1]) {
        shapes.push((InputGradient, (m, 40, 33)));
        shapes.push((InputGradient, (m, 24, 64)));
        shapes.push((WeightGradient, (24, m, 40)));
    }
    for n in around(NC).chain([2 * NC + 1]) {
        shapes.push((InputGradient, (24, 24, n)));
        shapes.push((WeightGradient, (24, 24, n)));
    }
    // B in place or packed: strides around the colliding multiple, the in-place limit and
    // the long-stride rule; rows around the colliding and long-stride limits.
    for stride in around(COLLIDING_STRIDE).chain(around(MAX_IN_PLACE_STRIDE)).chain([3 * COLLIDING_STRIDE, 784]) {
        for m in [64, 128] {
            shapes.push((InputGradient, (m, 64, stride)));
            shapes.push((WeightGradient, (m, 64, stride)));
        }
    }
    for (stride, m) in [
        (COLLIDING_STRIDE, COLLIDING_B_IN_PLACE / COLLIDING_STRIDE),
        (MAX_IN_PLACE_STRIDE, COLLIDING_B_IN_PLACE / MAX_IN_PLACE_STRIDE),
    ] {
        for m in around(m) {
            shapes.push((InputGradient, (m, 40, stride)));
        }
    }
    for m in around(LONG_STRIDE_B_IN_PLACE_ROWS) {
        shapes.push((InputGradient, (m, 40, 784)));
    }
    // A by rows at a colliding row stride, for blocks of C narrower and wider than the
    // packing limit; A transposed (the weight gradient's dZᵀ) at strides in place and not.
    for n in around(PACK_COLLIDING_ROWS_FROM) {
        shapes.push((InputGradient, (40, 512, n)));
    }
    for k in [100, COLLIDING_STRIDE, MAX_IN_PLACE_STRIDE + 1] {
        shapes.push((WeightGradient, (50, k, 60)));
    }
    // The layer shapes that crashed (hidden widths 512–2048 at batches 8–128) and W1, W3.
    for width in [512, 768, 1024, 1536, 2048] {
        for batch in [8, 12, 16, 24, 32, 64, 128] {
            shapes.push((WeightGradient, (batch, width, 64)));
            shapes.push((InputGradient, (batch, 10, width)));
        }
    }
    for (batch, inputs, outputs) in [(64, 784, 256), (64, 256, 128), (64, 128, 10), (256, 256, 1024), (256, 1024, 10)] {
        shapes.push((Forward, (batch, inputs, outputs)));
        shapes.push((InputGradient, (batch, outputs, inputs)));
        shapes.push((WeightGradient, (batch, outputs, inputs)));
    }
    shapes
}

/// Shapes for the GEMM called directly, in every layout.
fn direct_gemm_shapes(tiles: Tiles) -> Vec<(usize, usize, usize)> {
    let (lanes, mr, short_mr) = (tiles.lanes, tiles.mr, tiles.short_mr);
    let mut shapes = vec![(1, 1, 1), (mr, 2 * lanes, 8), (mr + 1, lanes + 1, 9), (short_mr, lanes, 33)];
    for (m, n, k) in [(MC + 1, 40, 30), (30, NC + 1, 20), (30, 40, KC + 1), (97, 2 * lanes + 5, 300)] {
        shapes.push((m, n, k));
    }
    for stride in [COLLIDING_STRIDE, MAX_IN_PLACE_STRIDE, MAX_IN_PLACE_STRIDE + 1, 784] {
        shapes.push((64, stride, stride));
        shapes.push((stride, 64, 40));
    }
    shapes
}

/// A training pass: `loss_and_gradients`, and `forward` alone, against the f64 oracle, and
/// `backward` with the input gradient. Tensors are compared as a whole: the worst error in
/// a tensor within 1e-3 of its largest entry (f32 through a few layers of sums thousands of
/// terms long), far below what a wrong or missing block would give.
fn check_training_pass(widths: &[usize], activation: Activation, loss: Loss, batch: usize, offset: usize) {
    let layers: Vec<LayerSpec> = widths
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let last = i + 2 == widths.len();
            LayerSpec::new(w[0], w[1], if last { Activation::Identity } else { activation })
        })
        .collect();
    let spec = Spec::new(&layers);
    let seed = (batch * 131 + widths.iter().sum::<usize>()) as u64;
    // Weights scaled like an initialiser's (±1/√fan-in) so activations stay O(1).
    let mut params_store = placed(spec.param_len(), seed, offset);
    let mut at = offset;
    for layer in &layers {
        let scale = 1.0 / (layer.inputs as f32).sqrt();
        params_store[at..at + layer.param_len()].iter_mut().for_each(|v| *v *= scale);
        at += layer.param_len();
    }
    let params = &params_store[offset..];
    let input_store = placed(batch * spec.inputs(), seed + 1, offset);
    let input = &input_store[offset..];
    let outputs = spec.outputs();
    let classes: Vec<usize> = (0..batch).map(|i| (i * 7 + 3) % outputs).collect();
    let values: Vec<f32> = (0..batch * outputs).map(|i| 0.5 + 0.5 * value(seed + 2, i)).collect();
    let (target, ref_target) = match loss.target_kind() {
        TargetKind::Classes => (Target::Classes(&classes), RefTarget::Classes(classes.clone())),
        TargetKind::Values => {
            (Target::Values(&values), RefTarget::Values(values.iter().map(|&v| f64::from(v)).collect()))
        }
    };
    let widen = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    let oracle = backprop_f64(&layers, &widen(params), &widen(input), batch, loss, &ref_target);
    let what = format!("{widths:?} {activation:?} {loss:?} batch {batch} offset {offset}");

    let mut workspace = AlignedBuffer::zeroed(spec.workspace_len(batch) + offset);
    let mut grads = AlignedBuffer::zeroed(spec.param_len() + offset);
    let value = spec
        .loss_and_gradients(
            params,
            &Batch::new(input, target, batch),
            loss,
            &mut grads[offset..],
            &mut workspace[offset..],
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        (f64::from(value) - oracle.loss).abs() <= 1e-4 * oracle.loss.abs().max(1e-3),
        "{what}: loss {value} vs {}",
        oracle.loss
    );
    for (offset_in_params, layer) in spec.layer_offsets() {
        let weights = offset_in_params..offset_in_params + layer.weight_len();
        let biases = weights.end..offset_in_params + layer.param_len();
        for range in [weights, biases] {
            assert_tensor_close(
                &grads[offset..][range.clone()],
                &oracle.grads[range],
                &format!("{what}: grads of {layer:?}"),
            );
        }
    }

    let mut forward_workspace = AlignedBuffer::zeroed(spec.forward_workspace_len(batch) + offset);
    let output = spec.forward(params, input, batch, &mut forward_workspace[offset..]).unwrap();
    assert_tensor_close(
        output,
        &forward_f64(&layers, &widen(params), &widen(input), batch),
        &format!("{what}: forward"),
    );

    // `backward` with dLoss/dOutput from the oracle, asking for the input gradient too.
    spec.forward(params, input, batch, &mut workspace[offset..]).unwrap();
    let grad_output: Vec<f32> = embergrad_tests::loss_gradient_f64(loss, &oracle.output, outputs, &ref_target)
        .iter()
        .map(|&g| g as f32)
        .collect();
    let mut grad_input = vec![0.0; batch * spec.inputs()];
    spec.backward(
        params,
        input,
        batch,
        &mut workspace[offset..],
        &grad_output,
        &mut grads[offset..],
        Some(&mut grad_input),
    )
    .unwrap();
    assert_tensor_close(&grad_input, &oracle.grad_input, &format!("{what}: input gradient"));
}

/// The worst error in `actual` within 1e-3 of `expected`'s largest magnitude.
fn assert_tensor_close(actual: &[f32], expected: &[f64], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    let (worst, at) = actual
        .iter()
        .zip(expected)
        .map(|(&a, e)| (f64::from(a) - e).abs())
        .enumerate()
        .fold((0.0, 0), |(w, i), (j, err)| if err > w { (err, j) } else { (w, i) });
    assert!(worst <= 1e-3 * scale, "{what}: element {at} is {} vs {} (scale {scale:e})", actual[at], expected[at]);
}

/// Every shape and training pass above, at one level; then the check that every path of
/// that level was taken, and none it does not have.
fn every_path_at(level: SimdLevel) {
    set_simd_level(level).unwrap();
    reset();
    let tiles = level.tiles();
    for (case, (product, shape)) in dispatch_shapes(tiles).into_iter().chain(gemm_layer_shapes(tiles)).enumerate() {
        check_product(product, shape, offset_for(case));
    }
    for (case, shape) in direct_gemm_shapes(tiles).into_iter().enumerate() {
        for layout in 0..8 {
            check_gemm(shape, layout & 1 != 0, layout & 2 != 0, layout & 4 != 0, offset_for(case + layout));
        }
    }

    // Full training passes: every activation and loss; batches 1..=257 on a net whose layers
    // cross the thresholds as the batch grows; the hidden widths that crashed; W1 and W3.
    let activations = Activation::ALL;
    for (i, batch) in (1..=257).enumerate() {
        let loss = Loss::ALL[i % Loss::ALL.len()];
        check_training_pass(
            &[37, 29, tiles.lanes + 3, 10],
            activations[i % activations.len()],
            loss,
            batch,
            offset_for(i),
        );
    }
    for (i, width) in [512, 768, 1024, 1536, 2048].into_iter().enumerate() {
        for (j, batch) in [8, 12, 16, 24, 32, 64, 128].into_iter().enumerate() {
            let loss = Loss::ALL[(i + j) % Loss::ALL.len()];
            check_training_pass(
                &[64, width, 10],
                activations[(i + j) % activations.len()],
                loss,
                batch,
                offset_for(i + j),
            );
        }
    }
    check_training_pass(&[784, 512, 10], Activation::Relu, Loss::SoftmaxCrossEntropy, 64, 0);
    check_training_pass(&[784, 256, 128, 10], Activation::Relu, Loss::SoftmaxCrossEntropy, 64, 0);
    check_training_pass(&[784, 256, 128, 10], Activation::Tanh, Loss::Mse, 1, 1);
    check_training_pass(&[256, 1024, 1024, 10], Activation::Relu, Loss::SoftmaxCrossEntropy, 32, 0);
    check_training_pass(&[20, 30, 40, 1], Activation::Sigmoid, Loss::BceWithLogits, 100, 4);

    // Each switchable rule off in turn (as the `ablation` benchmark does): the paths that
    // stand in for it must be right on the same shapes.
    for rule in Rule::ALL {
        set_rule_enabled(rule, false);
        for (case, (product, shape)) in gemm_layer_shapes(tiles).into_iter().enumerate() {
            check_product(product, shape, offset_for(case));
        }
        for (case, shape) in direct_gemm_shapes(tiles).into_iter().enumerate() {
            check_gemm(shape, case % 2 == 0, case % 3 == 0, case % 5 == 0, offset_for(case));
        }
        set_rule_enabled(rule, true);
    }

    let missing: Vec<&str> =
        counts().filter(|&(path, count)| path.exists_at(level) && count == 0).map(|(path, _)| path.name()).collect();
    assert!(missing.is_empty(), "at level {level}, kernel paths never taken by the shapes above: {missing:?}");
    let impossible: Vec<&str> =
        counts().filter(|&(path, count)| !path.exists_at(level) && count > 0).map(|(path, _)| path.name()).collect();
    assert!(impossible.is_empty(), "at level {level}, paths taken that it should not have: {impossible:?}");
    // Print the record, so a run shows how often each path was taken.
    println!("level {level}:");
    for (path, count) in counts() {
        println!("  {:<28} {count}", path.name());
    }
}

/// Every level this build and CPU have (`baseline` always; AVX2 and AVX-512 where the CPU
/// has them), each aimed at every path. A machine without AVX-512 cannot test that level;
/// the test says which levels it ran.
#[test]
fn every_kernel_path_is_taken_and_right() {
    let levels: Vec<SimdLevel> = SimdLevel::ALL.into_iter().filter(|l| l.is_supported()).collect();
    println!("levels tested: {levels:?}");
    for level in levels {
        every_path_at(level);
    }
    assert_eq!(KernelPath::ALL.len(), counts().count());
}
