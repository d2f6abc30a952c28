//! What the matrix kernels share across instruction-set levels: the strided view
//! [`MatRef`], cache-line helpers, and the scratch lengths, which are the largest any level
//! needs so a buffer sized once fits whichever level runs.

use super::tuning::{forward_transposes, uses_packing, Tiles, ALL_TILES, KC, MC, NC};

/// A read-only strided matrix view: element `(i, j)` is `data[i·row_stride + j·col_stride]`.
/// Transposes are views with the strides swapped, so one product serves all three of a
/// dense layer's products.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix (`row_stride = cols`).
    pub const fn row_major(data: &'a [f32], cols: usize) -> Self {
        MatRef { data, row_stride: cols, col_stride: 1 }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub const fn transposed(data: &'a [f32], cols: usize) -> Self {
        MatRef { data, row_stride: 1, col_stride: cols }
    }

    #[inline(always)]
    pub(crate) fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_stride + j * self.col_stride]
    }
}

const fn round_up(n: usize, multiple: usize) -> usize {
    n.div_ceil(multiple) * multiple
}

/// Floats in a 64-byte cache line: both packed buffers start on one, so no SIMD load of a
/// packed panel straddles two lines.
pub(crate) const LINE_FLOATS: usize = 16;

/// How many floats past `ptr` the next cache line starts (0 when `ptr` is on one).
pub(crate) fn floats_to_line(ptr: *const f32) -> usize {
    // An f32 pointer is 4-byte aligned, so a line is at most 15 floats on.
    ptr.align_offset(LINE_FLOATS * core::mem::size_of::<f32>()).min(LINE_FLOATS - 1)
}

/// The largest value of `$per_level(tiles, args...)` over every level's tiles ([`ALL_TILES`]),
/// in a `const fn` (which cannot call a function passed to it).
macro_rules! largest_over_tiles {
    ($per_level:ident($($arg:expr),*)) => {{
        let mut largest = 0;
        let mut i = 0;
        while i < ALL_TILES.len() {
            let len = $per_level(ALL_TILES[i], $($arg),*);
            if len > largest {
                largest = len;
            }
            i += 1;
        }
        largest
    }};
}

/// Length of the packing scratch the blocked GEMM needs for an `m × n × k` product (0 when
/// any dimension is 0): the packed A block, the packed B block and room to align both, for
/// whichever level's tiles pack them.
pub const fn gemm_scratch_len(m: usize, n: usize, k: usize) -> usize {
    largest_over_tiles!(gemm_scratch_len_for(m, n, k))
}

/// [`gemm_scratch_len`] for one level's tiles.
pub(crate) const fn gemm_scratch_len_for(tiles: Tiles, m: usize, n: usize, k: usize) -> usize {
    if m == 0 || n == 0 || k == 0 {
        return 0;
    }
    let kc = if k < KC { k } else { KC };
    kc * (packed_a_rows(tiles, m) + packed_b_cols(tiles, n)) + 2 * (LINE_FLOATS - 1)
}

/// Rows of the packed A block for `m` rows of A, whichever tile height packs it.
pub(crate) const fn packed_a_rows(tiles: Tiles, m: usize) -> usize {
    let rows = if m < MC { m } else { MC };
    let tall = round_up(rows, tiles.mr);
    let short = round_up(rows, tiles.short_mr);
    if tall > short {
        tall
    } else {
        short
    }
}

/// Columns of the packed B block for `n` columns of B.
pub(crate) const fn packed_b_cols(tiles: Tiles, n: usize) -> usize {
    round_up(if n < NC { n } else { NC }, tiles.nr())
}

/// Scratch the narrow forward strip needs for depth `k` with one level's vectors: B's rows
/// as one `k × lanes` panel, on a cache line.
pub(crate) const fn narrow_scratch_len(tiles: Tiles, k: usize) -> usize {
    k * tiles.lanes + LINE_FLOATS - 1
}

/// Scratch an `m × n × k` product (`matmul_a_b`, `matmul_at_b` with its dimensions) needs:
/// the packing buffers if it packs, else nothing.
pub const fn product_scratch_len(m: usize, n: usize, k: usize) -> usize {
    if uses_packing(m, n, k) {
        gemm_scratch_len(m, n, k)
    } else {
        0
    }
}

/// Scratch `matmul_a_bt_bias` needs for an `m × n × k` product (`a` is `m × k`, `b` is
/// `n × k`): whatever path the level that runs takes, the packing buffers, plus room for
/// `cᵀ` where the product is computed transposed, or one packed strip for a narrow layer.
pub const fn forward_scratch_len(m: usize, n: usize, k: usize) -> usize {
    if !uses_packing(m, n, k) {
        return 0;
    }
    largest_over_tiles!(forward_scratch_len_for(m, n, k))
}

/// [`forward_scratch_len`] for one level's tiles, on the blocked path.
const fn forward_scratch_len_for(tiles: Tiles, m: usize, n: usize, k: usize) -> usize {
    if n <= tiles.lanes {
        narrow_scratch_len(tiles, k)
    } else if forward_transposes(tiles, m, n) {
        m * n + gemm_scratch_len_for(tiles, n, m, k)
    } else {
        gemm_scratch_len_for(tiles, m, n, k)
    }
}

/// Splits `len` floats starting on a cache line off the front of `buffer`.
pub(crate) fn take_aligned(buffer: &mut [f32], len: usize) -> (&mut [f32], &mut [f32]) {
    let skip = floats_to_line(buffer.as_ptr());
    let (taken, rest) = buffer[skip..].split_at_mut(len);
    (taken, rest)
}

/// `[f(0), f(1), ..., f(N - 1)]`, built by a plain loop over an array started at `fill`.
///
/// The level kernels use this rather than `core::array::from_fn` for arrays of vectors:
/// `from_fn` is not always inlined, and a vector intrinsic in a function that is not inlined
/// into the level's `#[target_feature]` entry point becomes a call per element (seen: the 8×8
/// transposes of the AVX levels ran at half the speed of the SSE ones).
#[inline(always)]
pub(crate) fn array_of<T: Copy, const N: usize>(fill: T, mut f: impl FnMut(usize) -> T) -> [T; N] {
    let mut out = [fill; N];
    for (i, value) in out.iter_mut().enumerate() {
        *value = f(i);
    }
    out
}
