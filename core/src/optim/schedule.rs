//! Learning-rate schedules: PyTorch's `lr_scheduler`s as closed forms of a step counter
//! ([`Schedule`]), and the one that depends on a metric's history ([`ReduceOnPlateau`]).
//!
//! The closed forms are computed in f64 from the step count alone (no state to save or to
//! drift), then rounded to f32.

use core::f64::consts::PI;

use crate::error::{check_hyper_parameter as check, non_negative, Result};

/// How [`Schedule::OneCycle`] anneals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Anneal {
    /// Half a cosine (PyTorch's default `"cos"`).
    Cosine,
    /// A straight line (`"linear"`).
    Linear,
}

/// A learning-rate schedule: [`Schedule::lr_at`] gives the learning rate after `t` calls of
/// the matching PyTorch scheduler's `step()` (usually one per epoch; any counter works).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// The base learning rate throughout.
    Constant,
    /// `lr · gamma^⌊t / step_size⌋` (`StepLR`).
    Step {
        /// Steps between decays (0 means never decay).
        step_size: u64,
        /// Decay factor.
        gamma: f32,
    },
    /// `lr · gamma^k`, `k` the number of milestones `≤ t` (`MultiStepLR`).
    MultiStep {
        /// The steps at which the rate decays (a repeated milestone decays twice).
        milestones: &'static [u64],
        /// Decay factor.
        gamma: f32,
    },
    /// `lr · gamma^t` (`ExponentialLR`).
    Exponential {
        /// Decay factor per step.
        gamma: f32,
    },
    /// `eta_min + (lr - eta_min)·(1 + cos(π·t / t_max)) / 2` (`CosineAnnealingLR`; past
    /// `t_max` the cosine goes on, as PyTorch's does).
    CosineAnnealing {
        /// Steps of one half cosine period (0 means constant).
        t_max: u64,
        /// The learning rate at `t = t_max`.
        eta_min: f32,
    },
    /// Cosine annealing restarted after `t_0` steps, each period `t_mult` times longer
    /// than the last (`CosineAnnealingWarmRestarts`).
    CosineWarmRestarts {
        /// Steps of the first period (0 means constant).
        t_0: u64,
        /// Growth of each period (at least 1).
        t_mult: u64,
        /// The learning rate at the end of each period.
        eta_min: f32,
    },
    /// `lr · (start + (end - start)·min(t, total_iters) / total_iters)` (`LinearLR`): a
    /// warm-up when `start < end`.
    Linear {
        /// Factor of the base learning rate at `t = 0`.
        start_factor: f32,
        /// Factor from `t = total_iters` on.
        end_factor: f32,
        /// Steps of the ramp (0 means `end_factor` throughout).
        total_iters: u64,
    },
    /// `lr · (1 - min(t, total_iters) / total_iters)^power` (`PolynomialLR`).
    Polynomial {
        /// Steps until the rate reaches 0.
        total_iters: u64,
        /// The polynomial's power.
        power: f32,
    },
    /// The 1cycle policy (`OneCycleLR`, two phases): from `max_lr / div_factor` up to
    /// `max_lr` over the first `pct_start` of `total_steps`, then down to
    /// `max_lr / (div_factor · final_div_factor)`. It sets the rate itself: the base
    /// learning rate is not used. Past `total_steps` (an error in PyTorch) it stays at the end.
    OneCycle {
        /// The peak learning rate.
        max_lr: f32,
        /// Steps of the whole cycle.
        total_steps: u64,
        /// Fraction of the cycle spent rising (PyTorch's default 0.3).
        pct_start: f32,
        /// How both phases anneal.
        anneal: Anneal,
        /// `max_lr` over the starting rate (default 25).
        div_factor: f32,
        /// The starting rate over the final one (default 1e4).
        final_div_factor: f32,
    },
    /// `first` until step `milestone`, then `then` counted from 0 (`SequentialLR` with two
    /// schedulers, e.g. a linear warm-up then cosine annealing).
    Sequential {
        /// The schedule before the milestone.
        first: &'static Schedule,
        /// The step at which `then` takes over.
        milestone: u64,
        /// The schedule from the milestone on.
        then: &'static Schedule,
    },
}

