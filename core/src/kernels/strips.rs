//! Products with one small dimension, computed one output strip of `LANES` columns at a time
//! with every multiply-add's A value broadcast straight from memory (on AVX-512 the load
//! folds into the FMA), so no operand is packed with transposes and no output is transposed:
//! - [`narrow_a_bt_bias`]: the forward product of a layer with at most `LANES` outputs (a
//!   classifier's ten classes), where the blocked kernel's 32-wide tiles would be mostly
//!   padding and its transposed orientation packs the whole input batch;
//! - [`shallow_a_b`]: with AVX-512, `C = A·B` at most `SHALLOW_MAX_DEPTH` deep (the input
//!   gradient of a layer with few outputs), with the depth's B rows held in registers while
//!   A's rows stream past them, where the blocked kernel's tiles spend more time starting
//!   and storing than multiplying.
//!
//! Both write whole vectors into C even in a partial last strip: the lanes past the strip
//! land on the next row's first columns, which are written afterwards (a partial strip is
//! computed before the full strips of its rows); only the matrix's very last row is stored
//! lane by lane.

use super::gemm::pack_panel;
use super::simd::{load, store, Vector, LANES, TILES};
use crate::kernels::layout::{array_of, take_aligned, MatRef};
use crate::kernels::paths::{record, KernelPath};
use crate::kernels::tuning::{takes_shallow, NARROW_ROWS, SHALLOW_ROW_BLOCK};

/// `c[m, n] = a[m, k] · b[n, k]ᵀ + bias[n]` for `n ≤ LANES`: B is packed into one strip
/// (`k × LANES`, zero past column `n`), and each tile of [`NARROW_ROWS`] rows of C is one
/// vector per row, started from the bias, with A's rows read in place.
#[allow(clippy::too_many_arguments)] // shapes, operands and scratch, BLAS style
#[inline(always)]
pub(crate) fn narrow_a_bt_bias(
    a: &[f32],
    b: &[f32],
    bias: &[f32],
    c: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
    scratch: &mut [f32],
) {
    debug_assert!(n <= LANES && a.len() >= m * k && b.len() >= n * k && c.len() >= m * n);
    let (strip, _) = take_aligned(scratch, k * LANES);
    pack_panel::<LANES>(MatRef::row_major(b, k), 0, n, 0, k, strip);
    let mut bias_lanes = [0.0; LANES];
    bias_lanes[..n].copy_from_slice(&bias[..n]);
    let bias = Vector::from(bias_lanes);
    let c = &mut c[..m * n];
    let full = m - m % NARROW_ROWS;
    if full > 0 {
        record(KernelPath::NarrowTile);
    }
    if full < m {
        record(KernelPath::NarrowRow);
    }
    for i0 in (0..full).step_by(NARROW_ROWS) {
        narrow_tile::<NARROW_ROWS>(&a[i0 * k..], k, strip, bias, c, i0 * n, n);
    }
    for i0 in full..m {
        narrow_tile::<1>(&a[i0 * k..], k, strip, bias, c, i0 * n, n);
    }
}

