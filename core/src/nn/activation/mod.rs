//! Element-wise activations: one file per built-in member, one list that everything else is
//! derived from.
//!
//! A member is a unit type implementing [`Member`]: its name, its stable model-file code,
//! where the backward pass gets its derivative from ([`DerivativeSource`]), the initial
//! weights [`crate::Init::Auto`] gives the layer before it, its function and derivative
//! once over [`Lanes`] (run by the SIMD kernels at every instruction-set level, and by plain
//! `f32` code on a device), and its expression on a [`Tape`] (the scalar graph, the dense
//! path's independent oracle). The `activations!` list at the bottom of this file turns the
//! members into the [`Activation`] enum and every `match` over it, so adding an activation is
//! one file and one line, and a member that leaves out anything does not compile.

#[cfg(feature = "custom-activations")]
mod custom;
mod elu;
mod gelu;
mod gelu_tanh;
mod identity;
mod leaky_relu;
mod mish;
mod relu;
mod sigmoid;
mod silu;
mod softplus;
mod tanh;

#[cfg(feature = "custom-activations")]
pub use custom::CustomActivation;
pub use leaky_relu::LEAKY_RELU_SLOPE;

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{self, ElementFunction, Lanes};

/// Where the backward pass gets an activation's derivative `f'(z)` from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DerivativeSource {
    /// From the layer's outputs `y = f(z)` alone (ReLU, sigmoid, tanh, ELU...): no memory
    /// beyond the outputs, which the backward pass keeps anyway.
    Output,
    /// From the inputs `z`, which the forward pass keeps beside the outputs (`batch ×
    /// outputs` more workspace): for a function whose derivative is not a function of its
    /// output, or not an accurate one.
    Input,
    /// Computed by the forward pass together with `f(z)` and kept beside the outputs (`batch
    /// × outputs` more workspace): for a function whose value and derivative share most of
    /// their arithmetic (GELU, SiLU, Mish), and for custom activations.
    Stored,
}

impl DerivativeSource {
    /// Whether the layer keeps a second value per output (the input or the derivative).
    pub const fn keeps_extra(self) -> bool {
        !matches!(self, DerivativeSource::Output)
    }
}

/// One built-in activation: everything about it, in its own file.
///
/// [`ElementFunction::derivative`] takes `y = f(z)` for [`DerivativeSource::Output`] and `z`
/// for the other two sources.
pub(crate) trait Member: ElementFunction {
    /// The lower-case name used on the command line and in model-file tooling.
    const NAME: &'static str;
    /// The code in model files: fixed for this member forever, never reused.
    const FILE_CODE: u32;
    /// What the derivative is computed from.
    const SOURCE: DerivativeSource;
    /// The initialisation [`Init::Auto`] resolves to for the layer this activation follows.
    const AUTO_INIT: Init;
    /// Appends `f(z)` to the tape, built from the tape's primitive operations, and returns
    /// its node. Must append the same number of nodes for every `z` (the network builder
    /// finds a layer's outputs by that stride).
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId>;
}

/// The forward step for member `M`: `f` in place over `values`, and the input or the
/// derivative into `extra` as `M`'s source asks.
fn forward<M: Member>(values: &mut [f32], extra: &mut [f32]) {
    match M::SOURCE {
        DerivativeSource::Output => kernels::apply_function::<M>(values),
        DerivativeSource::Input => {
            extra[..values.len()].copy_from_slice(values);
            kernels::apply_function::<M>(values)
        }
        DerivativeSource::Stored => kernels::apply_function_and_derivative::<M>(values, extra),
    }
}

/// The chain rule through member `M`: `grads *= f'`, from what `M`'s source keeps.
fn backward<M: Member>(source: &[f32], grads: &mut [f32]) {
    match M::SOURCE {
        DerivativeSource::Output | DerivativeSource::Input => kernels::scale_by_derivative::<M>(source, grads),
        DerivativeSource::Stored => kernels::multiply(source, grads),
    }
}

/// The logistic function on lanes, from `e = e^-|x|` (which never overflows): `1 / (1 + e)`
/// for `x ≥ 0` and `e / (1 + e)` for `x < 0`, so results down to the subnormals stay
/// accurate and no finite input gives NaN. Shared by the members built on it.
#[inline(always)]
pub(crate) fn logistic<V: Lanes>(x: V) -> V {
    let e = (-x.abs()).exp();
    let r = V::splat(1.0) / (V::splat(1.0) + e);
    x.select_lt(V::splat(0.0), e * r, r)
}

