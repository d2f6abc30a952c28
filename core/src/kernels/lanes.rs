//! One element-wise update body, run on SIMD lanes and on a scalar tail.
//!
//! An optimizer writes its per-parameter rule once, generic over [`Lanes`]; [`run_update`]
//! applies it to a SIMD vector of parameters at a time and to the leftover ones with plain
//! `f32`, so the SIMD path and the scalar path cannot drift apart.

use core::ops::{Add, Div, Mul, Neg, Sub};

use super::simd::{load, map_lanes, store, Vector, HAS_SIMD, LANES};

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

/// A per-parameter update rule with `S` state values per parameter.
pub trait ElementUpdate<const S: usize> {
    /// Updates one parameter (or eight) from its gradient and its state values.
    fn apply<V: Lanes>(&self, param: &mut V, grad: V, state: &mut [V; S]);
}

/// Runs `rule` over every parameter. `states` are `S` buffers of `params.len()` values each
/// (checked by the caller).
pub fn run_update<U: ElementUpdate<S>, const S: usize>(
    rule: &U,
    params: &mut [f32],
    grads: &[f32],
    mut states: [&mut [f32]; S],
) {
    let n = params.len();
    debug_assert!(grads.len() == n && states.iter().all(|s| s.len() == n));
    let full = n - n % LANES;
    let mut start = 0;
    while start < full {
        let end = start + LANES;
        let mut p = load(&params[start..end]);
        let g = load(&grads[start..end]);
        let mut s: [Vector; S] = core::array::from_fn(|k| load(&states[k][start..end]));
        rule.apply(&mut p, g, &mut s);
        store(&mut params[start..end], p);
        for (buffer, value) in states.iter_mut().zip(&s) {
            store(&mut buffer[start..end], *value);
        }
        start = end;
    }
    for i in full..n {
        let mut s: [f32; S] = core::array::from_fn(|k| states[k][i]);
        rule.apply(&mut params[i], grads[i], &mut s);
        for (buffer, value) in states.iter_mut().zip(s) {
            buffer[i] = value;
        }
    }
}
