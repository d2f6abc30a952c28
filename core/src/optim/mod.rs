//! Optimizers over flat parameter and gradient buffers, with PyTorch's update rules and
//! defaults, learning-rate schedules, and gradient clipping.
//!
//! An optimizer is a plain value (its hyper-parameters): a config such as [`Adam`], or the
//! [`Optimizer`] enum holding any of them. Its state lives in a flat buffer the caller owns,
//! [`Step::state_len`] long, and the step counter in a `u64` the caller owns too, so both can
//! be `static` on a device and saved in a checkpoint. Steps are taken through one trait,
//! [`Step`], on the enum or on a config (which links only that optimizer into firmware).
//!
//! ```
//! use embergrad::optim::{Adam, Optimizer, Step};
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
//!
//! Each optimizer is defined in its own file (its config, defaults, checks, model-file
//! encoding and update rule); the `optimizers!` list at the bottom of this module makes the
//! enum and every `match` over it, so adding one is a file and a line
//! (`docs/ARCHITECTURE.md`, "How to add").

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod clip;
mod nadam;
mod radam;
mod rmsprop;
mod rprop;
mod schedule;
mod sgd;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use clip::{clip_grad_norm, clip_grad_value, grad_norm};
pub use nadam::NAdam;
pub use radam::RAdam;
pub use rmsprop::RmsProp;
pub use rprop::Rprop;
pub use schedule::{Anneal, PlateauMode, ReduceOnPlateau, Schedule};
pub use sgd::Sgd;

use crate::error::{check_len, Error, Result};
use crate::executor::{Executor, InOrder};
use crate::kernels::{run_update, ElementUpdate};

/// One optimizer: everything about it, in its own file.
pub(crate) trait Member: Copy + Default {
    /// The code in model files: fixed for this optimizer forever, never reused.
    const FILE_CODE: u8;
    /// The names [`Optimizer::from_name`] accepts for it, the canonical one first.
    const NAMES: &'static [&'static str];
    /// The configuration a name stands for (PyTorch's defaults), if the name is this member's.
    fn from_name(name: &str) -> Option<Self> {
        (name == Self::NAMES[0]).then(Self::default)
    }
    /// The short name of this configuration (e.g. `"adamw"` for decoupled Adam).
    fn name(&self) -> &'static str {
        Self::NAMES[0]
    }
    /// The configured learning rate.
    fn lr(&self) -> f32;
    /// The same configuration with another learning rate.
    fn with_lr(self, lr: f32) -> Self;
    /// State buffers, each as long as the params.
    fn state_buffers(&self) -> usize;
    /// The value each state buffer starts at, in buffer order (zeros unless overridden).
    fn initial_state(&self, _buffer: usize) -> f32 {
        0.0
    }
    /// Checks every hyper-parameter but the learning rate against the ranges PyTorch accepts.
    fn validate(&self) -> Result<()>;
    /// Flags and six value slots for the model file (unused slots 0).
    fn encode(&self) -> (u8, [f32; 6]);
    /// The configuration [`Member::encode`] wrote, from the flags it knows (the model file
    /// rejects any other bit by encoding the result again and comparing).
    fn decode(flags: u8, values: &[f32; 6]) -> Self;
    /// The update at learning rate `lr` and 1-based step `t`; lengths and hyper-parameters
    /// are checked.
    fn apply(
        &self,
        lr: f32,
        t: u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
        pieces: &(impl Executor + Sync),
    );
}

/// The [`Member`] items every config writes alike: the learning rate (its `lr` field) and
/// the buffer count (its `const fn buffer_count`).
macro_rules! lr_and_buffers {
    () => {
        fn lr(&self) -> f32 {
            self.lr
        }
        fn with_lr(self, lr: f32) -> Self {
            Self { lr, ..self }
        }
        fn state_buffers(&self) -> usize {
            self.buffer_count()
        }
    };
}
use lr_and_buffers;

/// Taking optimizer steps: the one way, implemented by [`Optimizer`] and by each optimizer's
/// config ([`Sgd`], [`Adam`], ...). Calling it on a config directly links only that
/// optimizer's code into a firmware image, where the enum would link all of them.
///
/// ```
/// use embergrad::optim::{Sgd, Step};
/// let sgd = Sgd { lr: 0.1, momentum: 0.9, ..Sgd::default() };
/// let (mut params, mut buffer, mut steps) = ([1.0f32], [0.0f32], 0);
/// sgd.step(&mut steps, &mut params, &[1.0], &mut buffer).unwrap();
/// assert_eq!(params, [0.9]);
/// ```
pub trait Step {
    /// The configured learning rate.
    fn lr(&self) -> f32;

