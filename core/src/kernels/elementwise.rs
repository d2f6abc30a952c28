//! Element-wise kernels on SIMD lanes: functions written once as [`ElementFunction`]s (the
//! activations) with their derivatives, `e^x`, and softmax / log-sum-exp rows. The vector
//! math (`exp`, `tanh`) is in `vector_lanes.rs`.
//!
//! Compiled once per instruction-set level, like `gemm.rs`. Every slice kernel handles the
//! tail (fewer than [`LANES`] values) by padding it into one vector, so each element gets the
//! same arithmetic wherever it sits in the slice.
//!
//! Without a SIMD unit ([`HAS_SIMD`] false: a Cortex-M) the [`ElementFunction`] kernels run
//! one scalar loop on `f32` [`Lanes`] instead: a vector there is four lanes of the same
//! scalar instructions, so the loop computes the same values, and each activation's code is
//! one copy of its body rather than eight (four lanes, in the loop and again for the tail),
//! which is what keeps eleven activations within a firmware's flash.

use core::marker::PhantomData;

use super::simd::{load, store, Vector, HAS_SIMD, LANES};
use crate::kernels::lanes::{ElementFunction, Lanes};

/// An operation on one vector, which [`map_in_place`] and [`scale_by`] apply: a trait with
/// an `inline(always)` method rather than a closure, since a closure or a function item is
/// a function of its own, and one the inliner leaves out of line in an x86 level runs every
/// vector intrinsic inside it as a call.
trait Lanewise {
    /// The operation on the lanes of `x`.
    fn apply(&self, x: Vector) -> Vector;
}

/// Defines unit or one-field structs implementing [`Lanewise`] by the given expression.
macro_rules! lanewise {
    ($($(#[$doc:meta])* $name:ident $(($field:ty))? = |$op:ident, $x:ident| $body:expr;)*) => {
        $(
            $(#[$doc])*
            struct $name $(($field))?;
            impl Lanewise for $name {
                #[inline(always)]
                fn apply(&self, $x: Vector) -> Vector {
                    let $op = self;
                    $body
                }
            }
        )*
    };
}

lanewise! {
    /// `e^x`.
    Exp = |_op, x| Lanes::exp(x);
    /// `e^(x - shift)`.
    ExpShifted(Vector) = |op, x| Lanes::exp(x - op.0);
    /// The value itself.
    Identity = |_op, x| x;
}

/// An [`ElementFunction`]'s value, as a [`Lanewise`] operation.
struct Value<F>(PhantomData<F>);

impl<F: ElementFunction> Lanewise for Value<F> {
    #[inline(always)]
    fn apply(&self, x: Vector) -> Vector {
        F::value(x)
    }
}

/// An [`ElementFunction`]'s derivative, as a [`Lanewise`] operation.
struct Derivative<F>(PhantomData<F>);

impl<F: ElementFunction> Lanewise for Derivative<F> {
    #[inline(always)]
    fn apply(&self, x: Vector) -> Vector {
        F::derivative(x)
    }
}

/// Applies `f` to every element of `values`, a vector at a time.
#[inline(always)]
fn map_in_place(values: &mut [f32], f: impl Lanewise) {
    let mut chunks = values.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        store(chunk, f.apply(load(chunk)));
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let mut padded = [0.0f32; LANES];
        padded[..tail.len()].copy_from_slice(tail);
        let result = f.apply(Vector::from(padded)).to_array();
        tail.copy_from_slice(&result[..tail.len()]);
    }
}

/// Multiplies every `grads[i]` by `f(outputs[i])`, a vector at a time.
#[inline(always)]
fn scale_by(outputs: &[f32], grads: &mut [f32], f: impl Lanewise) {
    let mut g_chunks = grads.chunks_exact_mut(LANES);
    let mut y_chunks = outputs.chunks_exact(LANES);
    for (g, y) in (&mut g_chunks).zip(&mut y_chunks) {
        store(g, load(g) * f.apply(load(y)));
    }
    let (g_tail, y_tail) = (g_chunks.into_remainder(), y_chunks.remainder());
    let n = g_tail.len().min(y_tail.len());
    if n > 0 {
        let (mut g_pad, mut y_pad) = ([0.0f32; LANES], [0.0f32; LANES]);
        g_pad[..n].copy_from_slice(&g_tail[..n]);
        y_pad[..n].copy_from_slice(&y_tail[..n]);
        let result = (Vector::from(g_pad) * f.apply(Vector::from(y_pad))).to_array();
        g_tail[..n].copy_from_slice(&result[..n]);
    }
}

/// `F`'s value in place over a slice.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn apply_function<F: ElementFunction>(values: &mut [f32]) {
    if !HAS_SIMD {
        // Without SIMD a vector is lanes of scalar code: one scalar loop is the same
        // arithmetic in a quarter of the code (see `scalar_fallback`).
        return values.iter_mut().for_each(|v| *v = F::value(*v));
    }
    map_in_place(values, Value::<F>(PhantomData));
}

/// `F`'s derivative at each value into `derivatives`, then `F`'s value in place over `values`
/// (the derivative of an activation that stores it during the forward pass).
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn apply_function_and_derivative<F: ElementFunction>(values: &mut [f32], derivatives: &mut [f32]) {
    let derivatives = &mut derivatives[..values.len()];
    if !HAS_SIMD {
        for (v, d) in values.iter_mut().zip(derivatives) {
            (*v, *d) = (F::value(*v), F::derivative(*v));
        }
        return;
    }
    derivatives.copy_from_slice(values);
    map_in_place(derivatives, Derivative::<F>(PhantomData));
    map_in_place(values, Value::<F>(PhantomData));
}

/// Multiplies every `grads[i]` by `F`'s derivative at `arguments[i]` (the chain rule through
/// an activation, `arguments` being its inputs or outputs as `F` agrees).
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn scale_by_derivative<F: ElementFunction>(arguments: &[f32], grads: &mut [f32]) {
    if !HAS_SIMD {
        return grads.iter_mut().zip(arguments).for_each(|(g, &x)| *g *= F::derivative(x));
    }
    scale_by(arguments, grads, Derivative::<F>(PhantomData));
}

/// Multiplies every `grads[i]` by `factors[i]`.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn multiply(factors: &[f32], grads: &mut [f32]) {
    scale_by(factors, grads, Identity);
}

