//! SiLU (swish), `z·σ(z)`.

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::logistic;
use crate::nn::activation::{DerivativeSource, Member};

/// `z·σ(z)`; derivative `σ(z)·(1 + z·(1 - σ(z)))`.
pub(crate) struct Silu;

impl ElementFunction for Silu {
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        z * logistic(z)
    }
    /// From the input.
    #[inline(always)]
    fn derivative<V: Lanes>(z: V) -> V {
        let s = logistic(z);
        s * (z * (V::splat(1.0) - s) + V::splat(1.0))
    }
}

impl Member for Silu {
    const NAME: &'static str = "silu";
    const FILE_CODE: u32 = 7;
    const SOURCE: DerivativeSource = DerivativeSource::Stored;
    const AUTO_INIT: Init = Init::HeNormal;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        let s = tape.sigmoid(z)?;
        tape.mul(z, s)
    }
}
