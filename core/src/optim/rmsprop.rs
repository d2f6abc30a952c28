//! RMSprop (`torch.optim.RMSprop`), plain, with momentum, centered, or both.

use crate::error::{check_hyper_parameter as check, non_negative, Result};
use crate::executor::Executor;
use crate::kernels::{ElementUpdate, Lanes};
use crate::optim::{flag, lr_and_buffers, run, Member};

/// Model-file flag: centered.
const CENTERED: u8 = 2;

/// RMSprop hyper-parameters. `Default` gives PyTorch's defaults.
///
/// With `g = grad + weight_decay·p`: `sq = alpha·sq + (1 - alpha)·g²`; centered:
/// `avg_g = alpha·avg_g + (1 - alpha)·g` and `d = √(sq - avg_g²) + eps`, else `d = √sq + eps`;
/// with momentum `buf = momentum·buf + g/d` and `p -= lr·buf`, else `p -= lr·g/d`.
///
/// State buffers, in order: `sq`; then `buf` if `momentum > 0`; then `avg_g` if `centered`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsProp {
    /// Learning rate (default 1e-2).
    pub lr: f32,
    /// Smoothing constant of the squared-gradient average (default 0.99).
    pub alpha: f32,
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f32,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
    /// Momentum factor (default 0).
    pub momentum: f32,
    /// Normalise by the estimated variance instead of the raw second moment (default false).
    pub centered: bool,
}

impl Default for RmsProp {
    fn default() -> Self {
        RmsProp::new(1e-2)
    }
}

impl RmsProp {
    /// PyTorch's defaults with learning rate `lr` (a `const fn`, for `const` configs in firmware).
    pub const fn new(lr: f32) -> Self {
        RmsProp { lr, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false }
    }

    /// `sq`, then `buf` with momentum, then `avg_g` when centered.
    pub(crate) const fn buffer_count(&self) -> usize {
        1 + (self.momentum > 0.0) as usize + self.centered as usize
    }
}

/// The shared body; `buf` and `avg_g` are present when momentum / centering are on.
#[inline(always)]
fn rms_apply<V: Lanes>(c: &RmsProp, lr: f32, p: &mut V, g: V, sq: &mut V, buf: Option<&mut V>, avg_g: Option<&mut V>) {
    let g = p.mul_add(V::splat(c.weight_decay), g);
    let keep = V::splat(c.alpha);
    let mix = V::splat(1.0 - c.alpha);
    *sq = sq.mul_add(keep, g * g * mix).flush_subnormal();
    let second_moment = match avg_g {
        Some(avg_g) => {
            *avg_g = avg_g.mul_add(keep, g * mix).flush_subnormal();
            *sq - *avg_g * *avg_g
        }
        None => *sq,
    };
    let step = g / (second_moment.sqrt() + V::splat(c.eps));
    let direction = match buf {
        Some(buf) => {
            *buf = buf.mul_add(V::splat(c.momentum), step).flush_subnormal();
            *buf
        }
        None => step,
    };
    *p = direction.mul_add(V::splat(-lr), *p);
}

/// RMSprop at one learning rate; implemented for each state count it can have.
pub(crate) struct RmsRule {
    pub config: RmsProp,
    pub lr: f32,
}

impl ElementUpdate<1> for RmsRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [sq]: &mut [V; 1]) {
        rms_apply(&self.config, self.lr, p, g, sq, None, None);
    }
}

impl ElementUpdate<2> for RmsRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [sq, second]: &mut [V; 2]) {
        // Two buffers: the second is the momentum buffer or the gradient average.
        if self.config.centered {
            rms_apply(&self.config, self.lr, p, g, sq, None, Some(second));
        } else {
            rms_apply(&self.config, self.lr, p, g, sq, Some(second), None);
        }
    }
}

impl ElementUpdate<3> for RmsRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [sq, buf, avg_g]: &mut [V; 3]) {
        rms_apply(&self.config, self.lr, p, g, sq, Some(buf), Some(avg_g));
    }
}

impl Member for RmsProp {
    const FILE_CODE: u8 = 2;
    const NAMES: &'static [&'static str] = &["rmsprop"];
    lr_and_buffers!();
    fn validate(&self) -> Result<()> {
        check(non_negative(self.alpha) && self.alpha <= 1.0, "alpha", "must be in [0, 1]")?;
        check(non_negative(self.eps), "eps", "must be finite and non-negative")?;
        check(non_negative(self.momentum), "momentum", "must be finite and non-negative")?;
        check(non_negative(self.weight_decay), "weight_decay", "must be finite and non-negative")
    }
    fn encode(&self) -> (u8, [f32; 6]) {
        (flag(self.centered, CENTERED), [self.lr, self.alpha, self.eps, self.weight_decay, self.momentum, 0.0])
    }
    fn decode(flags: u8, v: &[f32; 6]) -> Self {
        RmsProp {
            lr: v[0],
            alpha: v[1],
            eps: v[2],
            weight_decay: v[3],
            momentum: v[4],
            centered: flags & CENTERED != 0,
        }
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
        let rule = RmsRule { config: *self, lr };
        match self.buffer_count() {
            1 => run::<_, 1>(&rule, params, grads, state, pieces),
            2 => run::<_, 2>(&rule, params, grads, state, pieces),
            _ => run::<_, 3>(&rule, params, grads, state, pieces),
        }
    }
}
