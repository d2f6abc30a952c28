//! The network spec: an ordered list of dense layers, and every buffer size as a `const fn`.

use crate::error::{Error, Result};
use crate::kernels::{forward_scratch_len, product_scratch_len};
use crate::nn::activation::Activation;

/// One dense (fully connected) layer: `y = f(x·Wᵀ + b)`, with `W` row-major `[outputs, inputs]`
/// and `b` of length `outputs`, PyTorch's `Linear` layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LayerSpec {
    /// Width of the layer's input.
    pub inputs: usize,
    /// Width of the layer's output (number of neurons).
    pub outputs: usize,
    /// Activation applied to every output.
    pub activation: Activation,
}

impl LayerSpec {
    /// A dense layer `inputs → outputs` followed by `activation`.
    pub const fn new(inputs: usize, outputs: usize, activation: Activation) -> Self {
        LayerSpec { inputs, outputs, activation }
    }

    /// Number of weights, `inputs × outputs`.
    pub const fn weight_len(&self) -> usize {
        self.inputs * self.outputs
    }

    /// Number of parameters, weights then biases: `(inputs + 1) × outputs`.
    pub const fn param_len(&self) -> usize {
        self.weight_len() + self.outputs
    }

    /// Workspace values per sample for this layer's activations: its outputs, then, for an
    /// activation whose [`crate::DerivativeSource`] keeps one, its inputs or derivatives.
    pub const fn slot_len_per_sample(&self) -> usize {
        if self.activation.derivative_source().keeps_extra() {
            2 * self.outputs
        } else {
            self.outputs
        }
    }
}

/// A network: dense layers applied in order. Holds no numbers, only shapes, so it can be a
/// `const` and size `static` buffers at compile time.
///
/// Flat buffers for a spec, in the order they are laid out:
/// - params (and grads, the same shape): for each layer, its weights `[outputs, inputs]`
///   row-major, then its biases `[outputs]`; length [`Spec::param_len`].
/// - workspace for a batch of `B` samples: each layer's outputs `[B, outputs]`, then two
///   scratch buffers of `B × max_width` for the backward pass, then the packing buffers of
///   the matrix kernels (none for small batches, see [`Spec::packing_len`]); length
///   [`Spec::workspace_len`].
///
/// ```
/// use embergrad::{Activation, LayerSpec, Spec};
/// const LAYERS: [LayerSpec; 2] = [
///     LayerSpec::new(2, 4, Activation::Tanh),
///     LayerSpec::new(4, 1, Activation::Sigmoid),
/// ];
/// const XOR: Spec<'static> = Spec::new(&LAYERS);
/// // Buffer sizes are compile-time constants: no allocator needed.
/// let params = [0.0f32; XOR.param_len()];
/// let workspace = [0.0f32; XOR.workspace_len(4)];
/// assert_eq!(params.len(), 2 * 4 + 4 + 4 * 1 + 1);
/// // Batch 4 is below the packing threshold: activations and two backward buffers only.
/// assert_eq!(workspace.len(), 4 * (4 + 1) + 2 * 4 * 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Spec<'a> {
    layers: &'a [LayerSpec],
}

impl<'a> Spec<'a> {
    /// Wraps a list of layers. Use [`Spec::validate`] (every runtime entry point calls it) to
    /// check that the layers chain.
    pub const fn new(layers: &'a [LayerSpec]) -> Self {
        Spec { layers }
    }

