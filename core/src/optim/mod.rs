//! Optimizers over flat parameter and gradient buffers, with PyTorch's update rules and
//! defaults, learning-rate schedules, and gradient clipping.
//!
//! An [`Optimizer`] is a plain value (its hyper-parameters). Its state lives in a flat buffer
//! the caller owns, [`Optimizer::state_len`] long, and the step counter in a `u64` the caller
//! owns too, so both can be `static` on a device and saved in a checkpoint.
//!
//! ```
//! use embergrad::optim::{Adam, Optimizer};
//! let adam = Optimizer::Adam(Adam { lr: 0.1, ..Adam::default() });
//! let mut params = [1.0f32, -2.0, 3.0];
//! let mut state = [0.0f32; 6];
//! assert_eq!(adam.state_len(params.len()), state.len());
//! let mut steps = 0u64;
//! adam.init_state(&mut state).unwrap();
//! let grads = [0.5, -0.5, 0.0];
//! adam.step(&mut steps, &mut params, &grads, &mut state).unwrap();
//! assert_eq!(steps, 1);
//! assert!((params[0] - 0.9).abs() < 1e-6 && (params[1] + 1.9).abs() < 1e-6);
//! ```

mod adagrad;
mod adam;
mod clip;
mod rmsprop;
mod schedule;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::Adam;
pub use clip::{clip_grad_norm, clip_grad_value, grad_norm};
pub use rmsprop::RmsProp;
pub use schedule::Schedule;
pub use sgd::Sgd;

use crate::error::{check_len, Error, Result};
use crate::kernels::{axpy, run_update, ElementUpdate};

/// One of the optimizers, with its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// SGD with optional momentum, dampening, Nesterov and weight decay.
    Sgd(Sgd),
    /// Adagrad.
    Adagrad(Adagrad),
    /// RMSprop.
    RmsProp(RmsProp),
    /// Adam, AdamW (decoupled weight decay) or AMSGrad.
    Adam(Adam),
}

impl Optimizer {
    /// The configured (base) learning rate.
    pub const fn lr(&self) -> f32 {
        match self {
            Optimizer::Sgd(c) => c.lr,
            Optimizer::Adagrad(c) => c.lr,
            Optimizer::RmsProp(c) => c.lr,
            Optimizer::Adam(c) => c.lr,
        }
    }

