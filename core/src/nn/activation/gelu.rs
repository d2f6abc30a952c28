//! GELU in PyTorch's exact form, `z·Φ(z)` with `Φ` the standard normal CDF.

use core::f32::consts::FRAC_1_SQRT_2;

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::{DerivativeSource, Member};

/// `z·Φ(z)`; derivative `Φ(z) + z·φ(z)`.
pub(crate) struct Gelu;

/// `1/√(2π)`, the standard normal density at 0.
const INV_SQRT_2PI: f32 = 0.398_942_3;

/// Numerical Recipes' `erfcc` polynomial in `t = 1/(1 + u/2)`, highest power first:
/// `erfc(u) = t·e^(-u² + P(t))` with a relative error below 1.2e-7 for every `u ≥ 0`, so
/// both tails of `Φ` stay accurate (an `erf` fit with an absolute error bound would lose
/// the left tail, where `Φ` is tiny).
const ERFC_POLYNOMIAL: [f32; 10] = [
    0.170_872_77,
    -0.822_152_23,
    1.488_515_9,
    -1.135_204,
    0.278_868_07,
    -0.186_288_06,
    0.096_784_18,
    0.374_091_96,
    1.000_023_7,
    -1.265_512_2,
];

/// `(Φ(z), φ(z))`: the standard normal CDF from `erfc(|z|/√2)` and the density.
#[inline(always)]
pub(crate) fn normal_cdf_and_density<V: Lanes>(z: V) -> (V, V) {
    let u = z.abs() * V::splat(FRAC_1_SQRT_2);
    let t = V::splat(1.0) / u.mul_add(V::splat(0.5), V::splat(1.0));
    let mut p = V::splat(ERFC_POLYNOMIAL[0]);
    for c in &ERFC_POLYNOMIAL[1..] {
        p = p.mul_add(t, V::splat(*c));
    }
    let gauss = (-(u * u)).exp(); // e^(-z²/2)
    let lower_tail = V::splat(0.5) * t * gauss * p.exp(); // Φ(-|z|) = erfc(|z|/√2) / 2
    let cdf = z.select_lt(V::splat(0.0), lower_tail, V::splat(1.0) - lower_tail);
    (cdf, gauss * V::splat(INV_SQRT_2PI))
}

impl ElementFunction for Gelu {
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        z * normal_cdf_and_density(z).0
    }
    /// From the input.
    #[inline(always)]
    fn derivative<V: Lanes>(z: V) -> V {
        let (cdf, density) = normal_cdf_and_density(z);
        z.mul_add(density, cdf)
    }
}

impl Member for Gelu {
    const NAME: &'static str = "gelu";
    const FILE_CODE: u32 = 5;
    const SOURCE: DerivativeSource = DerivativeSource::Stored;
    const AUTO_INIT: Init = Init::HeNormal;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        // z/2 · (1 + erf(z/√2))
        let inv_sqrt2 = tape.constant(T::from_f64(core::f64::consts::FRAC_1_SQRT_2))?;
        let half = tape.constant(T::from_f64(0.5))?;
        let one = tape.constant(T::one())?;
        let scaled = tape.mul(z, inv_sqrt2)?;
        let erf = tape.erf(scaled)?;
        let one_plus = tape.add(one, erf)?;
        let half_z = tape.mul(z, half)?;
        tape.mul(half_z, one_plus)
    }
}
