//! GELU's tanh approximation, `z/2·(1 + tanh(√(2/π)·(z + 0.044715·z³)))`.

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::{logistic, DerivativeSource, Member};

/// PyTorch's `gelu(approximate="tanh")`.
pub(crate) struct GeluTanh;

/// `√(2/π)`.
const SQRT_2_OVER_PI: f32 = 0.797_884_6;
/// The cubic term's coefficient.
const CUBIC: f32 = 0.044_715;

/// `σ(2a) = (1 + tanh(a)) / 2` with `a = √(2/π)·(z + 0.044715·z³)`: the logistic form,
/// which keeps its accuracy in the left tail where `1 + tanh(a)` would cancel.
#[inline(always)]
fn half_one_plus_tanh<V: Lanes>(z: V) -> V {
    let z2 = z * z;
    logistic(z * z2.mul_add(V::splat(CUBIC), V::splat(1.0)) * V::splat(2.0 * SQRT_2_OVER_PI))
}

impl ElementFunction for GeluTanh {
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        z * half_one_plus_tanh(z)
    }
    /// From the input: with `s = σ(2a)`, `s + 2z·s·(1 - s)·√(2/π)·(1 + 3·0.044715·z²)`
    /// (`1 - tanh²(a) = 4s(1 - s)`).
    #[inline(always)]
    fn derivative<V: Lanes>(z: V) -> V {
        let s = half_one_plus_tanh(z);
        let inner_slope = (z * z).mul_add(V::splat(3.0 * CUBIC), V::splat(1.0)) * V::splat(2.0 * SQRT_2_OVER_PI);
        (z * s * (V::splat(1.0) - s)).mul_add(inner_slope, s)
    }
}

impl Member for GeluTanh {
    const NAME: &'static str = "gelu_tanh";
    const FILE_CODE: u32 = 6;
    const SOURCE: DerivativeSource = DerivativeSource::Stored;
    const AUTO_INIT: Init = Init::HeNormal;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        let cubic = tape.constant(T::from_f64(0.044715))?;
        let k = tape.constant(T::from_f64(libm::sqrt(2.0 / core::f64::consts::PI)))?;
        let half = tape.constant(T::from_f64(0.5))?;
        let one = tape.constant(T::one())?;
        let z3 = tape.powi(z, 3)?;
        let scaled_z3 = tape.mul(cubic, z3)?;
        let inner = tape.add(z, scaled_z3)?;
        let argument = tape.mul(k, inner)?;
        let t = tape.tanh(argument)?;
        let one_plus = tape.add(one, t)?;
        let half_z = tape.mul(z, half)?;
        tape.mul(half_z, one_plus)
    }
}
