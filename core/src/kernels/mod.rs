//! SIMD building blocks on plain slices. Only this module knows about `wide`.
//!
//! Every kernel has a plain scalar twin in [`mod@reference`], kept for tests: the optimized kernel
//! must agree with it (up to floating-point reassociation) for every shape.
//!
//! Kernels take slices whose lengths the caller (the `nn` and `optim` modules) has already
//! checked; they only `debug_assert!` them. They never allocate.

mod elementwise;
mod gemm;
mod lanes;
mod prefetch;
mod products;
pub mod reference;
mod simd;
mod strips;
mod transpose;
mod vector;

pub use elementwise::{
    exp_slice, leaky_relu_backward, leaky_relu_slice, log_sum_exp, max, relu_backward, relu_slice, sigmoid_backward,
    sigmoid_slice, softmax_in_place, tanh_backward, tanh_slice,
};
#[cfg(feature = "alloc")]
pub(crate) use gemm::{floats_to_line, LINE_FLOATS};
pub use gemm::{gemm, gemm_scratch_len, MatRef, KC, MC, MR, NC, NR, SHORT_MR};
pub use lanes::{run_update, ElementUpdate, Lanes};
pub use products::{
    direct_a_b, direct_a_bt_bias, direct_at_b, forward_scratch_len, matmul_a_b, matmul_a_bt_bias, matmul_at_b,
    product_scratch_len, uses_packing, PACKING_THRESHOLD, SMALL_SIDE_MIN, SMALL_SIDE_VOLUME,
};
pub use simd::HAS_SIMD;
pub use strips::{SHALLOW_MAX_DEPTH, SHALLOW_MIN_ROWS};
pub use transpose::transpose_with_row_offsets;
pub use vector::{axpy, dot, scale, sum};