    /// The layers, in order.
    pub const fn layers(&self) -> &'a [LayerSpec] {
        self.layers
    }

    /// Input width of the network (of its first layer); 0 for an empty spec.
    pub const fn inputs(&self) -> usize {
        match self.layers.first() {
            Some(layer) => layer.inputs,
            None => 0,
        }
    }

    /// Output width of the network (of its last layer); 0 for an empty spec.
    pub const fn outputs(&self) -> usize {
        match self.layers.last() {
            Some(layer) => layer.outputs,
            None => 0,
        }
    }

    /// Total number of parameters (and of gradients).
    pub const fn param_len(&self) -> usize {
        let mut total = 0;
        let mut i = 0;
        while i < self.layers.len() {
            total += self.layers[i].param_len();
            i += 1;
        }
        total
    }

    /// The activations stored per sample: every layer's outputs, and for layers with a custom
    /// activation also its derivatives.
    pub const fn activation_len_per_sample(&self) -> usize {
        let mut total = 0;
        let mut i = 0;
        while i < self.layers.len() {
            total += self.layers[i].slot_len_per_sample();
            i += 1;
        }
        total
    }

    /// The widest layer output: the per-sample size of the backward scratch buffers.
    pub const fn max_width(&self) -> usize {
        let mut widest = 0;
        let mut i = 0;
        while i < self.layers.len() {
            if self.layers[i].outputs > widest {
                widest = self.layers[i].outputs;
            }
            i += 1;
        }
        widest
    }

    /// Workspace length for a batch of `batch` samples (forward and backward).
    pub const fn workspace_len(&self, batch: usize) -> usize {
        batch * (self.activation_len_per_sample() + 2 * self.max_width()) + self.packing_len(batch, false)
    }

    /// Workspace length for forward passes only (inference) with `batch` samples.
    pub const fn forward_workspace_len(&self, batch: usize) -> usize {
        batch * self.activation_len_per_sample() + self.packing_len(batch, true)
    }

    /// The packing buffers the matrix kernels need for `batch` samples: the largest over the
    /// layers' forward products (and, unless `forward_only`, their two backward products).
    /// Zero when every product is small enough for the direct loops. The packing buffers are
    /// bounded by the kernels' block sizes whatever the batch; a forward product computed
    /// transposed (see [`crate::kernels::forward_scratch_len`]) also needs `batch × outputs`
    /// for `Yᵀ`.
    pub const fn packing_len(&self, batch: usize, forward_only: bool) -> usize {
        let mut largest = 0;
        let mut i = 0;
        while i < self.layers.len() {
            let (n_in, n_out) = (self.layers[i].inputs, self.layers[i].outputs);
            let mut lens = [forward_scratch_len(batch, n_out, n_in), 0, 0];
            if !forward_only {
                lens[1] = product_scratch_len(batch, n_in, n_out); // dX = dZ·W
                lens[2] = product_scratch_len(n_out, n_in, batch); // dW = dZᵀ·X
            }
            let mut j = 0;
            while j < lens.len() {
                if lens[j] > largest {
                    largest = lens[j];
                }
                j += 1;
            }
            i += 1;
        }
        largest
    }

    /// Checks that the spec is usable: at least one layer, no zero width, each layer's input
    /// width equal to the previous layer's output width.
    pub fn validate(&self) -> Result<()> {
        if self.layers.is_empty() {
            return Err(Error::InvalidSpec { layer: 0, reason: "a network needs at least one layer" });
        }
        for (i, layer) in self.layers.iter().enumerate() {
            if layer.inputs == 0 || layer.outputs == 0 {
                return Err(Error::InvalidSpec { layer: i, reason: "layer widths must be non-zero" });
            }
            if i > 0 && self.layers[i - 1].outputs != layer.inputs {
                return Err(Error::InvalidSpec {
                    layer: i,
                    reason: "input width differs from the previous layer's output width",
                });
            }
            if layer.inputs.checked_add(1).and_then(|n| n.checked_mul(layer.outputs)).is_none() {
                return Err(Error::InvalidSpec { layer: i, reason: "layer is too large to address" });
            }
        }
        // The sums behind `param_len` and the per-sample workspace, which the `const fn`s
        // compute unchecked, must fit too.
        let totals = self.layers.iter().try_fold((0usize, 0usize), |(params, per_sample), layer| {
            let params = params.checked_add((layer.inputs + 1) * layer.outputs)?;
            let per_sample = per_sample.checked_add(layer.outputs.checked_mul(2)?)?;
            Some((params, per_sample))
        });
        if totals.is_none() {
            return Err(Error::InvalidSpec { layer: self.layers.len() - 1, reason: "network is too large to address" });
        }
        Ok(())
    }

    /// [`Spec::workspace_len`] (or with `forward_only`, [`Spec::forward_workspace_len`]) with
    /// overflow checking, for sizes that come from users: `None` if it does not fit a `usize`.
    pub fn checked_workspace_len(&self, batch: usize, forward_only: bool) -> Option<usize> {
        let per_sample = if forward_only {
            self.activation_len_per_sample()
        } else {
            self.activation_len_per_sample().checked_add(self.max_width().checked_mul(2)?)?
        };
        batch.checked_mul(per_sample)?.checked_add(self.packing_len(batch, forward_only))
    }

    /// Iterates over the layers with the offset of each one's parameters in the flat buffer.
    pub fn layer_offsets(&self) -> impl Iterator<Item = (usize, &'a LayerSpec)> {
        self.layers.iter().scan(0usize, |offset, layer| {
            let start = *offset;
            *offset += layer.param_len();
            Some((start, layer))
        })
    }
}
