//! Products with one small dimension, computed one output strip of `LANES` columns at a time
//! with every multiply-add's A value broadcast straight from memory (on AVX-512 the load
//! folds into the FMA), so no operand is packed with transposes and no output is transposed:
//! - [`narrow_a_bt_bias`]: the forward product of a layer with at most `LANES` outputs (a
//!   classifier's ten classes), where the blocked kernel's 32-wide tiles would be mostly
//!   padding and its transposed orientation packs the whole input batch;
//! - [`shallow_a_b`]: with AVX-512, `C = A·B` at most [`SHALLOW_MAX_DEPTH`] deep (the input
//!   gradient of a layer with few outputs), with the depth's B rows held in registers while
//!   A's rows stream past them, where the blocked kernel's tiles spend more time starting
//!   and storing than multiplying.
//!
//! Both write whole vectors into C even in a partial last strip: the lanes past the strip
//! land on the next row's first columns, which are written afterwards (a partial strip is
//! computed before the full strips of its rows); only the matrix's very last row is stored
//! lane by lane.

use super::gemm::{pack_panel, take_aligned, MatRef, LINE_FLOATS};
use super::simd::{load, store, Vector, LANES};

/// Rows of A per register tile of [`narrow_a_bt_bias`]: 8 accumulators, the fewest that
/// cover two FMA pipes × 4 cycles of latency. Measured against 12 and 16 on W1's 128→10 and
/// W3's 1024→10 forward products: 16 rows were 0.80–0.88× as fast, 12 0.8–1.0× (their
/// row pointers no longer fit in registers).
const NARROW_ROWS: usize = 8;

/// Scratch [`narrow_a_bt_bias`] needs for depth `k`: B's rows as one `k × LANES` panel,
/// on a cache line.
pub(crate) const fn narrow_scratch_len(k: usize) -> usize {
    k * LANES + LINE_FLOATS - 1
}

/// `c[m, n] = a[m, k] · b[n, k]ᵀ + bias[n]` for `n ≤ LANES`: B is packed into one strip
/// (`k × LANES`, zero past column `n`), and each tile of [`NARROW_ROWS`] rows of C is one
/// vector per row, started from the bias, with A's rows read in place.
#[allow(clippy::too_many_arguments)] // shapes, operands and scratch, BLAS style
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
    let rows: [&[f32]; R] = core::array::from_fn(|r| &a[r * k..(r + 1) * k]);
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

/// The deepest product [`matmul_a_b`](super::matmul_a_b) computes with B's strips held in
/// registers, with AVX-512 (a strip is this many of its 32 vector registers, beside two
/// accumulators). Measured against the blocked kernel with
/// `cargo bench -p embergrad-benches --bench ratios -- depth` (interleaved; m = 64 to 256,
/// n = 128 to 1,000): 1.2–1.7× as fast at depths 3 to 12, 1.1–1.3× at 15, but 0.85–1.0× at
/// 16 and no better than even from 17 to 24 (at 32 the strip no longer fits in registers).
pub const SHALLOW_MAX_DEPTH: usize = 15;

/// Rows of A per pass over B's strips: each strip is loaded into registers once per block.
/// Measured on W1's 128→10 and W3's 1024→10 input gradients against 8, 32, 128 and 256:
/// 64 was fastest on both (1.05–1.25×); short blocks reload the strips too often, long
/// ones walk all of a large C's rows for each strip.
const SHALLOW_ROW_BLOCK: usize = 64;

/// Fewest rows of A for which [`matmul_a_b`](super::matmul_a_b) holds B's strips in
/// registers (see [`SHALLOW_MAX_DEPTH`]): below, loading each strip into registers costs
/// more than the row-at-a-time direct loops. Measured at depth 10, 128 columns (`--
/// depth`): 0.7–1.0× the direct loops at 1 and 2 rows, 1.1–1.2× at 4, 1.5× at 8.
pub const SHALLOW_MIN_ROWS: usize = 4;

/// Whether [`shallow_a_b`] computes an `m × n` product of depth `k`: with AVX-512 (the
/// strip needs up to [`SHALLOW_MAX_DEPTH`] registers; with 16 it would spill), for depths
/// `1..=SHALLOW_MAX_DEPTH`, at least [`SHALLOW_MIN_ROWS`] rows, and rows of C not a
/// multiple of 1,024 floats (4 KiB) apart: there a pass's rows all fall into one L1 set
/// and evict each other as they are stored (measured with this rule switched off, at
/// n = 1,024 and 2,048, 256 rows, depth 10: 0.66–0.75× the blocked kernel, and still
/// 0.93–0.96× with 8-row passes; at n = 1,000 the strips were 1.3–1.45× it).
pub(crate) const fn takes_shallow(m: usize, n: usize, k: usize) -> bool {
    cfg!(target_feature = "avx512f")
        && k >= 1
        && k <= SHALLOW_MAX_DEPTH
        && m >= SHALLOW_MIN_ROWS
        && !n.is_multiple_of(1024)
}

/// `c[m, n] = a[m, k] · b[k, n]` (all row-major) for a shape with [`takes_shallow`]; does
/// nothing for other depths.
pub(crate) fn shallow_a_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    debug_assert!(takes_shallow(m, n, k) && a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
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
fn shallow<const K: usize>(a: &[f32], b: &[f32], c: &mut [f32], n: usize) {
    let full = n - n % LANES;
    for (block, a_block) in a.chunks(SHALLOW_ROW_BLOCK * K).enumerate() {
        let first = block * SHALLOW_ROW_BLOCK * n;
        if full < n {
            // The partial strip first (see the module notes), its lanes past `n` zero.
            let cols = n - full;
            let strip: [Vector; K] = core::array::from_fn(|p| {
                let mut lanes = [0.0; LANES];
                for (lane, value) in lanes.iter_mut().zip(&b[p * n + full..(p + 1) * n]) {
                    *lane = *value;
                }
                Vector::from(lanes)
            });
            shallow_strip(a_block, &strip, c, first + full, n, cols);
        }
        for j0 in (0..full).step_by(LANES) {
            let strip: [Vector; K] = core::array::from_fn(|p| load(&b[p * n + j0..p * n + j0 + LANES]));
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
        store_lanes(&mut c[at..at + cols], value);
    }
}

/// The last row's store, kept out of the loops it is called from (a copy of a variable
/// number of lanes there made the compiler keep every accumulator on the stack).
#[cold]
#[inline(never)]
fn store_lanes(c: &mut [f32], value: Vector) {
    for (out, lane) in c.iter_mut().zip(value.to_array()) {
        *out = lane;
    }
}
