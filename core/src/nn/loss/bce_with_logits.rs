//! Binary cross-entropy on logits (`binary_cross_entropy_with_logits`).

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, SampleLoss, SampleNodes, Scalar, Tape};
use crate::nn::activation::sigmoid;
use crate::nn::loss::{build_mean_of_terms, mean_of_terms, ElementLoss, Member, Target, TargetKind};

/// `mean(max(z, 0) - z·t + ln(1 + e^-|z|))`, the overflow-free form of
/// `-(t ln σ(z) + (1 - t) ln(1 - σ(z)))`; gradient `(σ(z) - t) / N`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BceWithLogits;

impl ElementLoss for BceWithLogits {
    fn term(&self, z: f32, t: f32) -> (f32, f32) {
        (z.max(0.0) - z * t + libm::log1pf(libm::expf(-libm::fabsf(z))), sigmoid(z) - t)
    }
}

impl Member for BceWithLogits {
    const NAME: &'static str = "bce_logits";
    const TARGET: TargetKind = TargetKind::Values;
    fn mean(&self, output: &[f32], _outputs: usize, target: Target<'_>, grad: Option<&mut [f32]>) -> f32 {
        mean_of_terms(self, output, target, grad)
    }
}

impl SampleLoss for BceWithLogits {
    fn build<T: Scalar, S: NodeStore<T>>(&self, tape: &mut Tape<T, S>, sample: SampleNodes) -> Result<NodeId> {
        let zero = tape.constant(T::zero())?;
        let one = tape.constant(T::one())?;
        build_mean_of_terms(tape, sample, |tape, z, t| {
            let positive = tape.max(z, zero)?;
            let zt = tape.mul(z, t)?;
            let abs = tape.abs(z)?;
            let neg = tape.neg(abs)?;
            let e = tape.exp(neg)?;
            let one_plus = tape.add(one, e)?;
            let softplus = tape.ln(one_plus)?;
            let partial = tape.sub(positive, zt)?;
            tape.add(partial, softplus)
        })
    }
}
