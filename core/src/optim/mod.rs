//! Optimizers over flat parameter and gradient buffers.

mod sgd;

pub use sgd::sgd_step;
