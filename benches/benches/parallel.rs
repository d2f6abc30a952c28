//! Data-parallel training steps (forward + backward + update, samples/s) on 1 and 2 threads
//! in the same run: W1 with batch 256 (SGD) and W3 (Adam, batch 256), 2 shards each (one per
//! core of the 2-core machines we measure on: more shards than threads only adds packing work,
//! measured: 4 shards gave 1.2x where 2 gave 1.6-1.8x).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use embergrad::optim::{Adam, Optimizer, Sgd};
use embergrad::Step;
use embergrad::{Loss, Spec};
use embergrad_benches::classification;
use embergrad_std::parallel::ShardedGradients;

const SHARDS: usize = 2;

fn workload(c: &mut Criterion, name: &str, w: u64, widths: &[usize], batch: usize, optimizer: Optimizer) {
    let work = classification(w, widths, batch * 4);
    let spec = Spec::new(&work.layers);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(batch as u64));
    group.sample_size(10);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let mut params = work.params.clone();
        let mut grads = vec![0.0; spec.param_len()];
        let mut state = vec![0.0; optimizer.state_len(params.len())];
        let mut sharded = ShardedGradients::new(spec.param_len(), SHARDS);
        let mut steps = 0u64;
        group.bench_function(format!("{threads}-threads"), |b| {
            b.iter(|| {
                pool.install(|| {
                    let minibatch = work.minibatch(steps, batch);
                    sharded
                        .loss_and_gradients(&spec, &params, &minibatch, Loss::SoftmaxCrossEntropy, &mut grads)
                        .unwrap();
                    optimizer.step(&mut steps, &mut params, &grads, &mut state).unwrap();
                })
            })
        });
    }
    group.finish();
}

fn w1(c: &mut Criterion) {
    workload(c, "W1-batch256-parallel", 1, &[784, 256, 128, 10], 256, Optimizer::Sgd(Sgd::new(0.01)));
}

fn w3(c: &mut Criterion) {
    workload(c, "W3-parallel", 3, &[256, 1024, 1024, 10], 256, Optimizer::Adam(Adam { lr: 1e-3, ..Adam::default() }));
}

criterion_group!(benches, w1, w3);
criterion_main!(benches);
