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
use wide::f32x8;

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
    let initial = params;
    let mut grads = [0.0f32; NET.param_len()];
    let mut workspace = [0.0f32; NET.workspace_len(1)];
    let mut group = c.benchmark_group("W2-tiny-online");
    group.throughput(Throughput::Elements(1));
    // The per-sample path: checked once, forward, backward and SGD fused.
    let mut sample_params = initial;
    let mut sample_workspace = [0.0f32; NET.workspace_len(1)];
    let mut step = NET.sample_step(&mut sample_workspace).unwrap();
    let mut sample = 0;
    group.bench_function("sample-step-sgd", |b| {
        b.iter(|| {
            let i = sample % 4;
            sample += 1;
            step.sgd(&mut sample_params, &XOR_IN[2 * i..2 * i + 2], Target::Values(&XOR_OUT[i..i + 1]), Loss::Mse, 0.5)
                .unwrap();
        })
    });
    // The batch path at batch 1: loss_and_gradients, then an SGD step.
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
    // The floor: the same update written for this one shape (see `HandWrittenW2`).
    let mut floor = HandWrittenW2::from_params(&initial);
    floor.check_against(&NET, &initial, &XOR_IN, &XOR_OUT);
    let mut sample = 0;
    group.bench_function("hand-written-floor", |b| {
        b.iter(|| {
            let i = sample % 4;
            sample += 1;
            floor.sgd([XOR_IN[2 * i], XOR_IN[2 * i + 1]], XOR_OUT[i], 0.5)
        })
    });
    group.finish();
}

/// W2's update written by hand for its one shape, as a floor for any general path: the
/// hidden layer's weights kept as two columns of one 8-lane vector each (no row walk, no
/// slices, no checks), tanh on the vector by `wide`'s `exp` as the library computes it, the
/// output's sigmoid on one scalar. Each update depends on the previous one's parameters, so
/// its time is the latency of that chain (exp, divide, horizontal sum, exp, divide, update),
/// not throughput.
#[derive(Clone, Copy)]
struct HandWrittenW2 {
    column0: f32x8,
    column1: f32x8,
    hidden_bias: f32x8,
    output_weights: f32x8,
    output_bias: f32,
}

impl HandWrittenW2 {
    /// From the library's layout: hidden weights row-major (8 rows of 2), hidden biases,
    /// output weights, output bias.
    fn from_params(params: &[f32; 33]) -> Self {
        let column = |c: usize| f32x8::from(core::array::from_fn::<f32, 8, _>(|row| params[2 * row + c]));
        Self {
            column0: column(0),
            column1: column(1),
            hidden_bias: f32x8::from(<[f32; 8]>::try_from(&params[16..24]).unwrap()),
            output_weights: f32x8::from(<[f32; 8]>::try_from(&params[24..32]).unwrap()),
            output_bias: params[32],
        }
    }

    /// Panics unless 2,000 updates from `initial` leave this floor and the library's
    /// per-sample path with the same losses (to 1e-5): the floor must be the same update.
    fn check_against(&self, net: &Spec<'_>, initial: &[f32; 33], inputs: &[f32; 8], targets: &[f32; 4]) {
        let mut floor = *self;
        let mut params = *initial;
        let mut workspace = vec![0.0f32; net.workspace_len(1)];
        let mut step = net.sample_step(&mut workspace).unwrap();
        for n in 0..2000 {
            let i = n % 4;
            let ours = step
                .sgd(&mut params, &inputs[2 * i..2 * i + 2], Target::Values(&targets[i..i + 1]), Loss::Mse, 0.5)
                .unwrap();
            let theirs = floor.sgd([inputs[2 * i], inputs[2 * i + 1]], targets[i], 0.5);
            assert!((ours - theirs).abs() <= 1e-5, "update {n}: library loss {ours}, floor {theirs}");
        }
    }

    /// One SGD step on one sample under MSE; returns the loss before the step.
    #[inline(never)]
    fn sgd(&mut self, input: [f32; 2], target: f32, lr: f32) -> f32 {
        let (one, two) = (f32x8::splat(1.0), f32x8::splat(2.0));
        let (x0, x1) = (f32x8::splat(input[0]), f32x8::splat(input[1]));
        let z = self.hidden_bias + self.column0 * x0 + self.column1 * x1;
        let hidden = one - two / ((z * two).exp() + one);
        let output = 1.0 / (1.0 + (-(self.output_bias + (self.output_weights * hidden).reduce_add())).exp());
        let error = output - target;
        let d_output = 2.0 * error * output * (1.0 - output);
        let d_hidden = f32x8::splat(d_output) * self.output_weights * (one - hidden * hidden);
        let step = lr * d_output;
        self.output_weights -= f32x8::splat(step) * hidden;
        self.output_bias -= step;
        let hidden_step = f32x8::splat(lr) * d_hidden;
        self.column0 -= hidden_step * x0;
        self.column1 -= hidden_step * x1;
        self.hidden_bias -= hidden_step;
        error * error
    }
}

/// Batch-1 inference on 64-32-10 (the digits network) through the per-sample path and the
/// batch path, and a SimpleChains.jl-style shape (24-8-2, batch 200, forward + backward).
fn small(c: &mut Criterion) {
    const DIGITS: [LayerSpec; 2] =
        [LayerSpec::new(64, 32, Activation::Relu), LayerSpec::new(32, 10, Activation::Identity)];
    const NET: Spec<'static> = Spec::new(&DIGITS);
    let params: Vec<f32> = (0..NET.param_len()).map(|i| (uniform(64, i as u64) - 0.5) * 0.3).collect();
    let input: Vec<f32> = (0..64).map(|i| uniform(65, i)).collect();
    let mut group = c.benchmark_group("batch1-forward-64-32-10");
    group.throughput(Throughput::Elements(1));
    let mut workspace = vec![0.0f32; NET.workspace_len(1)];
    let mut step = NET.sample_step(&mut workspace).unwrap();
    group.bench_function("sample-step", |b| b.iter(|| step.forward(&params, &input).unwrap()[0]));
    let mut workspace = vec![0.0f32; NET.forward_workspace_len(1)];
    group.bench_function("batch-path", |b| b.iter(|| NET.forward(&params, &input, 1, &mut workspace).unwrap()[0]));
    group.finish();

    const CHAIN: [LayerSpec; 2] = [LayerSpec::new(24, 8, Activation::Tanh), LayerSpec::new(8, 2, Activation::Identity)];
    const SIMPLE: Spec<'static> = Spec::new(&CHAIN);
    let params: Vec<f32> = (0..SIMPLE.param_len()).map(|i| (uniform(24, i as u64) - 0.5) * 0.4).collect();
    let input: Vec<f32> = (0..200 * 24).map(|i| uniform(25, i)).collect();
    let target: Vec<f32> = (0..200 * 2).map(|i| uniform(26, i)).collect();
    let mut grads = vec![0.0f32; SIMPLE.param_len()];
    let mut workspace = vec![0.0f32; SIMPLE.workspace_len(200)];
    let batch = Batch::new(&input, Target::Values(&target), 200);
    let mut group = c.benchmark_group("simplechains-24-8-2-batch200");
    group.throughput(Throughput::Elements(200));
    group.bench_function("forward-backward", |b| {
        b.iter(|| SIMPLE.loss_and_gradients(&params, &batch, Loss::Mse, &mut grads, &mut workspace).unwrap())
    });
    group.finish();
}

criterion_group!(benches, embergrad_benches::peak, w1, w2, w3, small);
criterion_main!(benches);
