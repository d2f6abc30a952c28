//! Element-wise activations, each with its derivative written in terms of the *output*.
//!
//! Every activation here has a derivative that can be computed from its output `y = f(z)`
//! alone, so the backward pass needs only the stored outputs and no pre-activations: half the
//! activation memory on a device.

use crate::kernels;

/// Slope of [`Activation::LeakyRelu`] for negative inputs (PyTorch's default).
pub const LEAKY_RELU_SLOPE: f32 = 0.01;

/// A user-defined activation (feature `custom-activations`): `eval` returns `f(z)` and `f'(z)` for eight values at once.
///
/// Write the expression once on a tape with [`crate::graph::eval_activation`], which gives
/// both from one forward and one backward pass:
///
/// ```
/// use embergrad::graph::{eval_activation, f32x8};
/// use embergrad::{Activation, CustomActivation, LayerSpec};
/// fn swish(z: f32x8) -> (f32x8, f32x8) {
///     eval_activation(z, |tape, z| {
///         let s = tape.sigmoid(z)?;
///         tape.mul(z, s)
///     })
/// }
/// const SWISH: Activation = Activation::Custom(CustomActivation::new("swish", swish));
/// let layer = LayerSpec::new(4, 8, SWISH);
/// assert_eq!(layer.activation.name(), "swish");
/// ```
///
/// A layer with a custom activation stores `f'(z)` beside its outputs during the forward pass
/// (`batch × outputs` more workspace), since `f'` cannot in general be recovered from `f(z)`.
/// Custom activations cannot be written to model files (they are code, not data).
#[cfg(feature = "custom-activations")]
#[derive(Clone, Copy, Debug)]
pub struct CustomActivation {
    name: &'static str,
    eval: fn(wide::f32x8) -> (wide::f32x8, wide::f32x8),
}

#[cfg(feature = "custom-activations")]
impl CustomActivation {
    /// A custom activation called `name` (its identity: two with the same name are equal).
    pub const fn new(name: &'static str, eval: fn(wide::f32x8) -> (wide::f32x8, wide::f32x8)) -> Self {
        CustomActivation { name, eval }
    }

    /// The name given to [`CustomActivation::new`].
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// `f(z)` into `values` in place and `f'(z)` into `derivatives`, eight at a time.
    pub fn apply(&self, values: &mut [f32], derivatives: &mut [f32]) {
        for (v, d) in values.chunks_mut(8).zip(derivatives.chunks_mut(8)) {
            let mut lanes = [0.0f32; 8];
            lanes[..v.len()].copy_from_slice(v);
            let (y, dy) = (self.eval)(wide::f32x8::from(lanes));
            v.copy_from_slice(&y.to_array()[..v.len()]);
            d.copy_from_slice(&dy.to_array()[..v.len()]);
        }
    }
}

#[cfg(feature = "custom-activations")]
impl PartialEq for CustomActivation {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

#[cfg(feature = "custom-activations")]
impl Eq for CustomActivation {}

#[cfg(feature = "custom-activations")]
impl core::hash::Hash for CustomActivation {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// The activation applied after a dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `f(z) = z`: raw outputs (logits for the cross-entropy losses).
    Identity,
    /// `f(z) = max(z, 0)`; derivative 0 at `z = 0`, as in PyTorch. NaN stays NaN.
    Relu,
    /// `f(z) = z` for `z > 0`, else `0.01·z`; derivative 0.01 at `z = 0`, as in PyTorch.
    LeakyRelu,
    /// `f(z) = 1 / (1 + e^-z)`.
    Sigmoid,
    /// `f(z) = tanh(z)`.
    Tanh,
    /// A user-defined activation (see [`CustomActivation`]; feature `custom-activations`).
    #[cfg(feature = "custom-activations")]
    Custom(CustomActivation),
}

impl Activation {
    /// Every built-in activation, in a fixed order (useful for tests and parsers).
    pub const ALL: [Activation; 5] =
        [Activation::Identity, Activation::Relu, Activation::LeakyRelu, Activation::Sigmoid, Activation::Tanh];

