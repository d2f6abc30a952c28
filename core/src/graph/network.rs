//! A dense network and its loss built entirely from tape nodes, micrograd style: the
//! independent oracle the dense path's gradients are checked against.

use crate::error::{check_len, Result};
use crate::graph::loss::SampleNodes;
use crate::graph::scalar::Scalar;
use crate::graph::tape::{NodeId, NodeStore, Tape};
use crate::nn::{Batch, Loss, Spec, Target};

/// Where the pieces of a network built by [`build_network`] are on the tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkNodes {
    /// The params are the input nodes `0..param_len`, in the flat layout of [`Spec`].
    pub param_len: usize,
    /// The batch's input values are the input nodes `param_len..param_len + input_len`.
    pub input_len: usize,
    /// The mean loss over the batch.
    pub loss: NodeId,
}

/// Builds `spec` with `params` on `tape` (params first, then the batch's inputs, all as input
/// nodes), applies it to `batch`, and appends `loss` with PyTorch's definition. Every
/// weighted sum is a [`crate::graph::Op::Sum`] over product nodes, every activation and loss
/// term a scalar op, so the tape's backward pass computes the same gradients as the dense
/// path by an independent route.
pub fn build_network<T: Scalar, S: NodeStore<T>>(
    tape: &mut Tape<T, S>,
    spec: &Spec<'_>,
    params: &[f64],
    batch: &Batch<'_>,
    loss: Loss,
) -> Result<NetworkNodes> {
    spec.validate()?;
    check_len("params", spec.param_len(), params.len())?;
    check_len("input", batch.size.saturating_mul(spec.inputs()), batch.input.len())?;
    let first = tape.len();
    for &p in params {
        tape.input(T::from_f64(p))?;
    }
    for &x in batch.input {
        tape.input(T::from_f64(f64::from(x)))?;
    }
    let param = |tape: &Tape<T, S>, i: usize| tape.node(first + i);

    // The current layer's input values: first the batch's inputs, then each layer's outputs.
    let mut previous = Values { start: first + params.len(), stride: 1 };
    let mut offset = 0;
    for layer in spec.layers() {
        let values = batch.size * layer.outputs;
        // Pre-activations: per value, `inputs` products, their sum, and the bias added; the
        // pre-activation is the last node of each block of `inputs + 2`.
        let z_start = tape.len();
        for sample in 0..batch.size {
            for o in 0..layer.outputs {
                let products_first = tape.len();
                for i in 0..layer.inputs {
                    let x = previous.node(tape, sample * layer.inputs + i)?;
                    let w = param(tape, offset + o * layer.inputs + i)?;
                    tape.mul(x, w)?;
                }
                let total = tape.sum(tape.node(products_first)?, layer.inputs)?;
                let bias = param(tape, offset + layer.weight_len() + o)?;
                tape.add(total, bias)?;
            }
        }
        let pre_activations = Values { start: z_start, stride: layer.inputs + 2 };
        // The activation of each value, every one the same number of nodes (the stride).
        let outputs_start = tape.len();
        for k in 0..values {
            let zk = pre_activations.node(tape, k)?;
            layer.activation.build(tape, zk)?;
        }
        previous = Values { start: outputs_start, stride: (tape.len() - outputs_start) / values.max(1) };
        offset += layer.param_len();
    }
    let loss_node = mean_loss(tape, loss, batch, spec.outputs(), previous)?;
    Ok(NetworkNodes { param_len: params.len(), input_len: batch.input.len(), loss: loss_node })
}

/// Values laid out at a fixed stride on the tape, each the last node of its block.
#[derive(Clone, Copy)]
struct Values {
    /// The first node of the first block.
    start: usize,
    /// Nodes per block.
    stride: usize,
}

impl Values {
    /// The node of value `k`.
    fn node<T: Scalar, S: NodeStore<T>>(self, tape: &Tape<T, S>, k: usize) -> Result<NodeId> {
        tape.node(self.start + k * self.stride + self.stride - 1)
    }
}

/// Appends the mean over the batch of `loss`'s per-sample expression ([`Loss::build_sample`]):
/// each sample's targets go on the tape as constants (one-hot for class targets), and its
/// outputs are found in `outputs`.
fn mean_loss<T: Scalar, S: NodeStore<T>>(
    tape: &mut Tape<T, S>,
    loss: Loss,
    batch: &Batch<'_>,
    width: usize,
    outputs: Values,
) -> Result<NodeId> {
    loss.validate()?;
    loss.check_target(batch.size, width, batch.target)?;
    let mut total = tape.constant(T::zero())?;
    for sample in 0..batch.size {
        let targets_start = tape.len();
        for k in 0..width {
            let t = match batch.target {
                Target::Values(targets) => f64::from(targets[sample * width + k]),
                Target::Classes(labels) => f64::from(u8::from(labels[sample] == k)),
            };
            tape.constant(T::from_f64(t))?;
        }
        let first_output = outputs.start + sample * width * outputs.stride;
        let nodes = SampleNodes::strided(width, first_output, outputs.stride, targets_start, 1);
        let term = loss.build_sample(tape, nodes)?;
        total = tape.add(total, term)?;
    }
    let n = tape.constant(T::from_f64(batch.size as f64))?;
    tape.div(total, n)
}
