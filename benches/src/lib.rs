//! The benchmark workloads of `shared/peers/WORKLOADS.md`, generated exactly as the peers
//! generate them, so embergrad's figures can be set beside PyTorch's, FANN's and the others'.
#![forbid(unsafe_code)]

use criterion::{Criterion, Throughput};
use embergrad::optim::Optimizer;
use embergrad::Step;
use embergrad::{Activation, AlignedBuffer, Batch, LayerSpec, Loss, Spec, Target};

pub mod interleave;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The splitmix64 finaliser.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The peers' counter-based uniform: `u(seed, i)` in `[0, 1)`, exact in f32.
pub fn uniform(seed: u64, i: u64) -> f32 {
    (mix64(seed.wrapping_add((i + 1).wrapping_mul(GOLDEN))) >> 40) as f32 * (1.0 / 16_777_216.0)
}

/// A classification workload: inputs, labels, layers and Glorot-initialised params.
pub struct Workload {
    /// The network.
    pub layers: Vec<LayerSpec>,
    /// Initial params in embergrad's layout (weights `[out, in]`, then zero biases, per layer).
    pub params: Vec<f32>,
    /// `samples × inputs` values.
    pub inputs: Vec<f32>,
    /// One class per sample.
    pub labels: Vec<usize>,
}

impl Workload {
    /// Minibatch number `step` (cycling over the samples) of `size` samples.
    pub fn minibatch(&self, step: u64, size: usize) -> Batch<'_> {
        let count = self.labels.len() / size;
        let start = (step as usize % count) * size;
        let inputs = self.layers[0].inputs;
        Batch::new(
            &self.inputs[start * inputs..(start + size) * inputs],
            Target::Classes(&self.labels[start..start + size]),
            size,
        )
    }
}

/// Workload `w` (1 = W1, 3 = W3) with `samples` samples through a ReLU MLP of `widths`.
pub fn classification(w: u64, widths: &[usize], samples: usize) -> Workload {
    let (d, classes) = (widths[0], *widths.last().unwrap());
    let inputs: Vec<f32> = (0..samples * d).map(|i| uniform(1000 * w + 1, i as u64)).collect();
    let map: Vec<f64> = (0..d * classes).map(|i| f64::from(uniform(1000 * w + 2, i as u64)) - 0.5).collect();
    let labels = inputs
        .chunks_exact(d)
        .map(|x| {
            let logits: Vec<f64> =
                (0..classes).map(|k| (0..d).map(|j| (f64::from(x[j]) - 0.5) * map[j * classes + k]).sum()).collect();
            embergrad::argmax(&logits.iter().map(|&v| v as f32).collect::<Vec<_>>())
        })
        .collect();
    let mut layers = Vec::new();
    let mut params = Vec::new();
    for (l, pair) in widths.windows(2).enumerate() {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        let last = l + 2 == widths.len();
        layers.push(LayerSpec::new(fan_in, fan_out, if last { Activation::Identity } else { Activation::Relu }));
        let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
        params.extend(
            (0..fan_in * fan_out)
                .map(|i| ((2.0 * f64::from(uniform(1000 * w + 10 + l as u64, i as u64)) - 1.0) * bound) as f32),
        );
        params.extend(std::iter::repeat_n(0.0, fan_out));
    }
    Workload { layers, params, inputs, labels }
}

/// One training step (forward, loss, backward, optimizer) of a classification workload, on
/// minibatches rotating over `BATCHES` batches: params evolve from the workload's
/// initialisation as in a real run. Params, grads and workspace start on cache lines, as
/// [`embergrad::Mlp`]'s do.
pub struct ClassificationStep {
    work: Workload,
    batch: usize,
    optimizer: Optimizer,
    params: AlignedBuffer,
    grads: AlignedBuffer,
    workspace: AlignedBuffer,
    state: Vec<f32>,
    steps: u64,
}