/// `R` rows of [`narrow_a_bt_bias`]: rows `0..R` of `a` (row stride `k`) against the packed
/// strip, stored from `c[first]` on with row stride `n`.
#[inline(always)]
fn narrow_tile<const R: usize>(
    a: &[f32],
    k: usize,
    strip: &[f32],
    bias: Vector,
    c: &mut [f32],
    first: usize,
    n: usize,
) {
    let rows: [&[f32]; R] = array_of(&[][..], |r| &a[r * k..(r + 1) * k]);
    let mut acc = [bias; R];
    for (p, b_row) in strip.chunks_exact(LANES).take(k).enumerate() {
        let b_row = load(b_row);
        for (acc_r, row) in acc.iter_mut().zip(rows) {
            *acc_r = Vector::splat(row[p]).mul_add(b_row, *acc_r);
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        store_strip_row(c, first + r * n, n, *acc_r);
    }
}

/// `c[m, n] = a[m, k] · b[k, n]` (all row-major) for a shape with [`takes_shallow`]; does
/// nothing for other depths.
#[inline(always)]
pub(crate) fn shallow_a_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    debug_assert!(takes_shallow(TILES, m, n, k) && a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    // The strip is an array of registers, so its depth is a constant: one instance per depth.
    macro_rules! by_depth {
        ($($depth:literal)*) => {
            match k {
                $($depth => shallow::<$depth>(&a[..m * k], &b[..k * n], &mut c[..m * n], n),)*
                _ => {}
            }
        };
    }
    by_depth!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
}

/// [`shallow_a_b`] at depth `K`: `a` is `m × K`, `b` is `K × n`, `c` is `m × n`.
#[inline(always)]
fn shallow<const K: usize>(a: &[f32], b: &[f32], c: &mut [f32], n: usize) {
    let full = n - n % LANES;
    for (block, a_block) in a.chunks(SHALLOW_ROW_BLOCK * K).enumerate() {
        let first = block * SHALLOW_ROW_BLOCK * n;
        if full < n {
            record(KernelPath::ShallowPartialStrip);
            // The partial strip first (see the module notes), its lanes past `n` zero.
            let cols = n - full;
            let strip: [Vector; K] = array_of(Vector::ZERO, |p| {
                let mut lanes = [0.0; LANES];
                for (lane, value) in lanes.iter_mut().zip(&b[p * n + full..(p + 1) * n]) {
                    *lane = *value;
                }
                Vector::from(lanes)
            });
            shallow_strip(a_block, &strip, c, first + full, n, cols);
        }
        if full > 0 {
            record(KernelPath::ShallowFullStrip);
        }
        for j0 in (0..full).step_by(LANES) {
            let strip: [Vector; K] = array_of(Vector::ZERO, |p| load(&b[p * n + j0..p * n + j0 + LANES]));
            shallow_strip(a_block, &strip, c, first + j0, n, LANES);
        }
    }
}

/// One strip of C's rows for a block of A's rows: row `r` of the block gets
/// `Σ_p a[r, p] · strip[p]`, stored at `c[first + r·n..]` (its first `cols` lanes count).
#[inline(always)]
fn shallow_strip<const K: usize>(
    a_block: &[f32],
    strip: &[Vector; K],
    c: &mut [f32],
    first: usize,
    n: usize,
    cols: usize,
) {
    for (r, a_row) in a_block.chunks_exact(K).enumerate() {
        // Even and odd depths in two chains: a row's sum is then K/2 FMA latencies long
        // instead of K, and fewer rows need to be in flight to keep both FMA pipes busy.
        let mut even = Vector::ZERO;
        let mut odd = Vector::ZERO;
        for p in (0..K).step_by(2) {
            even = Vector::splat(a_row[p]).mul_add(strip[p], even);
            if p + 1 < K {
                odd = Vector::splat(a_row[p + 1]).mul_add(strip[p + 1], odd);
            }
        }
        store_strip_row(c, first + r * n, cols, even + odd);
    }
}

/// Stores the first `cols` lanes of `value` at `c[at..]`: as one whole vector when it fits
/// in `c` (lanes past `cols` land on the next row, see the module notes), else lane by lane.
#[inline(always)]
fn store_strip_row(c: &mut [f32], at: usize, cols: usize, value: Vector) {
    if at + LANES <= c.len() {
        store(&mut c[at..at + LANES], value);
    } else {
        record(KernelPath::StripStoreLanes);
        store_lanes(&mut c[at..at + cols], &value.to_array());
    }
}

/// The last row's store, kept out of the loops it is called from (a copy of a variable
/// number of lanes there made the compiler keep every accumulator on the stack). It takes
/// plain floats, so it needs no vector instructions of its own.
#[cold]
#[inline(never)]
fn store_lanes(c: &mut [f32], lanes: &[f32]) {
    c.copy_from_slice(&lanes[..c.len()]);
}