    /// Length of the state buffer for `param_len` parameters. (For a `const` size, e.g. a
    /// `static` buffer, use [`Optimizer::state_len`], a `const fn`.)
    fn state_len(&self, param_len: usize) -> usize;

    /// Checks every hyper-parameter, with `lr` as the learning rate.
    fn validate_with_lr(&self, lr: f32) -> Result<()>;

    /// Puts `state` in its starting condition (zeros, or the optimizer's initial values:
    /// Adagrad's accumulator, Rprop's step sizes). Its length must be a multiple of the
    /// optimizer's buffer count.
    fn init_state(&self, state: &mut [f32]) -> Result<()>;

    /// The update itself, in pieces run by `pieces` where it runs them in parallel; lengths
    /// and hyper-parameters are checked, `t` is the 1-based step.
    #[doc(hidden)]
    fn apply(
        &self,
        lr: f32,
        t: u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
        pieces: &(impl Executor + Sync),
    );

    /// One step with the configured learning rate; see [`Step::step_with_lr`].
    fn step(&self, steps: &mut u64, params: &mut [f32], grads: &[f32], state: &mut [f32]) -> Result<()> {
        self.step_with_lr(self.lr(), steps, params, grads, state)
    }

    /// One step with learning rate `lr` (e.g. from a [`Schedule`]): checks lengths and
    /// hyper-parameters, advances `steps` by one, and updates `params` and `state`. On an
    /// error nothing is modified.
    fn step_with_lr(
        &self,
        lr: f32,
        steps: &mut u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
    ) -> Result<()> {
        self.step_split(lr, steps, params, grads, state, &InOrder)
    }

    /// [`Step::step_with_lr`] with the update cut into pieces of parameters that `executor`
    /// runs at once (with [`InOrder`], in one piece). The update is element-wise and the
    /// pieces keep every value on the same vector lane, so the result is the same, bitwise.
    fn step_split(
        &self,
        lr: f32,
        steps: &mut u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
        executor: &(impl Executor + Sync),
    ) -> Result<()> {
        let n = params.len();
        check_len("grads", n, grads.len())?;
        check_len("optimizer state", self.state_len(n), state.len())?;
        self.validate_with_lr(lr)?;
        *steps = steps.saturating_add(1);
        if n > 0 {
            self.apply(lr, *steps, params, grads, state, executor);
        }
        Ok(())
    }
}

impl<M: Member> Step for M {
    fn lr(&self) -> f32 {
        Member::lr(self)
    }

    fn state_len(&self, param_len: usize) -> usize {
        self.state_buffers() * param_len
    }

    fn validate_with_lr(&self, lr: f32) -> Result<()> {
        check_lr(lr)?;
        self.validate()
    }

    fn init_state(&self, state: &mut [f32]) -> Result<()> {
        let buffers = self.state_buffers();
        if buffers == 0 {
            return check_len("optimizer state", 0, state.len());
        }
        if !state.len().is_multiple_of(buffers) {
            return Err(Error::StateLength { buffers, actual: state.len() });
        }
        let n = state.len() / buffers;
        for (k, buffer) in state.chunks_exact_mut(n.max(1)).enumerate() {
            buffer.fill(self.initial_state(k));
        }
        Ok(())
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
        Member::apply(self, lr, t, params, grads, state, pieces)
    }
}

/// Checks a learning rate: finite and not negative.
fn check_lr(lr: f32) -> Result<()> {
    crate::error::check_hyper_parameter(crate::error::non_negative(lr), "lr", "must be finite and non-negative")
}

