//! Level-1 kernels (dot, axpy, scale, sum) on SIMD lanes with a scalar tail.

use super::simd::{load, store, Vector, LANES};

/// Dot product `Σ a[i]·b[i]` over the common length.
///
/// Two independent accumulators hide the latency of the fused multiply-add.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
#[cfg_attr(not(target_arch = "x86_64"), inline)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc0 = Vector::ZERO;
    let mut acc1 = Vector::ZERO;
    let mut pairs_a = a.chunks_exact(2 * LANES);
    let mut pairs_b = b.chunks_exact(2 * LANES);
    for (ca, cb) in (&mut pairs_a).zip(&mut pairs_b) {
        acc0 = load(&ca[..LANES]).mul_add(load(&cb[..LANES]), acc0);
        acc1 = load(&ca[LANES..]).mul_add(load(&cb[LANES..]), acc1);
    }
    let mut singles_a = pairs_a.remainder().chunks_exact(LANES);
    let mut singles_b = pairs_b.remainder().chunks_exact(LANES);
    for (ca, cb) in (&mut singles_a).zip(&mut singles_b) {
        acc0 = load(ca).mul_add(load(cb), acc0);
    }
    let mut total = (acc0 + acc1).reduce_add();
    for (x, y) in singles_a.remainder().iter().zip(singles_b.remainder()) {
        total += x * y;
    }
    total
}

/// `y[i] += alpha · x[i]` over the common length.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
#[cfg_attr(not(target_arch = "x86_64"), inline)]
pub(crate) fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    let n = y.len().min(x.len());
    let (y, x) = (&mut y[..n], &x[..n]);
    let a = Vector::splat(alpha);
    let mut ys = y.chunks_exact_mut(LANES);
    let mut xs = x.chunks_exact(LANES);
    for (cy, cx) in (&mut ys).zip(&mut xs) {
        let r = load(cx).mul_add(a, load(cy));
        store(cy, r);
    }
    for (vy, vx) in ys.into_remainder().iter_mut().zip(xs.remainder()) {
        *vy += alpha * vx;
    }
}

/// `y[i] *= alpha`.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
#[cfg_attr(not(target_arch = "x86_64"), inline)]
pub(crate) fn scale(y: &mut [f32], alpha: f32) {
    let a = Vector::splat(alpha);
    let mut ys = y.chunks_exact_mut(LANES);
    for cy in &mut ys {
        store(cy, load(cy) * a);
    }
    for v in ys.into_remainder() {
        *v *= alpha;
    }
}

/// `Σ x[i]`.
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
#[cfg_attr(not(target_arch = "x86_64"), inline)]
pub(crate) fn sum(x: &[f32]) -> f32 {
    let mut acc = Vector::ZERO;
    let mut xs = x.chunks_exact(LANES);
    for c in &mut xs {
        acc += load(c);
    }
    acc.reduce_add() + xs.remainder().iter().sum::<f32>()
}

/// The FMA throughput yardstick of the benchmarks: `iters` rounds of 12 independent fused
/// multiply-add chains (enough to cover two FMA pipes × 4 cycles of latency) on this level's
/// vectors; returns the flops done (`iters × 12 × 2 × LANES`) and keeps the chains alive.
#[cfg(feature = "bench-internals")]
#[inline(always)]
pub(crate) fn fma_peak(iters: u64) -> u64 {
    let x = Vector::splat(core::hint::black_box(0.999_999));
    let y = Vector::splat(core::hint::black_box(1e-7));
    let mut chains = [Vector::ZERO; 12];
    for _ in 0..iters {
        for chain in chains.iter_mut() {
            *chain = chain.mul_add(x, y);
        }
    }
    let mut total = Vector::ZERO;
    for chain in chains {
        total += chain;
    }
    core::hint::black_box(total.reduce_add());
    iters * 12 * 2 * LANES as u64
}
