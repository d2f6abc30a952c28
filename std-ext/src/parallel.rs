//! Deterministic data parallelism: a minibatch is cut into a fixed number of shards, each
//! shard's gradient is computed on the core's kernels in its own workspace, and the shard
//! gradients are summed in a fixed tree order. The number of shards does not depend on the
//! number of threads, so 1, 2 or 16 threads give bitwise-identical results.

use embergrad::{AlignedBuffer, Batch, Error, Loss, Spec, Target};
use rayon::prelude::*;

/// Per-shard buffers, allocated once and reused for every step.
#[derive(Debug)]
pub struct ShardedGradients {
    shards: Vec<Shard>,
}

#[derive(Debug)]
struct Shard {
    workspace: AlignedBuffer,
    grads: AlignedBuffer,
    loss: f32,
    samples: usize,
}

impl ShardedGradients {
    /// Buffers for `shards` shards of a network with `param_len` params; workspaces grow to
    /// the largest shard seen, then stay.
    pub fn new(param_len: usize, shards: usize) -> Self {
        let shards = (0..shards.max(1))
            .map(|_| Shard {
                workspace: AlignedBuffer::default(),
                grads: AlignedBuffer::zeroed(param_len),
                loss: 0.0,
                samples: 0,
            })
            .collect();
        ShardedGradients { shards }
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.shards.len()
    }

    /// The mean loss of `batch` and its gradient into `grads`, computed shard by shard in
    /// parallel on the current rayon pool. Equal to the single-pass result up to rounding,
    /// and bitwise independent of the number of threads.
    pub fn loss_and_gradients(
        &mut self,
        spec: &Spec<'_>,
        params: &[f32],
        grads: &mut [f32],
        loss: Loss,
        batch: &Batch<'_>,
    ) -> Result<f32, Error> {
        if batch.size == 0 {
            return Err(Error::EmptyBatch);
        }
        let inputs = spec.inputs();
        let outputs = spec.outputs();
        if batch.input.len() != batch.size.saturating_mul(inputs) {
            return Err(Error::LengthMismatch {
                buffer: "input",
                expected: batch.size * inputs,
                actual: batch.input.len(),
            });
        }
        if grads.len() != spec.param_len() {
            return Err(Error::LengthMismatch { buffer: "grads", expected: spec.param_len(), actual: grads.len() });
        }
        let count = self.shards.len();
        // Shard s takes samples [start(s), start(s + 1)): sizes differ by at most one.
        let start = |s: usize| s * batch.size / count;
        self.shards.par_iter_mut().enumerate().try_for_each(|(s, shard)| {
            let (from, to) = (start(s), start(s + 1));
            shard.samples = to - from;
            if shard.samples == 0 {
                // A batch smaller than the shard count: this shard adds nothing.
                shard.loss = 0.0;
                shard.grads.fill(0.0);
                return Ok(());
            }
            let target = match batch.target {
                Target::Values(v) => Target::Values(v.get(from * outputs..to * outputs).unwrap_or(&[])),
                Target::Classes(c) => Target::Classes(c.get(from..to).unwrap_or(&[])),
            };
            let part = Batch::new(&batch.input[from * inputs..to * inputs], target, shard.samples);
            shard.workspace.ensure_len(spec.workspace_len(shard.samples));
            shard.loss = spec.loss_and_gradients(params, &mut shard.grads, &mut shard.workspace, loss, &part)?;
            // Weight by the shard's share of the batch, so the sum is the batch mean.
            let weight = shard.samples as f32 / batch.size as f32;
            embergrad::kernels::scale(&mut shard.grads, weight);
            shard.loss *= weight;
            Ok(())
        })?;
        // Fixed tree: pair shard i with i + stride, stride = 1, 2, 4, ...
        let mut stride = 1;
        while stride < count {
            for left in (0..count).step_by(2 * stride) {
                let right = left + stride;
                if right < count {
                    let (head, tail) = self.shards.split_at_mut(right);
                    embergrad::kernels::axpy(&mut head[left].grads, 1.0, &tail[0].grads);
                    head[left].loss += tail[0].loss;
                }
            }
            stride *= 2;
        }
        grads.copy_from_slice(&self.shards[0].grads);
        Ok(self.shards[0].loss)
    }
}
