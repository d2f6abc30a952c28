//! This level's vector as [`Lanes`], the operand type of the element-wise rules written once
//! (optimizer updates, activations); compiled once per instruction-set level, like `gemm.rs`.
//!
//! `exp` and `tanh` are `wide`'s vectorized polynomial approximations (range reduction by
//! ln 2 split in two parts, then a degree-7 polynomial for `e^r` with `|r| ≤ ln2/2`, whose
//! truncation error is below 1e-8; the x86 levels port the same algorithm to their full
//! width, `simd_x86.rs`) on targets with SIMD, and `libm`'s scalar functions elsewhere
//! ([`HAS_SIMD`]). Their accuracy against f64 references over the whole f32 range, edge
//! values included, is checked in `tests/tests/math_vs_libm.rs` at every level.

use super::simd::{map_lanes, Vector, HAS_SIMD};
use crate::kernels::lanes::Lanes;

impl Lanes for Vector {
    #[inline(always)]
    fn splat(value: f32) -> Self {
        Vector::splat(value)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // Without SIMD, `wide` takes square roots in software; libm's `sqrtf` becomes the
        // FPU's square-root instruction where there is one (Cortex-M4F: vsqrt.f32).
        if HAS_SIMD {
            Vector::sqrt(self)
        } else {
            map_lanes(self, libm::sqrtf)
        }
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        Vector::max(self, other)
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        Vector::min(self, other)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        Vector::abs(self)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        if HAS_SIMD {
            Vector::exp(self)
        } else {
            map_lanes(self, libm::expf)
        }
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        if HAS_SIMD {
            Vector::tanh(self)
        } else {
            map_lanes(self, libm::tanhf)
        }
    }
    #[inline(always)]
    fn select_lt(self, other: Self, if_true: Self, if_false: Self) -> Self {
        self.simd_lt(other).select(if_true, if_false)
    }
    #[inline(always)]
    fn select_gt(self, other: Self, if_true: Self, if_false: Self) -> Self {
        self.simd_gt(other).select(if_true, if_false)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        Vector::mul_add(self, a, b)
    }
    #[inline(always)]
    fn flush_subnormal(self) -> Self {
        if HAS_SIMD {
            self.abs().simd_lt(Vector::splat(f32::MIN_POSITIVE)).select(Vector::ZERO, self)
        } else {
            self
        }
    }
}
