//! NAdam (`torch.optim.NAdam`): Adam with Nesterov momentum and a momentum schedule.

use crate::error::{check_hyper_parameter as check, non_negative, Result};
use crate::executor::Executor;
use crate::kernels::{ElementUpdate, Lanes};
use crate::optim::{bias_correction, check_adam_family, flag, lr_and_buffers, run, weight_decay_terms, Member};

/// Model-file flag: decoupled weight decay.
const DECOUPLED: u8 = 8;

/// NAdam hyper-parameters. `Default` gives PyTorch's defaults.
///
/// At step `t` (1-based), with `μ_i = β1·(1 - ½·0.96^(i·momentum_decay))` and `Π_t` the
/// product of `μ_1..μ_t`: weight decay as in Adam (added to the gradient, or with
/// `decoupled_weight_decay` applied to `p` first as `p *= 1 - lr·weight_decay`);
/// `m = β1·m + (1-β1)·g`, `v = β2·v + (1-β2)·g²`, `d = √(v / (1-β2^t)) + eps`;
/// `p -= lr·(1-μ_t)/(1-Π_t) · g/d + lr·μ_{t+1}/(1-Π_t·μ_{t+1}) · m/d`.
///
/// State buffers, in order: `m`, `v`. `Π_t` is recomputed from `t` at each step (PyTorch keeps
/// it as state): its factors are below `β1`, so the product falls under f32's resolution
/// after a few dozen factors, and the loop stops there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NAdam {
    /// Learning rate (default 2e-3).
    pub lr: f32,
    /// Decay of the first-moment average (default 0.9).
    pub beta1: f32,
    /// Decay of the second-moment average (default 0.999).
    pub beta2: f32,
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f32,
    /// Weight decay (default 0).
    pub weight_decay: f32,
    /// The momentum schedule's decay ψ (default 4e-3).
    pub momentum_decay: f32,
    /// Decoupled weight decay, as in AdamW (default false).
    pub decoupled_weight_decay: bool,
}

impl Default for NAdam {
    fn default() -> Self {
        NAdam::new(2e-3)
    }
}

impl NAdam {
    /// PyTorch's defaults with learning rate `lr` (a `const fn`, for `const` configs in firmware).
    pub const fn new(lr: f32) -> Self {
        NAdam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
        }
    }

    /// `m` and `v`.
    pub(crate) const fn buffer_count(&self) -> usize {
        2
    }

    /// `μ_i`, with `0.96^x` as `e^(x·ln 0.96)` (`expf` is linked anyway, `powf` would not be).
    fn mu(&self, i: u64) -> f32 {
        const LN_0_96: f32 = -0.040_821_995;
        self.beta1 * (1.0 - 0.5 * libm::expf(i as f32 * self.momentum_decay * LN_0_96))
    }

    /// `Π_t`, the product of `μ_1..μ_t` (in f32, as PyTorch keeps it), stopping once it is
    /// too small to matter.
    fn mu_product(&self, t: u64) -> f32 {
        let mut product = 1.0;
        for i in 1..=t {
            product *= self.mu(i);
            if product < 1e-20 {
                break;
            }
        }
        product
    }
}

/// One NAdam step's per-parameter arithmetic, with the step's scalars precomputed.
struct NAdamRule {
    config: NAdam,
    decay_factor: f32,
    coupled_decay: f32,
    /// `lr·(1-μ_t)/(1-Π_t)`, the gradient's step.
    gradient_step: f32,
    /// `lr·μ_{t+1}/(1-Π_t·μ_{t+1})`, the momentum's step.
    momentum_step: f32,
    /// `1/√(1-β2^t)`.
    inv_sqrt_bias2: f32,
}

impl ElementUpdate<2> for NAdamRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [m, v]: &mut [V; 2]) {
        let c = &self.config;
        *p = *p * V::splat(self.decay_factor);
        let g = p.mul_add(V::splat(self.coupled_decay), g);
        *m = m.mul_add(V::splat(c.beta1), g * V::splat(1.0 - c.beta1)).flush_subnormal();
        *v = v.mul_add(V::splat(c.beta2), g * g * V::splat(1.0 - c.beta2)).flush_subnormal();
        let denominator = v.sqrt().mul_add(V::splat(self.inv_sqrt_bias2), V::splat(c.eps));
        *p = (g / denominator).mul_add(V::splat(-self.gradient_step), *p);
        *p = (*m / denominator).mul_add(V::splat(-self.momentum_step), *p);
    }
}

impl Member for NAdam {
    const FILE_CODE: u8 = 4;
    const NAMES: &'static [&'static str] = &["nadam"];
    lr_and_buffers!();
    fn validate(&self) -> Result<()> {
        check_adam_family(self.beta1, self.beta2, self.eps, self.weight_decay)?;
        check(non_negative(self.momentum_decay), "momentum_decay", "must be finite and non-negative")
    }
    fn encode(&self) -> (u8, [f32; 6]) {
        (
            flag(self.decoupled_weight_decay, DECOUPLED),
            [self.lr, self.beta1, self.beta2, self.eps, self.weight_decay, self.momentum_decay],
        )
    }
    fn decode(flags: u8, v: &[f32; 6]) -> Self {
        NAdam {
            lr: v[0],
            beta1: v[1],
            beta2: v[2],
            eps: v[3],
            weight_decay: v[4],
            momentum_decay: v[5],
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
        let (mu, mu_next) = (self.mu(t), self.mu(t + 1));
        let product = self.mu_product(t);
        let (decay_factor, coupled_decay) = weight_decay_terms(lr, self.weight_decay, self.decoupled_weight_decay);
        let rule = NAdamRule {
            config: *self,
            decay_factor,
            coupled_decay,
            gradient_step: lr * (1.0 - mu) / (1.0 - product),
            momentum_step: lr * mu_next / (1.0 - product * mu_next),
            inv_sqrt_bias2: 1.0 / libm::sqrtf(bias_correction(self.beta2, t)),
        };
        run(&rule, params, grads, state, pieces)
    }
}
