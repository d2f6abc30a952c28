//! One sample at a time: the path for the smallest networks (control loops, online learning
//! on a device) and for batch-1 inference.
//!
//! A [`SampleStep`] checks the spec and the workspace once; each call then checks only the
//! lengths of what it is given. Its passes are plain loops over a layer's rows and
//! activations on the portable level's vectors (at these widths a 16-lane vector would be
//! mostly padding, and dispatching per layer would cost more than the layer), and
//! [`SampleStep::sgd`] fuses the backward pass with the SGD update: each layer's input
//! gradient is taken from its weights before they are updated, so the result is the same as
//! computing every gradient and then stepping.

use crate::error::{check_len, check_min_len, Error, Result};
use crate::kernels::sample_lanes::{load, store};
use crate::kernels::{forward_scratch_len, matmul_a_bt_bias, Lanes, HAS_SIMD, SAMPLE_LANES};
use crate::nn::activation::{Activation, DerivativeSource};
use crate::nn::loss::{Loss, Target};
use crate::nn::spec::{LayerSpec, Spec};

/// Layers with at least this many weights go through the batch path's dispatched product
/// (a call and a level check, then the level's vectors); smaller ones through inline loops.
const LARGE_LAYER: usize = 256;

/// Per-sample training and inference for one spec over a checked workspace; see the module
/// notes.
///
/// ```
/// use embergrad::{init_params, Activation, Init, LayerSpec, Loss, Rng, Spec, Target};
/// const LAYERS: [LayerSpec; 2] = [LayerSpec::new(2, 8, Activation::Tanh), LayerSpec::new(8, 1, Activation::Sigmoid)];
/// const XOR: Spec<'static> = Spec::new(&LAYERS);
/// let mut params = [0.0f32; XOR.param_len()];
/// init_params(&XOR, &mut params, Init::XavierUniform, &mut Rng::new(42)).unwrap();
/// let mut workspace = [0.0f32; XOR.workspace_len(1)];
/// let mut step = XOR.sample_step(&mut workspace).unwrap();
/// let (inputs, targets) = ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0]);
/// for i in 0..20_000 {
///     let k = i % 4;
///     step.sgd(&mut params, &inputs[k], Target::Values(&targets[k..k + 1]), Loss::Mse, 0.5).unwrap();
/// }
/// let y = step.forward(&params, &[1.0, 0.0]).unwrap()[0];
/// assert!(y > 0.9, "{y}");
/// ```
#[derive(Debug)]
pub struct SampleStep<'s, 'w> {
    layers: &'s [LayerSpec],
    workspace: &'w mut [f32],
    param_len: usize,
    inputs: usize,
    outputs: usize,
    max_width: usize,
}

impl<'a> Spec<'a> {
    /// Prepares per-sample passes over `workspace` (at least [`Spec::workspace_len`]`(1)`),
    /// checking the spec and the workspace once. Custom activations have no lane form and
    /// are refused ([`Error::InvalidSpec`]): use the batch passes for them.
    pub fn sample_step<'w>(&self, workspace: &'w mut [f32]) -> Result<SampleStep<'a, 'w>> {
        self.validate()?;
        check_min_len("workspace", self.workspace_len(1), workspace.len())?;
        if let Some(layer) = self.layers().iter().position(|l| l.activation.value_lanes(0.0f32).is_none()) {
            return Err(Error::InvalidSpec { layer, reason: "a custom activation has no per-sample path" });
        }
        Ok(SampleStep {
            layers: self.layers(),
            workspace,
            param_len: self.param_len(),
            inputs: self.inputs(),
            outputs: self.outputs(),
            max_width: self.max_width(),
        })
    }
}

impl SampleStep<'_, '_> {
    /// The outputs for one sample `input` (after the last activation), in the workspace.
    pub fn forward(&mut self, params: &[f32], input: &[f32]) -> Result<&[f32]> {
        check_len("params", self.param_len, params.len())?;
        check_len("input", self.inputs, input.len())?;
        let (output_start, _) = self.forward_unchecked(params, input);
        Ok(&self.workspace[output_start..output_start + self.outputs])
    }

