//! The number types a tape computes with: `f32`, `f64`, and 8 samples at once in `f32x8`.

use core::ops::{Add, Div, Mul, Neg, Sub};

use wide::f32x8;

/// What a tape needs of its numbers. Implemented for `f32`, `f64` and `wide::f32x8` (eight
/// samples per pass: comparisons are lane-wise selections, never branches).
pub trait Scalar:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + core::fmt::Debug
{
    /// The constant in every lane.
    fn from_f64(value: f64) -> Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    /// `self` raised to a real power.
    fn powf(self, exponent: Self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// `if self > other { a } else { b }`, lane by lane.
    fn select_gt(self, other: Self, a: Self, b: Self) -> Self;
    /// `if self >= other { a } else { b }`, lane by lane.
    fn select_ge(self, other: Self, a: Self, b: Self) -> Self;

    /// The zero constant.
    #[inline]
    fn zero() -> Self {
        Self::from_f64(0.0)
    }

    /// The one constant.
    #[inline]
    fn one() -> Self {
        Self::from_f64(1.0)
    }
}

/// `f64` and `f32` differ only in which `libm` function each operation calls.
macro_rules! scalar_float {
    ($t:ty, $exp:path, $ln:path, $sqrt:path, $tanh:path, $erf:path, $pow:path, $abs:path) => {
        impl Scalar for $t {
            fn from_f64(value: f64) -> Self {
                value as $t
            }
            fn exp(self) -> Self {
                $exp(self)
            }
            fn ln(self) -> Self {
                $ln(self)
            }
            fn sqrt(self) -> Self {
                $sqrt(self)
            }
            fn tanh(self) -> Self {
                $tanh(self)
            }
            fn erf(self) -> Self {
                $erf(self)
            }
            fn powf(self, exponent: Self) -> Self {
                $pow(self, exponent)
            }
            fn abs(self) -> Self {
                $abs(self)
            }
            fn select_gt(self, other: Self, a: Self, b: Self) -> Self {
                if self > other {
                    a
                } else {
                    b
                }
            }
            fn select_ge(self, other: Self, a: Self, b: Self) -> Self {
                if self >= other {
                    a
                } else {
                    b
                }
            }
        }
    };
}

scalar_float!(f64, libm::exp, libm::log, libm::sqrt, libm::tanh, libm::erf, libm::pow, libm::fabs);
scalar_float!(f32, libm::expf, libm::logf, libm::sqrtf, libm::tanhf, libm::erff, libm::powf, libm::fabsf);

impl Scalar for f32x8 {
    fn from_f64(value: f64) -> Self {
        f32x8::splat(value as f32)
    }
    fn exp(self) -> Self {
        f32x8::exp(self)
    }
    fn ln(self) -> Self {
        f32x8::ln(self)
    }
    fn sqrt(self) -> Self {
        f32x8::sqrt(self)
    }
    fn tanh(self) -> Self {
        f32x8::tanh(self)
    }
    fn erf(self) -> Self {
        f32x8::from(self.to_array().map(libm::erff))
    }
    fn powf(self, exponent: Self) -> Self {
        f32x8::powf_simd(self, exponent)
    }
    fn abs(self) -> Self {
        f32x8::abs(self)
    }
    fn select_gt(self, other: Self, a: Self, b: Self) -> Self {
        self.simd_gt(other).select(a, b)
    }
    fn select_ge(self, other: Self, a: Self, b: Self) -> Self {
        self.simd_ge(other).select(a, b)
    }
}
