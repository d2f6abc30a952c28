//! Adam, AdamW and AMSGrad (`torch.optim.Adam` / `torch.optim.AdamW`).

use crate::error::Result;
use crate::executor::Executor;
use crate::kernels::{ElementUpdate, Lanes};
use crate::optim::{bias_correction, check_adam_family, flag, lr_and_buffers, run, weight_decay_terms, Member};

/// Model-file flag: AMSGrad.
const AMSGRAD: u8 = 4;
/// Model-file flag: decoupled weight decay (AdamW).
const DECOUPLED: u8 = 8;

/// Adam hyper-parameters. [`Adam::default`] is PyTorch's `Adam`; [`Adam::adamw`] is
/// PyTorch's `AdamW` (decoupled weight decay 1e-2).
///
/// At step `t` (1-based): weight decay either adds `weight_decay·p` to the gradient (Adam) or
/// multiplies `p` by `1 - lr·weight_decay` first (AdamW, "decoupled"). Then
/// `m = β1·m + (1-β1)·g`, `v = β2·v + (1-β2)·g²`, with AMSGrad `v_max = max(v_max, v)` used in
/// place of `v`, and `p -= lr/(1-β1^t) · m / (√v / √(1-β2^t) + eps)`.
///
/// State buffers, in order: `m`, `v`, then `v_max` with AMSGrad. The step count `t` is kept
/// by the caller and advanced once per step by [`crate::optim::Step::step`], never per
/// tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adam {
    /// Learning rate (default 1e-3).
    pub lr: f32,
    /// Decay of the first-moment average (default 0.9).
    pub beta1: f32,
    /// Decay of the second-moment average (default 0.999).
    pub beta2: f32,
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f32,
    /// Weight decay (default 0 for Adam, 1e-2 for AdamW).
    pub weight_decay: f32,
    /// Use the maximum of past second moments (default false).
    pub amsgrad: bool,
    /// Decoupled weight decay, i.e. AdamW (default false).
    pub decoupled_weight_decay: bool,
}

impl Default for Adam {
    fn default() -> Self {
        Adam::new(1e-3)
    }
}

impl Adam {
    /// PyTorch's `Adam` defaults with learning rate `lr` (a `const fn`, for `const` configs in
    /// firmware).
    pub const fn new(lr: f32) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled_weight_decay: false,
        }
    }

    /// PyTorch's `AdamW` defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2.
    pub fn adamw() -> Self {
        Adam { weight_decay: 1e-2, decoupled_weight_decay: true, ..Adam::default() }
    }

    /// `m`, `v`, and `v_max` with AMSGrad.
    pub(crate) const fn buffer_count(&self) -> usize {
        2 + self.amsgrad as usize
    }
}

/// One Adam step's per-parameter arithmetic, with the step's scalars precomputed.
pub(crate) struct AdamRule {
    pub config: Adam,
    /// Factor applied to `p` before the update (1 unless decoupled weight decay).
    pub decay_factor: f32,
    /// Weight decay added to the gradient (0 when decoupled).
    pub coupled_decay: f32,
    /// `lr / (1 - β1^t)`.
    pub step_size: f32,
    /// `1 / √(1 - β2^t)`.
    pub inv_sqrt_bias2: f32,
}

impl AdamRule {
    #[inline(always)]
    fn moments<V: Lanes>(&self, p: &mut V, g: V, m: &mut V, v: &mut V) {
        let c = &self.config;
        *p = *p * V::splat(self.decay_factor);
        let g = p.mul_add(V::splat(self.coupled_decay), g);
        *m = m.mul_add(V::splat(c.beta1), g * V::splat(1.0 - c.beta1)).flush_subnormal();
        *v = v.mul_add(V::splat(c.beta2), g * g * V::splat(1.0 - c.beta2)).flush_subnormal();
    }

    #[inline(always)]
    fn descend<V: Lanes>(&self, p: &mut V, m: V, second: V) {
        let denominator = second.sqrt().mul_add(V::splat(self.inv_sqrt_bias2), V::splat(self.config.eps));
        *p = (m / denominator).mul_add(V::splat(-self.step_size), *p);
    }
}

impl ElementUpdate<2> for AdamRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [m, v]: &mut [V; 2]) {
        self.moments(p, g, m, v);
        self.descend(p, *m, *v);
    }
}

impl ElementUpdate<3> for AdamRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [m, v, v_max]: &mut [V; 3]) {
        self.moments(p, g, m, v);
        *v_max = v_max.max(*v);
        self.descend(p, *m, *v_max);
    }
}

impl Member for Adam {
    const FILE_CODE: u8 = 3;
    const NAMES: &'static [&'static str] = &["adam", "adamw"];
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "adam" => Some(Adam::default()),
            "adamw" => Some(Adam::adamw()),
            _ => None,
        }
    }
    fn name(&self) -> &'static str {
        if self.decoupled_weight_decay {
            "adamw"
        } else {
            "adam"
        }
    }
    lr_and_buffers!();
    fn validate(&self) -> Result<()> {
        check_adam_family(self.beta1, self.beta2, self.eps, self.weight_decay)
    }
    fn encode(&self) -> (u8, [f32; 6]) {
        (
            flag(self.amsgrad, AMSGRAD) | flag(self.decoupled_weight_decay, DECOUPLED),
            [self.lr, self.beta1, self.beta2, self.eps, self.weight_decay, 0.0],
        )
    }
    fn decode(flags: u8, v: &[f32; 6]) -> Self {
        Adam {
            lr: v[0],
            beta1: v[1],
            beta2: v[2],
            eps: v[3],
            weight_decay: v[4],
            amsgrad: flags & AMSGRAD != 0,
            decoupled_weight_decay: flags & DECOUPLED != 0,
        }
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
        let bias1 = bias_correction(self.beta1, t);
        let bias2 = bias_correction(self.beta2, t);
        let (decay_factor, coupled_decay) = weight_decay_terms(lr, self.weight_decay, self.decoupled_weight_decay);
        let rule = AdamRule {
            config: *self,
            decay_factor,
            coupled_decay,
            step_size: lr / bias1,
            inv_sqrt_bias2: 1.0 / libm::sqrtf(bias2),
        };
        if self.amsgrad {
            run::<_, 3>(&rule, params, grads, state, pieces)
        } else {
            run::<_, 2>(&rule, params, grads, state, pieces)
        }
    }
}
