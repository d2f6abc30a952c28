//! Optimizer step throughput (parameters/s) on 1M parameters, each beside a plain scalar loop
//! of the same update measured in the same run.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use embergrad::optim::{Adam, Optimizer, Sgd};
use embergrad::Step;
use std::hint::black_box;

const N: usize = 1 << 20;

/// Adam written as the obvious per-element scalar loop, the baseline for the SIMD kernel.
fn scalar_adam(c: &Adam, t: i32, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    let bc1 = 1.0 - c.beta1.powi(t);
    let bc2 = (1.0 - c.beta2.powi(t)).sqrt();
    for i in 0..p.len() {
        m[i] = c.beta1 * m[i] + (1.0 - c.beta1) * g[i];
        v[i] = c.beta2 * v[i] + (1.0 - c.beta2) * g[i] * g[i];
        p[i] -= c.lr / bc1 * m[i] / (v[i].sqrt() / bc2 + c.eps);
    }
}

fn bench(c: &mut Criterion) {
    let grads: Vec<f32> = (0..N).map(|i| ((i % 97) as f32 - 48.0) * 1e-3).collect();
    let mut params = vec![0.5f32; N];
    let mut group = c.benchmark_group("optimizer-step-1M");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(30);

    let adam = Adam::default();
    let opt = Optimizer::Adam(adam);
    let mut state = vec![0.0; opt.state_len(N)];
    let mut steps = 0;
    group.bench_function("adam/embergrad", |b| {
        b.iter(|| opt.step(&mut steps, black_box(&mut params), &grads, &mut state).unwrap())
    });
    let (mut m, mut v) = (vec![0.0; N], vec![0.0; N]);
    let mut t = 0;
    group.bench_function("adam/scalar-loop", |b| {
        b.iter(|| {
            t += 1;
            scalar_adam(&adam, t.min(1000), black_box(&mut params), &grads, &mut m, &mut v)
        })
    });

    let momentum = Optimizer::Sgd(Sgd { lr: 0.01, momentum: 0.9, ..Sgd::default() });
    let mut buf = vec![0.0; N];
    group.bench_function("sgd-momentum/embergrad", |b| {
        b.iter(|| momentum.step(&mut steps, black_box(&mut params), &grads, &mut buf).unwrap())
    });
    group.bench_function("sgd-momentum/scalar-loop", |b| {
        b.iter(|| {
            for i in 0..N {
                buf[i] = 0.9 * buf[i] + grads[i];
                params[i] -= 0.01 * buf[i];
            }
            black_box(&mut params);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