impl Schedule {
    /// The learning rate at step `t` for base learning rate `base_lr`.
    ///
    /// ```
    /// use embergrad::optim::Schedule;
    /// let s = Schedule::Step { step_size: 10, gamma: 0.5 };
    /// assert_eq!(s.lr_at(0.1, 9), 0.1);
    /// assert_eq!(s.lr_at(0.1, 25), 0.025);
    /// const WARM_THEN_COSINE: Schedule = Schedule::Sequential {
    ///     first: &Schedule::Linear { start_factor: 0.1, end_factor: 1.0, total_iters: 5 },
    ///     milestone: 5,
    ///     then: &Schedule::CosineAnnealing { t_max: 20, eta_min: 0.0 },
    /// };
    /// assert!((WARM_THEN_COSINE.lr_at(0.1, 0) - 0.01).abs() < 1e-9);
    /// assert_eq!(WARM_THEN_COSINE.lr_at(0.1, 5), 0.1);
    /// ```
    pub fn lr_at(&self, base_lr: f32, t: u64) -> f32 {
        self.lr_at_f64(f64::from(base_lr), t) as f32
    }

    fn lr_at_f64(&self, base: f64, t: u64) -> f64 {
        match *self {
            Schedule::Constant => base,
            Schedule::Step { step_size, gamma } => {
                let decays = t.checked_div(step_size).unwrap_or(0);
                base * libm::pow(f64::from(gamma), decays as f64)
            }
            Schedule::MultiStep { milestones, gamma } => {
                let decays = milestones.iter().filter(|&&m| m <= t).count();
                base * libm::pow(f64::from(gamma), decays as f64)
            }
            Schedule::Exponential { gamma } => base * libm::pow(f64::from(gamma), t as f64),
            Schedule::CosineAnnealing { t_max, eta_min } => cosine(base, f64::from(eta_min), t, t_max),
            Schedule::CosineWarmRestarts { t_0, t_mult, eta_min } => {
                // Walk the periods: each is `t_mult` times the last, so this takes log(t) steps.
                let (mut t_cur, mut period) = (t, t_0);
                while period > 0 && t_cur >= period {
                    t_cur -= period;
                    period = period.saturating_mul(t_mult.max(1));
                }
                cosine(base, f64::from(eta_min), t_cur, period)
            }
            Schedule::Linear { start_factor, end_factor, total_iters } => {
                let (start, end) = (f64::from(start_factor), f64::from(end_factor));
                let progress = if total_iters == 0 { 1.0 } else { t.min(total_iters) as f64 / total_iters as f64 };
                base * (start + (end - start) * progress)
            }
            Schedule::Polynomial { total_iters, power } => {
                let progress = if total_iters == 0 { 1.0 } else { t.min(total_iters) as f64 / total_iters as f64 };
                base * libm::pow(1.0 - progress, f64::from(power))
            }
            Schedule::OneCycle { max_lr, total_steps, pct_start, anneal, div_factor, final_div_factor } => {
                let max_lr = f64::from(max_lr);
                let initial = max_lr / f64::from(div_factor);
                let last = initial / f64::from(final_div_factor);
                // PyTorch's phase ends: the peak at step `pct_start·total - 1`, the end at `total - 1`.
                let peak = f64::from(pct_start) * total_steps as f64 - 1.0;
                let end = total_steps as f64 - 1.0;
                let step = (t as f64).min(end);
                let (from, to, progress) = if step <= peak {
                    (initial, max_lr, step / peak)
                } else {
                    (max_lr, last, (step - peak) / (end - peak))
                };
                match anneal {
                    Anneal::Cosine => to + (from - to) / 2.0 * (1.0 + libm::cos(PI * progress)),
                    Anneal::Linear => from + (to - from) * progress,
                }
            }
            Schedule::Sequential { first, milestone, then } => {
                if t < milestone {
                    first.lr_at_f64(base, t)
                } else {
                    then.lr_at_f64(base, t - milestone)
                }
            }
        }
    }
}

/// `eta_min + (base - eta_min)·(1 + cos(π·t / period)) / 2`, or `base` for a period of 0.
fn cosine(base: f64, eta_min: f64, t: u64, period: u64) -> f64 {
    if period == 0 {
        return base;
    }
    eta_min + (base - eta_min) * (1.0 + libm::cos(PI * t as f64 / period as f64)) / 2.0
}

/// Whether [`ReduceOnPlateau`] watches a metric that should fall (a loss) or rise (an
/// accuracy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlateauMode {
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

