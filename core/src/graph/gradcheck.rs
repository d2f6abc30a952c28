//! Gradient checking against central finite differences, like `torch.autograd.gradcheck`.

use crate::error::{Error, Result};
use crate::graph::tape::{NodeId, NodeStore, Tape};

/// Relative error `|a - b| / max(|b|, floor)`.
fn relative_error(actual: f64, expected: f64, floor: f64) -> f64 {
    (actual - expected).abs() / expected.abs().max(floor)
}

/// Central differences `(f(x + h) - f(x - h)) / 2h` of `output` with respect to each of the
/// input nodes `inputs`, by re-evaluating the tape (no rebuild). Returns the worst relative
/// error between them and the tape's own backward gradients (denominator at least `floor`).
/// The tape's input values are restored afterwards.
///
/// ```
/// use embergrad::graph::{gradcheck_tape, Node, SliceStore, Tape};
/// let mut slots = [Node::<f64>::EMPTY; 8];
/// let mut tape = Tape::new(SliceStore::new(&mut slots));
/// let x = tape.input(0.7).unwrap();
/// let y = tape.tanh(x).unwrap();
/// let z = tape.mul(y, x).unwrap();
/// let worst = gradcheck_tape(&mut tape, z, &[x], 1e-6, 1e-8).unwrap();
/// assert!(worst < 1e-8);
/// ```
pub fn gradcheck_tape<S: NodeStore<f64>>(
    tape: &mut Tape<f64, S>,
    output: NodeId,
    inputs: &[NodeId],
    step: f64,
    floor: f64,
) -> Result<f64> {
    if !(step.is_finite() && step > 0.0) {
        return Err(Error::InvalidArgument { name: "step", reason: "must be finite and positive" });
    }
    tape.forward();
    tape.backward(output)?;
    let mut worst = 0.0f64;
    for &input in inputs {
        let analytic = tape.grad(input)?;
        let numeric = central_difference(tape, output, input, step)?;
        worst = worst.max(relative_error(analytic, numeric, floor));
    }
    tape.forward();
    Ok(worst)
}

/// `(f(x + h) - f(x - h)) / 2h` for one input node, restoring its value.
pub(crate) fn central_difference<S: NodeStore<f64>>(
    tape: &mut Tape<f64, S>,
    output: NodeId,
    input: NodeId,
    step: f64,
) -> Result<f64> {
    let x = tape.value(input)?;
    tape.set_value(input, x + step)?;
    tape.forward();
    let plus = tape.value(output)?;
    tape.set_value(input, x - step)?;
    tape.forward();
    let minus = tape.value(output)?;
    tape.set_value(input, x)?;
    Ok((plus - minus) / (2.0 * step))
}

/// The worst relative error of one parameter tensor in a [`gradcheck_network`] report.
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorError {
    /// Index of the layer.
    pub layer: usize,
    /// `"weight"` or `"bias"`.
    pub tensor: &'static str,
    /// Worst `|analytic - numeric| / max(|numeric|, 1% of the tensor's largest |numeric|)`.
    pub worst_relative_error: f64,
}

/// Compares the dense path's f32 gradients of `loss` on `batch` (from
/// [`crate::Spec::loss_and_gradients`]) with central finite differences in f64 of the same
/// network built on a tape ([`crate::graph::build_network`]), and reports the worst relative
/// error per parameter tensor.
///
/// Use it in your own tests of a network configuration; it re-evaluates the whole tape twice
/// per parameter, so keep the network and batch small (a few thousand parameters).
///
/// ```
/// use embergrad::graph::gradcheck_network;
/// use embergrad::{Activation, Batch, LayerSpec, Loss, Spec, Target};
/// let layers = [LayerSpec::new(3, 4, Activation::Tanh), LayerSpec::new(4, 2, Activation::Identity)];
/// let params: Vec<f32> = (0..Spec::new(&layers).param_len()).map(|i| (i as f32 * 0.37).sin()).collect();
/// let batch = Batch::new(&[0.1, -0.4, 0.9, 0.5, 0.2, -0.3], Target::Classes(&[1, 0]), 2);
/// let report = gradcheck_network(&Spec::new(&layers), &params, &batch, Loss::SoftmaxCrossEntropy, 1e-6).unwrap();
/// assert_eq!(report.len(), 4); // weight and bias of each layer
/// assert!(report.iter().all(|t| t.worst_relative_error < 1e-3), "{report:?}");
/// ```
#[cfg(feature = "alloc")]
pub fn gradcheck_network(
    spec: &crate::Spec<'_>,
    params: &[f32],
    batch: &crate::Batch<'_>,
    loss: crate::Loss,
    step: f64,
) -> Result<alloc::vec::Vec<TensorError>> {
    use alloc::vec;
    use alloc::vec::Vec;

    let mut grads = vec![0.0f32; spec.param_len()];
    let mut workspace = vec![0.0f32; spec.workspace_len(batch.size)];
    spec.loss_and_gradients(params, batch, loss, &mut grads, &mut workspace)?;

    let params64: Vec<f64> = params.iter().map(|&p| f64::from(p)).collect();
    let mut tape = crate::graph::VecTape::<f64>::with_capacity(1024);
    let nodes = crate::graph::build_network(&mut tape, spec, &params64, batch, loss)?;
    let mut numeric = Vec::with_capacity(params.len());
    for i in 0..params.len() {
        let input = tape.node(i)?;
        numeric.push(central_difference(&mut tape, nodes.loss, input, step)?);
    }
    let mut report = Vec::new();
    for (index, (offset, layer)) in spec.layer_offsets().enumerate() {
        let weights_end = offset + layer.weight_len();
        for (tensor, range) in [("weight", offset..weights_end), ("bias", weights_end..offset + layer.param_len())] {
            let expected = &numeric[range.clone()];
            let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let floor = (scale * 1e-2).max(1e-6);
            let worst = grads[range]
                .iter()
                .zip(expected)
                .map(|(&a, &e)| relative_error(f64::from(a), e, floor))
                .fold(0.0, f64::max);
            report.push(TensorError { layer: index, tensor, worst_relative_error: worst });
        }
    }
    Ok(report)
}