    /// The lower-case name used in files and on the command line (`"relu"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            #[cfg(feature = "custom-activations")]
            Activation::Custom(c) => c.name,
        }
    }

    /// Whether the layer stores `f'(z)` beside its outputs (custom activations do).
    pub const fn stores_derivative(self) -> bool {
        #[cfg(feature = "custom-activations")]
        return matches!(self, Activation::Custom(_));
        #[cfg(not(feature = "custom-activations"))]
        false
    }

    /// The activation's code in model files: fixed per member, never its position in
    /// [`Activation::ALL`], so reordering or extending the list breaks no saved file. `None`
    /// for a custom activation, which is code and cannot be stored.
    pub const fn file_code(self) -> Option<u32> {
        match self {
            Activation::Identity => Some(0),
            Activation::Relu => Some(1),
            Activation::LeakyRelu => Some(2),
            Activation::Sigmoid => Some(3),
            Activation::Tanh => Some(4),
            #[cfg(feature = "custom-activations")]
            Activation::Custom(_) => None,
        }
    }

    /// The built-in activation whose [`Activation::file_code`] is `code`.
    pub fn from_file_code(code: u32) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.file_code() == Some(code))
    }

    /// Parses a name as returned by [`Activation::name`].
    pub fn from_name(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }

    /// `f(z)` for one value.
    #[inline]
    pub fn apply(self, z: f32) -> f32 {
        match self {
            Activation::Identity => z,
            // Not `z.max(0.0)`: that maps NaN to 0 and would hide NaN in the data.
            Activation::Relu => {
                if z < 0.0 {
                    0.0
                } else {
                    z
                }
            }
            Activation::LeakyRelu => {
                if z > 0.0 {
                    z
                } else {
                    LEAKY_RELU_SLOPE * z
                }
            }
            Activation::Sigmoid => sigmoid(z),
            Activation::Tanh => libm::tanhf(z),
            #[cfg(feature = "custom-activations")]
            Activation::Custom(c) => (c.eval)(wide::f32x8::splat(z)).0.to_array()[0],
        }
    }

    /// `f'(z)` expressed through the output `y = f(z)`; NaN for a custom activation, whose
    /// derivative is stored during the forward pass instead.
    #[inline]
    pub fn derivative_from_output(self, y: f32) -> f32 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            // The sign of the output is the sign of the input, so `y > 0` decides the branch.
            Activation::LeakyRelu => {
                if y > 0.0 {
                    1.0
                } else {
                    LEAKY_RELU_SLOPE
                }
            }
            Activation::Sigmoid => y * (1.0 - y),
            Activation::Tanh => 1.0 - y * y,
            #[cfg(feature = "custom-activations")]
            Activation::Custom(_) => f32::NAN,
        }
    }

    /// Applies the activation in place to every element (SIMD kernels; see
    /// [`crate::kernels`]). A custom activation also needs room for its derivatives: use
    /// [`CustomActivation::apply`]; here its derivatives are computed and dropped.
    pub fn apply_slice(self, values: &mut [f32]) {
        match self {
            #[cfg(feature = "custom-activations")]
            Activation::Custom(c) => {
                let mut scratch = [0.0f32; 8];
                for chunk in values.chunks_mut(8) {
                    c.apply(chunk, &mut scratch[..chunk.len()]);
                }
            }
            Activation::Identity => {}
            Activation::Relu => kernels::relu_slice(values),
            Activation::LeakyRelu => kernels::leaky_relu_slice(values, LEAKY_RELU_SLOPE),
            Activation::Sigmoid => kernels::sigmoid_slice(values),
            Activation::Tanh => kernels::tanh_slice(values),
        }
    }

    /// The forward pass's activation step: in place over `values`, and for a custom
    /// activation its derivatives into `derivative_slot` (the space after the layer's outputs).
    pub(crate) fn apply_forward(self, values: &mut [f32], derivative_slot: &mut [f32]) {
        match self {
            #[cfg(feature = "custom-activations")]
            Activation::Custom(custom) => custom.apply(values, &mut derivative_slot[..values.len()]),
            activation => {
                let _ = derivative_slot;
                activation.apply_slice(values)
            }
        }
    }

    /// Multiplies each gradient by `f'` at the matching output: turns dE/dy into dE/dz. For a
    /// custom activation `outputs` must be the derivatives it stored in the forward pass.
    pub fn backprop_slice(self, outputs: &[f32], grads: &mut [f32]) {
        match self {
            #[cfg(feature = "custom-activations")]
            Activation::Custom(_) => {
                for (g, d) in grads.iter_mut().zip(outputs) {
                    *g *= d;
                }
            }
            Activation::Identity => {}
            Activation::Relu => kernels::relu_backward(outputs, grads),
            Activation::LeakyRelu => kernels::leaky_relu_backward(outputs, grads, LEAKY_RELU_SLOPE),
            Activation::Sigmoid => kernels::sigmoid_backward(outputs, grads),
            Activation::Tanh => kernels::tanh_backward(outputs, grads),
        }
    }
}

/// The logistic function, computed without overflow for large `|z|`.
///
/// For negative `z` it uses `e^z / (1 + e^z)`, so `e^-z` never overflows to infinity.
#[inline]
pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + libm::expf(-z))
    } else {
        let e = libm::expf(z);
        e / (1.0 + e)
    }
}
