//! # embergrad-std
//!
//! The desktop side of embergrad on top of the no_std core: datasets (CSV, IDX), the
//! trainer (deterministic data parallelism, validation, early stopping, checkpoints,
//! schedules), model files and their safetensors export, loss curves, and the `embergrad`
//! command-line tool.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod dataset;
pub mod metrics;
pub mod model;
pub mod pace;
pub mod parallel;
pub mod plot;
pub mod preprocess;
pub mod trainer;
pub mod workers;

pub use dataset::{CsvOptions, DataError, Dataset, Gathered, TargetKind, Targets};
pub use preprocess::{Preprocess, Scaling};
