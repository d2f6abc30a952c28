//! The hyperbolic tangent.

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::{DerivativeSource, Member};

/// `tanh(z)`.
pub(crate) struct Tanh;

impl ElementFunction for Tanh {
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        z.tanh()
    }
    /// From the output: `1 - y²`.
    #[inline(always)]
    fn derivative<V: Lanes>(y: V) -> V {
        V::splat(1.0) - y * y
    }
}

impl Member for Tanh {
    const NAME: &'static str = "tanh";
    const FILE_CODE: u32 = 4;
    const SOURCE: DerivativeSource = DerivativeSource::Output;
    const AUTO_INIT: Init = Init::XavierUniform;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        tape.tanh(z)
    }
}
