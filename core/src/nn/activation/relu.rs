//! ReLU: `max(z, 0)`, derivative 0 at `z = 0` as in PyTorch; NaN stays NaN.

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::{DerivativeSource, Member};

/// `max(z, 0)`.
pub(crate) struct Relu;

impl ElementFunction for Relu {
    /// `z < 0 ? 0 : z`, not `max(z, 0)`: NaN compares false and stays NaN, not hidden as 0.
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        z.select_lt(V::splat(0.0), V::splat(0.0), z)
    }
    /// From the output: 1 where `y > 0`, else 0.
    #[inline(always)]
    fn derivative<V: Lanes>(y: V) -> V {
        y.select_gt(V::splat(0.0), V::splat(1.0), V::splat(0.0))
    }
}

impl Member for Relu {
    const NAME: &'static str = "relu";
    const FILE_CODE: u32 = 1;
    const SOURCE: DerivativeSource = DerivativeSource::Output;
    const AUTO_INIT: Init = Init::HeNormal;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        tape.relu(z)
    }
}
