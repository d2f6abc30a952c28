//! Stochastic gradient descent, with PyTorch's momentum, dampening, Nesterov and weight decay.

use crate::error::{check_hyper_parameter as check, non_negative, Result};
use crate::executor::Executor;
use crate::kernels::{axpy, ElementUpdate, Lanes};
use crate::optim::{flag, in_pieces, lr_and_buffers, run, Member};

/// Model-file flag: Nesterov momentum.
const NESTEROV: u8 = 1;

/// SGD hyper-parameters (`torch.optim.SGD`). `Default` gives PyTorch's defaults.
///
/// Per parameter, with `g = grad + weight_decay·p`:
/// - without momentum: `p -= lr·g`;
/// - with momentum: `buf = g` on the first step, else `buf = momentum·buf + (1 - dampening)·g`;
///   then `p -= lr·(g + momentum·buf)` with Nesterov, `p -= lr·buf` without.
///
/// State: one buffer (`buf`) when `momentum != 0`, none otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// Learning rate (default 1e-3).
    pub lr: f32,
    /// Momentum factor (default 0: plain SGD).
    pub momentum: f32,
    /// Dampening of the momentum's gradient term (default 0).
    pub dampening: f32,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
    /// Nesterov momentum (default false; needs `momentum > 0` and `dampening == 0`).
    pub nesterov: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd { lr: 1e-3, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false }
    }
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub const fn new(lr: f32) -> Self {
        Sgd { lr, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false }
    }

    /// Number of state buffers (each as long as the params).
    pub(crate) const fn buffer_count(&self) -> usize {
        if self.momentum != 0.0 {
            1
        } else {
            0
        }
    }
}

/// `p -= lr·(g + wd·p)`.
pub(crate) struct PlainRule {
    pub lr: f32,
    pub weight_decay: f32,
}

impl ElementUpdate<0> for PlainRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, _: &mut [V; 0]) {
        let g = p.mul_add(V::splat(self.weight_decay), g);
        *p = g.mul_add(V::splat(-self.lr), *p);
    }
}

/// The momentum variants; `first_step` seeds the buffer with the gradient, as PyTorch does.
pub(crate) struct MomentumRule {
    pub config: Sgd,
    pub lr: f32,
    pub first_step: bool,
}

impl ElementUpdate<1> for MomentumRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [buf]: &mut [V; 1]) {
        let c = &self.config;
        let g = p.mul_add(V::splat(c.weight_decay), g);
        *buf = if self.first_step { g } else { buf.mul_add(V::splat(c.momentum), g * V::splat(1.0 - c.dampening)) }
            .flush_subnormal();
        let direction = if c.nesterov { buf.mul_add(V::splat(c.momentum), g) } else { *buf };
        *p = direction.mul_add(V::splat(-self.lr), *p);
    }
}

impl Member for Sgd {
    const FILE_CODE: u8 = 0;
    const NAMES: &'static [&'static str] = &["sgd", "momentum"];
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sgd" => Some(Sgd::default()),
            "momentum" => Some(Sgd { momentum: 0.9, ..Sgd::default() }),
            _ => None,
        }
    }
    lr_and_buffers!();
    fn validate(&self) -> Result<()> {
        check(non_negative(self.momentum), "momentum", "must be finite and non-negative")?;
        check(self.dampening.is_finite(), "dampening", "must be finite")?;
        check(non_negative(self.weight_decay), "weight_decay", "must be finite and non-negative")?;
        check(
            !self.nesterov || (self.momentum > 0.0 && self.dampening == 0.0),
            "nesterov",
            "needs momentum > 0 and dampening = 0",
        )
    }
    fn encode(&self) -> (u8, [f32; 6]) {
        (flag(self.nesterov, NESTEROV), [self.lr, self.momentum, self.dampening, self.weight_decay, 0.0, 0.0])
    }
    fn decode(flags: u8, v: &[f32; 6]) -> Self {
        Sgd { lr: v[0], momentum: v[1], dampening: v[2], weight_decay: v[3], nesterov: flags & NESTEROV != 0 }
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
        if self.momentum != 0.0 {
            run(&MomentumRule { config: *self, lr, first_step: t == 1 }, params, grads, state, pieces);
        } else if self.weight_decay != 0.0 {
            run(&PlainRule { lr, weight_decay: self.weight_decay }, params, grads, state, pieces);
        } else {
            in_pieces(pieces, params, grads, [], &|params, grads, []| axpy(params, -lr, grads));
        }
    }
}
