//! Forward and backward passes of a [`Spec`] over caller-provided flat buffers.

use crate::error::{check_len, check_min_len, Error, Result};
use crate::kernels::{axpy, matmul_a_b, matmul_a_bt_bias, matmul_at_b};
use crate::nn::loss::{BatchLoss, Target};
use crate::nn::spec::Spec;

/// One minibatch: inputs `[size, inputs]` row-major and their targets.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// Inputs, `size × spec.inputs()` values, one sample per row.
    pub input: &'a [f32],
    /// What the loss compares the outputs with.
    pub target: Target<'a>,
    /// Number of samples.
    pub size: usize,
}

impl<'a> Batch<'a> {
    /// A batch of `size` samples.
    pub const fn new(input: &'a [f32], target: Target<'a>, size: usize) -> Self {
        Batch { input, target, size }
    }
}

/// The passes take their arguments in one order: the params, then the samples (`input` and
/// the batch size, or a [`Batch`] when targets come with them), then what the call needs
/// (the loss, the output gradient), then the buffers it writes, the workspace last.
impl<'a> Spec<'a> {
    /// Runs the network on `batch` samples and returns the outputs `[batch, outputs]` (after the
    /// last activation), which live inside `workspace`.
    ///
    /// `workspace` needs at least [`Spec::forward_workspace_len`] elements for inference, or
    /// [`Spec::workspace_len`] if a [`Spec::backward`] will follow.
    pub fn forward<'w>(
        &self,
        params: &[f32],
        input: &[f32],
        batch: usize,
        workspace: &'w mut [f32],
    ) -> Result<&'w [f32]> {
        self.check_pass(params.len(), input.len(), batch, workspace.len(), true)?;
        let activations_len = batch * self.activation_len_per_sample();
        let (activations, packing) = workspace.split_at_mut(activations_len);
        self.forward_unchecked(params, input, batch, activations, &mut Packed(packing));
        Ok(&workspace[self.output_range(batch)])
    }

    /// Back-propagates `grad_output` (dE/dOutput, `[batch, outputs]`) through the network and
    /// writes dE/dParams into `grads` (overwriting it), and dE/dInput into `grad_input` if given.
    ///
    /// The workspace must hold what [`Spec::forward`] left in it for the same `params`, `input`
    /// and `batch`: the backward pass reads the stored activations instead of recomputing them.
    #[allow(clippy::too_many_arguments)] // each buffer is a distinct role; grouping them would hide that
    pub fn backward(
        &self,
        params: &[f32],
        input: &[f32],
        batch: usize,
        workspace: &mut [f32],
        grad_output: &[f32],
        grads: &mut [f32],
        grad_input: Option<&mut [f32]>,
    ) -> Result<()> {
        self.check_pass(params.len(), input.len(), batch, workspace.len(), false)?;
        check_len("grads", self.param_len(), grads.len())?;
        check_len("grad_output", batch * self.outputs(), grad_output.len())?;
        if let Some(g) = grad_input.as_deref() {
            check_len("grad_input", batch * self.inputs(), g.len())?;
        }
        let (activations, mut buffers, packing) = self.split_workspace(workspace, batch);
        buffers.delta[..grad_output.len()].copy_from_slice(grad_output);
        let products = &mut Packed(packing);
        self.backward_unchecked(params, input, batch, activations, &mut buffers, grads, grad_input, products);
        Ok(())
    }

    /// Forward pass, loss, and backward pass in one call: writes dLoss/dParams into `grads`
    /// (overwriting it) and returns the mean loss over the batch.
    ///
    /// On an error (bad shapes, a label out of range, a non-finite loss) `grads` and `params`
    /// are left untouched, so a training loop can skip the batch and lose nothing.
    pub fn loss_and_gradients(
        &self,
        params: &[f32],
        batch: &Batch<'_>,
        loss: impl BatchLoss,
        grads: &mut [f32],
        workspace: &mut [f32],
    ) -> Result<f32> {
        self.check_pass(params.len(), batch.input.len(), batch.size, workspace.len(), false)?;
        check_len("grads", self.param_len(), grads.len())?;
        let (activations, buffers, packing) = self.split_workspace(workspace, batch.size);
        self.loss_and_gradients_unchecked(params, batch, loss, grads, activations, buffers, &mut Packed(packing))
    }

    /// [`Spec::loss_and_gradients`] after its checks, with the products done by `products`.
    #[allow(clippy::too_many_arguments)] // the pass's inputs, the buffers it writes, and how it multiplies
    pub(crate) fn loss_and_gradients_unchecked(
        &self,
        params: &[f32],
        batch: &Batch<'_>,
        loss: impl BatchLoss,
        grads: &mut [f32],
        activations: &mut [f32],
        mut buffers: BackwardBuffers<'_>,
        products: &mut impl LayerProducts,
    ) -> Result<f32> {
        self.forward_unchecked(params, batch.input, batch.size, activations, products);
        let output_len = batch.size * self.outputs();
        let output = &activations[self.output_range(batch.size)];
        let loss_grad = &mut buffers.delta[..output_len];
        let value = loss.evaluate(output, batch.size, self.outputs(), batch.target, Some(loss_grad))?;
        self.backward_unchecked(params, batch.input, batch.size, activations, &mut buffers, grads, None, products);
        Ok(value)
    }

    /// Validates the spec and every length a pass depends on.
    fn check_pass(
        &self,
        params: usize,
        input: usize,
        batch: usize,
        workspace: usize,
        forward_only: bool,
    ) -> Result<()> {
        self.check_samples(params, input, batch)?;
        let needed = self.checked_workspace_len(batch, forward_only).unwrap_or(usize::MAX);
        check_min_len("workspace", needed, workspace)
    }

    /// Validates the spec, the batch size and the lengths of the params and the input.
    pub(crate) fn check_samples(&self, params: usize, input: usize, batch: usize) -> Result<()> {
        self.validate()?;
        if batch == 0 {
            return Err(Error::EmptyBatch);
        }
        check_len("params", self.param_len(), params)?;
        let expected_input = batch.saturating_mul(self.inputs());
        check_len("input", expected_input, input)
    }

    /// Where the network's outputs sit in the workspace: the last layer's slot.
    fn output_range(&self, batch: usize) -> core::ops::Range<usize> {
        let end = batch * self.activation_len_per_sample();
        let last = self.layers().last().map_or(0, |l| batch * l.slot_len_per_sample());
        end - last..end - last + batch * self.outputs()
    }

    /// Splits a (checked) workspace into the activations, the backward buffers and the rest
    /// (the matrix kernels' scratch).
    pub(crate) fn split_workspace<'w>(
        &self,
        workspace: &'w mut [f32],
        batch: usize,
    ) -> (&'w mut [f32], BackwardBuffers<'w>, &'w mut [f32]) {
        let delta_len = batch * self.max_width();
        let (activations, rest) = workspace.split_at_mut(batch * self.activation_len_per_sample());
        let (delta, rest) = rest.split_at_mut(delta_len);
        let (next_delta, rest) = rest.split_at_mut(delta_len);
        (activations, BackwardBuffers { delta, next_delta }, rest)
    }

    /// Forward pass into `activations` (`batch × activation_len_per_sample`), lengths checked.
    fn forward_unchecked(
        &self,
        params: &[f32],
        input: &[f32],
        batch: usize,
        activations: &mut [f32],
        products: &mut impl LayerProducts,
    ) {
        // Each layer's slot: its outputs, then the inputs or derivatives its activation keeps.
        let mut filled = 0;
        let mut input_start = None; // None: the layer reads the batch's input
        for (offset, layer) in self.layer_offsets() {
            let (weights, biases) = params[offset..offset + layer.param_len()].split_at(layer.weight_len());
            let (previous, rest) = activations.split_at_mut(filled);
            let x = match input_start {
                None => input,
                Some(start) => &previous[start..start + batch * layer.inputs],
            };
            let (y, derivative_slot) = rest.split_at_mut(batch * layer.outputs);
            products.forward(x, weights, biases, y, Shape { batch, inputs: layer.inputs, outputs: layer.outputs });
            layer.activation.apply_forward(y, derivative_slot);
            input_start = Some(filled);
            filled += batch * layer.slot_len_per_sample();
        }
    }

    /// Backward pass, lengths checked. `buffers.delta` holds dE/dOutput of the last layer on
    /// entry.
    #[allow(clippy::too_many_arguments)]
    fn backward_unchecked(
        &self,
        params: &[f32],
        input: &[f32],
        batch: usize,
        activations: &[f32],
        buffers: &mut BackwardBuffers<'_>,
        grads: &mut [f32],
        grad_input: Option<&mut [f32]>,
        products: &mut impl LayerProducts,
    ) {
        let mut slot_end = activations.len();
        let mut param_end = params.len();
        for (index, layer) in self.layers().iter().enumerate().rev() {
            let slot_start = slot_end - batch * layer.slot_len_per_sample();
            let param_start = param_end - layer.param_len();
            let out_len = batch * layer.outputs;
            // What f' is computed from: the outputs, or the inputs or derivatives kept after them.
            let derivative_source = if layer.activation.derivative_source().keeps_extra() {
                &activations[slot_start + out_len..slot_start + 2 * out_len]
            } else {
                &activations[slot_start..slot_start + out_len]
            };
            let x = if index == 0 {
                input
            } else {
                let previous = &self.layers()[index - 1];
                let previous_start = slot_start - batch * previous.slot_len_per_sample();
                &activations[previous_start..previous_start + batch * layer.inputs]
            };
            let weights = &params[param_start..param_start + layer.weight_len()];
            let (grad_weights, grad_biases) = grads[param_start..param_end].split_at_mut(layer.weight_len());

            // dE/dz = dE/dy · f'
            let dz = &mut buffers.delta[..out_len];
            layer.activation.backprop_slice(derivative_source, dz);
            // dE/dW = dZᵀ·X and dE/db = column sums of dZ
            let shape = Shape { batch, inputs: layer.inputs, outputs: layer.outputs };
            products.weight_gradient(dz, x, grad_weights, shape);
            grad_biases.fill(0.0);
            for dz_row in dz.chunks_exact(layer.outputs) {
                axpy(grad_biases, 1.0, dz_row);
            }
            // dE/dX = dZ·W, the next delta (or the input gradient for the first layer)
            if index > 0 {
                let dx = &mut buffers.next_delta[..batch * layer.inputs];
                products.input_gradient(dz, weights, dx, shape);
                core::mem::swap(&mut buffers.delta, &mut buffers.next_delta);
            }
            slot_end = slot_start;
            param_end = param_start;
        }
        if let Some(grad_input) = grad_input {
            let first = &self.layers()[0];
            let dz = &buffers.delta[..batch * first.outputs];
            let weights = &params[..first.weight_len()];
            let shape = Shape { batch, inputs: first.inputs, outputs: first.outputs };
            products.input_gradient(dz, weights, grad_input, shape);
        }
    }
}

