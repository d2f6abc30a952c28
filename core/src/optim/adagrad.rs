//! Adagrad (`torch.optim.Adagrad`).

use crate::error::{check_hyper_parameter as check, non_negative, Result};
use crate::executor::Executor;
use crate::kernels::{ElementUpdate, Lanes};
use crate::optim::{lr_and_buffers, run, Member};

/// Adagrad hyper-parameters. `Default` gives PyTorch's defaults.
///
/// At step `t` (1-based), with `g = grad + weight_decay·p`:
/// `clr = lr / (1 + (t - 1)·lr_decay)`, `sum += g²`, `p -= clr·g / (√sum + eps)`.
///
/// State: one buffer (`sum`), which [`crate::optim::Step::init_state`] fills with
/// `initial_accumulator_value`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adagrad {
    /// Learning rate (default 1e-2).
    pub lr: f32,
    /// Learning-rate decay per step (default 0).
    pub lr_decay: f32,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f32,
    /// Starting value of the squared-gradient sums (default 0).
    pub initial_accumulator_value: f32,
    /// Added to the denominator for numerical stability (default 1e-10).
    pub eps: f32,
}

impl Adagrad {
    /// PyTorch's defaults with learning rate `lr` (a `const fn`, for `const` configs in firmware).
    pub const fn new(lr: f32) -> Self {
        Adagrad { lr, lr_decay: 0.0, weight_decay: 0.0, initial_accumulator_value: 0.0, eps: 1e-10 }
    }

    /// One buffer, the squared-gradient sums.
    pub(crate) const fn buffer_count(&self) -> usize {
        1
    }
}

impl Default for Adagrad {
    fn default() -> Self {
        Adagrad::new(1e-2)
    }
}

pub(crate) struct AdagradRule {
    pub clr: f32,
    pub weight_decay: f32,
    pub eps: f32,
}

impl ElementUpdate<1> for AdagradRule {
    #[inline(always)]
    fn apply<V: Lanes>(&self, p: &mut V, g: V, [sum]: &mut [V; 1]) {
        let g = p.mul_add(V::splat(self.weight_decay), g);
        *sum = g.mul_add(g, *sum);
        let std = sum.sqrt() + V::splat(self.eps);
        *p = (g / std).mul_add(V::splat(-self.clr), *p);
    }
}

impl Member for Adagrad {
    const FILE_CODE: u8 = 1;
    const NAMES: &'static [&'static str] = &["adagrad"];
    lr_and_buffers!();
    fn initial_state(&self, _buffer: usize) -> f32 {
        self.initial_accumulator_value
    }
    fn validate(&self) -> Result<()> {
        check(non_negative(self.lr_decay), "lr_decay", "must be finite and non-negative")?;
        check(non_negative(self.weight_decay), "weight_decay", "must be finite and non-negative")?;
        check(non_negative(self.initial_accumulator_value), "initial_accumulator_value", "must be non-negative")?;
        check(non_negative(self.eps), "eps", "must be finite and non-negative")
    }
    fn encode(&self) -> (u8, [f32; 6]) {
        (0, [self.lr, self.lr_decay, self.weight_decay, self.initial_accumulator_value, self.eps, 0.0])
    }
    fn decode(_flags: u8, v: &[f32; 6]) -> Self {
        Adagrad { lr: v[0], lr_decay: v[1], weight_decay: v[2], initial_accumulator_value: v[3], eps: v[4] }
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
        let clr = (f64::from(lr) / (1.0 + (t - 1) as f64 * f64::from(self.lr_decay))) as f32;
        run(&AdagradRule { clr, weight_decay: self.weight_decay, eps: self.eps }, params, grads, state, pieces)
    }
}
