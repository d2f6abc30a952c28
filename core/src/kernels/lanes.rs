//! Element-wise arithmetic written once, generic over [`Lanes`], and run on every level's
//! vectors.
//!
//! An optimizer writes its per-parameter rule once ([`ElementUpdate`]); `run_update`
//! (`update.rs`, compiled once per instruction-set level) applies it to a SIMD vector of
//! parameters at a time and to the leftover ones with plain `f32`, so the SIMD path and the
//! scalar path cannot drift apart. An activation writes its function and derivative once
//! ([`ElementFunction`]); the slice kernels in `elementwise.rs` run them on each level's
//! vectors, the tail padded into one vector.

use core::ops::{Add, Div, Mul, Neg, Sub};

use super::simd::HAS_SIMD;

/// A number or a SIMD vector of numbers: what an element-wise update needs of its operands.
pub trait Lanes:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> + Neg<Output = Self>
{
    /// Every lane set to `value`.
    fn splat(value: f32) -> Self;
    /// Lane-wise square root.
    fn sqrt(self) -> Self;
    /// Lane-wise maximum.
    fn max(self, other: Self) -> Self;
    /// Lane-wise minimum.
    fn min(self, other: Self) -> Self;
    /// Lane-wise absolute value.
    fn abs(self) -> Self;
    /// Lane-wise `e^x` (+inf on overflow, 0 on underflow, NaN kept).
    fn exp(self) -> Self;
    /// Lane-wise `tanh(x)`.
    fn tanh(self) -> Self;
    /// `if_true` in the lanes where `self < other`, `if_false` elsewhere (NaN compares
    /// false, so a NaN lane takes `if_false`).
    fn select_lt(self, other: Self, if_true: Self, if_false: Self) -> Self;
    /// `if_true` in the lanes where `self > other`, `if_false` elsewhere (NaN: `if_false`).
    fn select_gt(self, other: Self, if_true: Self, if_false: Self) -> Self;
    /// `self · a + b`, fused where the target has FMA.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// Zero for subnormal values (|x| < `f32::MIN_POSITIVE`), `self` otherwise.
    ///
    /// Optimizer state that decays geometrically (a momentum or moment buffer of a parameter
    /// whose gradient stays zero, like MNIST's border pixels) sinks into the subnormals, and
    /// x86 cores take a slow microcode path for every subnormal operand: Adam's epochs on MNIST
    /// ran 30% slower by epoch 2. Flushing those values changes nothing measurable (they are
    /// below 1.2e-38) and keeps every step at full speed.
    fn flush_subnormal(self) -> Self;
}

impl Lanes for f32 {
    #[inline(always)]
    fn splat(value: f32) -> Self {
        value
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        libm::sqrtf(self)
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        f32::max(self, other)
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        f32::min(self, other)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabsf(self)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        libm::expf(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        libm::tanhf(self)
    }
    #[inline(always)]
    fn select_lt(self, other: Self, if_true: Self, if_false: Self) -> Self {
        if self < other {
            if_true
        } else {
            if_false
        }
    }
    #[inline(always)]
    fn select_gt(self, other: Self, if_true: Self, if_false: Self) -> Self {
        if self > other {
            if_true
        } else {
            if_false
        }
    }
    #[inline(always)]
    fn flush_subnormal(self) -> Self {
        // Only where the SIMD path has a slow case for subnormals; a scalar FPU (Cortex-M4F)
        // handles them at full speed, so there the values stay exactly PyTorch's.
        if HAS_SIMD && self.abs() < f32::MIN_POSITIVE {
            0.0
        } else {
            self
        }
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        // Unfused: `core` has no `f32::mul_add`, and libm's software `fmaf` would be far slower
        // than the one extra rounding. Only the < 8 tail elements take this path.
        self * a + b
    }
}

/// A per-parameter update rule with `S` state values per parameter.
pub trait ElementUpdate<const S: usize> {
    /// Updates one parameter (or eight) from its gradient and its state values.
    fn apply<V: Lanes>(&self, param: &mut V, grad: V, state: &mut [V; S]);
}

/// A function of one variable and its derivative, written once over [`Lanes`]: what an
/// activation gives the element-wise kernels ([`crate::kernels::apply_function`] and its
/// siblings), which run it on the vectors of the SIMD level in use.
///
/// ```
/// use embergrad::kernels::{apply_function, ElementFunction, Lanes};
/// struct Square;
/// impl ElementFunction for Square {
///     fn value<V: Lanes>(x: V) -> V {
///         x * x
///     }
///     fn derivative<V: Lanes>(x: V) -> V {
///         x + x
///     }
/// }
/// let mut values = [1.0, -2.0, 3.0];
/// apply_function::<Square>(&mut values);
/// assert_eq!(values, [1.0, 4.0, 9.0]);
/// ```
pub trait ElementFunction {
    /// `f(x)` on every lane.
    fn value<V: Lanes>(x: V) -> V;
    /// The derivative on every lane, from the argument its user agrees on: for an activation
    /// that is `f'(z)` from the input `z` or, for one whose derivative comes from its output,
    /// `f'` from `y = f(z)` (see `crate::nn::DerivativeSource`).
    fn derivative<V: Lanes>(x: V) -> V;
}
