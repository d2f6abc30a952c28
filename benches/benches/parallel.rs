//! Parallel training steps (forward + backward + update, samples/s) on 1 and 2 threads in
//! the same run, beside the plain one-thread step: W1 with batch 64 and 256 (SGD) and W3
//! (Adam, batch 256); data parallel (two shards on a rayon pool) and split inside each
//! product (`Spec::loss_and_gradients_split` on `Workers`, or on a rayon pool for
//! comparison). The `busy-neighbour` groups repeat W1 at batch 64 while another thread spins
//! on one core for the whole group, as a second process would.

use std::sync::atomic::{AtomicBool, Ordering};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use embergrad::optim::{Adam, Optimizer, Sgd};
use embergrad::{Executor, Loss, PieceTask, Spec, Step};
use embergrad_benches::classification;
use embergrad_std::parallel::ShardedGradients;
use embergrad_std::workers::Workers;
use rayon::prelude::*;

/// How a step's gradient is computed.
#[derive(Clone, Copy)]
enum Mode {
    /// `Spec::loss_and_gradients` on the calling thread: the one-thread reference.
    Plain,
    /// Data parallel: `ShardedGradients` with two shards (one per core of the 2-core machines
    /// we measure on: more shards than threads only adds packing work).
    Shards,
    /// Split inside each product, the pieces on `Workers`.
    Split,
    /// Split inside each product, the pieces on a rayon pool (whose idle threads sleep).
    SplitRayon,
}

/// Every mode, with its thread counts.
const ALL_MODES: &[(&str, Mode, usize)] = &[
    ("plain-1-thread", Mode::Plain, 1),
    ("shards-1-thread", Mode::Shards, 1),
    ("shards-2-threads", Mode::Shards, 2),
    ("split-1-thread", Mode::Split, 1),
    ("split-2-threads", Mode::Split, 2),
    ("split-rayon-2-threads", Mode::SplitRayon, 2),
];

/// The pieces of a split product on the current rayon pool.
struct RayonPieces;

impl Executor for RayonPieces {
    fn for_each_piece(
        &self,
        out: &mut [f32],
        piece_len: usize,
        scratch: &mut [f32],
        scratch_len: usize,
        task: PieceTask<'_>,
    ) {
        let pieces = out.par_chunks_mut(piece_len).zip(scratch.par_chunks_mut(scratch_len));
        pieces.enumerate().for_each(|(i, (piece, scratch))| task(i, piece, scratch));
    }
}

fn workload(
    c: &mut Criterion,
    name: &str,
    w: u64,
    widths: &[usize],
    batch: usize,
    optimizer: Optimizer,
    modes: &[(&str, Mode, usize)],
) {
    let work = classification(w, widths, batch * 4);
    let spec = Spec::new(&work.layers);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(batch as u64));
    group.sample_size(10);
    for &(label, mode, threads) in modes {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let workers = Workers::new(threads).unwrap();
        let mut params = work.params.clone();
        let mut grads = vec![0.0; spec.param_len()];
        let mut state = vec![0.0; optimizer.state_len(params.len())];
        let mut sharded = ShardedGradients::new(spec.param_len(), 2);
        let mut workspace = vec![0.0; spec.split_workspace_len(batch)];
        let mut steps = 0u64;
        // The whole timing loop runs on one of the pool's threads, as a training loop would:
        // a step then wakes only the pool's other threads, not a thread outside the pool.
        group.bench_function(label, |b| {
            pool.install(|| {
                b.iter(|| {
                    let minibatch = work.minibatch(steps, batch);
                    let (loss, grads) = (Loss::SoftmaxCrossEntropy, &mut grads);
                    match mode {
                        Mode::Plain => spec.loss_and_gradients(&params, &minibatch, loss, grads, &mut workspace),
                        Mode::Shards => sharded.loss_and_gradients(&spec, &params, &minibatch, loss, grads),
                        Mode::Split => {
                            spec.loss_and_gradients_split(&params, &minibatch, loss, grads, &mut workspace, &workers)
                        }
                        Mode::SplitRayon => spec.loss_and_gradients_split(
                            &params,
                            &minibatch,
                            loss,
                            grads,
                            &mut workspace,
                            &RayonPieces,
                        ),
                    }
                    .unwrap();
                    optimizer.step(&mut steps, &mut params, grads, &mut state).unwrap();
                })
            })
        });
    }
    group.finish();
}

fn w1(c: &mut Criterion) {
    let sgd = Optimizer::Sgd(Sgd::new(0.01));
    workload(c, "W1-batch64-parallel", 1, &[784, 256, 128, 10], 64, sgd, ALL_MODES);
    workload(c, "W1-batch256-parallel", 1, &[784, 256, 128, 10], 256, sgd, ALL_MODES);
}

fn w3(c: &mut Criterion) {
    let adam = Optimizer::Adam(Adam { lr: 1e-3, ..Adam::default() });
    workload(c, "W3-parallel", 3, &[256, 1024, 1024, 10], 256, adam, ALL_MODES);
}

/// W1 at batch 64 while a thread spins on one core.
fn busy_neighbour(c: &mut Criterion) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
        let modes = [ALL_MODES[0], ALL_MODES[2], ALL_MODES[4]];
        let sgd = Optimizer::Sgd(Sgd::new(0.01));
        workload(c, "W1-batch64-busy-neighbour", 1, &[784, 256, 128, 10], 64, sgd, &modes);
        stop.store(true, Ordering::Relaxed);
    });
}

criterion_group!(benches, w1, w3, busy_neighbour);
criterion_main!(benches);
