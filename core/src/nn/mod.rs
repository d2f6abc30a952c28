//! Dense networks: the spec, activations, losses, forward and backward passes, metrics.
//!
//! This module speaks shapes; the arithmetic lives in [`crate::kernels`].

mod activation;
mod loss;
mod metrics;
mod network;
mod sample;
mod spec;
pub(crate) mod split;

#[cfg(feature = "custom-activations")]
pub use activation::CustomActivation;
pub use activation::{Activation, DerivativeSource, LEAKY_RELU_SLOPE};
pub use loss::{
    BatchLoss, BceWithLogits, Huber, LabelSmoothingCrossEntropy, Loss, Mse, SoftmaxCrossEntropy, Target, TargetKind, L1,
};
pub use metrics::{accuracy, argmax, binary_accuracy};
pub use network::Batch;
pub use sample::SampleStep;
pub use spec::{LayerSpec, Spec};
