//! An owned network that allocates its own buffers (feature `alloc`).

use alloc::vec;
use alloc::vec::Vec;

use crate::aligned::AlignedBuffer;
use crate::error::Result;
use crate::init::{init_params, Init, Rng};
use crate::nn::{Batch, LayerSpec, Loss, Spec};
use crate::optim::{Optimizer, Sgd, Step};

/// A dense network with its params, grads and workspace in [`AlignedBuffer`]s (heap buffers
/// that start on a cache line, which the kernels' vector stores prefer).
///
/// The workspace grows to the largest batch seen and is reused after that, so a training loop
/// with a fixed batch size allocates only on its first step.
///
/// ```
/// use embergrad::{Activation, Batch, Init, LayerSpec, Loss, Mlp, Rng, Target};
/// let layers = [LayerSpec::new(2, 4, Activation::Tanh), LayerSpec::new(4, 1, Activation::Sigmoid)];
/// let mut net = Mlp::new(&layers, Init::Auto, &mut Rng::new(1)).unwrap();
/// let input = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
/// let target = [0.0, 1.0, 1.0, 0.0];
/// let batch = Batch::new(&input, Target::Values(&target), 4);
/// let first = net.train_step_sgd(&batch, Loss::Mse, 0.5).unwrap();
/// let mut last = first;
/// for _ in 0..200 {
///     last = net.train_step_sgd(&batch, Loss::Mse, 0.5).unwrap();
/// }
/// assert!(last < first);
/// ```
#[derive(Clone, Debug)]
pub struct Mlp {
    layers: Vec<LayerSpec>,
    params: AlignedBuffer,
    grads: AlignedBuffer,
    workspace: AlignedBuffer,
}

impl Mlp {
    /// Builds a network from its layers, initialising the weights with `init` from `rng`.
    pub fn new(layers: &[LayerSpec], init: Init, rng: &mut Rng) -> Result<Self> {
        let spec = Spec::new(layers);
        spec.validate()?;
        let mut params = AlignedBuffer::zeroed(spec.param_len());
        init_params(&spec, &mut params, init, rng)?;
        Ok(Mlp::with_params(layers, params))
    }

    /// Builds a network around existing parameters (e.g. loaded from a file).
    pub fn from_params(layers: &[LayerSpec], params: Vec<f32>) -> Result<Self> {
        let spec = Spec::new(layers);
        spec.validate()?;
        crate::error::check_len("params", spec.param_len(), params.len())?;
        Ok(Mlp::with_params(layers, AlignedBuffer::from_slice(&params)))
    }

    /// A network of checked `layers` around `params` of the right length.
    fn with_params(layers: &[LayerSpec], params: AlignedBuffer) -> Self {
        let grads = AlignedBuffer::zeroed(params.len());
        Mlp { layers: layers.to_vec(), params, grads, workspace: AlignedBuffer::default() }
    }

    /// The network's spec.
    pub fn spec(&self) -> Spec<'_> {
        Spec::new(&self.layers)
    }

    /// The flat parameters (see [`Spec`] for the layout).
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// The flat parameters, writable.
    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    /// The gradients of the last [`Mlp::loss_and_gradients`] call.
    pub fn grads(&self) -> &[f32] {
        &self.grads
    }

    /// Parameters (writable) and gradients together, for an optimizer step.
    pub fn params_and_grads(&mut self) -> (&mut [f32], &[f32]) {
        (&mut self.params, &self.grads)
    }

    /// Grows the workspace so that it fits `batch` samples.
    fn reserve(&mut self, batch: usize) {
        let needed = Spec::new(&self.layers).checked_workspace_len(batch, false).unwrap_or(0);
        self.workspace.ensure_len(needed);
    }

    /// Outputs for `batch` samples of `input` (`[batch, inputs]`), `[batch, outputs]`.
    pub fn forward(&mut self, input: &[f32], batch: usize) -> Result<&[f32]> {
        self.reserve(batch);
        Spec::new(&self.layers).forward(&self.params, input, batch, &mut self.workspace)
    }

    /// Computes the mean loss of the batch and stores its gradient in [`Mlp::grads`].
    pub fn loss_and_gradients(&mut self, batch: &Batch<'_>, loss: Loss) -> Result<f32> {
        self.reserve(batch.size);
        Spec::new(&self.layers).loss_and_gradients(&self.params, batch, loss, &mut self.grads, &mut self.workspace)
    }

    /// One optimizer step on `batch`; returns the loss before the step. On an error the
    /// parameters and the optimizer state are unchanged.
    pub fn train_step(&mut self, batch: &Batch<'_>, loss: Loss, optimizer: &mut OptimizerState) -> Result<f32> {
        let value = self.loss_and_gradients(batch, loss)?;
        let OptimizerState { optimizer, steps, buffer } = optimizer;
        optimizer.step(steps, &mut self.params, &self.grads, buffer)?;
        Ok(value)
    }

    /// One plain SGD step on `batch`; returns the loss before the step. On an error the
    /// parameters are unchanged.
    pub fn train_step_sgd(&mut self, batch: &Batch<'_>, loss: Loss, lr: f32) -> Result<f32> {
        let value = self.loss_and_gradients(batch, loss)?;
        Sgd::new(lr).step(&mut 0, &mut self.params, &self.grads, &mut [])?;
        Ok(value)
    }
}

/// An optimizer together with its step counter and its state buffer, allocated for a
/// given number of parameters: what [`Mlp::train_step`] and checkpoints take. Steps go
/// through [`Step`], like every optimizer step:
///
/// ```
/// use embergrad::optim::{Adam, Optimizer, Step};
/// use embergrad::OptimizerState;
/// let mut opt = OptimizerState::new(Optimizer::Adam(Adam::default()), 3).unwrap();
/// let mut params = [1.0f32, 2.0, 3.0];
/// opt.optimizer.step(&mut opt.steps, &mut params, &[1.0, 1.0, 1.0], &mut opt.buffer).unwrap();
/// assert_eq!(opt.steps, 1);
/// assert!(params[0] < 1.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState {
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// Steps taken so far.
    pub steps: u64,
    /// The optimizer's state buffer (layout documented on each optimizer).
    pub buffer: Vec<f32>,
}

impl OptimizerState {
    /// Fresh state for `param_len` parameters.
    pub fn new(optimizer: Optimizer, param_len: usize) -> Result<Self> {
        optimizer.validate()?;
        let mut buffer = vec![0.0; optimizer.state_len(param_len)];
        optimizer.init_state(&mut buffer)?;
        Ok(OptimizerState { optimizer, steps: 0, buffer })
    }
}