    /// A short name (`"sgd"`, `"adagrad"`, `"rmsprop"`, `"adam"`, `"adamw"`).
    pub const fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd(_) => "sgd",
            Optimizer::Adagrad(_) => "adagrad",
            Optimizer::RmsProp(_) => "rmsprop",
            Optimizer::Adam(c) if c.decoupled_weight_decay => "adamw",
            Optimizer::Adam(_) => "adam",
        }
    }

    /// Number of state buffers, each as long as the params.
    const fn state_buffers(&self) -> usize {
        match self {
            Optimizer::Sgd(c) => c.state_buffers(),
            Optimizer::Adagrad(_) => 1,
            Optimizer::RmsProp(c) => c.state_buffers(),
            Optimizer::Adam(c) => c.state_buffers(),
        }
    }

    /// Length of the state buffer for `param_len` parameters (a `const fn`, so it can size a
    /// `static` array). The layout is documented on each optimizer's config.
    pub const fn state_len(&self, param_len: usize) -> usize {
        self.state_buffers() * param_len
    }

    /// Checks every hyper-parameter against the ranges PyTorch accepts.
    #[inline] // so a caller with a known variant (a config's `step`) links only its checks
    pub fn validate(&self) -> Result<()> {
        fn check(ok: bool, name: &'static str, reason: &'static str) -> Result<()> {
            if ok {
                Ok(())
            } else {
                Err(Error::InvalidHyperParameter { name, reason })
            }
        }
        let non_negative = |v: f32| v.is_finite() && v >= 0.0;
        let fraction = |v: f32| (0.0..1.0).contains(&v);
        check(non_negative(self.lr()), "lr", "must be finite and non-negative")?;
        match self {
            Optimizer::Sgd(c) => {
                check(non_negative(c.momentum), "momentum", "must be finite and non-negative")?;
                check(c.dampening.is_finite(), "dampening", "must be finite")?;
                check(non_negative(c.weight_decay), "weight_decay", "must be finite and non-negative")?;
                check(
                    !c.nesterov || (c.momentum > 0.0 && c.dampening == 0.0),
                    "nesterov",
                    "needs momentum > 0 and dampening = 0",
                )
            }
            Optimizer::Adagrad(c) => {
                check(non_negative(c.lr_decay), "lr_decay", "must be finite and non-negative")?;
                check(non_negative(c.weight_decay), "weight_decay", "must be finite and non-negative")?;
                check(non_negative(c.initial_accumulator_value), "initial_accumulator_value", "must be non-negative")?;
                check(non_negative(c.eps), "eps", "must be finite and non-negative")
            }
            Optimizer::RmsProp(c) => {
                check(non_negative(c.alpha) && c.alpha <= 1.0, "alpha", "must be in [0, 1]")?;
                check(non_negative(c.eps), "eps", "must be finite and non-negative")?;
                check(non_negative(c.momentum), "momentum", "must be finite and non-negative")?;
                check(non_negative(c.weight_decay), "weight_decay", "must be finite and non-negative")
            }
            Optimizer::Adam(c) => {
                check(fraction(c.beta1), "beta1", "must be in [0, 1)")?;
                check(fraction(c.beta2), "beta2", "must be in [0, 1)")?;
                check(non_negative(c.eps), "eps", "must be finite and non-negative")?;
                check(non_negative(c.weight_decay), "weight_decay", "must be finite and non-negative")
            }
        }
    }

    /// Puts the state buffer in its starting condition (zeros; Adagrad's initial accumulator).
    pub fn init_state(&self, state: &mut [f32]) -> Result<()> {
        if !state.len().is_multiple_of(self.state_buffers().max(1)) {
            return Err(Error::InvalidHyperParameter {
                name: "state",
                reason: "length is not a multiple of the optimizer's buffer count",
            });
        }
        let value = match self {
            Optimizer::Adagrad(c) => c.initial_accumulator_value,
            _ => 0.0,
        };
        state.fill(value);
        Ok(())
    }

    // `step` and `step_with_lr` repeat the `Step` trait's methods as inherent ones so that the
    // common case, `Optimizer::step`, works without importing the trait; they only delegate.

    /// One step with the configured learning rate; see [`Optimizer::step_with_lr`].
    pub fn step(&self, steps: &mut u64, params: &mut [f32], grads: &[f32], state: &mut [f32]) -> Result<()> {
        Step::step(self, steps, params, grads, state)
    }

    /// One step with learning rate `lr` (e.g. from a [`Schedule`]): advances `steps` by one and
    /// updates `params` from `grads` and `state`. On an error nothing is modified.
    pub fn step_with_lr(
        &self,
        lr: f32,
        steps: &mut u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
    ) -> Result<()> {
        Step::step_with_lr(self, lr, steps, params, grads, state)
    }

    /// The same optimizer with another learning rate.
    pub const fn with_lr(mut self, lr: f32) -> Self {
        match &mut self {
            Optimizer::Sgd(c) => c.lr = lr,
            Optimizer::Adagrad(c) => c.lr = lr,
            Optimizer::RmsProp(c) => c.lr = lr,
            Optimizer::Adam(c) => c.lr = lr,
        }
        self
    }
}

/// Taking optimizer steps. Implemented by [`Optimizer`] and by each optimizer's config
/// ([`Sgd`], [`Adagrad`], [`RmsProp`], [`Adam`]): calling it on a config directly links only
/// that optimizer's code into a firmware image, where the enum would link all of them.
///
/// ```
/// use embergrad::optim::{Sgd, Step};
/// let sgd = Sgd { lr: 0.1, momentum: 0.9, ..Sgd::default() };
/// let (mut params, mut buffer, mut steps) = ([1.0f32], [0.0f32], 0);
/// sgd.step(&mut steps, &mut params, &[1.0], &mut buffer).unwrap();
/// assert_eq!(params, [0.9]);
/// ```
pub trait Step {
    /// The optimizer as the enum (for its checks and sizes).
    fn optimizer(&self) -> Optimizer;

    /// The update itself; lengths and hyper-parameters are checked, `t` is the 1-based step.
    #[doc(hidden)]
    fn apply(&self, lr: f32, t: u64, params: &mut [f32], grads: &[f32], state: &mut [f32]);

    /// One step with the configured learning rate.
    fn step(&self, steps: &mut u64, params: &mut [f32], grads: &[f32], state: &mut [f32]) -> Result<()> {
        self.step_with_lr(self.optimizer().lr(), steps, params, grads, state)
    }

    /// One step with learning rate `lr`: checks lengths and hyper-parameters, advances `steps`
    /// by one, and updates `params` and `state`. On an error nothing is modified.
    fn step_with_lr(
        &self,
        lr: f32,
        steps: &mut u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
    ) -> Result<()> {
        let optimizer = self.optimizer();
        let n = params.len();
        check_len("grads", n, grads.len())?;
        check_len("optimizer state", optimizer.state_len(n), state.len())?;
        optimizer.with_lr(lr).validate()?;
        *steps = steps.saturating_add(1);
        if n > 0 {
            self.apply(lr, *steps, params, grads, state);
        }
        Ok(())
    }
}