/// Defines [`Optimizer`] and everything that enumerates its members from one list of
/// `Variant => config type` lines.
macro_rules! optimizers {
    ($($(#[$doc:meta])* $variant:ident => $config:ident,)*) => {
        /// One of the optimizers, with its hyper-parameters.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum Optimizer {
            $($(#[$doc])* $variant($config),)*
        }

        $(
            impl From<$config> for Optimizer {
                fn from(config: $config) -> Self {
                    Optimizer::$variant(config)
                }
            }
        )*

        impl Optimizer {
            /// The canonical names of every optimizer (see [`Optimizer::from_name`]).
            pub const NAMES: [&'static str; [$(stringify!($variant)),*].len()] = [$(<$config as Member>::NAMES[0]),*];

            /// The configured (base) learning rate.
            pub fn lr(&self) -> f32 {
                match self {
                    $(Optimizer::$variant(c) => Member::lr(c),)*
                }
            }

            /// A short name (`"sgd"`, `"adam"`, `"adamw"`, `"rprop"`, ...).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Optimizer::$variant(c) => c.name(),)*
                }
            }

            /// The optimizer a name stands for, with PyTorch's defaults: a canonical name
            /// from [`Optimizer::NAMES`], or an alias (`"adamw"`, `"momentum"` for SGD with
            /// momentum 0.9).
            pub fn from_name(name: &str) -> Option<Optimizer> {
                $(if let Some(config) = <$config as Member>::from_name(name) {
                    return Some(Optimizer::$variant(config));
                })*
                None
            }

            /// Number of state buffers, each as long as the params.
            pub const fn state_buffers(&self) -> usize {
                match self {
                    $(Optimizer::$variant(c) => c.buffer_count(),)*
                }
            }

            /// Length of the state buffer for `param_len` parameters (a `const fn`, so it can
            /// size a `static` array). The layout is documented on each optimizer's config.
            pub const fn state_len(&self, param_len: usize) -> usize {
                self.state_buffers() * param_len
            }

            /// Checks every hyper-parameter against the ranges PyTorch accepts.
            pub fn validate(&self) -> Result<()> {
                self.validate_with_lr(self.lr())
            }

            /// The same optimizer with another learning rate.
            pub fn with_lr(self, lr: f32) -> Self {
                match self {
                    $(Optimizer::$variant(c) => Optimizer::$variant(c.with_lr(lr)),)*
                }
            }

            /// The code, flags and six value slots the model file stores (see
            /// [`crate::io`] for each optimizer's layout).
            pub fn file_parts(&self) -> (u8, u8, [f32; 6]) {
                match self {
                    $(Optimizer::$variant(c) => {
                        let (flags, values) = c.encode();
                        (<$config as Member>::FILE_CODE, flags, values)
                    })*
                }
            }

            /// The optimizer a model file's code, flags and values describe, if the code is
            /// known (its hyper-parameters are not checked: see [`Optimizer::validate`]).
            pub fn from_file_parts(code: u8, flags: u8, values: &[f32; 6]) -> Option<Optimizer> {
                $(if code == <$config as Member>::FILE_CODE {
                    return Some(Optimizer::$variant(<$config as Member>::decode(flags, values)));
                })*
                None
            }
        }

        impl Step for Optimizer {
            fn lr(&self) -> f32 {
                Optimizer::lr(self)
            }

            fn state_len(&self, param_len: usize) -> usize {
                Optimizer::state_len(self, param_len)
            }

            fn validate_with_lr(&self, lr: f32) -> Result<()> {
                match self {
                    $(Optimizer::$variant(c) => c.validate_with_lr(lr),)*
                }
            }

            fn init_state(&self, state: &mut [f32]) -> Result<()> {
                match self {
                    $(Optimizer::$variant(c) => c.init_state(state),)*
                }
            }

            fn apply(&self, lr: f32, t: u64, params: &mut [f32], grads: &[f32], state: &mut [f32], pieces: &(impl Executor + Sync)) {
                match self {
                    $(Optimizer::$variant(c) => Member::apply(c, lr, t, params, grads, state, pieces),)*
                }
            }
        }

        const _: () = assert!(
            crate::io::codes_are_unique(&[$(<$config as Member>::FILE_CODE as u32),*]),
            "two optimizers share a model-file code"
        );
    };
}

optimizers! {
    /// SGD with optional momentum, dampening, Nesterov and weight decay.
    Sgd => Sgd,
    /// Adagrad.
    Adagrad => Adagrad,
    /// RMSprop.
    RmsProp => RmsProp,
    /// Adam, AdamW (decoupled weight decay) or AMSGrad.
    Adam => Adam,
    /// NAdam (Adam with Nesterov momentum), optionally with decoupled weight decay.
    NAdam => NAdam,
    /// RAdam (Adam with the variance of the adaptive rate rectified).
    RAdam => RAdam,
    /// Adamax (Adam with the infinity norm).
    Adamax => Adamax,
    /// Adadelta.
    Adadelta => Adadelta,
    /// Rprop (resilient backpropagation: per-weight step sizes from gradient signs), FANN's
    /// default trainer, for small full-batch problems.
    Rprop => Rprop,
}

/// Adam's bias correction `1 - β^t`, computed as `-expm1(t · ln1p(β - 1))`: accurate to a
/// few ulps in f32 even when `β^t` is close to 1 (where `1 - powf(β, t)` would cancel), and
/// without double-precision arithmetic, which a Cortex-M4F does in software.
pub(crate) fn bias_correction(beta: f32, t: u64) -> f32 {
    // β - 1 is exact for β in [0.5, 1] (Sterbenz); t beyond 2^24 no longer matters (→ 1).
    -libm::expm1f(t as f32 * libm::log1pf(beta - 1.0))
}

/// Splits the (checked) state into `S` buffers of `params.len()` and runs the rule on the
/// SIMD level in use, in pieces through `pieces` (see [`in_pieces`]).
pub(crate) fn run<U: ElementUpdate<S> + Sync, const S: usize>(
    rule: &U,
    params: &mut [f32],
    grads: &[f32],
    state: &mut [f32],
    pieces: &(impl Executor + Sync),
) {
    let n = params.len();
    let mut buffers = state.chunks_exact_mut(n);
    let states: [&mut [f32]; S] = core::array::from_fn(|_| buffers.next().unwrap_or_default());
    in_pieces(pieces, params, grads, states, &|params, grads, states| run_update(rule, params, grads, states));
}

/// An update is cut into pieces of at least this many parameters (a piece's share of the
/// work must outweigh handing it to another thread), a multiple of every level's vector
/// width (so each value stays on the lane it has in the whole, and the scalar tail is the
/// whole's tail: the same result, bitwise).
const UPDATE_PIECE: usize = 16 * 1024;

/// At most this many pieces per update: enough for a slow core to hand pieces to a fast one.
const MAX_UPDATE_PIECES: usize = 16;

/// An update over some parameters, their gradients and their `S` state buffers.
type Update<'u, const S: usize> = &'u (dyn Fn(&mut [f32], &[f32], [&mut [f32]; S]) + Sync);

/// The pieces of an update: parameters, their gradients and their `S` state buffers.
type UpdatePiece<'a, const S: usize> = (&'a mut [f32], &'a [f32], [&'a mut [f32]; S]);

