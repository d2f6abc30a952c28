//! GEMM throughput in GFLOP/s (2·m·n·k flops per call), single thread, side by side in one
//! run: embergrad's packed kernel, a naive triple loop, `matrixmultiply::sgemm` and the
//! `gemm` crate. Also a measured single-core FMA peak, so every figure can be read as a share
//! of what this machine can do.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use embergrad::kernels::{gemm, gemm_scratch_len, MatRef};
#[path = "common/references.rs"]
mod references;

use references::{gemm_crate_product, matrixmultiply_product, Strided};
use std::hint::black_box;

fn data(len: usize, seed: u64) -> Vec<f32> {
    (0..len).map(|i| embergrad_benches::uniform(seed, i as u64) - 0.5).collect()
}

/// Shapes: square sizes, then the W1 (784-256-128-10, batch 64) layer products:
/// forward `Y = X·Wᵀ` (m = batch) and weight gradient `dW = dZᵀ·X` (m = outputs, k = batch),
/// and W3's (256-1024-1024-10, batch 256) largest ones. All row-major here; the layer
/// products' real operand layouts (transposes) are in `layer_products`.
const SHAPES: &[(&str, usize, usize, usize)] = &[
    ("square-64", 64, 64, 64),
    ("square-256", 256, 256, 256),
    ("square-1024", 1024, 1024, 1024),
    ("w1-fwd-784x256", 64, 256, 784),
    ("w1-fwd-256x128", 64, 128, 256),
    ("w1-fwd-128x10", 64, 10, 128),
    ("w1-dw-256x784", 256, 784, 64),
    ("w1-dx-256x784", 64, 784, 256),
    ("w3-1024x1024-b256", 256, 1024, 1024),
    ("w3-dw-1024x1024-b256", 1024, 1024, 256),
];

/// The three products of one dense layer with their real layouts (the forward reads W
/// transposed, the weight gradient reads dZ transposed), through the dispatching functions
/// the network calls.
fn layer_products(c: &mut Criterion) {
    use embergrad::kernels::{forward_scratch_len, matmul_a_b, matmul_a_bt_bias, matmul_at_b, product_scratch_len};
    let mut group = c.benchmark_group("layer");
    group.sample_size(20);
    for &(name, batch, n_in, n_out) in &[("w1-l1-784x256-b64", 64, 784, 256), ("w3-l2-1024x1024-b256", 256, 1024, 1024)]
    {
        let x = data(batch * n_in, 1);
        let w = data(n_out * n_in, 2);
        let bias = data(n_out, 3);
        let dz = data(batch * n_out, 4);
        let mut y = vec![0.0; batch * n_out];
        let mut dx = vec![0.0; batch * n_in];
        let mut dw = vec![0.0; n_out * n_in];
        let mut scratch = vec![
            0.0;
            product_scratch_len(n_out, n_in, batch)
                .max(product_scratch_len(batch, n_in, n_out))
                .max(forward_scratch_len(batch, n_out, n_in))
        ];
        group.throughput(Throughput::Elements((2 * batch * n_in * n_out) as u64));
        group.bench_function(BenchmarkId::new("forward", name), |b| {
            b.iter(|| matmul_a_bt_bias(&x, &w, &bias, &mut y, batch, n_in, n_out, &mut scratch))
        });
        group.bench_function(BenchmarkId::new("input-grad", name), |b| {
            b.iter(|| matmul_a_b(&dz, &w, &mut dx, batch, n_out, n_in, &mut scratch))
        });
        group.bench_function(BenchmarkId::new("weight-grad", name), |b| {
            b.iter(|| matmul_at_b(&dz, &x, &mut dw, batch, n_out, n_in, &mut scratch))
        });
    }
    group.finish();
}

fn products(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgemm");
    group.sample_size(20);
    for &(name, m, n, k) in SHAPES {
        let a = data(m * k, 1);
        let b = data(k * n, 2);
        let mut out = vec![0.0f32; m * n];
        let mut scratch = vec![0.0f32; gemm_scratch_len(m, n, k)];
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        group.bench_with_input(BenchmarkId::new("embergrad", name), &(), |bench, _| {
            bench.iter(|| {
                gemm(m, n, k, MatRef::row_major(&a, k), MatRef::row_major(&b, n), &mut out, false, &mut scratch);
                black_box(&mut out);
            })
        });
        group.bench_with_input(BenchmarkId::new("matrixmultiply", name), &(), |bench, _| {
            bench.iter(|| {
                matrixmultiply_product(m, n, k, Strided::row_major(&a, k), Strided::row_major(&b, n), &mut out);
                black_box(&mut out);
            })
        });
        group.bench_with_input(BenchmarkId::new("gemm-crate", name), &(), |bench, _| {
            bench.iter(|| {
                gemm_crate_product(m, n, k, Strided::row_major(&a, k), Strided::row_major(&b, n), &mut out);
                black_box(&mut out);
            })
        });
        if m * n * k <= 256 * 256 * 256 {
            group.bench_with_input(BenchmarkId::new("naive", name), &(), |bench, _| {
                bench.iter(|| {
                    embergrad::kernels::internals::reference::matmul_a_b(&a, &b, &mut out, m, k, n);
                    black_box(&mut out);
                })
            });
        }
    }
    group.finish();
}

/// Where packing starts to pay: square products of side `s`, the packed GEMM against the
/// direct (unpacked) loops, for each of the dense layer's three products. The crossover sets
/// `embergrad::kernels::internals::tuning::PACKING_THRESHOLD`.
fn crossover(c: &mut Criterion) {
    use embergrad::kernels::internals::{direct_a_b, direct_a_bt_bias, direct_at_b};
    let mut group = c.benchmark_group("crossover");
    group.sample_size(20);
    for s in [4usize, 8, 12, 16, 24, 32, 48] {
        let a = data(s * s, 1);
        let b = data(s * s, 2);
        let bias = vec![0.0; s];
        let mut out = vec![0.0f32; s * s];
        let mut scratch = vec![0.0f32; gemm_scratch_len(s, s, s)];
        group.throughput(Throughput::Elements((2 * s * s * s) as u64));
        let id = |what: &str| BenchmarkId::new(what, s);
        group.bench_function(id("packed-a_b"), |bench| {
            bench.iter(|| {
                gemm(s, s, s, MatRef::row_major(&a, s), MatRef::row_major(&b, s), &mut out, false, &mut scratch)
            })
        });
        group.bench_function(id("direct-a_b"), |bench| bench.iter(|| direct_a_b(&a, &b, &mut out, s, s, s)));
        group.bench_function(id("packed-a_bt"), |bench| {
            bench.iter(|| {
                gemm(s, s, s, MatRef::row_major(&a, s), MatRef::transposed(&b, s), &mut out, false, &mut scratch)
            })
        });
        group.bench_function(id("direct-a_bt"), |bench| {
            bench.iter(|| direct_a_bt_bias(&a, &b, &bias, &mut out, s, s, s))
        });
        group.bench_function(id("packed-at_b"), |bench| {
            bench.iter(|| {
                gemm(s, s, s, MatRef::transposed(&a, s), MatRef::row_major(&b, s), &mut out, false, &mut scratch)
            })
        });
        group.bench_function(id("direct-at_b"), |bench| bench.iter(|| direct_at_b(&a, &b, &mut out, s, s, s)));
    }
    group.finish();
}

criterion_group!(benches, embergrad_benches::peak, products, layer_products, crossover);
criterion_main!(benches);
