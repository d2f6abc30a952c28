//! SIMD building blocks on plain slices: vector operations, activations, and the three
//! matrix products of a dense layer with the blocked GEMM behind them.
//!
//! The kernels are written with `wide`'s vector types through [`simd`](self) (16 lanes with
//! AVX-512, 8 with other SIMD units, 4 scalar lanes without). The scalar autodiff graph
//! (`graph`) and the custom-activation path use `wide::f32x8` as well, as a lane type for
//! evaluating eight samples at once; everything performance-tuned is here.
//!
//! Kernels take slices whose lengths the caller (the `nn` and `optim` modules) has already
//! checked; they only `debug_assert!` them. They never allocate.
//!
//! Which path a product takes (blocked GEMM, strips or direct loops, and inside the GEMM how
//! each operand is read) is decided by the rules and sizes in one table, `tuning.rs`;
//! `docs/TUNING.md` gives the measurements behind them. With the `bench-internals` feature,
//! `internals` exposes that table, the direct loops and the scalar references to
//! benchmarks and tests; with `kernel-paths` it also counts the paths taken.

mod elementwise;
mod gemm;
mod lanes;
mod paths;
mod products;
#[cfg(any(test, feature = "bench-internals"))]
mod reference;
mod simd;
mod strips;
mod transpose;
mod tuning;
mod vector;

pub use elementwise::{
    exp_slice, leaky_relu_backward, leaky_relu_slice, log_sum_exp, max, relu_backward, relu_slice, sigmoid_backward,
    sigmoid_slice, softmax_in_place, tanh_backward, tanh_slice,
};
#[cfg(feature = "alloc")]
pub(crate) use gemm::{floats_to_line, LINE_FLOATS};
pub use gemm::{gemm, gemm_scratch_len, MatRef};
pub use lanes::{run_update, ElementUpdate, Lanes};
pub use products::{forward_scratch_len, matmul_a_b, matmul_a_bt_bias, matmul_at_b, product_scratch_len};
pub use vector::{axpy, dot, scale, sum};

/// Kernel internals for benchmarks and tests, not API: the tuning table, the paths a product
/// can take, the direct loops the dispatchers choose between, and the scalar references.
/// Present only with the `bench-internals` feature; anything here may change at any time.
#[cfg(feature = "bench-internals")]
pub mod internals {
    pub use super::paths::KernelPath;
    #[cfg(feature = "kernel-paths")]
    pub use super::paths::{counts, reset};
    pub use super::products::{direct_a_b, direct_a_bt_bias, direct_at_b};
    pub use super::simd::{HAS_SIMD, LANES};
    pub use super::transpose::transpose_with_row_offsets;

    /// Plain scalar twins of the optimized kernels (see `kernels/reference.rs`).
    pub mod reference {
        pub use crate::kernels::reference::*;
    }

    /// The kernels' block sizes, thresholds and path rules (see `kernels/tuning.rs`).
    pub mod tuning {
        pub use crate::kernels::tuning::*;
    }
}