impl Step for Optimizer {
    fn optimizer(&self) -> Optimizer {
        *self
    }

    fn apply(&self, lr: f32, t: u64, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
        match self {
            Optimizer::Sgd(c) => c.apply(lr, t, params, grads, state),
            Optimizer::Adagrad(c) => c.apply(lr, t, params, grads, state),
            Optimizer::RmsProp(c) => c.apply(lr, t, params, grads, state),
            Optimizer::Adam(c) => c.apply(lr, t, params, grads, state),
        }
    }
}

impl Step for Sgd {
    fn optimizer(&self) -> Optimizer {
        Optimizer::Sgd(*self)
    }

    fn apply(&self, lr: f32, t: u64, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
        if self.momentum != 0.0 {
            run(&sgd::MomentumRule { config: *self, lr, first_step: t == 1 }, params, grads, state);
        } else if self.weight_decay != 0.0 {
            run(&sgd::PlainRule { lr, weight_decay: self.weight_decay }, params, grads, state);
        } else {
            axpy(params, -lr, grads);
        }
    }
}

impl Step for Adagrad {
    fn optimizer(&self) -> Optimizer {
        Optimizer::Adagrad(*self)
    }

    fn apply(&self, lr: f32, t: u64, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
        let clr = (f64::from(lr) / (1.0 + (t - 1) as f64 * f64::from(self.lr_decay))) as f32;
        run(&adagrad::AdagradRule { clr, weight_decay: self.weight_decay, eps: self.eps }, params, grads, state)
    }
}

impl Step for RmsProp {
    fn optimizer(&self) -> Optimizer {
        Optimizer::RmsProp(*self)
    }

    fn apply(&self, lr: f32, _t: u64, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
        let rule = rmsprop::RmsRule { config: *self, lr };
        match self.state_buffers() {
            1 => run::<_, 1>(&rule, params, grads, state),
            2 => run::<_, 2>(&rule, params, grads, state),
            _ => run::<_, 3>(&rule, params, grads, state),
        }
    }
}

impl Step for Adam {
    fn optimizer(&self) -> Optimizer {
        Optimizer::Adam(*self)
    }

    fn apply(&self, lr: f32, t: u64, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
        let bias1 = bias_correction(self.beta1, t);
        let bias2 = bias_correction(self.beta2, t);
        let (decay_factor, coupled_decay) =
            if self.decoupled_weight_decay { (1.0 - lr * self.weight_decay, 0.0) } else { (1.0, self.weight_decay) };
        let rule = adam::AdamRule {
            config: *self,
            decay_factor,
            coupled_decay,
            step_size: lr / bias1,
            inv_sqrt_bias2: 1.0 / libm::sqrtf(bias2),
        };
        if self.amsgrad {
            run::<_, 3>(&rule, params, grads, state)
        } else {
            run::<_, 2>(&rule, params, grads, state)
        }
    }
}

/// Adam's bias correction `1 - β^t`, computed as `-expm1(t · ln1p(β - 1))`: accurate to a
/// few ulps in f32 even when `β^t` is close to 1 (where `1 - powf(β, t)` would cancel), and
/// without double-precision arithmetic, which a Cortex-M4F does in software.
fn bias_correction(beta: f32, t: u64) -> f32 {
    // β - 1 is exact for β in [0.5, 1] (Sterbenz); t beyond 2^24 no longer matters (→ 1).
    -libm::expm1f(t as f32 * libm::log1pf(beta - 1.0))
}

/// Splits the (checked) state into `S` buffers of `params.len()` and runs the rule.
fn run<U: ElementUpdate<S>, const S: usize>(rule: &U, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
    let n = params.len();
    let mut buffers = state.chunks_exact_mut(n);
    let states: [&mut [f32]; S] = core::array::from_fn(|_| buffers.next().unwrap_or_default());
    run_update(rule, params, grads, states);
}

/// One plain SGD step, `params -= lr · grads`, over the flat buffers.
///
/// ```
/// let mut params = [1.0f32, 2.0];
/// embergrad::sgd_step(&mut params, &[0.5, -1.0], 0.1).unwrap();
/// assert_eq!(params, [0.95, 2.1]);
/// ```
pub fn sgd_step(params: &mut [f32], grads: &[f32], lr: f32) -> Result<()> {
    Sgd::new(lr).step(&mut 0, params, grads, &mut [])
}
