//! Training steps (forward + backward + update) on 1 and 2 threads, interleaved in the same
//! process (see `interleave.rs`: contenders alternate in shuffled rounds, figures are
//! medians, ratios are per round against the plain one-thread step):
//! - `plain, 1 thread`: `Spec::loss_and_gradients` and `Step::step`;
//! - `shards, 2 threads`: `ShardedGradients` with two shards on a 2-thread rayon pool (the
//!   call enters the pool from outside, as the trainer's loop does);
//! - `split, 1 thread` and `split, 2 threads`: `Spec::loss_and_gradients_split` and
//!   `Step::step_split` on `Workers` (the same results for any thread count).
//!
//! Workloads: W1 (784-256-128-10, SGD) at batch 64 and 256, W3 (256-1024-1024-10, Adam) at
//! batch 256, and W1 at batch 64 again while another thread spins on one core for the whole
//! table (a busy neighbour). Before and after the tables, the FMA loop's speed-up on two
//! threads shows whether the machine had two cores to give (see `fma_scaling`).
//! `cargo bench -p embergrad-benches --bench parallel [filter]`; `ROUNDS` sets the rounds
//! (default 15).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use embergrad::optim::{Adam, Optimizer, Sgd};
use embergrad::{Loss, Spec, Step};
use embergrad_benches::classification;
use embergrad_benches::interleave::{compare, Contender};
use embergrad_std::parallel::ShardedGradients;
use embergrad_std::workers::Workers;

const SLICE: Duration = Duration::from_millis(40);

fn rounds() -> usize {
    std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(15)
}

/// How a step's gradient and update are computed.
#[derive(Clone, Copy)]
enum Mode {
    Plain,
    Shards,
    Split,
}

/// One contender: a training step in `mode` on `threads` threads, from the workload's
/// initial params.
fn contender<'a>(
    name: &str,
    mode: Mode,
    threads: usize,
    widths: &'a [usize],
    w: u64,
    batch: usize,
    optimizer: Optimizer,
) -> Contender<'a> {
    let work = classification(w, widths, batch * 4);
    let spec_layers = work.layers.clone();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let workers = Workers::new(threads).unwrap();
    let param_len = Spec::new(&spec_layers).param_len();
    let mut params = work.params.clone();
    let mut grads = vec![0.0; param_len];
    let mut state = vec![0.0; optimizer.state_len(param_len)];
    let mut sharded = ShardedGradients::new(param_len, 2);
    let mut workspace = vec![0.0; Spec::new(&spec_layers).split_workspace_len(batch)];
    let mut steps = 0u64;
    Contender::new(name, batch as f64, move || {
        let spec = Spec::new(&spec_layers);
        let minibatch = work.minibatch(steps, batch);
        let (loss, lr) = (Loss::SoftmaxCrossEntropy, optimizer.lr());
        match mode {
            Mode::Plain => {
                spec.loss_and_gradients(&params, &minibatch, loss, &mut grads, &mut workspace).unwrap();
                optimizer.step(&mut steps, &mut params, &grads, &mut state).unwrap();
            }
            Mode::Shards => {
                pool.install(|| sharded.loss_and_gradients(&spec, &params, &minibatch, loss, &mut grads)).unwrap();
                optimizer.step(&mut steps, &mut params, &grads, &mut state).unwrap();
            }
            Mode::Split => {
                spec.loss_and_gradients_split(&params, &minibatch, loss, &mut grads, &mut workspace, &workers).unwrap();
                optimizer.step_split(lr, &mut steps, &mut params, &grads, &mut state, &workers).unwrap();
            }
        }
    })
}

fn table(title: &str, w: u64, widths: &[usize], batch: usize, optimizer: Optimizer) {
    if std::env::args().skip(1).filter(|a| !a.starts_with("--")).any(|filter| !title.contains(&filter)) {
        return;
    }
    let modes = [
        ("plain, 1 thread", Mode::Plain, 1),
        ("shards, 2 threads", Mode::Shards, 2),
        ("split, 1 thread", Mode::Split, 1),
        ("split, 2 threads", Mode::Split, 2),
    ];
    let mut contenders: Vec<Contender<'_>> = modes
        .iter()
        .map(|&(name, mode, threads)| contender(name, mode, threads, widths, w, batch, optimizer))
        .collect();
    let figures = compare(&mut contenders, rounds(), SLICE);
    println!("\n{title}");
    for f in figures {
        println!("  {:<20} {:>9.0} samples/s   x{:.2} vs plain, 1 thread", f.name, f.throughput, f.ratio_to_first);
    }
}

/// How much faster the FMA peak loop runs on two threads than on one: 2 when the two vCPUs
/// are two cores, 1 when they share one (it happens on these VMs, for minutes at a time, and
/// then no parallel mode can pay). Printed before and after the tables.
fn fma_scaling() -> f64 {
    use embergrad::kernels::internals::fma_peak;
    use std::time::Instant;
    let iters = 2_000_000;
    let rate = |threads: usize| {
        let start = Instant::now();
        let flops: u64 = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..threads).map(|_| scope.spawn(|| fma_peak(iters))).collect();
            runs.into_iter().map(|run| run.join().unwrap()).sum()
        });
        flops as f64 / start.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..5).map(|_| rate(2) / rate(1)).collect();
    ratios.sort_by(f64::total_cmp);
    ratios[2]
}

fn main() {
    println!("FMA loop, 2 threads over 1: x{:.2}", fma_scaling());
    let sgd = Optimizer::Sgd(Sgd::new(0.01));
    let adam = Optimizer::Adam(Adam { lr: 1e-3, ..Adam::default() });
    let w1 = [784, 256, 128, 10];
    table("W1 batch 64", 1, &w1, 64, sgd);
    table("W1 batch 256", 1, &w1, 256, sgd);
    table("W3 batch 256", 3, &[256, 1024, 1024, 10], 256, adam);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
        table("W1 batch 64, busy neighbour", 1, &w1, 64, sgd);
        stop.store(true, Ordering::Relaxed);
    });
    println!("\nFMA loop, 2 threads over 1: x{:.2}", fma_scaling());
}
