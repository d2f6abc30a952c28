//! # embergrad-std
//!
//! The desktop side of embergrad: datasets and a simple training loop on top of the no_std
//! core. (Data parallelism, the full trainer and the CLI grow here.)
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dataset;
pub mod model;
pub mod parallel;
pub mod plot;
pub mod train;
pub mod trainer;

pub use dataset::{DataError, Dataset};
