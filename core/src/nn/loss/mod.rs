//! Loss functions with PyTorch's definitions and default (`mean`) reductions: one file per
//! member, one list that the [`Loss`] enum and everything enumerating it derive from.
//!
//! A member is a type implementing [`Member`] (its name, the kind of target it needs, its
//! hyper-parameter checks, and its mean value and gradient on the dense path) and
//! [`SampleLoss`] (its per-sample expression on a [`crate::graph::Tape`], which the scalar
//! graph checks the dense path with and [`crate::graph::tape_loss`] can evaluate). The
//! `losses!` list at the bottom of this file makes the enum, so adding a loss is one file and
//! one line.

mod bce_with_logits;
mod huber;
mod l1;
mod mse;
mod softmax_ce;

pub use bce_with_logits::BceWithLogits;
pub use huber::Huber;
pub use l1::L1;
pub use mse::Mse;
pub use softmax_ce::{LabelSmoothingCrossEntropy, SoftmaxCrossEntropy};

use crate::error::{check_len, Error, Result};
use crate::graph::{NodeId, NodeStore, SampleLoss, SampleNodes, Scalar, Tape};

/// What a loss compares the network's output with.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// One value per output element, `[batch, outputs]` row-major (MSE, L1, Huber, BCE).
    Values(&'a [f32]),
    /// One class index per sample, `[batch]` (the softmax cross-entropies).
    Classes(&'a [usize]),
}

/// The kind of [`Target`] a loss needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// [`Target::Values`].
    Values,
    /// [`Target::Classes`].
    Classes,
}

impl TargetKind {
    /// How error messages name it.
    const fn describe(self) -> &'static str {
        match self {
            TargetKind::Values => "value",
            TargetKind::Classes => "class-index",
        }
    }
}

