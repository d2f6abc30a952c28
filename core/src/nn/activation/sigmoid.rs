//! The logistic function `1 / (1 + e^-z)`.

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::logistic;
use crate::nn::activation::{DerivativeSource, Member};

/// `1 / (1 + e^-z)`.
pub(crate) struct Sigmoid;

impl ElementFunction for Sigmoid {
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        logistic(z)
    }
    /// From the output: `y·(1 - y)`.
    #[inline(always)]
    fn derivative<V: Lanes>(y: V) -> V {
        y * (V::splat(1.0) - y)
    }
}

impl Member for Sigmoid {
    const NAME: &'static str = "sigmoid";
    const FILE_CODE: u32 = 3;
    const SOURCE: DerivativeSource = DerivativeSource::Output;
    const AUTO_INIT: Init = Init::XavierUniform;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        tape.sigmoid(z)
    }
}