impl ClassificationStep {
    /// Distinct minibatches the steps cycle over.
    pub const BATCHES: usize = 8;

    /// Workload `w` through a ReLU MLP of `widths`, batches of `batch`, trained by `optimizer`.
    pub fn new(w: u64, widths: &[usize], batch: usize, optimizer: Optimizer) -> Self {
        let work = classification(w, widths, batch * Self::BATCHES);
        let spec = Spec::new(&work.layers);
        let mut state = vec![0.0; optimizer.state_len(spec.param_len())];
        optimizer.init_state(&mut state).expect("state sized by state_len");
        ClassificationStep {
            params: AlignedBuffer::from_slice(&work.params),
            grads: AlignedBuffer::zeroed(spec.param_len()),
            workspace: AlignedBuffer::zeroed(spec.workspace_len(batch)),
            work,
            batch,
            optimizer,
            state,
            steps: 0,
        }
    }

    /// Samples per step.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Flops of one step counted as the issue counts them: 6 per weight per sample (forward,
    /// input gradient and weight gradient products, 2 flops per multiply-add each).
    pub fn flops_per_step(&self) -> f64 {
        let weights: usize = self.work.layers.iter().map(|l| l.inputs * l.outputs).sum();
        6.0 * weights as f64 * self.batch as f64
    }

    /// Runs one step.
    pub fn run(&mut self) {
        let spec = Spec::new(&self.work.layers);
        let minibatch = self.work.minibatch(self.steps, self.batch);
        spec.loss_and_gradients(
            &self.params,
            &minibatch,
            Loss::SoftmaxCrossEntropy,
            &mut self.grads,
            &mut self.workspace,
        )
        .expect("buffers sized by the spec");
        self.optimizer.step(&mut self.steps, &mut self.params, &self.grads, &mut self.state).expect("finite");
    }
}

/// A tight loop of independent FMAs on `$vector` repeated `$iters` times: 12 chains cover
/// two pipes × 4 cycles of latency, so this runs at the core's FMA throughput (2 flops per
/// lane per FMA, `$iters × 12 × 2 × lanes` flops in all).
#[macro_export]
macro_rules! fma_chains {
    ($vector:ty, $iters:expr) => {{
        let mut acc = [<$vector>::splat(0.0); 12];
        let x = std::hint::black_box(<$vector>::splat(0.999_999));
        let y = std::hint::black_box(<$vector>::splat(1e-7));
        for _ in 0..$iters {
            for a in acc.iter_mut() {
                *a = a.mul_add(x, y);
            }
        }
        std::hint::black_box(acc)
    }};
}

/// Iterations of one peak measurement call.
pub const PEAK_ITERS: u64 = 100_000;

/// Flops of one [`peak_call`] at the SIMD level in use.
pub fn peak_flops_per_call() -> u64 {
    PEAK_ITERS * 12 * 2 * embergrad::kernels::simd_level().tiles().lanes as u64
}

/// One call of the FMA peak loop on the vectors of the SIMD level in use (the kernels'
/// `fma_peak`, so it runs the instructions the kernels run).
pub fn peak_call() {
    std::hint::black_box(embergrad::kernels::internals::fma_peak(PEAK_ITERS));
}

/// The measured single-core FP32 peak in GFLOP/s ("elements" are flops), with `wide`'s 8-lane
/// vectors as this build compiles them, and with the vectors of the SIMD level in use: the
/// yardstick for every other figure of the same run.
pub fn peak(c: &mut Criterion) {
    let mut group = c.benchmark_group("peak");
    group.throughput(Throughput::Elements(PEAK_ITERS * 12 * 2 * 8));
    group.bench_function("fma-f32x8", |bench| bench.iter(|| fma_chains!(wide::f32x8, PEAK_ITERS)));
    group.throughput(Throughput::Elements(peak_flops_per_call()));
    group.bench_function(format!("fma-{}", embergrad::kernels::simd_level()), |bench| bench.iter(peak_call));
    group.finish();
}
