//! Deterministic data parallelism: a minibatch is cut into a fixed number of shards, each
//! shard's gradient is computed on the core's kernels in its own workspace, and the shard
//! gradients are summed, each weighted by its share of the batch, in a fixed order. The number of shards does not depend on the
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
    /// The shard's gradient (the mean over its samples); unused (empty) for shard 0, which
    /// writes into the caller's buffer.
    /// caller's buffer.
    grads: AlignedBuffer,
    /// The shard's mean loss.
    loss: f32,
    /// The shard's share of the batch (its samples over the batch's).
    weight: f32,
}

impl ShardedGradients {
    /// Buffers for `shards` shards of a network with `param_len` params; workspaces grow to
    /// the largest shard seen, then stay.
    pub fn new(param_len: usize, shards: usize) -> Self {
        let shards = (0..shards.max(1))
            .map(|s| Shard {
                workspace: AlignedBuffer::default(),
                grads: AlignedBuffer::zeroed(if s == 0 { 0 } else { param_len }),
                loss: 0.0,
                weight: 0.0,
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
    /// and bitwise independent of the number of threads. After an error `grads` holds no
    /// meaningful values.
    pub fn loss_and_gradients(
        &mut self,
        spec: &Spec<'_>,
        params: &[f32],
        batch: &Batch<'_>,
        loss: Loss,
        grads: &mut [f32],
    ) -> Result<f32, Error> {
        if batch.size == 0 {
            return Err(Error::EmptyBatch);
        }
        let inputs = spec.inputs();
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
        let pass = |s: usize, workspace: &mut AlignedBuffer, out: &mut [f32]| {
            shard_pass(spec, params, loss, batch, (start(s), start(s + 1)), workspace, out)
        };
        // Shard 0 writes straight into `grads`, where the sum ends, so a single shard costs no
        // copy (a copy of every gradient per step was 9% of a one-thread MNIST run).
        let (first, rest) = self.shards.split_first_mut().expect("new() makes at least one shard");
        if rest.is_empty() {
            // One shard runs on the calling thread (handed to the pool through `rayon::join`,
            // a one-thread MNIST run lost a quarter of its speed).
            first.loss = pass(0, &mut first.workspace, grads)?;
        } else {
            let (first_loss, rest_done) = rayon::join(
                || pass(0, &mut first.workspace, &mut *grads),
                || {
                    rest.par_iter_mut().enumerate().try_for_each(|(i, shard)| {
                        shard.loss = pass(i + 1, &mut shard.workspace, &mut shard.grads)?;
                        Ok::<(), Error>(())
                    })
                },
            );
            first.loss = first_loss?;
            rest_done?;
        }
        for (s, shard) in self.shards.iter_mut().enumerate() {
            shard.weight = (start(s + 1) - start(s)) as f32 / batch.size as f32;
        }
        combine(grads, &self.shards);
        Ok(self.shards.iter().fold(0.0, |sum, shard| sum + shard.weight * shard.loss))
    }
}

/// Values per piece of the combination: a piece of every shard's gradient stays in cache
/// while it is summed, and the pieces are the work the pool shares.
const COMBINE_PIECE: usize = 16 * 1024;

/// `sum[i] = w₀·sum[i] + w₁·g₁[i] + w₂·g₂[i] + ...` (shard 0's gradient is `sum`), in that
/// order for every element, so the result does not depend on how the pieces are shared out
/// over the current rayon pool; one pass over memory (scaling each shard's gradient, then
/// adding them, would take three).
fn combine(sum: &mut [f32], shards: &[Shard]) {
    let Some((first, others)) = shards.split_first() else { return };
    if others.is_empty() {
        // One shard: its gradient is the batch's (weight 1).
        return;
    }
    sum.par_chunks_mut(COMBINE_PIECE).enumerate().for_each(|(piece, sum)| {
        let range = piece * COMBINE_PIECE..piece * COMBINE_PIECE + sum.len();
        sum.iter_mut().for_each(|value| *value *= first.weight);
        for other in others {
            for (value, &g) in sum.iter_mut().zip(&other.grads[range.clone()]) {
                *value += other.weight * g;
            }
        }
    });
}

/// One shard's share of a step: the gradient of samples `from..to` of `batch` into `grads`,
/// weighted by the shard's share of the batch so that the shards sum to the batch mean;
/// returns the loss weighted the same way. An empty shard (a batch smaller than the shard
/// count) contributes zeros.
fn shard_pass(
    spec: &Spec<'_>,
    params: &[f32],
    loss: Loss,
    batch: &Batch<'_>,
    (from, to): (usize, usize),
    workspace: &mut AlignedBuffer,
    grads: &mut [f32],
) -> Result<f32, Error> {
    let samples = to - from;
    if samples == 0 {
        grads.fill(0.0);
        return Ok(0.0);
    }
    let (inputs, outputs) = (spec.inputs(), spec.outputs());
    let target = match batch.target {
        Target::Values(v) => Target::Values(v.get(from * outputs..to * outputs).unwrap_or(&[])),
        Target::Classes(c) => Target::Classes(c.get(from..to).unwrap_or(&[])),
    };
    let part = Batch::new(&batch.input[from * inputs..to * inputs], target, samples);
    workspace.ensure_len(spec.workspace_len(samples));
    spec.loss_and_gradients(params, &part, loss, grads, workspace)
}
