//! LeakyReLU with PyTorch's default slope.

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::{DerivativeSource, Member};

/// Slope of [`crate::Activation::LeakyRelu`] for negative inputs (PyTorch's default).
pub const LEAKY_RELU_SLOPE: f32 = 0.01;

/// `z` for `z > 0`, else `LEAKY_RELU_SLOPE·z`.
pub(crate) struct LeakyRelu;

impl ElementFunction for LeakyRelu {
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        z.select_lt(V::splat(0.0), z * V::splat(LEAKY_RELU_SLOPE), z)
    }
    /// From the output, whose sign is the input's: 1 where `y > 0`, else the slope (also
    /// at 0, as in PyTorch).
    #[inline(always)]
    fn derivative<V: Lanes>(y: V) -> V {
        y.select_gt(V::splat(0.0), V::splat(1.0), V::splat(LEAKY_RELU_SLOPE))
    }
}

impl Member for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    const FILE_CODE: u32 = 2;
    const SOURCE: DerivativeSource = DerivativeSource::Output;
    const AUTO_INIT: Init = Init::HeNormal;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        // max(z, slope·z) is LeakyReLU for 0 < slope < 1.
        let slope = tape.constant(T::from_f64(f64::from(LEAKY_RELU_SLOPE)))?;
        let scaled = tape.mul(z, slope)?;
        tape.max(z, scaled)
    }
}
