//! RAdam (`torch.optim.RAdam`): Adam with the variance of its adaptive rate rectified.

use crate::error::Result;
use crate::executor::Executor;
use crate::kernels::{ElementUpdate, Lanes};
use crate::optim::{bias_correction, check_adam_family, flag, lr_and_buffers, run, weight_decay_terms, Member};

/// Model-file flag: decoupled weight decay.
const DECOUPLED: u8 = 8;

/// RAdam hyper-parameters. `Default` gives PyTorch's defaults.
///
/// At step `t` (1-based), with weight decay as in Adam (or decoupled, as in AdamW):
/// `m = β1·m + (1-β1)·g`, `v = β2·v + (1-β2)·g²`, `m̂ = m / (1-β1^t)`;
/// `ρ∞ = 2/(1-β2) - 1`, `ρ_t = ρ∞ - 2t·β2^t/(1-β2^t)`. While `ρ_t ≤ 5` the step is plain
/// momentum, `p -= lr·m̂`; after, `p -= lr·r_t·m̂·√(1-β2^t)/(√v + eps)` with the rectifier
/// `r_t = √((ρ_t-4)(ρ_t-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρ_t))`.
///
/// State buffers, in order: `m`, `v`. `ρ_t` is a small difference of two large numbers early
/// on, and `r_t` is sensitive to it near 5, so those two are computed in f64 (plain
/// arithmetic, from the f32 bias corrections, which are accurate to a few ulps).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RAdam {
    /// Learning rate (default 1e-3).
    pub lr: f32,
    /// Decay of the first-moment average (default 0.9).
    pub beta1: f32,
    /// Decay of the second-moment average (default 0.999).
    pub beta2: f32,
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f32,
    /// Weight decay (default 0).
    pub weight_decay: f32,
    /// Decoupled weight decay, as in AdamW (default false).
    pub decoupled_weight_decay: bool,
}

impl Default for RAdam {
    fn default() -> Self {
        RAdam::new(1e-3)
    }
}

impl RAdam {
    /// PyTorch's defaults with learning rate `lr` (a `const fn`, for `const` configs in firmware).
    pub const fn new(lr: f32) -> Self {
        RAdam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decoupled_weight_decay: false }
    }

    /// `m` and `v`.
    pub(crate) const fn buffer_count(&self) -> usize {
        2
    }
}

/// One RAdam step's per-parameter arithmetic, with the step's scalars precomputed.
struct RAdamRule {
    config: RAdam,
    decay_factor: f32,
    coupled_decay: f32,
    /// `lr/(1-β1^t)`, times `r_t` once rectified.
    step_size: f32,
    /// `√(1-β2^t)` once rectified; `None` while the step is plain momentum.
    sqrt_bias2: Option<f32>,
}

impl ElementUpdate<2> for RAdamRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [m, v]: &mut [V; 2]) {
        let c = &self.config;
        *p = *p * V::splat(self.decay_factor);
        let g = p.mul_add(V::splat(self.coupled_decay), g);
        *m = m.mul_add(V::splat(c.beta1), g * V::splat(1.0 - c.beta1)).flush_subnormal();
        *v = v.mul_add(V::splat(c.beta2), g * g * V::splat(1.0 - c.beta2)).flush_subnormal();
        let direction = match self.sqrt_bias2 {
            Some(sqrt_bias2) => *m * V::splat(sqrt_bias2) / (v.sqrt() + V::splat(c.eps)),
            None => *m,
        };
        *p = direction.mul_add(V::splat(-self.step_size), *p);
    }
}

impl Member for RAdam {
    const FILE_CODE: u8 = 5;
    const NAMES: &'static [&'static str] = &["radam"];
    lr_and_buffers!();
    fn validate(&self) -> Result<()> {
        check_adam_family(self.beta1, self.beta2, self.eps, self.weight_decay)
    }
    fn encode(&self) -> (u8, [f32; 6]) {
        (
            flag(self.decoupled_weight_decay, DECOUPLED),
            [self.lr, self.beta1, self.beta2, self.eps, self.weight_decay, 0.0],
        )
    }
    fn decode(flags: u8, v: &[f32; 6]) -> Self {
        RAdam {
            lr: v[0],
            beta1: v[1],
            beta2: v[2],
            eps: v[3],
            weight_decay: v[4],
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
        let bias2_f64 = f64::from(bias2);
        let rho_inf = 2.0 / (1.0 - f64::from(self.beta2)) - 1.0;
        let rho = rho_inf - 2.0 * t as f64 * (1.0 - bias2_f64) / bias2_f64;
        let step_size = lr / bias1;
        let (step_size, sqrt_bias2) = if rho > 5.0 {
            let rect_squared = (rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho);
            (step_size * libm::sqrtf(rect_squared as f32), Some(libm::sqrtf(bias2)))
        } else {
            (step_size, None)
        };
        let (decay_factor, coupled_decay) = weight_decay_terms(lr, self.weight_decay, self.decoupled_weight_decay);
        let rule = RAdamRule { config: *self, decay_factor, coupled_decay, step_size, sqrt_bias2 };
        run(&rule, params, grads, state, pieces)
    }
}
