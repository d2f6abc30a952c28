//! The scalar graph: reverse-mode automatic differentiation on a tape of scalar operations,
//! generic over `f32`, `f64`, and `f32x8` (eight samples per pass).
//!
//! Uses: custom losses written once as a scalar expression ([`SampleLoss`], evaluated for a
//! batch eight samples at a time by [`tape_loss`]); a dense network built from tape nodes
//! ([`build_network`]), the independent oracle of the dense path; and gradient checking
//! ([`gradcheck_tape`], and with `alloc` [`gradcheck_network`]).

mod gradcheck;
mod loss;
mod network;
mod scalar;
mod tape;

pub use gradcheck::gradcheck_tape;
#[cfg(feature = "alloc")]
pub use gradcheck::{gradcheck_network, TensorError};
#[cfg(feature = "custom-activations")]
pub use loss::eval_activation;
pub use loss::{tape_loss, SampleLoss, SampleNodes};
pub use network::{build_network, NetworkNodes};
pub use scalar::Scalar;
#[cfg(feature = "alloc")]
pub use tape::VecTape;
pub use tape::{Node, NodeId, NodeStore, Op, SliceStore, Tape};
/// The eight-lane number type of batch evaluation ([`tape_loss`]), re-exported from `wide`.
pub use wide::f32x8;
