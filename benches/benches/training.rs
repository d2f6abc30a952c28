//! Training-step throughput on the shared workloads (samples/s), single thread, with the
//! measured FMA peak in the same run.
//!
//! W1: 784-256-128-10 ReLU, softmax CE, SGD lr 0.01, batch 64.
//! W2: 2-8-1 tanh/sigmoid, MSE, SGD lr 0.5, one XOR sample per update.
//! W3: 256-1024-1024-10 ReLU, softmax CE, Adam lr 1e-3, batch 256.
//!
//! Each step trains on: params evolve from the workload's initialisation as in a real run.
//! Achieved GFLOP/s = samples/s × 6 × weights (W1: 235,146 params; W3: 1,323,018).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use embergrad::optim::{Adam, Optimizer, Sgd};
use embergrad::Step;
use embergrad::{Activation, Batch, LayerSpec, Loss, Spec, Target};
use embergrad_benches::{uniform, ClassificationStep};

/// Times one training step of a classification workload (see [`ClassificationStep`]).
fn classification_step(
    c: &mut Criterion,
    group_name: &str,
    w: u64,
    widths: &[usize],
    batch: usize,
    optimizer: Optimizer,
) {
    let name = format!("{}-step-batch{batch}", optimizer.name());
    let mut step = ClassificationStep::new(w, widths, batch, optimizer);
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(batch as u64));
    group.sample_size(20);
    group.bench_function(name, |b| b.iter(|| step.run()));
    group.finish();
}

fn w1(c: &mut Criterion) {
    classification_step(c, "W1-mnist-mlp", 1, &[784, 256, 128, 10], 64, Optimizer::Sgd(Sgd::new(0.01)));
}

fn w3(c: &mut Criterion) {
    let adam = Optimizer::Adam(Adam { lr: 1e-3, ..Adam::default() });
    classification_step(c, "W3-wide-adam", 3, &[256, 1024, 1024, 10], 256, adam);
}

fn w2(c: &mut Criterion) {
    const LAYERS: [LayerSpec; 2] = [LayerSpec::new(2, 8, Activation::Tanh), LayerSpec::new(8, 1, Activation::Sigmoid)];
    const NET: Spec<'static> = Spec::new(&LAYERS);
    const XOR_IN: [f32; 8] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    const XOR_OUT: [f32; 4] = [0.0, 1.0, 1.0, 0.0];
    let mut params = [0.0f32; NET.param_len()];
    let bound1 = (6.0f32 / 10.0).sqrt();
    let bound2 = (6.0f32 / 9.0).sqrt();
    for (i, p) in params[..16].iter_mut().enumerate() {
        *p = (2.0 * uniform(2010, i as u64) - 1.0) * bound1;
    }
    for (i, p) in params[24..32].iter_mut().enumerate() {
        *p = (2.0 * uniform(2011, i as u64) - 1.0) * bound2;
    }
    let mut grads = [0.0f32; NET.param_len()];
    let mut workspace = [0.0f32; NET.workspace_len(1)];
    let mut group = c.benchmark_group("W2-tiny-online");
    group.throughput(Throughput::Elements(1));
    let mut sample = 0;
    group.bench_function("sgd-update", |b| {
        b.iter(|| {
            let i = sample % 4;
            sample += 1;
            let batch = Batch::new(&XOR_IN[2 * i..2 * i + 2], Target::Values(&XOR_OUT[i..i + 1]), 1);
            NET.loss_and_gradients(&params, &batch, Loss::Mse, &mut grads, &mut workspace).unwrap();
            Sgd::new(0.5).step(&mut 0, &mut params, &grads, &mut []).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, embergrad_benches::peak, w1, w2, w3);
criterion_main!(benches);
