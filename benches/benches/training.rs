//! Training-step throughput on the shared workloads (samples/s), single thread.
//!
//! W1: 784-256-128-10 ReLU, softmax CE, SGD lr 0.01, batch 64.
//! W2: 2-8-1 tanh/sigmoid, MSE, SGD lr 0.5, one XOR sample per update.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use embergrad::{sgd_step, Activation, Batch, LayerSpec, Loss, Spec, Target};
use embergrad_benches::{classification, uniform};

fn w1(c: &mut Criterion) {
    const BATCH: usize = 64;
    let work = classification(1, &[784, 256, 128, 10], BATCH * 16);
    let spec = Spec::new(&work.layers);
    let mut grads = vec![0.0; spec.param_len()];
    let mut workspace = vec![0.0; spec.workspace_len(BATCH)];
    let mut group = c.benchmark_group("W1-mnist-mlp");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);
    let mut step = 0;
    group.bench_function("sgd-step-batch64", |b| {
        b.iter_batched_ref(
            || work.params.clone(),
            |params| {
                let start = (step % 16) * BATCH;
                step += 1;
                let batch = Batch::new(
                    &work.inputs[start * 784..(start + BATCH) * 784],
                    Target::Classes(&work.labels[start..start + BATCH]),
                    BATCH,
                );
                spec.loss_and_gradients(params, &mut grads, &mut workspace, Loss::SoftmaxCrossEntropy, &batch).unwrap();
                sgd_step(params, &grads, 0.01).unwrap();
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
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
            NET.loss_and_gradients(&params, &mut grads, &mut workspace, Loss::Mse, &batch).unwrap();
            sgd_step(&mut params, &grads, 0.5).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, w1, w2);
criterion_main!(benches);
