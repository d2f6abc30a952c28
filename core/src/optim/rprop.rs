//! Rprop (`torch.optim.Rprop`): resilient backpropagation, FANN's default trainer.

use crate::error::{check_hyper_parameter as check, non_negative, Result};
use crate::executor::Executor;
use crate::kernels::{ElementUpdate, Lanes};
use crate::optim::{lr_and_buffers, run, Member};

/// Rprop hyper-parameters. `Default` gives PyTorch's defaults.
///
/// Each weight has its own step size, which starts at `lr`. Per step, with `s = g·g_prev`:
/// the step size is multiplied by `eta_plus` where `s > 0` (same sign: speed up) and by
/// `eta_minus` where `s < 0` (the sign flipped: the last step overshot), then clamped to
/// `[step_min, step_max]`; where `s < 0` the gradient is taken as 0 (no move, and no change
/// of step size next time); then `p -= sign(g)·step` and `g_prev = g`. The update uses only
/// the gradient's sign, so Rprop suits full-batch training of small networks.
///
/// State buffers, in order: `g_prev` (zeros), the step sizes (`lr`, set by
/// [`crate::optim::Step::init_state`]). The learning rate matters only there: a schedule's
/// `lr` passed to a later step changes nothing, as in PyTorch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rprop {
    /// Initial step size (default 1e-2).
    pub lr: f32,
    /// Step-size factor after a sign change (default 0.5; in `(0, 1)`).
    pub eta_minus: f32,
    /// Step-size factor while the sign holds (default 1.2; above 1).
    pub eta_plus: f32,
    /// Smallest step size (default 1e-6).
    pub step_min: f32,
    /// Largest step size (default 50).
    pub step_max: f32,
}

impl Default for Rprop {
    fn default() -> Self {
        Rprop::new(1e-2)
    }
}

impl Rprop {
    /// PyTorch's defaults with initial step size `lr` (a `const fn`, for `const` configs in firmware).
    pub const fn new(lr: f32) -> Self {
        Rprop { lr, eta_minus: 0.5, eta_plus: 1.2, step_min: 1e-6, step_max: 50.0 }
    }

    /// `g_prev` and the step sizes.
    pub(crate) const fn buffer_count(&self) -> usize {
        2
    }
}

/// One Rprop step's per-parameter arithmetic.
struct RpropRule {
    config: Rprop,
}

impl ElementUpdate<2> for RpropRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [previous, step]: &mut [V; 2]) {
        let c = &self.config;
        let (zero, one) = (V::splat(0.0), V::splat(1.0));
        let agreement = g * *previous;
        let factor =
            agreement.select_gt(zero, V::splat(c.eta_plus), agreement.select_lt(zero, V::splat(c.eta_minus), one));
        *step = (*step * factor).min(V::splat(c.step_max)).max(V::splat(c.step_min));
        let g = agreement.select_lt(zero, zero, g);
        let sign = g.select_gt(zero, one, g.select_lt(zero, -one, zero));
        *p = sign.mul_add(-*step, *p);
        *previous = g;
    }
}

impl Member for Rprop {
    const FILE_CODE: u8 = 8;
    const NAMES: &'static [&'static str] = &["rprop"];
    lr_and_buffers!();
    fn initial_state(&self, buffer: usize) -> f32 {
        if buffer == 1 {
            self.lr
        } else {
            0.0
        }
    }
    fn validate(&self) -> Result<()> {
        check(self.eta_minus > 0.0 && self.eta_minus < 1.0, "eta_minus", "must be in (0, 1)")?;
        check(self.eta_plus > 1.0 && self.eta_plus.is_finite(), "eta_plus", "must be finite and above 1")?;
        check(non_negative(self.step_min), "step_min", "must be finite and non-negative")?;
        check(
            self.step_max.is_finite() && self.step_max >= self.step_min,
            "step_max",
            "must be finite and at least step_min",
        )
    }
    fn encode(&self) -> (u8, [f32; 6]) {
        (0, [self.lr, self.eta_minus, self.eta_plus, self.step_min, self.step_max, 0.0])
    }
    fn decode(_flags: u8, v: &[f32; 6]) -> Self {
        Rprop { lr: v[0], eta_minus: v[1], eta_plus: v[2], step_min: v[3], step_max: v[4] }
    }
    fn apply(
        &self,
        _lr: f32,
        _t: u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
        pieces: &(impl Executor + Sync),
    ) {
        run(&RpropRule { config: *self }, params, grads, state, pieces)
    }
}
