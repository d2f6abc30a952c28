//! Mean squared error (`mse_loss`).

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, SampleLoss, SampleNodes, Scalar, Tape};
use crate::nn::loss::{build_mean_of_terms, mean_of_terms, ElementLoss, Member, Target, TargetKind};

/// `mean((y - t)²)`; gradient `2(y - t) / N`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mse;

impl ElementLoss for Mse {
    fn term(&self, y: f32, t: f32) -> (f32, f32) {
        let d = y - t;
        (d * d, 2.0 * d)
    }
}

impl Member for Mse {
    const NAME: &'static str = "mse";
    const TARGET: TargetKind = TargetKind::Values;
    fn mean(&self, output: &[f32], _outputs: usize, target: Target<'_>, grad: Option<&mut [f32]>) -> f32 {
        mean_of_terms(self, output, target, grad)
    }
}

impl SampleLoss for Mse {
    fn build<T: Scalar, S: NodeStore<T>>(&self, tape: &mut Tape<T, S>, sample: SampleNodes) -> Result<NodeId> {
        build_mean_of_terms(tape, sample, |tape, y, t| {
            let d = tape.sub(y, t)?;
            tape.mul(d, d)
        })
    }
}
