//! Mean absolute error (`l1_loss`).

use crate::error::Result;
use crate::graph::{NodeId, NodeStore, SampleLoss, SampleNodes, Scalar, Tape};
use crate::nn::loss::{build_mean_of_terms, mean_of_terms, ElementLoss, Member, Target, TargetKind};

/// `mean(|y - t|)`; gradient `sign(y - t) / N`, 0 where `y = t` (as in PyTorch).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct L1;

impl ElementLoss for L1 {
    fn term(&self, y: f32, t: f32) -> (f32, f32) {
        let d = y - t;
        let sign = if d > 0.0 {
            1.0
        } else if d < 0.0 {
            -1.0
        } else {
            0.0
        };
        (libm::fabsf(d), sign)
    }
}

impl Member for L1 {
    const NAME: &'static str = "l1";
    const TARGET: TargetKind = TargetKind::Values;
    fn mean(&self, output: &[f32], _outputs: usize, target: Target<'_>, grad: Option<&mut [f32]>) -> f32 {
        mean_of_terms(self, output, target, grad)
    }
}

impl SampleLoss for L1 {
    fn build<T: Scalar, S: NodeStore<T>>(&self, tape: &mut Tape<T, S>, sample: SampleNodes) -> Result<NodeId> {
        build_mean_of_terms(tape, sample, |tape, y, t| {
            let d = tape.sub(y, t)?;
            tape.abs(d)
        })
    }
}