    /// One plain-SGD step on one sample: forward, loss, and the backward pass fused with
    /// `params -= lr · grads`; returns the loss before the step. On an error (lengths, a
    /// label out of range, a non-finite loss, a bad `lr`) `params` are untouched.
    pub fn sgd(&mut self, params: &mut [f32], input: &[f32], target: Target<'_>, loss: Loss, lr: f32) -> Result<f32> {
        check_len("params", self.param_len, params.len())?;
        check_len("input", self.inputs, input.len())?;
        crate::error::check_hyper_parameter(crate::error::non_negative(lr), "lr", "must be finite and non-negative")?;
        let (output_start, slots_end) = self.forward_unchecked(params, input);
        let (slots, scratch) = self.workspace.split_at_mut(slots_end);
        let (delta, rest) = scratch.split_at_mut(self.max_width);
        let next_delta = &mut rest[..self.max_width];
        let output = &slots[output_start..output_start + self.outputs];
        let value = loss.evaluate(output, 1, self.outputs, target, Some(&mut delta[..self.outputs]))?;
        backward_sgd(self.layers, params, input, slots, delta, next_delta, lr);
        Ok(value)
    }

    /// The forward pass into the layer slots; returns where the last slot starts (its
    /// outputs are the network's) and where the slots end.
    fn forward_unchecked(&mut self, params: &[f32], input: &[f32]) -> (usize, usize) {
        let mut slot_start = 0;
        let mut param_start = 0;
        let mut previous: Option<usize> = None; // where the layer's input starts in the slots
        for layer in self.layers {
            let (weights, rest) = params[param_start..].split_at(layer.weight_len());
            let biases = &rest[..layer.outputs];
            let (done, slot) = self.workspace.split_at_mut(slot_start);
            let x = match previous {
                None => input,
                Some(start) => &done[start..start + layer.inputs],
            };
            let (y, extra) = slot[..layer.slot_len_per_sample()].split_at_mut(layer.outputs);
            if layer.weight_len() >= LARGE_LAYER && forward_scratch_len(1, layer.outputs, layer.inputs) == 0 {
                // The batch path's product at m = 1: its SIMD level's row-times-matrix loop.
                matmul_a_bt_bias(x, weights, biases, y, 1, layer.inputs, layer.outputs, &mut []);
            } else {
                for ((z, row), b) in y.iter_mut().zip(weights.chunks_exact(layer.inputs)).zip(biases) {
                    *z = b + dot(row, x);
                }
            }
            activate(layer.activation, y, extra);
            previous = Some(slot_start);
            slot_start += layer.slot_len_per_sample();
            param_start += layer.param_len();
        }
        (previous.unwrap_or(0), slot_start)
    }
}

/// `Σ a[i]·b[i]` with four running sums (short rows: no vector set-up to amortise).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (a_tail, b_tail) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for k in 0..4 {
            sums[k] += x[k] * y[k];
        }
    }
    let mut total = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    for (x, y) in a_tail.iter().zip(b_tail) {
        total += x * y;
    }
    total
}

/// An operation on lanes of any width: an activation's value or derivative.
trait LaneOp {
    fn apply<V: Lanes>(&self, v: V) -> V;
}

/// `f` of the activation (never custom: refused by [`Spec::sample_step`]).
struct Value(Activation);

impl LaneOp for Value {
    #[inline(always)]
    fn apply<V: Lanes>(&self, v: V) -> V {
        self.0.value_lanes(v).unwrap_or(v)
    }
}

/// `f'` of the activation from its derivative source's argument.
struct Derivative(Activation);

impl LaneOp for Derivative {
    #[inline(always)]
    fn apply<V: Lanes>(&self, v: V) -> V {
        self.0.derivative_lanes(v).unwrap_or(v)
    }
}

/// `values[i] = op(values[i])`: whole vectors, then the rest one value at a time (a
/// network's last layer often has one or a few outputs, where a padded vector's polynomial
/// costs more than `libm`); without SIMD, one value at a time throughout.
#[inline(always)]
fn map(values: &mut [f32], op: impl LaneOp) {
    let mut chunks = values.chunks_exact_mut(if HAS_SIMD { SAMPLE_LANES } else { usize::MAX });
    for chunk in &mut chunks {
        store(chunk, op.apply(load(chunk)));
    }
    for v in chunks.into_remainder() {
        *v = op.apply(*v);
    }
}

