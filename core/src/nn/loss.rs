//! Loss functions with PyTorch's definitions and default (`mean`) reductions.

use crate::error::{check_len, Error, Result};
use crate::kernels;
use crate::nn::activation::sigmoid;

/// What a loss compares the network's output with.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// One value per output element, `[batch, outputs]` row-major (MSE, BCE).
    Values(&'a [f32]),
    /// One class index per sample, `[batch]` (softmax cross-entropy).
    Classes(&'a [usize]),
}

/// A loss function over a batch of outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loss {
    /// Mean squared error, averaged over all `batch × outputs` elements
    /// (`torch.nn.functional.mse_loss`). Needs [`Target::Values`].
    Mse,
    /// Softmax followed by negative log-likelihood of the target class, averaged over the batch
    /// (`torch.nn.functional.cross_entropy` with class indices). The network's last layer must
    /// output raw logits ([`crate::Activation::Identity`]). Needs [`Target::Classes`].
    SoftmaxCrossEntropy,
    /// Sigmoid plus binary cross-entropy on logits, averaged over all elements
    /// (`torch.nn.functional.binary_cross_entropy_with_logits`). Needs [`Target::Values`]
    /// in `[0, 1]`.
    BceWithLogits,
}

impl Loss {
    /// Every loss, in a fixed order.
    pub const ALL: [Loss; 3] = [Loss::Mse, Loss::SoftmaxCrossEntropy, Loss::BceWithLogits];

    /// The short name used in files and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::SoftmaxCrossEntropy => "softmax_ce",
            Loss::BceWithLogits => "bce_logits",
        }
    }

    /// Parses a name as returned by [`Loss::name`].
    pub fn from_name(name: &str) -> Option<Loss> {
        Loss::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Computes the mean loss of `output` (`[batch, outputs]`) against `target`, and, when
    /// `grad` is given, writes dLoss/dOutput into it (same shape as `output`).
    ///
    /// Returns [`Error::NonFiniteLoss`] if the loss is NaN or infinite; `grad` holds
    /// unspecified values then. Labels are checked before anything is written.
    ///
    /// ```
    /// use embergrad::{Loss, Target};
    /// let logits = [2.0, 0.0, 0.0, 0.0, 2.0, 0.0];
    /// let mut grad = [0.0; 6];
    /// let loss = Loss::SoftmaxCrossEntropy
    ///     .evaluate(&logits, 2, 3, Target::Classes(&[0, 1]), Some(&mut grad))
    ///     .unwrap();
    /// assert!((loss - 0.2395).abs() < 1e-3);
    /// assert!(grad[0] < 0.0 && grad[1] > 0.0);
    /// ```
    pub fn evaluate(
        self,
        output: &[f32],
        batch: usize,
        outputs: usize,
        target: Target<'_>,
        grad: Option<&mut [f32]>,
    ) -> Result<f32> {
        if batch == 0 {
            return Err(Error::EmptyBatch);
        }
        let elements = batch.checked_mul(outputs).ok_or(Error::LengthMismatch {
            buffer: "output",
            expected: usize::MAX,
            actual: output.len(),
        })?;
        check_len("output", elements, output.len())?;
        if let Some(g) = grad.as_deref() {
            check_len("loss gradient", elements, g.len())?;
        }
        let loss = match (self, target) {
            (Loss::Mse, Target::Values(t)) => {
                check_len("target", elements, t.len())?;
                mse(output, t, grad)
            }
            (Loss::BceWithLogits, Target::Values(t)) => {
                check_len("target", elements, t.len())?;
                bce_with_logits(output, t, grad)
            }
            (Loss::SoftmaxCrossEntropy, Target::Classes(labels)) => {
                check_len("target", batch, labels.len())?;
                if let Some((sample, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= outputs) {
                    return Err(Error::LabelOutOfRange { sample, label, classes: outputs });
                }
                softmax_cross_entropy(output, outputs, labels, grad)
            }
            (Loss::Mse | Loss::BceWithLogits, Target::Classes(_)) => {
                return Err(Error::TargetKindMismatch { loss: self.name(), needs: "value" })
            }
            (Loss::SoftmaxCrossEntropy, Target::Values(_)) => {
                return Err(Error::TargetKindMismatch { loss: self.name(), needs: "class-index" })
            }
        };
        if loss.is_finite() {
            Ok(loss)
        } else {
            Err(Error::NonFiniteLoss)
        }
    }
}

/// `mean((y - t)²)`; gradient `2 (y - t) / N`.
fn mse(output: &[f32], target: &[f32], grad: Option<&mut [f32]>) -> f32 {
    let inv_n = 1.0 / output.len() as f32;
    let total: f32 = output.iter().zip(target).map(|(y, t)| (y - t) * (y - t)).sum();
    if let Some(g) = grad {
        for ((g, y), t) in g.iter_mut().zip(output).zip(target) {
            *g = 2.0 * (y - t) * inv_n;
        }
    }
    total * inv_n
}

/// `mean(max(z, 0) - z·t + ln(1 + e^-|z|))`, the overflow-free form of
/// `-(t ln σ(z) + (1 - t) ln(1 - σ(z)))`; gradient `(σ(z) - t) / N`.
fn bce_with_logits(output: &[f32], target: &[f32], grad: Option<&mut [f32]>) -> f32 {
    let inv_n = 1.0 / output.len() as f32;
    let total: f32 =
        output.iter().zip(target).map(|(&z, &t)| z.max(0.0) - z * t + libm::log1pf(libm::expf(-z.abs()))).sum();
    if let Some(g) = grad {
        for ((g, &z), &t) in g.iter_mut().zip(output).zip(target) {
            *g = (sigmoid(z) - t) * inv_n;
        }
    }
    total * inv_n
}

/// `mean(logsumexp(z) - z[label])`, with the row maximum subtracted before exponentiating
/// (so no overflow); gradient `(softmax(z) - onehot(label)) / batch`.
fn softmax_cross_entropy(output: &[f32], classes: usize, labels: &[usize], mut grad: Option<&mut [f32]>) -> f32 {
    let inv_batch = 1.0 / labels.len() as f32;
    let mut total = 0.0f32;
    for (row_index, (logits, &label)) in output.chunks_exact(classes).zip(labels).enumerate() {
        let log_sum_exp = match grad.as_deref_mut() {
            Some(g) => {
                let g_row = &mut g[row_index * classes..(row_index + 1) * classes];
                g_row.copy_from_slice(logits);
                let lse = kernels::softmax_in_place(g_row);
                g_row[label] -= 1.0;
                kernels::scale(g_row, inv_batch);
                lse
            }
            None => kernels::log_sum_exp(logits),
        };
        total += log_sum_exp - logits[label];
    }
    total * inv_batch
}
