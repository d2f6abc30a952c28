//! Adamax (`torch.optim.Adamax`): Adam with the infinity norm in place of the second moment.

use crate::error::Result;
use crate::executor::Executor;
use crate::kernels::{ElementUpdate, Lanes};
use crate::optim::{bias_correction, check_adam_family, lr_and_buffers, run, Member};

/// Adamax hyper-parameters. `Default` gives PyTorch's defaults.
///
/// At step `t` (1-based), with `g = grad + weight_decay·p`: `m = β1·m + (1-β1)·g`,
/// `u = max(β2·u, |g| + eps)`, `p -= lr/(1-β1^t) · m/u`.
///
/// State buffers, in order: `m`, `u`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adamax {
    /// Learning rate (default 2e-3).
    pub lr: f32,
    /// Decay of the first-moment average (default 0.9).
    pub beta1: f32,
    /// Decay of the infinity norm (default 0.999).
    pub beta2: f32,
    /// Added to `|g|` for numerical stability (default 1e-8).
    pub eps: f32,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
}

impl Default for Adamax {
    fn default() -> Self {
        Adamax::new(2e-3)
    }
}

impl Adamax {
    /// PyTorch's defaults with learning rate `lr` (a `const fn`, for `const` configs in firmware).
    pub const fn new(lr: f32) -> Self {
        Adamax { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }

    /// `m` and `u`.
    pub(crate) const fn buffer_count(&self) -> usize {
        2
    }
}

/// One Adamax step's per-parameter arithmetic.
struct AdamaxRule {
    config: Adamax,
    /// `lr/(1-β1^t)`.
    step_size: f32,
}

impl ElementUpdate<2> for AdamaxRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [m, u]: &mut [V; 2]) {
        let c = &self.config;
        let g = p.mul_add(V::splat(c.weight_decay), g);
        *m = m.mul_add(V::splat(c.beta1), g * V::splat(1.0 - c.beta1)).flush_subnormal();
        *u = (*u * V::splat(c.beta2)).max(g.abs() + V::splat(c.eps));
        *p = (*m / *u).mul_add(V::splat(-self.step_size), *p);
    }
}

impl Member for Adamax {
    const FILE_CODE: u8 = 6;
    const NAMES: &'static [&'static str] = &["adamax"];
    lr_and_buffers!();
    fn validate(&self) -> Result<()> {
        check_adam_family(self.beta1, self.beta2, self.eps, self.weight_decay)
    }
    fn encode(&self) -> (u8, [f32; 6]) {
        (0, [self.lr, self.beta1, self.beta2, self.eps, self.weight_decay, 0.0])
    }
    fn decode(_flags: u8, v: &[f32; 6]) -> Self {
        Adamax { lr: v[0], beta1: v[1], beta2: v[2], eps: v[3], weight_decay: v[4] }
    }
    fn apply(
        &self,
        lr: f32,
        t: u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
        pieces: &(impl Executor + Sync),
    ) {
        let rule = AdamaxRule { config: *self, step_size: lr / bias_correction(self.beta1, t) };
        run(&rule, params, grads, state, pieces)
    }
}
