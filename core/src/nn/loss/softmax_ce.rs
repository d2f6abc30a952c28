//! Softmax cross-entropy with class-index targets (`cross_entropy`), plain and with label
//! smoothing: one formula, two members.

use crate::error::{check_hyper_parameter, Result};
use crate::graph::{NodeId, NodeStore, SampleLoss, SampleNodes, Scalar, Tape};
use crate::kernels;
use crate::nn::loss::{Member, Target, TargetKind};

/// `mean(logsumexp(z) - z[label])`; gradient `(softmax(z) - onehot(label)) / batch`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SoftmaxCrossEntropy;

/// Cross-entropy against `q = (1 - ε)·onehot(label) + ε/C`:
/// `mean(logsumexp(z) - (1 - ε)·z[label] - ε/C·Σz)`; gradient `(softmax(z) - q) / batch`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelSmoothingCrossEntropy {
    /// ε, in `[0, 1]`.
    pub smoothing: f32,
}

/// The mean over rows of `lse(z) - (1 - ε)·z[label] - ε/C·Σz`, with the row maximum
/// subtracted inside `lse` (no overflow); the gradient `(softmax - q) / batch` into `grad`.
fn cross_entropy(
    output: &[f32],
    classes: usize,
    target: Target<'_>,
    smoothing: f32,
    mut grad: Option<&mut [f32]>,
) -> f32 {
    let Target::Classes(labels) = target else {
        return f32::NAN;
    };
    let inv_batch = 1.0 / labels.len() as f32;
    let spread = smoothing / classes as f32;
    let mut total = 0.0f32;
    for (row_index, (logits, &label)) in output.chunks_exact(classes).zip(labels).enumerate() {
        let log_sum_exp = match grad.as_deref_mut() {
            Some(g) => {
                let g_row = &mut g[row_index * classes..(row_index + 1) * classes];
                g_row.copy_from_slice(logits);
                let lse = kernels::softmax_in_place(g_row);
                // `- 1 + ε` rather than `- (1 - ε)`: the f32 rounding of `1 - ε` would leave a
                // residue where the exact gradient is 0 (one class, or a certain prediction).
                g_row[label] -= 1.0;
                if smoothing != 0.0 {
                    g_row[label] += smoothing;
                    g_row.iter_mut().for_each(|g| *g -= spread);
                }
                kernels::scale(g_row, inv_batch);
                lse
            }
            None => kernels::log_sum_exp(logits),
        };
        let mut row = log_sum_exp - logits[label];
        if smoothing != 0.0 {
            row += smoothing * logits[label] - spread * kernels::sum(logits);
        }
        total += row;
    }
    total * inv_batch
}

/// Appends `lse(z) - Σ q_k·z_k` with `q_k = (1 - ε)·t_k + ε/C` (the targets `t` one-hot).
fn build_cross_entropy<T: Scalar, S: NodeStore<T>>(
    tape: &mut Tape<T, S>,
    sample: SampleNodes,
    smoothing: f32,
) -> Result<NodeId> {
    let width = sample.width;
    let keep = tape.constant(T::from_f64(1.0 - f64::from(smoothing)))?;
    let spread = tape.constant(T::from_f64(f64::from(smoothing) / width as f64))?;
    let mut max = sample.output(tape, 0)?;
    for k in 1..width {
        let z = sample.output(tape, k)?;
        max = tape.max(max, z)?;
    }
    let mut sum = tape.constant(T::zero())?;
    let mut picked = tape.constant(T::zero())?;
    for k in 0..width {
        let z = sample.output(tape, k)?;
        let shifted = tape.sub(z, max)?;
        let e = tape.exp(shifted)?;
        sum = tape.add(sum, e)?;
        let t = sample.target(tape, k)?;
        let kept = tape.mul(keep, t)?;
        let q = tape.add(kept, spread)?;
        let qz = tape.mul(q, z)?;
        picked = tape.add(picked, qz)?;
    }
    let log_sum = tape.ln(sum)?;
    let lse = tape.add(max, log_sum)?;
    tape.sub(lse, picked)
}

impl Member for SoftmaxCrossEntropy {
    const NAME: &'static str = "softmax_ce";
    const TARGET: TargetKind = TargetKind::Classes;
    fn mean(&self, output: &[f32], outputs: usize, target: Target<'_>, grad: Option<&mut [f32]>) -> f32 {
        cross_entropy(output, outputs, target, 0.0, grad)
    }
}

impl SampleLoss for SoftmaxCrossEntropy {
    fn build<T: Scalar, S: NodeStore<T>>(&self, tape: &mut Tape<T, S>, sample: SampleNodes) -> Result<NodeId> {
        build_cross_entropy(tape, sample, 0.0)
    }
}

impl Member for LabelSmoothingCrossEntropy {
    const NAME: &'static str = "softmax_ce_smoothed";
    const TARGET: TargetKind = TargetKind::Classes;
    fn validate(&self) -> Result<()> {
        check_hyper_parameter((0.0..=1.0).contains(&self.smoothing), "smoothing", "must be in [0, 1]")
    }
    fn mean(&self, output: &[f32], outputs: usize, target: Target<'_>, grad: Option<&mut [f32]>) -> f32 {
        cross_entropy(output, outputs, target, self.smoothing, grad)
    }
}

impl SampleLoss for LabelSmoothingCrossEntropy {
    fn build<T: Scalar, S: NodeStore<T>>(&self, tape: &mut Tape<T, S>, sample: SampleNodes) -> Result<NodeId> {
        build_cross_entropy(tape, sample, self.smoothing)
    }
}