/// `grads[i] *= op(args[i])`, as [`map`] walks.
#[inline(always)]
fn scale(grads: &mut [f32], args: &[f32], op: impl LaneOp) {
    let width = if HAS_SIMD { SAMPLE_LANES } else { usize::MAX };
    let mut g_chunks = grads.chunks_exact_mut(width);
    let mut a_chunks = args.chunks_exact(width);
    for (g, a) in (&mut g_chunks).zip(&mut a_chunks) {
        store(g, load(g) * op.apply(load(a)));
    }
    for (g, &a) in g_chunks.into_remainder().iter_mut().zip(a_chunks.remainder()) {
        *g *= op.apply(a);
    }
}

/// Applies `f` to `values` in place and keeps what the derivative needs in `extra` (the
/// input, or the derivative, where the activation's source says so).
#[inline(always)]
fn activate(activation: Activation, values: &mut [f32], extra: &mut [f32]) {
    match activation.derivative_source() {
        DerivativeSource::Output => map(values, Value(activation)),
        DerivativeSource::Input => {
            extra[..values.len()].copy_from_slice(values);
            map(values, Value(activation));
        }
        DerivativeSource::Stored => {
            let extra = &mut extra[..values.len()];
            extra.copy_from_slice(values);
            map(extra, Derivative(activation));
            map(values, Value(activation));
        }
    }
}

/// `grads[i] *= f'` from the layer's slot: its outputs `y` and `extra`.
#[inline(always)]
fn chain(activation: Activation, y: &[f32], extra: &[f32], grads: &mut [f32]) {
    match activation.derivative_source() {
        DerivativeSource::Output => scale(grads, y, Derivative(activation)),
        DerivativeSource::Input => scale(grads, extra, Derivative(activation)),
        DerivativeSource::Stored => grads.iter_mut().zip(extra).for_each(|(g, d)| *g *= d),
    }
}

/// The backward pass fused with the SGD update, last layer first. `delta` holds dLoss/dOutput
/// on entry; each layer's input gradient goes into `next_delta` from its weights before they
/// change, then the two swap.
#[allow(clippy::too_many_arguments)] // the pass's buffers, each in its own role
fn backward_sgd<'d>(
    layers: &[LayerSpec],
    params: &mut [f32],
    input: &[f32],
    slots: &[f32],
    mut delta: &'d mut [f32],
    mut next_delta: &'d mut [f32],
    lr: f32,
) {
    let mut slot_end = slots.len();
    let mut param_end = params.len();
    for (index, layer) in layers.iter().enumerate().rev() {
        let slot_start = slot_end - layer.slot_len_per_sample();
        let (y, extra) = slots[slot_start..slot_end].split_at(layer.outputs);
        let dz = &mut delta[..layer.outputs];
        chain(layer.activation, y, extra, dz);
        let x = if index == 0 {
            input
        } else {
            let previous = &layers[index - 1];
            let start = slot_start - previous.slot_len_per_sample();
            &slots[start..start + layer.inputs]
        };
        let (weights, biases) = params[param_end - layer.param_len()..param_end].split_at_mut(layer.weight_len());
        if index > 0 {
            let dx = &mut next_delta[..layer.inputs];
            dx.fill(0.0);
            for (row, &d) in weights.chunks_exact(layer.inputs).zip(dz.iter()) {
                for (g, w) in dx.iter_mut().zip(row) {
                    *g += d * w;
                }
            }
        }
        for ((row, b), &d) in weights.chunks_exact_mut(layer.inputs).zip(biases.iter_mut()).zip(dz.iter()) {
            let step = lr * d;
            for (w, xi) in row.iter_mut().zip(x) {
                *w -= step * xi;
            }
            *b -= step;
        }
        core::mem::swap(&mut delta, &mut next_delta);
        slot_end = slot_start;
        param_end -= layer.param_len();
    }
}
