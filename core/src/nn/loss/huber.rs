//! The Huber loss (`huber_loss`).

use crate::error::{check_hyper_parameter, Result};
use crate::graph::{NodeId, NodeStore, SampleLoss, SampleNodes, Scalar, Tape};
use crate::nn::loss::{build_mean_of_terms, mean_of_terms, ElementLoss, Member, Target, TargetKind};

/// `½d²` where `|d| ≤ delta`, else `delta·(|d| - ½delta)`, with `d = output - target`,
/// averaged over all elements; gradient `d` or `±delta`, over `N`.
///
/// Also a [`SampleLoss`], so [`crate::graph::tape_loss`] can evaluate it on the tape:
///
/// ```
/// use embergrad::graph::{tape_loss, Node};
/// use embergrad::nn::Huber;
/// use embergrad::Target;
/// let mut slots = [Node::<embergrad::graph::f32x8>::EMPTY; 64];
/// let output = [0.5, 3.0];
/// let mut grad = [0.0; 2];
/// let loss = tape_loss(&Huber { delta: 1.0 }, &mut slots, &output, 2, 1, Target::Values(&[0.0, 0.0]), Some(&mut grad)).unwrap();
/// assert!((loss - (0.125 + 2.5) / 2.0).abs() < 1e-6);
/// assert_eq!(grad, [0.25, 0.5]); // d/dy of the mean: 0.5/2 and 1/2
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    /// Where the quadratic part turns linear (PyTorch's default: 1).
    pub delta: f32,
}

impl Default for Huber {
    fn default() -> Self {
        Huber { delta: 1.0 }
    }
}

impl ElementLoss for Huber {
    fn term(&self, y: f32, t: f32) -> (f32, f32) {
        let d = y - t;
        let delta = self.delta;
        if libm::fabsf(d) <= delta {
            (0.5 * d * d, d)
        } else {
            (delta * (libm::fabsf(d) - 0.5 * delta), if d > 0.0 { delta } else { -delta })
        }
    }
}

impl Member for Huber {
    const NAME: &'static str = "huber";
    const TARGET: TargetKind = TargetKind::Values;
    fn validate(&self) -> Result<()> {
        check_hyper_parameter(self.delta.is_finite() && self.delta > 0.0, "delta", "must be finite and positive")
    }
    fn mean(&self, output: &[f32], _outputs: usize, target: Target<'_>, grad: Option<&mut [f32]>) -> f32 {
        mean_of_terms(self, output, target, grad)
    }
}

impl SampleLoss for Huber {
    /// Without branches: `½m² + delta·(|d| - m)` with `m = min(|d|, delta)`.
    fn build<T: Scalar, S: NodeStore<T>>(&self, tape: &mut Tape<T, S>, sample: SampleNodes) -> Result<NodeId> {
        let delta = tape.constant(T::from_f64(f64::from(self.delta)))?;
        let half = tape.constant(T::from_f64(0.5))?;
        build_mean_of_terms(tape, sample, |tape, y, t| {
            let d = tape.sub(y, t)?;
            let abs = tape.abs(d)?;
            let m = tape.min(abs, delta)?;
            let m2 = tape.mul(m, m)?;
            let quadratic = tape.mul(half, m2)?;
            let excess = tape.sub(abs, m)?;
            let linear = tape.mul(delta, excess)?;
            tape.add(quadratic, linear)
        })
    }
}
