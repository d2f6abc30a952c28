//! Element-wise kernels on SIMD lanes: activations and their derivatives, the exponential
//! family, and softmax / log-sum-exp rows.
//!
//! `exp` and `tanh` are `wide`'s vectorized polynomial approximations (range reduction by
//! ln 2 split in two parts, then a degree-7 polynomial for `e^r` with `|r| ≤ ln2/2`, whose
//! truncation error is below 1e-8; the x86 levels port the same algorithm to their full
//! width, `simd_x86.rs`) on targets with SIMD, and `libm`'s scalar functions elsewhere
//! ([`HAS_SIMD`]). Their accuracy against f64 references over the whole f32 range, edge
//! values included, is checked in `tests/tests/math_vs_libm.rs` at every level.
//!
//! Compiled once per instruction-set level, like `gemm.rs`. Every slice kernel handles the
//! tail (fewer than [`LANES`] values) by padding it into one vector, so each element gets the
//! same arithmetic wherever it sits in the slice.

use super::simd::{load, map_lanes, store, Vector, HAS_SIMD, LANES};

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
    /// ReLU.
    Relu = |_op, x| relu(x);
    /// LeakyReLU with the slope held.
    LeakyRelu(f32) = |op, x| leaky_relu(x, op.0);
    /// The logistic function.
    Sigmoid = |_op, x| sigmoid(x);
    /// `tanh`.
    Tanh = |_op, x| tanh(x);
    /// `e^x`.
    Exp = |_op, x| exp(x);
    /// `e^(x - shift)`.
    ExpShifted(Vector) = |op, x| exp(x - op.0);
    /// ReLU's derivative from its output.
    ReluDerivative = |_op, y| y.simd_gt(Vector::ZERO).select(Vector::ONE, Vector::ZERO);
    /// LeakyReLU's derivative from its output, with the slope held.
    LeakyReluDerivative(f32) = |op, y| y.simd_gt(Vector::ZERO).select(Vector::ONE, Vector::splat(op.0));
    /// The logistic function's derivative from its output.
    SigmoidDerivative = |_op, y| y * (Vector::ONE - y);
    /// `tanh`'s derivative from its output.
    TanhDerivative = |_op, y| Vector::ONE - y * y;
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

/// `e^x` on every lane (±inf and NaN handled).
#[inline(always)]
pub(crate) fn exp(x: Vector) -> Vector {
    if HAS_SIMD {
        x.exp()
    } else {
        map_lanes(x, libm::expf)
    }
}

/// `tanh(x)` on every lane.
#[inline(always)]
pub(crate) fn tanh(x: Vector) -> Vector {
    if HAS_SIMD {
        x.tanh()
    } else {
        map_lanes(x, libm::tanhf)
    }
}

/// The logistic function on every lane, from `e = e^-|x|` (which never overflows):
/// `1 / (1 + e)` for `x ≥ 0` and `e / (1 + e)` for `x < 0`. So results down to the
/// subnormals stay accurate, and no lane produces NaN for a finite input.
#[inline(always)]
pub(crate) fn sigmoid(x: Vector) -> Vector {
    let e = exp(-x.abs());
    let r = Vector::ONE / (Vector::ONE + e);
    x.simd_lt(Vector::ZERO).select(e * r, r)
}

/// `max(x, 0)` with NaN kept (NaN compares false, so `x < 0` selects 0 only for real negatives).
#[inline(always)]
pub(crate) fn relu(x: Vector) -> Vector {
    x.simd_lt(Vector::ZERO).select(Vector::ZERO, x)
}

/// `x` for `x > 0`, else `slope · x` (NaN kept).
#[inline(always)]
pub(crate) fn leaky_relu(x: Vector, slope: f32) -> Vector {
    x.simd_lt(Vector::ZERO).select(x * Vector::splat(slope), x)
}

/// ReLU in place over a slice.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn relu_slice(values: &mut [f32]) {
    map_in_place(values, Relu);
}

/// LeakyReLU in place over a slice.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn leaky_relu_slice(values: &mut [f32], slope: f32) {
    map_in_place(values, LeakyRelu(slope));
}

/// The logistic function in place over a slice.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn sigmoid_slice(values: &mut [f32]) {
    map_in_place(values, Sigmoid);
}

/// `tanh` in place over a slice.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn tanh_slice(values: &mut [f32]) {
    map_in_place(values, Tanh);
}

/// `e^x` in place over a slice.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn exp_slice(values: &mut [f32]) {
    map_in_place(values, Exp);
}

/// ReLU backward from the outputs: `grad *= (y > 0 ? 1 : 0)`.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn relu_backward(outputs: &[f32], grads: &mut [f32]) {
    scale_by(outputs, grads, ReluDerivative);
}

/// LeakyReLU backward from the outputs: `grad *= (y > 0 ? 1 : slope)`.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn leaky_relu_backward(outputs: &[f32], grads: &mut [f32], slope: f32) {
    scale_by(outputs, grads, LeakyReluDerivative(slope));
}

/// Sigmoid backward from the outputs: `grad *= y·(1 - y)`.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn sigmoid_backward(outputs: &[f32], grads: &mut [f32]) {
    scale_by(outputs, grads, SigmoidDerivative);
}

/// Tanh backward from the outputs: `grad *= 1 - y²`.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn tanh_backward(outputs: &[f32], grads: &mut [f32]) {
    scale_by(outputs, grads, TanhDerivative);
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
        total += exp(load(chunk) - shift);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut padded = [f32::NEG_INFINITY; LANES];
        padded[..tail.len()].copy_from_slice(tail);
        total += exp(Vector::from(padded) - shift);
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