/// The backward pass's buffers, after the activations in the workspace.
pub(crate) struct BackwardBuffers<'w> {
    /// dE/dY of the layer being processed (then dE/dZ, in place).
    delta: &'w mut [f32],
    /// Receives dE/dX, which becomes the next layer's `delta`.
    next_delta: &'w mut [f32],
}

/// A dense layer's product shapes: `batch` samples through `inputs → outputs`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub(crate) batch: usize,
    pub(crate) inputs: usize,
    pub(crate) outputs: usize,
}

/// The three products of a dense layer (see `kernels/products.rs`), done one way or another:
/// each in one call ([`Packed`]), or cut into pieces an executor may run at once
/// (`nn/split.rs`). Operands are row-major: `x [batch, inputs]`, `weights [outputs, inputs]`,
/// `y`, `dz [batch, outputs]`.
pub(crate) trait LayerProducts {
    /// `y = x·weightsᵀ + biases`.
    fn forward(&mut self, x: &[f32], weights: &[f32], biases: &[f32], y: &mut [f32], shape: Shape);
    /// `grad_weights = dzᵀ·x`.
    fn weight_gradient(&mut self, dz: &[f32], x: &[f32], grad_weights: &mut [f32], shape: Shape);
    /// `dx = dz·weights`.
    fn input_gradient(&mut self, dz: &[f32], weights: &[f32], dx: &mut [f32], shape: Shape);
}

/// Each product in one call of the kernels, with this packing scratch.
pub(crate) struct Packed<'s>(pub(crate) &'s mut [f32]);

impl LayerProducts for Packed<'_> {
    fn forward(&mut self, x: &[f32], weights: &[f32], biases: &[f32], y: &mut [f32], s: Shape) {
        matmul_a_bt_bias(x, weights, biases, y, s.batch, s.inputs, s.outputs, self.0);
    }
    fn weight_gradient(&mut self, dz: &[f32], x: &[f32], grad_weights: &mut [f32], s: Shape) {
        matmul_at_b(dz, x, grad_weights, s.batch, s.outputs, s.inputs, self.0);
    }
    fn input_gradient(&mut self, dz: &[f32], weights: &[f32], dx: &mut [f32], s: Shape) {
        matmul_a_b(dz, weights, dx, s.batch, s.outputs, s.inputs, self.0);
    }
}
