//! Adagrad (`torch.optim.Adagrad`).

use crate::kernels::{ElementUpdate, Lanes};

/// Adagrad hyper-parameters. `Default` gives PyTorch's defaults.
///
/// At step `t` (1-based), with `g = grad + weight_decay·p`:
/// `clr = lr / (1 + (t - 1)·lr_decay)`, `sum += g²`, `p -= clr·g / (√sum + eps)`.
///
/// State: one buffer (`sum`), which [`crate::optim::Optimizer::init_state`] fills with
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

impl Default for Adagrad {
    fn default() -> Self {
        Adagrad { lr: 1e-2, lr_decay: 0.0, weight_decay: 0.0, initial_accumulator_value: 0.0, eps: 1e-10 }
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