/// `e^x` in place over a slice.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn exp_slice(values: &mut [f32]) {
    map_in_place(values, Exp);
}

/// Largest value of a slice (`-inf` for an empty one; NaN if any value is NaN).
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn max(values: &[f32]) -> f32 {
    let mut chunks = values.chunks_exact(LANES);
    let mut best = Vector::splat(f32::NEG_INFINITY);
    let mut saw_nan = false;
    for chunk in &mut chunks {
        let v = load(chunk);
        saw_nan |= v.is_nan().any();
        best = best.max(v);
    }
    let mut result = best.to_array().into_iter().fold(f32::NEG_INFINITY, f32::max);
    for &v in chunks.remainder() {
        saw_nan |= v.is_nan();
        result = result.max(v);
    }
    if saw_nan {
        f32::NAN
    } else {
        result
    }
}

/// `ln Σ e^x` of a row, computed as `m + ln Σ e^(x - m)` with `m` the row's maximum, so no
/// exponential overflows. NaN in, NaN out; `-inf` for an empty row.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn log_sum_exp(row: &[f32]) -> f32 {
    let m = max(row);
    if !m.is_finite() {
        return m;
    }
    let shift = Vector::splat(m);
    let mut chunks = row.chunks_exact(LANES);
    let mut total = Vector::ZERO;
    for chunk in &mut chunks {
        total += Lanes::exp(load(chunk) - shift);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut padded = [f32::NEG_INFINITY; LANES];
        padded[..tail.len()].copy_from_slice(tail);
        total += Lanes::exp(Vector::from(padded) - shift);
    }
    m + libm::logf(total.reduce_add())
}

/// Replaces a row by its softmax, `e^(x - lse)` with `lse` = [`log_sum_exp`] of the row;
/// returns `lse`.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn softmax_in_place(row: &mut [f32]) -> f32 {
    let lse = log_sum_exp(row);
    map_in_place(row, ExpShifted(Vector::splat(lse)));
    lse
}