/// One built-in loss: everything about it, in its own file.
pub(crate) trait Member: SampleLoss {
    /// The name used on the command line.
    const NAME: &'static str;
    /// The kind of target it needs.
    const TARGET: TargetKind;
    /// Checks the hyper-parameters.
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    /// The mean loss of `output` (`[batch, outputs]`) against `target` (checked: the right
    /// kind, the right length, labels in range), and dLoss/dOutput into `grad` when given.
    fn mean(&self, output: &[f32], outputs: usize, target: Target<'_>, grad: Option<&mut [f32]>) -> f32;
}

/// A loss that is a mean over output elements of `term(y, t)`.
pub(crate) trait ElementLoss {
    /// The loss term of one output `y` with target `t`, and its derivative in `y`.
    fn term(&self, y: f32, t: f32) -> (f32, f32);
}

/// The mean of `loss`'s terms over all elements, and its gradient (`d term / N`) into `grad`.
/// Returns NaN for class targets, which [`Loss::evaluate`] never passes here.
pub(crate) fn mean_of_terms<L: ElementLoss>(
    loss: &L,
    output: &[f32],
    target: Target<'_>,
    mut grad: Option<&mut [f32]>,
) -> f32 {
    let Target::Values(target) = target else {
        return f32::NAN;
    };
    let inv_n = 1.0 / output.len() as f32;
    let mut total = 0.0f32;
    for (i, (&y, &t)) in output.iter().zip(target).enumerate() {
        let (value, derivative) = loss.term(y, t);
        total += value;
        if let Some(g) = grad.as_deref_mut() {
            g[i] = derivative * inv_n;
        }
    }
    total * inv_n
}

/// Appends the mean over the sample's outputs of `term(tape, output, target)`.
pub(crate) fn build_mean_of_terms<T: Scalar, S: NodeStore<T>>(
    tape: &mut Tape<T, S>,
    sample: SampleNodes,
    mut term: impl FnMut(&mut Tape<T, S>, NodeId, NodeId) -> Result<NodeId>,
) -> Result<NodeId> {
    let mut total = tape.constant(T::zero())?;
    for i in 0..sample.width {
        let (y, t) = (sample.output(tape, i)?, sample.target(tape, i)?);
        let value = term(tape, y, t)?;
        total = tape.add(total, value)?;
    }
    let count = tape.constant(T::from_f64(sample.width as f64))?;
    tape.div(total, count)
}

/// Defines [`Loss`] and everything that enumerates its members from one list of
/// `Variant { fields } => member type` lines; a variant's fields are its member's, with the
/// default [`Loss::ALL`] holds.
macro_rules! losses {
    ($($(#[$doc:meta])* $variant:ident $({ $($(#[$field_doc:meta])* $field:ident: $field_type:ty = $default:expr),* })? => $member:ident,)*) => {
        /// A loss function over a batch of outputs. Each member is defined in its own file
        /// under `nn/loss/`.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum Loss {
            $($(#[$doc])* $variant $({ $($(#[$field_doc])* $field: $field_type),* })?,)*
        }

        impl Loss {
            /// Every loss, with its default hyper-parameters, in a fixed order.
            pub const ALL: [Loss; [$(stringify!($variant)),*].len()] = [$(Loss::$variant $({ $($field: $default),* })?),*];

            /// The name used on the command line.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Loss::$variant { .. } => <$member as Member>::NAME,)*
                }
            }

            /// The kind of target the loss needs.
            pub const fn target_kind(self) -> TargetKind {
                match self {
                    $(Loss::$variant { .. } => <$member as Member>::TARGET,)*
                }
            }

            /// Checks the loss's hyper-parameters (Huber's `delta`, the label smoothing).
            pub fn validate(self) -> Result<()> {
                match self {
                    $(Loss::$variant { $($($field),*)? } => $member { $($($field),*)? }.validate(),)*
                }
            }

            /// The mean loss and gradient, everything checked.
            fn mean(self, output: &[f32], outputs: usize, target: Target<'_>, grad: Option<&mut [f32]>) -> f32 {
                match self {
                    $(Loss::$variant { $($($field),*)? } => $member { $($($field),*)? }.mean(output, outputs, target, grad),)*
                }
            }

            /// Appends one sample's loss to a tape (see [`SampleLoss`]).
            pub(crate) fn build_sample<T: Scalar, S: NodeStore<T>>(
                self,
                tape: &mut Tape<T, S>,
                sample: SampleNodes,
            ) -> Result<NodeId> {
                match self {
                    $(Loss::$variant { $($($field),*)? } => $member { $($($field),*)? }.build(tape, sample),)*
                }
            }
        }
    };
}

losses! {
    /// Mean squared error, averaged over all `batch × outputs` elements
    /// (`torch.nn.functional.mse_loss`). Needs [`Target::Values`].
    Mse => Mse,
    /// Mean absolute error (`l1_loss`); derivative 0 where the output equals the target, as
    /// in PyTorch. Needs [`Target::Values`].
    L1 => L1,
    /// The Huber loss (`huber_loss`): `½d²` where `|d| ≤ delta`, else `delta·(|d| - ½delta)`,
    /// `d = output - target`, averaged over all elements. Needs [`Target::Values`].
    Huber {
        /// Where the quadratic part turns linear (PyTorch's default 1; must be positive).
        delta: f32 = 1.0
    } => Huber,
    /// Sigmoid plus binary cross-entropy on logits, averaged over all elements
    /// (`binary_cross_entropy_with_logits`). Needs [`Target::Values`] in `[0, 1]`.
    BceWithLogits => BceWithLogits,
    /// Softmax followed by negative log-likelihood of the target class, averaged over the batch
    /// (`cross_entropy` with class indices). The network's last layer must output raw logits
    /// ([`crate::Activation::Identity`]). Needs [`Target::Classes`].
    SoftmaxCrossEntropy => SoftmaxCrossEntropy,
    /// Softmax cross-entropy against a smoothed target, `(1 - ε)·onehot + ε/classes`
    /// (`cross_entropy(..., label_smoothing=ε)`). Needs [`Target::Classes`].
    LabelSmoothingCrossEntropy {
        /// ε, the probability mass spread over all classes (in `[0, 1]`).
        smoothing: f32 = 0.1
    } => LabelSmoothingCrossEntropy,
}

impl Loss {
    /// Parses a name as returned by [`Loss::name`]; the loss has its default
    /// hyper-parameters (see [`Loss::ALL`]).
    pub fn from_name(name: &str) -> Option<Loss> {
        Loss::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The names of every loss, in the order of [`Loss::ALL`].
    pub fn names() -> impl Iterator<Item = &'static str> {
        Loss::ALL.into_iter().map(Loss::name)
    }

    /// Computes the mean loss of `output` (`[batch, outputs]`) against `target`, and, when
    /// `grad` is given, writes dLoss/dOutput into it (same shape as `output`).
    ///
    /// Returns [`Error::NonFiniteLoss`] if the loss is NaN or infinite; `grad` holds
    /// unspecified values then. Shapes, target kind, labels and hyper-parameters are checked
    /// before anything is written.
    ///
    /// ```
    /// use embergrad::{Loss, Target};
    /// let logits = [2.0, 0.0, 0.0, 0.0, 2.0, 0.0];
    /// let mut grad = [0.0; 6];
    /// let loss = Loss::SoftmaxCrossEntropy
    ///     .evaluate(&logits, 2, 3, Target::Classes(&[0, 1]), Some(&mut grad))
    ///     .unwrap();
    /// assert!((loss - 0.2395).abs() < 1e-3);
    /// assert!(grad[0] < 0.0 && grad[1] > 0.0);
    /// ```
    pub fn evaluate(
        self,
        output: &[f32],
        batch: usize,
        outputs: usize,
        target: Target<'_>,
        grad: Option<&mut [f32]>,
    ) -> Result<f32> {
        let about = About { name: self.name(), kind: self.target_kind(), valid: self.validate() };
        evaluate_checked(about, output, Shape { batch, outputs }, target, grad, |grad| {
            self.mean(output, outputs, target, grad)
        })
    }
}

impl Loss {
    /// Checks `target` for a batch of `batch` samples with `outputs` each: its kind, its
    /// length, and every class label below `outputs`.
    pub(crate) fn check_target(self, batch: usize, outputs: usize, target: Target<'_>) -> Result<()> {
        check_target(self.name(), self.target_kind(), Shape { batch, outputs }, target)
    }
}

/// A loss that a training pass can evaluate ([`Spec::loss_and_gradients`]): [`Loss`], any
/// member chosen at run time, or one member's own type ([`Mse`], [`Huber`], ...), which links
/// only that loss's code into a firmware image.
///
/// [`Spec::loss_and_gradients`]: crate::Spec::loss_and_gradients
pub trait BatchLoss: Copy {
    /// [`Loss::evaluate`] for this loss.
    fn evaluate(
        self,
        output: &[f32],
        batch: usize,
        outputs: usize,
        target: Target<'_>,
        grad: Option<&mut [f32]>,
    ) -> Result<f32>;
}

impl BatchLoss for Loss {
    fn evaluate(
        self,
        output: &[f32],
        batch: usize,
        outputs: usize,
        target: Target<'_>,
        grad: Option<&mut [f32]>,
    ) -> Result<f32> {
        Loss::evaluate(self, output, batch, outputs, target, grad)
    }
}

impl<M: Member + Copy> BatchLoss for M {
    fn evaluate(
        self,
        output: &[f32],
        batch: usize,
        outputs: usize,
        target: Target<'_>,
        grad: Option<&mut [f32]>,
    ) -> Result<f32> {
        let about = About { name: M::NAME, kind: M::TARGET, valid: self.validate() };
        evaluate_checked(about, output, Shape { batch, outputs }, target, grad, |grad| {
            self.mean(output, outputs, target, grad)
        })
    }
}

/// What the checks need to know of a loss: its name, its target kind, whether its
/// hyper-parameters are valid.
struct About {
    name: &'static str,
    kind: TargetKind,
    valid: Result<()>,
}

/// A batch's shape: `batch` samples of `outputs` values.
#[derive(Clone, Copy)]
struct Shape {
    batch: usize,
    outputs: usize,
}

/// Every check of [`Loss::evaluate`], then `mean` (the loss's mean and gradient), then the
/// finiteness check.
fn evaluate_checked(
    about: About,
    output: &[f32],
    shape: Shape,
    target: Target<'_>,
    grad: Option<&mut [f32]>,
    mean: impl FnOnce(Option<&mut [f32]>) -> f32,
) -> Result<f32> {
    if shape.batch == 0 {
        return Err(Error::EmptyBatch);
    }
    about.valid?;
    let elements = shape
        .batch
        .checked_mul(shape.outputs)
        .ok_or(Error::InvalidArgument { name: "batch", reason: "batch × outputs overflows usize" })?;
    check_len("output", elements, output.len())?;
    if let Some(g) = grad.as_deref() {
        check_len("loss gradient", elements, g.len())?;
    }
    check_target(about.name, about.kind, shape, target)?;
    let loss = mean(grad);
    if loss.is_finite() {
        Ok(loss)
    } else {
        Err(Error::NonFiniteLoss)
    }
}

/// Checks `target` for a batch of `shape`: its kind, its length, and every class label below
/// the output count.
fn check_target(name: &'static str, kind: TargetKind, shape: Shape, target: Target<'_>) -> Result<()> {
    let Shape { batch, outputs } = shape;
    match (kind, target) {
        (TargetKind::Values, Target::Values(t)) => check_len("target", batch.saturating_mul(outputs), t.len()),
        (TargetKind::Classes, Target::Classes(labels)) => {
            check_len("target", batch, labels.len())?;
            match labels.iter().enumerate().find(|(_, &l)| l >= outputs) {
                Some((sample, &label)) => Err(Error::LabelOutOfRange { sample, label, classes: outputs }),
                None => Ok(()),
            }
        }
        (kind, _) => Err(Error::TargetKindMismatch { loss: name, needs: kind.describe() }),
    }
}
