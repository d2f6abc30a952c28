//! Softplus, `ln(1 + e^z)`, with PyTorch's `beta = 1` and `threshold = 20`.

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::{ln_1p_unit, logistic};
use crate::nn::activation::{DerivativeSource, Member};

/// `ln(1 + e^z)` (`z` itself above 20); derivative `σ(z)`.
pub(crate) struct Softplus;

/// Above this input softplus is `z` itself (PyTorch's default `threshold`).
const THRESHOLD: f32 = 20.0;

impl ElementFunction for Softplus {
    /// `max(z, 0) + ln(1 + e^-|z|)`, which never overflows.
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        let smooth = z.max(V::splat(0.0)) + ln_1p_unit((-z.abs()).exp());
        z.select_gt(V::splat(THRESHOLD), z, smooth)
    }
    /// From the input: `σ(z)`, exact where `1 - e^-y` from the output would cancel.
    #[inline(always)]
    fn derivative<V: Lanes>(z: V) -> V {
        z.select_gt(V::splat(THRESHOLD), V::splat(1.0), logistic(z))
    }
}

/// Appends softplus of `z` to a tape: `max(0, z) + ln(1 + e^min(z, -z))`, whose ties at
/// `z = 0` give the derivative `σ(0) = ½`.
pub(crate) fn build_softplus<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
    let zero = tape.constant(T::zero())?;
    let one = tape.constant(T::one())?;
    let positive = tape.max(zero, z)?;
    let minus_z = tape.neg(z)?;
    let minus_abs = tape.min(z, minus_z)?;
    let e = tape.exp(minus_abs)?;
    let one_plus = tape.add(one, e)?;
    let log = tape.ln(one_plus)?;
    tape.add(positive, log)
}

impl Member for Softplus {
    const NAME: &'static str = "softplus";
    const FILE_CODE: u32 = 9;
    const SOURCE: DerivativeSource = DerivativeSource::Input;
    const AUTO_INIT: Init = Init::HeNormal;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        build_softplus(tape, z)
    }
}
