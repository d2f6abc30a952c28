//! Mish, `z·tanh(softplus(z))`.

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, Scalar, Tape};
use crate::init::Init;
use crate::kernels::{ElementFunction, Lanes};
use crate::nn::activation::softplus::build_softplus;
use crate::nn::activation::{DerivativeSource, Member};

/// `z·tanh(softplus(z))`; derivative `tanh(sp) + z·σ(z)·(1 - tanh²(sp))`.
pub(crate) struct Mish;

/// `(tanh(softplus(z)), σ(z))` from `n = e^z` alone: `tanh(ln(1 + n)) = w / (w + 2)` with
/// `w = n·(n + 2)`, and `σ(z) = n / (1 + n)`. `z` is capped at 20, where both are 1 in f32,
/// so `n²` cannot overflow.
#[inline(always)]
fn parts<V: Lanes>(z: V) -> (V, V, V) {
    let n = z.min(V::splat(20.0)).exp();
    let w = n * (n + V::splat(2.0));
    let inv = V::splat(1.0) / (w + V::splat(2.0));
    (w * inv, n / (n + V::splat(1.0)), inv)
}

impl ElementFunction for Mish {
    #[inline(always)]
    fn value<V: Lanes>(z: V) -> V {
        z * parts(z).0
    }
    /// From the input. `1 - tanh²` is taken as `(1 - t)(1 + t)` with `1 - t = 2 / (w + 2)`,
    /// which does not cancel where `t` is close to 1.
    #[inline(always)]
    fn derivative<V: Lanes>(z: V) -> V {
        let (t, sigma, inv) = parts(z);
        let sech2 = V::splat(2.0) * inv * (V::splat(1.0) + t);
        (z * sigma).mul_add(sech2, t)
    }
}

impl Member for Mish {
    const NAME: &'static str = "mish";
    const FILE_CODE: u32 = 10;
    const SOURCE: DerivativeSource = DerivativeSource::Stored;
    const AUTO_INIT: Init = Init::HeNormal;
    fn build<T: Scalar, S: NodeStore<T>>(tape: &mut Tape<T, S>, z: NodeId) -> Result<NodeId> {
        let softplus = build_softplus(tape, z)?;
        let t = tape.tanh(softplus)?;
        tape.mul(z, t)
    }
}
