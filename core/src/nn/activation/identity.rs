//! Identity: `f(z) = z`, for raw outputs (logits for the cross-entropy losses).

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::{DerivativeSource, Member};

/// `f(z) = z`.
pub(crate) struct Identity;

impl ElementFunction for Identity {
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        z
    }
    #[inline(always)]
    fn derivative<V: Lanes>(_y: V) -> V {
        V::splat(1.0)
    }
}

impl Member for Identity {
    const NAME: &'static str = "identity";
    const FILE_CODE: u32 = 0;
    const SOURCE: DerivativeSource = DerivativeSource::Output;
    const AUTO_INIT: Init = Init::XavierUniform;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        // A node of its own (z + 0), so every activation appends a value node per output.
        let zero = tape.constant(T::zero())?;
        tape.add(z, zero)
    }
}
