//! Learning-rate schedules, as closed forms of a step counter (PyTorch's `lr_scheduler`s).

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
    /// `lr · gamma^t` (`ExponentialLR`).
    Exponential {
        /// Decay factor per step.
        gamma: f32,
    },
    /// `eta_min + (lr - eta_min)·(1 + cos(π·t / t_max)) / 2` (`CosineAnnealingLR`).
    CosineAnnealing {
        /// Steps of one half cosine period (0 means constant).
        t_max: u64,
        /// The learning rate at `t = t_max`.
        eta_min: f32,
    },
    /// `lr · (start_factor + (1 - start_factor)·min(t, warmup_steps) / warmup_steps)`
    /// (`LinearLR` with `end_factor = 1`): a linear warm-up to the base learning rate.
    LinearWarmup {
        /// Fraction of the base learning rate at `t = 0`.
        start_factor: f32,
        /// Steps until the base learning rate is reached (0 means no warm-up).
        warmup_steps: u64,
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
    /// ```
    pub fn lr_at(&self, base_lr: f32, t: u64) -> f32 {
        let base = f64::from(base_lr);
        let lr = match *self {
            Schedule::Constant => base,
            Schedule::Step { step_size, gamma } => {
                let decays = t.checked_div(step_size).unwrap_or(0);
                base * libm::pow(f64::from(gamma), decays as f64)
            }
            Schedule::Exponential { gamma } => base * libm::pow(f64::from(gamma), t as f64),
            Schedule::CosineAnnealing { t_max, eta_min } => {
                if t_max == 0 {
                    base
                } else {
                    let eta_min = f64::from(eta_min);
                    let phase = core::f64::consts::PI * t as f64 / t_max as f64;
                    eta_min + (base - eta_min) * (1.0 + libm::cos(phase)) / 2.0
                }
            }
            Schedule::LinearWarmup { start_factor, warmup_steps } => {
                if warmup_steps == 0 {
                    base
                } else {
                    let progress = t.min(warmup_steps) as f64 / warmup_steps as f64;
                    let start = f64::from(start_factor);
                    base * (start + (1.0 - start) * progress)
                }
            }
        };
        lr as f32
    }
}
