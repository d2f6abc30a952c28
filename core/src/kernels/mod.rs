//! SIMD building blocks on plain slices. Only this module knows about `wide`.
//!
//! Every kernel has a plain scalar twin in [`reference`], kept for tests: the optimized kernel
//! must agree with it (up to floating-point reassociation) for every shape.
//!
//! Kernels take slices whose lengths the caller (the `nn` and `optim` modules) has already
//! checked; they only `debug_assert!` them. They never allocate.

mod lanes;
mod products;
pub mod reference;
mod vector;

pub use lanes::{run_update, ElementUpdate, Lanes};
pub use products::{matmul_a_b, matmul_a_bt_bias, matmul_accumulate_at_b};
pub use vector::{axpy, dot, scale, sum};
