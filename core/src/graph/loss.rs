//! Custom losses written once as a per-sample tape expression, evaluated eight samples at a
//! time on `f32x8` lanes, giving the mean loss and dLoss/dOutput for the network's backward
//! pass.

use wide::f32x8;

use crate::error::{check_len, Error, Result};
use crate::graph::scalar::Scalar;
use crate::graph::tape::{Node, NodeId, NodeStore, SliceStore, Tape};
use crate::nn::Target;

/// A loss defined per sample as a scalar expression on a tape.
///
/// `build` receives a tape that holds the sample's `width` outputs and `width` targets (one-hot
/// for class targets), found through [`SampleNodes`], and returns the node of the sample's
/// loss. It is generic over the number type, so the same expression runs in `f64` (for
/// checking), `f32`, and `f32x8` (eight samples per pass). The built-in losses
/// ([`crate::nn::Huber`], [`crate::nn::Mse`], ...) are `SampleLoss`es too.
pub trait SampleLoss {
    /// Appends the loss expression of one sample and returns its node.
    fn build<T: Scalar, S: NodeStore<T>>(&self, tape: &mut Tape<T, S>, sample: SampleNodes) -> Result<NodeId>;
}

/// Where one sample's outputs and targets are on a tape: `width` of each, every one the last
/// node of a block of `stride` nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleNodes {
    /// Outputs (and targets) per sample.
    pub width: usize,
    outputs: (usize, usize),
    targets: (usize, usize),
}

impl SampleNodes {
    /// Outputs at nodes `0..width` and targets at `width..2·width`, as [`tape_loss`] lays
    /// them out.
    pub const fn consecutive(width: usize) -> Self {
        SampleNodes { width, outputs: (0, 1), targets: (width, 1) }
    }

    /// Outputs from node `output_start` at `output_stride`, targets from `target_start` at
    /// `target_stride` (each the last node of its block).
    pub const fn strided(
        width: usize,
        output_start: usize,
        output_stride: usize,
        target_start: usize,
        target_stride: usize,
    ) -> Self {
        SampleNodes { width, outputs: (output_start, output_stride), targets: (target_start, target_stride) }
    }

    /// The node of output `i`.
    pub fn output<T: Scalar, S: NodeStore<T>>(&self, tape: &Tape<T, S>, i: usize) -> Result<NodeId> {
        let (start, stride) = self.outputs;
        tape.node(start + i * stride + stride - 1)
    }

    /// The node of target `i`.
    pub fn target<T: Scalar, S: NodeStore<T>>(&self, tape: &Tape<T, S>, i: usize) -> Result<NodeId> {
        let (start, stride) = self.targets;
        tape.node(start + i * stride + stride - 1)
    }
}

const LANES: usize = 8;

/// Evaluates an activation written as a tape expression for eight values (feature
/// `custom-activations`): returns `f(z)` and
/// `f'(z)` from one forward and one backward pass on a small stack tape (64 nodes). The
/// function to give [`crate::CustomActivation::new`]; a NaN result marks an expression that
/// needs more than 64 nodes or fails.
#[cfg(feature = "custom-activations")]
pub fn eval_activation<F>(z: f32x8, build: F) -> (f32x8, f32x8)
where
    F: FnOnce(&mut Tape<f32x8, SliceStore<'_, f32x8>>, NodeId) -> Result<NodeId>,
{
    let mut slots = [Node::<f32x8>::EMPTY; 64];
    let mut tape = Tape::new(SliceStore::new(&mut slots));
    let evaluated = (|| {
        let input = tape.input(z)?;
        let output = build(&mut tape, input)?;
        tape.backward(output)?;
        Ok::<_, Error>((tape.value(output)?, tape.grad(input)?))
    })();
    evaluated.unwrap_or((f32x8::splat(f32::NAN), f32x8::splat(f32::NAN)))
}

/// Mean over the batch of `loss`'s per-sample value for `output` (`[batch, width]`) against
/// `target`, and, when `grad` is given, dMean/dOutput into it (same shape), ready for
/// [`crate::Spec::backward`].
///
/// The expression is built once in `slots` and re-evaluated for each group of eight samples on
/// `f32x8` lanes. Errors: lengths, labels out of range, a tape too small for the expression
/// ([`Error::TapeFull`]), and a non-finite loss.
///
/// See [`crate::nn::Huber`] for an example.
#[allow(clippy::too_many_arguments)] // mirrors Loss::evaluate, plus the tape's storage
pub fn tape_loss<L: SampleLoss>(
    loss: &L,
    slots: &mut [Node<f32x8>],
    output: &[f32],
    batch: usize,
    width: usize,
    target: Target<'_>,
    mut grad: Option<&mut [f32]>,
) -> Result<f32> {
    if batch == 0 {
        return Err(Error::EmptyBatch);
    }
    check_len("output", batch.saturating_mul(width), output.len())?;
    if let Some(g) = grad.as_deref() {
        check_len("loss gradient", output.len(), g.len())?;
    }
    match target {
        Target::Values(t) => check_len("target", output.len(), t.len())?,
        Target::Classes(labels) => {
            check_len("target", batch, labels.len())?;
            if let Some((sample, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= width) {
                return Err(Error::LabelOutOfRange { sample, label, classes: width });
            }
        }
    }

    let mut tape = Tape::new(SliceStore::new(slots));
    for _ in 0..2 * width {
        tape.input(f32x8::ZERO)?;
    }
    let loss_node = loss.build(&mut tape, SampleNodes::consecutive(width))?;
    let inv_batch = 1.0 / batch as f32;
    let mut total = 0.0f32;
    for first in (0..batch).step_by(LANES) {
        let samples = LANES.min(batch - first);
        for i in 0..width {
            // Padding lanes repeat the last sample; their results are never read.
            let lane = |j: usize| first + j.min(samples - 1);
            let out = f32x8::from(core::array::from_fn::<f32, LANES, _>(|j| output[lane(j) * width + i]));
            let tgt = f32x8::from(core::array::from_fn::<f32, LANES, _>(|j| match target {
                Target::Values(t) => t[lane(j) * width + i],
                Target::Classes(labels) => f32::from(u8::from(labels[lane(j)] == i)),
            }));
            tape.set_value(tape.node(i)?, out)?;
            tape.set_value(tape.node(width + i)?, tgt)?;
        }
        tape.forward();
        total += tape.value(loss_node)?.to_array()[..samples].iter().sum::<f32>();
        if let Some(g) = grad.as_deref_mut() {
            tape.backward(loss_node)?;
            for i in 0..width {
                let lanes = tape.grad(tape.node(i)?)?.to_array();
                for (j, value) in lanes[..samples].iter().enumerate() {
                    g[(first + j) * width + i] = value * inv_batch;
                }
            }
        }
    }
    let mean = total * inv_batch;
    if mean.is_finite() {
        Ok(mean)
    } else {
        Err(Error::NonFiniteLoss)
    }
}
