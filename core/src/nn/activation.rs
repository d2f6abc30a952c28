//! Element-wise activations, each with its derivative written in terms of the *output*.
//!
//! Every activation here has a derivative that can be computed from its output `y = f(z)`
//! alone, so the backward pass needs only the stored outputs and no pre-activations: half the
//! activation memory on a device.

use crate::kernels;

/// Slope of [`Activation::LeakyRelu`] for negative inputs (PyTorch's default).
pub const LEAKY_RELU_SLOPE: f32 = 0.01;

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
}

impl Activation {
    /// Every activation, in a fixed order (useful for tests and parsers).
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
        }
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
        }
    }

    /// `f'(z)` expressed through the output `y = f(z)`.
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
        }
    }

    /// Applies the activation in place to every element (SIMD kernels; see
    /// [`crate::kernels`]).
    pub fn apply_slice(self, values: &mut [f32]) {
        match self {
            Activation::Identity => {}
            Activation::Relu => kernels::relu_slice(values),
            Activation::LeakyRelu => kernels::leaky_relu_slice(values, LEAKY_RELU_SLOPE),
            Activation::Sigmoid => kernels::sigmoid_slice(values),
            Activation::Tanh => kernels::tanh_slice(values),
        }
    }

    /// Multiplies each gradient by `f'` at the matching output: turns dE/dy into dE/dz.
    pub fn backprop_slice(self, outputs: &[f32], grads: &mut [f32]) {
        match self {
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
