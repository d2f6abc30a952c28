//! ELU with `α = 1` (PyTorch's default).

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::{DerivativeSource, Member};

/// `z` for `z > 0`, else `e^z - 1`.
pub(crate) struct Elu;

impl ElementFunction for Elu {
    /// `e^z - 1` as `2τ / (1 - τ)` with `τ = tanh(z/2)`: accurate near 0, where
    /// `exp(z) - 1` would cancel, and -1 in the limit.
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        let tau = (z * V::splat(0.5)).tanh();
        let exp_m1 = V::splat(2.0) * tau / (V::splat(1.0) - tau);
        z.select_gt(V::splat(0.0), z, exp_m1)
    }
    /// From the output: 1 where `y > 0`, else `e^z = y + 1` (1 at 0, as in PyTorch).
    #[inline(always)]
    fn derivative<V: Lanes>(y: V) -> V {
        y.select_gt(V::splat(0.0), V::splat(1.0), y + V::splat(1.0))
    }
}

impl Member for Elu {
    const NAME: &'static str = "elu";
    const FILE_CODE: u32 = 8;
    const SOURCE: DerivativeSource = DerivativeSource::Output;
    const AUTO_INIT: Init = Init::HeNormal;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        // max(0, z) + min(e^z - 1, 0); at z = 0 the ties send the gradient to 0 and e^z,
        // so the derivative there is 1, as in PyTorch.
        let zero = tape.constant(T::zero())?;
        let one = tape.constant(T::one())?;
        let positive = tape.max(zero, z)?;
        let e = tape.exp(z)?;
        let e_minus_1 = tape.sub(e, one)?;
        let negative = tape.min(e_minus_1, zero)?;
        tape.add(positive, negative)
    }
}