/// Runs `update` over pieces of the parameters (with the matching pieces of `grads` and of
/// each state buffer) through `executor`, or once over everything when the executor runs
/// pieces in turn or the update is too small to share.
pub(crate) fn in_pieces<E: Executor + Sync, const S: usize>(
    executor: &E,
    params: &mut [f32],
    grads: &[f32],
    states: [&mut [f32]; S],
    update: Update<'_, S>,
) {
    let n = params.len();
    if !E::PARALLEL || n < 2 * UPDATE_PIECE {
        return update(params, grads, states);
    }
    let piece_len = n.div_ceil(MAX_UPDATE_PIECES).next_multiple_of(UPDATE_PIECE);
    let mut pieces: [Option<UpdatePiece<'_, S>>; MAX_UPDATE_PIECES] = Default::default();
    let (mut params, mut grads, mut states) = (params, grads, states);
    let mut count = 0;
    for piece in pieces.iter_mut() {
        let len = piece_len.min(params.len());
        if len == 0 {
            break;
        }
        count += 1;
        let (p, p_rest) = core::mem::take(&mut params).split_at_mut(len);
        let (g, g_rest) = grads.split_at(len);
        let s: [&mut [f32]; S] = core::array::from_fn(|k| {
            let (head, tail) = core::mem::take(&mut states[k]).split_at_mut(len);
            states[k] = tail;
            head
        });
        *piece = Some((p, g, s));
        (params, grads) = (p_rest, g_rest);
    }
    executor.for_each(&mut pieces[..count], &|_, piece| {
        if let Some((params, grads, states)) = piece {
            update(params, grads, core::array::from_fn(|k| core::mem::take(&mut states[k])));
        }
    });
}

/// Checks the hyper-parameters shared by the Adam family: betas in `[0, 1)`, `eps` and
/// `weight_decay` finite and non-negative.
pub(crate) fn check_adam_family(beta1: f32, beta2: f32, eps: f32, weight_decay: f32) -> Result<()> {
    use crate::error::{check_hyper_parameter as check, non_negative};
    let fraction = |v: f32| (0.0..1.0).contains(&v);
    check(fraction(beta1), "beta1", "must be in [0, 1)")?;
    check(fraction(beta2), "beta2", "must be in [0, 1)")?;
    check(non_negative(eps), "eps", "must be finite and non-negative")?;
    check(non_negative(weight_decay), "weight_decay", "must be finite and non-negative")
}

/// Weight decay the Adam family's way: `(factor applied to p first, decay added to g)`,
/// `(1 - lr·wd, 0)` when decoupled (AdamW style), `(1, wd)` otherwise.
pub(crate) fn weight_decay_terms(lr: f32, weight_decay: f32, decoupled: bool) -> (f32, f32) {
    if decoupled {
        (1.0 - lr * weight_decay, 0.0)
    } else {
        (1.0, weight_decay)
    }
}

/// Sets `bit` in flags when `on`.
pub(crate) const fn flag(on: bool, bit: u8) -> u8 {
    if on {
        bit
    } else {
        0
    }
}