/// The logistic function of one value (see [`logistic`]).
pub(crate) fn sigmoid(z: f32) -> f32 {
    logistic(z)
}

/// `ln(1 + u)` for `u` in `[0, 1]`, from arithmetic alone (so every level and the device run
/// the same formula): `2·atanh(s)` with `s = u / (2 + u) ≤ 1/3`, whose odd series to `s¹⁵`
/// leaves a relative error below 2e-8.
#[inline(always)]
pub(crate) fn ln_1p_unit<V: Lanes>(u: V) -> V {
    let s = u / (V::splat(2.0) + u);
    let s2 = s * s;
    let mut series = V::splat(1.0 / 15.0);
    for k in [13.0f32, 11.0, 9.0, 7.0, 5.0, 3.0, 1.0] {
        series = series.mul_add(s2, V::splat(1.0 / k));
    }
    V::splat(2.0) * s * series
}

/// Defines [`Activation`] and everything that enumerates its members from one list of
/// `Variant => member type` lines.
macro_rules! activations {
    ($($(#[$doc:meta])* $variant:ident => $member:ty,)*) => {
        /// The activation applied after a dense layer. Each built-in member is defined in its
        /// own file under `nn/activation/`; see [`DerivativeSource`] for what each keeps for
        /// the backward pass.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Activation {
            $($(#[$doc])* $variant,)*
            /// A user-defined activation (see [`CustomActivation`]; feature `custom-activations`).
            #[cfg(feature = "custom-activations")]
            Custom(CustomActivation),
        }

        impl Activation {
            /// Every built-in activation, in a fixed order (useful for tests and parsers).
            pub const ALL: [Activation; [$(stringify!($variant)),*].len()] = [$(Activation::$variant),*];

            /// The lower-case name used on the command line (`"relu"`, `"gelu_tanh"`, ...).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Activation::$variant => <$member as Member>::NAME,)*
                    #[cfg(feature = "custom-activations")]
                    Activation::Custom(c) => c.name(),
                }
            }

            /// The activation's code in model files: fixed per member, never its position in
            /// [`Activation::ALL`], so reordering or extending the list breaks no saved file.
            /// `None` for a custom activation, which is code and cannot be stored.
            pub const fn file_code(self) -> Option<u32> {
                match self {
                    $(Activation::$variant => Some(<$member as Member>::FILE_CODE),)*
                    #[cfg(feature = "custom-activations")]
                    Activation::Custom(_) => None,
                }
            }

            /// What the backward pass computes `f'` from (custom activations store it).
            pub const fn derivative_source(self) -> DerivativeSource {
                match self {
                    $(Activation::$variant => <$member as Member>::SOURCE,)*
                    #[cfg(feature = "custom-activations")]
                    Activation::Custom(_) => DerivativeSource::Stored,
                }
            }

            /// The initialisation [`Init::Auto`] uses for a layer followed by this activation.
            pub const fn auto_init(self) -> Init {
                match self {
                    $(Activation::$variant => <$member as Member>::AUTO_INIT,)*
                    #[cfg(feature = "custom-activations")]
                    Activation::Custom(_) => Init::XavierUniform,
                }
            }

            /// Applies the activation in place to every element (the SIMD kernels of the
            /// level in use). A custom activation's derivatives are computed and dropped.
            ///
            /// ```
            /// use embergrad::Activation;
            /// let mut values = [-1.0, 0.0, 2.0];
            /// Activation::Relu.apply_slice(&mut values);
            /// assert_eq!(values, [0.0, 0.0, 2.0]);
            /// ```
            pub fn apply_slice(self, values: &mut [f32]) {
                match self {
                    $(Activation::$variant => kernels::apply_function::<$member>(values),)*
                    #[cfg(feature = "custom-activations")]
                    Activation::Custom(c) => {
                        let mut scratch = [0.0f32; 8];
                        for chunk in values.chunks_mut(8) {
                            c.apply(chunk, &mut scratch[..chunk.len()]);
                        }
                    }
                }
            }

            /// The forward pass's activation step: in place over `values`, and the input or
            /// derivative the backward pass needs into `extra` (the space after the layer's
            /// outputs) when [`DerivativeSource::keeps_extra`].
            pub(crate) fn apply_forward(self, values: &mut [f32], extra: &mut [f32]) {
                match self {
                    $(Activation::$variant => forward::<$member>(values, extra),)*
                    #[cfg(feature = "custom-activations")]
                    Activation::Custom(c) => c.apply(values, &mut extra[..values.len()]),
                }
            }

            /// Multiplies each gradient by `f'`: turns dE/dy into dE/dz. `source` is what
            /// [`Activation::derivative_source`] names: the outputs, the inputs, or the
            /// derivatives the forward pass stored.
            pub(crate) fn backprop_slice(self, source: &[f32], grads: &mut [f32]) {
                match self {
                    $(Activation::$variant => backward::<$member>(source, grads),)*
                    #[cfg(feature = "custom-activations")]
                    Activation::Custom(_) => kernels::multiply(source, grads),
                }
            }

            /// `f` on lanes (the per-sample path's activation); `None` for a custom
            /// activation, which has no lane form.
            #[inline(always)]
            pub(crate) fn value_lanes<V: Lanes>(self, z: V) -> Option<V> {
                match self {
                    $(Activation::$variant => Some(<$member as ElementFunction>::value(z)),)*
                    #[cfg(feature = "custom-activations")]
                    Activation::Custom(_) => None,
                }
            }

            /// `f'` on lanes from what [`Activation::derivative_source`] names (the output
            /// or the input); `None` for a custom activation.
            #[inline(always)]
            pub(crate) fn derivative_lanes<V: Lanes>(self, x: V) -> Option<V> {
                match self {
                    $(Activation::$variant => Some(<$member as ElementFunction>::derivative(x)),)*
                    #[cfg(feature = "custom-activations")]
                    Activation::Custom(_) => None,
                }
            }

            /// Appends `f(z)` to a tape (see [`Member::build`]); a custom activation, being
            /// `f32x8` code, has no tape form.
            pub(crate) fn build<T: Scalar, S: NodeStore<T>>(self, tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
                match self {
                    $(Activation::$variant => <$member as Member>::build(tape, z),)*
                    #[cfg(feature = "custom-activations")]
                    Activation::Custom(_) => Err(crate::Error::InvalidSpec {
                        layer: 0,
                        reason: "a custom activation has no tape form (it is f32x8 code)",
                    }),
                }
            }
        }

        const _: () = assert!(
            crate::io::codes_are_unique(&[$(<$member as Member>::FILE_CODE),*]),
            "two activations share a model-file code"
        );
    };
}

activations! {
    /// `f(z) = z`: raw outputs (logits for the cross-entropy losses).
    Identity => identity::Identity,
    /// `f(z) = max(z, 0)`; derivative 0 at `z = 0`, as in PyTorch. NaN stays NaN.
    Relu => relu::Relu,
    /// `f(z) = z` for `z > 0`, else `0.01·z` ([`LEAKY_RELU_SLOPE`]), as in PyTorch.
    LeakyRelu => leaky_relu::LeakyRelu,
    /// `f(z) = 1 / (1 + e^-z)`.
    Sigmoid => sigmoid::Sigmoid,
    /// `f(z) = tanh(z)`.
    Tanh => tanh::Tanh,
    /// GELU, `z·Φ(z)` with `Φ` the standard normal CDF (PyTorch's exact `erf` form).
    Gelu => gelu::Gelu,
    /// GELU's tanh approximation (`gelu(approximate="tanh")`).
    GeluTanh => gelu_tanh::GeluTanh,
    /// SiLU (swish), `z·σ(z)`.
    Silu => silu::Silu,
    /// ELU with `α = 1`: `z` for `z > 0`, else `e^z - 1`.
    Elu => elu::Elu,
    /// Softplus, `ln(1 + e^z)` (PyTorch's `beta = 1`, `threshold = 20`).
    Softplus => softplus::Softplus,
    /// Mish, `z·tanh(softplus(z))`.
    Mish => mish::Mish,
}

impl Activation {
    /// The built-in activation whose [`Activation::file_code`] is `code`.
    pub fn from_file_code(code: u32) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.file_code() == Some(code))
    }

    /// Parses a name as returned by [`Activation::name`].
    pub fn from_name(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The names of the built-in activations, in the order of [`Activation::ALL`] (for help
    /// texts and error messages).
    pub fn names() -> impl Iterator<Item = &'static str> {
        Activation::ALL.into_iter().map(Activation::name)
    }
}
