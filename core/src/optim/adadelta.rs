//! Adadelta (`torch.optim.Adadelta`).

use crate::error::{check_hyper_parameter as check, non_negative, Result};
use crate::executor::Executor;
use crate::kernels::{ElementUpdate, Lanes};
use crate::optim::{lr_and_buffers, run, Member};

/// Adadelta hyper-parameters. `Default` gives PyTorch's defaults.
///
/// With `g = grad + weight_decay·p`: `v = ρ·v + (1-ρ)·g²`,
/// `δ = √(a + eps) / √(v + eps) · g`, `a = ρ·a + (1-ρ)·δ²`, `p -= lr·δ`.
///
/// State buffers, in order: `v` (squared-gradient average), `a` (squared-update average).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adadelta {
    /// Scales the update (default 1).
    pub lr: f32,
    /// Decay of both running averages (default 0.9).
    pub rho: f32,
    /// Added inside both square roots (default 1e-6).
    pub eps: f32,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
}

impl Default for Adadelta {
    fn default() -> Self {
        Adadelta::new(1.0)
    }
}

impl Adadelta {
    /// PyTorch's defaults with learning rate `lr` (a `const fn`, for `const` configs in firmware).
    pub const fn new(lr: f32) -> Self {
        Adadelta { lr, rho: 0.9, eps: 1e-6, weight_decay: 0.0 }
    }

    /// `v` and `a`.
    pub(crate) const fn buffer_count(&self) -> usize {
        2
    }
}

/// One Adadelta step's per-parameter arithmetic.
struct AdadeltaRule {
    config: Adadelta,
    lr: f32,
}

impl ElementUpdate<2> for AdadeltaRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [v, a]: &mut [V; 2]) {
        let c = &self.config;
        let (keep, mix, eps) = (V::splat(c.rho), V::splat(1.0 - c.rho), V::splat(c.eps));
        let g = p.mul_add(V::splat(c.weight_decay), g);
        *v = v.mul_add(keep, g * g * mix).flush_subnormal();
        let delta = (*a + eps).sqrt() / (*v + eps).sqrt() * g;
        *a = a.mul_add(keep, delta * delta * mix).flush_subnormal();
        *p = delta.mul_add(V::splat(-self.lr), *p);
    }
}

impl Member for Adadelta {
    const FILE_CODE: u8 = 7;
    const NAMES: &'static [&'static str] = &["adadelta"];
    lr_and_buffers!();
    fn validate(&self) -> Result<()> {
        check(non_negative(self.rho) && self.rho <= 1.0, "rho", "must be in [0, 1]")?;
        check(non_negative(self.eps), "eps", "must be finite and non-negative")?;
        check(non_negative(self.weight_decay), "weight_decay", "must be finite and non-negative")
    }
    fn encode(&self) -> (u8, [f32; 6]) {
        (0, [self.lr, self.rho, self.eps, self.weight_decay, 0.0, 0.0])
    }
    fn decode(_flags: u8, v: &[f32; 6]) -> Self {
        Adadelta { lr: v[0], rho: v[1], eps: v[2], weight_decay: v[3] }
    }
    fn apply(
        &self,
        lr: f32,
        _t: u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
        pieces: &(impl Executor + Sync),
    ) {
        run(&AdadeltaRule { config: *self, lr }, params, grads, state, pieces)
    }
}