/// `ReduceLROnPlateau`: multiplies the learning rate by `factor` when the metric has not
/// improved for more than `patience` steps, then waits `cooldown` steps before counting
/// again. Unlike [`Schedule`] it has state (the best metric, the bad steps so far, the
/// current rate), all in this value: save it with the model to resume.
///
/// ```
/// use embergrad::optim::ReduceOnPlateau;
/// let mut plateau = ReduceOnPlateau::new(0.1);
/// plateau.patience = 1;
/// for loss in [1.0, 0.9, 0.95, 0.96] {
///     plateau.step(loss).unwrap();
/// }
/// assert!((plateau.lr() - 0.01).abs() < 1e-9); // two steps without improvement
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReduceOnPlateau {
    /// Whether lower or higher is better (default [`PlateauMode::Min`]).
    pub mode: PlateauMode,
    /// Factor of each reduction (default 0.1; in `(0, 1)`).
    pub factor: f32,
    /// Steps without improvement tolerated before a reduction (default 10).
    pub patience: u32,
    /// How much better counts as better (default 1e-4).
    pub threshold: f32,
    /// Whether `threshold` is relative to the best metric (default true, PyTorch's `"rel"`)
    /// or absolute (`"abs"`).
    pub relative_threshold: bool,
    /// Steps after a reduction before bad steps count again (default 0).
    pub cooldown: u32,
    /// The rate never goes below this (default 0).
    pub min_lr: f32,
    /// A reduction smaller than this is skipped (default 1e-8).
    pub eps: f32,
    lr: f64,
    /// The best metric so far; `None` before the first step.
    best: Option<f64>,
    bad_steps: u32,
    cooldown_left: u32,
}

impl ReduceOnPlateau {
    /// PyTorch's defaults, starting at learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        ReduceOnPlateau {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            relative_threshold: true,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            lr: f64::from(lr),
            best: None,
            bad_steps: 0,
            cooldown_left: 0,
        }
    }

    /// Starts over at learning rate `lr`: no best metric, no bad steps, no cooldown (the
    /// hyper-parameters stay).
    pub fn reset(&mut self, lr: f32) {
        *self = ReduceOnPlateau { lr: f64::from(lr), best: None, bad_steps: 0, cooldown_left: 0, ..*self };
    }

    /// The current learning rate.
    pub fn lr(&self) -> f32 {
        self.lr as f32
    }

    /// Checks the hyper-parameters.
    pub fn validate(&self) -> Result<()> {
        check(self.factor > 0.0 && self.factor < 1.0, "factor", "must be in (0, 1)")?;
        check(non_negative(self.threshold), "threshold", "must be finite and non-negative")?;
        check(non_negative(self.min_lr), "min_lr", "must be finite and non-negative")?;
        check(non_negative(self.eps), "eps", "must be finite and non-negative")
    }

    /// Records the metric after a step (usually an epoch's validation loss) and returns the
    /// learning rate for the next one. A NaN metric counts as no improvement.
    pub fn step(&mut self, metric: f32) -> Result<f32> {
        self.validate()?;
        let metric = f64::from(metric);
        if self.improves(metric) {
            self.best = Some(metric);
            self.bad_steps = 0;
        } else {
            self.bad_steps = self.bad_steps.saturating_add(1);
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_steps = 0;
        }
        if self.bad_steps > self.patience {
            let reduced = (self.lr * f64::from(self.factor)).max(f64::from(self.min_lr));
            if self.lr - reduced > f64::from(self.eps) {
                self.lr = reduced;
            }
            self.cooldown_left = self.cooldown;
            self.bad_steps = 0;
        }
        Ok(self.lr())
    }

    /// Whether `metric` is better than the best so far by the threshold.
    fn improves(&self, metric: f64) -> bool {
        let threshold = f64::from(self.threshold);
        // Before the first step the best is the worst possible value, as in PyTorch.
        let worst = if self.mode == PlateauMode::Min { f64::INFINITY } else { f64::NEG_INFINITY };
        let best = self.best.unwrap_or(worst);
        match (self.mode, self.relative_threshold) {
            (PlateauMode::Min, true) => metric < best * (1.0 - threshold),
            (PlateauMode::Min, false) => metric < best - threshold,
            (PlateauMode::Max, true) => metric > best * (1.0 + threshold),
            (PlateauMode::Max, false) => metric > best + threshold,
        }
    }
}
