//! User-defined activations (feature `custom-activations`): code given as a function of
//! eight lanes, its derivative stored during the forward pass.

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
#[derive(Clone, Copy, Debug)]
pub struct CustomActivation {
    name: &'static str,
    eval: fn(wide::f32x8) -> (wide::f32x8, wide::f32x8),
}

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

impl PartialEq for CustomActivation {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for CustomActivation {}

impl core::hash::Hash for CustomActivation {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}
