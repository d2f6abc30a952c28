//! # embergrad
//!
//! A `#![no_std]` core that trains dense neural networks by backpropagation, from a
//! microcontroller with no heap to a desktop.
//!
//! A network is a [`Spec`] (layer widths and activations, a `const` value where you want) plus
//! flat `f32` buffers that you own: params, grads and a workspace. Every buffer size is a
//! `const fn` of the spec, so firmware can keep them in `static` or stack arrays and never
//! allocate. With the `alloc` feature, [`Mlp`] owns its buffers for you.
//!
//! ```
//! use embergrad::optim::{Sgd, Step};
//! use embergrad::{init_params, Activation, Batch, Init, LayerSpec, Loss, Rng, Spec, Target};
//!
//! const LAYERS: [LayerSpec; 2] = [
//!     LayerSpec::new(2, 4, Activation::Tanh),
//!     LayerSpec::new(4, 1, Activation::Sigmoid),
//! ];
//! const XOR: Spec<'static> = Spec::new(&LAYERS);
//!
//! let mut params = [0.0f32; XOR.param_len()];
//! let mut grads = [0.0f32; XOR.param_len()];
//! let mut workspace = [0.0f32; XOR.workspace_len(4)];
//! init_params(&XOR, &mut params, Init::XavierUniform, &mut Rng::new(42)).unwrap();
//!
//! let input = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
//! let target = [0.0, 1.0, 1.0, 0.0];
//! let batch = Batch::new(&input, Target::Values(&target), 4);
//! let (sgd, mut steps) = (Sgd::new(2.0), 0);
//! let mut loss = f32::INFINITY;
//! for _ in 0..3000 {
//!     loss = XOR.loss_and_gradients(&params, &batch, Loss::Mse, &mut grads, &mut workspace).unwrap();
//!     sgd.step(&mut steps, &mut params, &grads, &mut []).unwrap();
//! }
//! assert!(loss < 0.01, "loss {loss}");
//! ```
//!
//! Modules, from the bottom up: [`kernels`] (SIMD building blocks on slices), [`nn`] (specs,
//! activations, losses, passes), [`optim`] (optimizers on flat slices), [`init`] (PRNG and
//! initialisation). Every fallible function returns [`Result`]; none panics on bad input.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "alloc")]
mod aligned;
mod error;
mod executor;
pub mod graph;
pub mod init;
pub mod io;
pub mod kernels;
pub mod nn;
pub mod optim;
#[cfg(feature = "alloc")]
mod owned;

#[cfg(feature = "alloc")]
pub use aligned::AlignedBuffer;
pub use error::{Error, Result};
pub use executor::{Executor, InOrder};
pub use init::{init_params, Init, Rng};
#[cfg(feature = "custom-activations")]
pub use nn::CustomActivation;
pub use nn::{
    accuracy, argmax, binary_accuracy, Activation, Batch, BatchLoss, DerivativeSource, LayerSpec, Loss, SampleStep,
    Spec, Target,
};
pub use optim::{Optimizer, Step};
#[cfg(feature = "alloc")]
pub use owned::{Mlp, OptimizerState};

/// The README's code examples, compiled as doc tests so they stay true. They use `Mlp` and
/// custom activations, so they run where both features are on (as in the workspace's tests).
#[cfg(all(doctest, feature = "alloc", feature = "custom-activations"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
