//! Every block size, threshold and path rule of the matrix kernels, in one table.
//!
//! The kernels (`gemm.rs`, `products.rs`, `strips.rs`) say *how* a product is computed; this
//! module says *which way* and *how big*. Each constant is one line of that decision with a
//! sentence on why; the shapes each rule serves and the measurements behind every value are
//! in `docs/TUNING.md`, with the commands that reproduce them. Nothing here is public API:
//! the `bench-internals` feature re-exports it for benchmarks and tests only.
//!
//! Reading order follows a product's life: which kernel a layer product takes
//! ([`uses_packing`], [`takes_shallow`], [`forward_transposes`]), then the blocked GEMM's
//! loop nest from the outside in (`NC`, `KC`, `MC`, the tile heights, the operand layouts),
//! then the strips.

use super::simd::HAS_SIMD;

// ---- Register tiles of each instruction-set level ---------------------------------------

/// The vector width and register tiles of one instruction-set level (`kernels/levels.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tiles {
    /// `f32` lanes per vector.
    pub lanes: usize,
    /// Rows of a micro-tile (loop 4, `ir`).
    pub mr: usize,
    /// Rows of the micro-tile for the last rows of A, where [`Tiles::mr`]-tall tiles would pad
    /// (see [`row_split`]).
    pub short_mr: usize,
    /// Whether the level has 32 vector registers, enough to hold B's strip of up to
    /// [`SHALLOW_MAX_DEPTH`] rows beside the accumulators (the register-held strips).
    pub register_strips: bool,
}

impl Tiles {
    /// Columns of a micro-tile (loop 5, `jr`): two vectors; a last panel of at most one
    /// vector of columns runs a one-vector tile.
    pub const fn nr(self) -> usize {
        2 * self.lanes
    }
}

/// AVX-512: 12 rows × 2 vectors = 24 accumulators, plus 2 registers for the B row and 1 for
/// the broadcast A value, 27 of the 32 zmm registers; each loaded B vector feeds 12 FMAs.
/// The last rows in 8 × 2 tiles (16 accumulators), where 12 would pad.
pub const AVX512_TILES: Tiles = Tiles { lanes: 16, mr: 12, short_mr: 8, register_strips: true };

/// 8-lane vectors (AVX2, and `wide`'s 8-lane type elsewhere): 6 rows × 2 vectors = 12
/// accumulators (enough independent FMA chains for 2 pipes × 4 cycles), 15 of AVX2's 16
/// vector registers.
pub const EIGHT_LANE_TILES: Tiles = Tiles { lanes: 8, mr: 6, short_mr: 6, register_strips: false };

/// Without SIMD (4 scalar lanes): never blocked ([`uses_packing`] is false), listed so the
/// scratch lengths cover every level.
pub const SCALAR_TILES: Tiles = Tiles { lanes: 4, mr: 6, short_mr: 6, register_strips: false };

/// Every level's tiles, for the scratch lengths (`layout.rs`), which fit whichever runs.
pub const ALL_TILES: [Tiles; 2] = [AVX512_TILES, EIGHT_LANE_TILES];

// ---- Rules a benchmark can switch off ---------------------------------------------------

/// The rules whose gain is small enough to be worth re-measuring: a benchmark built with the
/// `bench-internals` feature switches each off ([`set_rule_enabled`]) and times the path that
/// stands in for it in the same interleaved rounds (`ratios -- ablation`). In other builds
/// every rule is always on and the switch compiles to nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Short tiles for the rows a tall tile would pad ([`RowSplit::OneShort`], `TwoShort`,
    /// `Few`); off: every row in tall tiles.
    ShortTiles,
    /// Every row in short tiles for shallow products ([`RowSplit::AllShort`]); off: the split
    /// by remainder.
    ShallowShortTiles,
    /// One-vector tiles for a last panel of at most `LANES` columns; off: two-vector tiles.
    OneVectorTiles,
    /// B read in place at a colliding stride under [`COLLIDING_B_IN_PLACE`]; off: packed.
    CollidingBInPlace,
    /// B read in place at a long, line-aligned stride ([`LONG_STRIDE_B_IN_PLACE_ROWS`]); off:
    /// packed.
    LongStrideBInPlace,
    /// Packing a row-major A whose rows collide ([`PACK_COLLIDING_ROWS_FROM`]); off: read by
    /// rows.
    PackCollidingRows,
}

#[cfg_attr(not(feature = "bench-internals"), allow(dead_code))]
impl Rule {
    /// Every rule that can be switched off.
    pub const ALL: [Rule; 6] = [
        Rule::ShortTiles,
        Rule::ShallowShortTiles,
        Rule::OneVectorTiles,
        Rule::CollidingBInPlace,
        Rule::LongStrideBInPlace,
        Rule::PackCollidingRows,
    ];
}

#[cfg(feature = "bench-internals")]
mod switches {
    use super::Rule;
    use core::sync::atomic::{AtomicU32, Ordering};

    /// Bit `rule as u32` set: that rule is off.
    static DISABLED: AtomicU32 = AtomicU32::new(0);

    /// Switches `rule` on or off for every product that starts afterwards (benchmarks and
    /// tests only; not thread-safe against products running at the same time).
    pub fn set_rule_enabled(rule: Rule, on: bool) {
        let bit = 1 << rule as u32;
        let disabled = DISABLED.load(Ordering::Relaxed);
        DISABLED.store(if on { disabled & !bit } else { disabled | bit }, Ordering::Relaxed);
    }

    /// Whether `rule` is on.
    #[inline(always)]
    pub fn rule_enabled(rule: Rule) -> bool {
        DISABLED.load(Ordering::Relaxed) & (1 << rule as u32) == 0
    }
}

#[cfg(feature = "bench-internals")]
pub use switches::{rule_enabled, set_rule_enabled};

/// Whether `rule` is on: always, without the `bench-internals` feature.
#[cfg(not(feature = "bench-internals"))]
#[inline(always)]
pub const fn rule_enabled(_rule: Rule) -> bool {
    true
}

// ---- Which kernel a layer product takes (`products.rs`) --------------------------------

/// Extent, in every dimension, from which a product takes the blocked GEMM whatever its
/// volume: below it packing costs more than the register tiles save.
pub const PACKING_THRESHOLD: usize = 20;

/// Smallest extent, in every dimension, with which a product of at least
/// [`SMALL_SIDE_VOLUME`] multiply-adds still takes the blocked path (a 128→10 classifier at
/// batch 64), since its A and the gradients' B are read in place rather than packed.
pub const SMALL_SIDE_MIN: usize = 8;

/// Multiply-adds from which a product with a side of at least [`SMALL_SIDE_MIN`] takes the
/// blocked path.
pub const SMALL_SIDE_VOLUME: usize = 8_192;

/// Whether an `m × n × k` product takes the blocked path (a strip or the GEMM) rather than
/// the direct loops: only with SIMD (without it the blocked kernel is not even linked), when
/// every side reaches [`PACKING_THRESHOLD`], or reaches [`SMALL_SIDE_MIN`] in a product of
/// [`SMALL_SIDE_VOLUME`] multiply-adds.
pub const fn uses_packing(m: usize, n: usize, k: usize) -> bool {
    let smallest = if m < n { m } else { n };
    let smallest = if smallest < k { smallest } else { k };
    HAS_SIMD
        && (smallest >= PACKING_THRESHOLD
            || (smallest >= SMALL_SIDE_MIN && m.saturating_mul(n).saturating_mul(k) >= SMALL_SIDE_VOLUME))
}

/// Vectors per register block of a row computed by the direct `C = A·B` loops, widest
/// first: 8 vectors cover two FMA pipes ×
/// 4 cycles of latency, 4 and 1 take what is left of rows narrower than that, and the last
/// columns (fewer than one vector) go by axpys.
pub const DIRECT_ROW_VECTORS: [usize; 3] = [8, 4, 1];

/// Whether the blocked forward product `X·Wᵀ` computes its transpose `W·Xᵀ` (then
/// transposes it back, adding the bias): when the layer has more outputs than the batch has
/// rows, or that orientation pads less of the `MR × NR` tiles. The weights are then read by
/// rows in place and only the inputs are packed. Forward products with at most `LANES`
/// outputs take the narrow strip before this rule is asked.
pub const fn forward_transposes(tiles: Tiles, m: usize, n: usize) -> bool {
    let (mr, nr) = (tiles.mr, tiles.nr());
    let direct_tiles = m.div_ceil(mr) * mr * n.div_ceil(nr) * nr;
    let transposed_tiles = n.div_ceil(mr) * mr * m.div_ceil(nr) * nr;
    n > m || transposed_tiles < direct_tiles
}

// ---- The GEMM's loop nest, outermost first (`gemm.rs`) ----------------------------------

/// Columns of a B block (loop 1, `jc`): `KC × NC` floats = 1 MiB, which stays in a 2 MiB L2
/// while every A panel of the block streams over it. A multiple of every level's tile width.
pub const NC: usize = 1024;

/// Depth of a block (loop 2, `pc`): one A micro-panel (`MR × KC`, 12 KiB with AVX-512) stays
/// in L1 while the B micro-panels (`KC × NR`) stream past it from L2.
pub const KC: usize = 256;

/// Rows of an A block (loop 3, `ic`): the A panels packed at once, `MC × KC` floats =
/// 480 KiB beside the B block in L2. A multiple of every level's tile heights (12, 8, 6).
pub const MC: usize = 480;

/// Depth up to which [`row_split`] puts every row in short tiles when they divide the rows:
/// there a tile's fixed cost (setting up its rows, storing it) outweighs its arithmetic.
pub const SHALLOW_DEPTH: usize = 32;

/// How a product's rows split between tile heights (loop 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowSplit {
    /// Every row in short tiles: at most [`SHALLOW_DEPTH`] deep and `m` a multiple of
    /// the short tile height.
    AllShort,
    /// Every row in tall tiles: nothing left over, more than a short tile left over, or both
    /// heights the same.
    AllTall,
    /// Tall tiles, then one short tile for the rows left over (padded less than a tall one).
    OneShort,
    /// Tall tiles, then the last tall tile's rows and the rest as two short tiles.
    TwoShort,
    /// Fewer rows than a tall tile: one short tile.
    Few,
}

/// Which [`RowSplit`] an `m`-row product `k` deep takes with `tiles`.
pub fn row_split(tiles: Tiles, m: usize, k: usize) -> RowSplit {
    let (mr, short_mr) = (tiles.mr, tiles.short_mr);
    if k <= SHALLOW_DEPTH && m.is_multiple_of(short_mr) && rule_enabled(Rule::ShallowShortTiles) {
        return RowSplit::AllShort;
    }
    let left = m % mr;
    if mr == short_mr || left == 0 || left > short_mr || !rule_enabled(Rule::ShortTiles) {
        RowSplit::AllTall
    } else if left > mr - short_mr {
        RowSplit::OneShort
    } else if m >= mr {
        RowSplit::TwoShort
    } else {
        RowSplit::Few
    }
}

impl RowSplit {
    /// The first rows of an `m`-row A, a multiple of `tiles.mr`, that go in tall tiles under
    /// this split; the rest go in short tiles. With 12 and 8, 256 rows are 20 × 12 + 2 × 8
    /// instead of 22 × 12, and 64 rows 4 × 12 + 2 × 8.
    pub const fn tall_rows(self, tiles: Tiles, m: usize) -> usize {
        let mr = tiles.mr;
        match self {
            RowSplit::AllShort | RowSplit::Few => 0,
            RowSplit::AllTall => m,
            RowSplit::OneShort => m - m % mr,
            RowSplit::TwoShort => m - m % mr - mr,
        }
    }
}

/// Depth strides (in floats) that are multiples of this make an operand's panel rows collide
/// in L1: 1 KiB apart, a panel `KC` deep keeps its lines in at most 8 of the 64 sets.
pub const COLLIDING_STRIDE: usize = 256;

/// The largest depth stride, in floats, of a panel read in place: 2 KiB, the longest stride
/// the L1 stride prefetcher of current x86 cores follows.
pub const MAX_IN_PLACE_STRIDE: usize = 512;

/// Whether panels whose consecutive depths lie `depth_stride` floats apart (an A with unit
/// row stride, a B with unit column stride) are read in place rather than packed: unless
/// their rows collide ([`COLLIDING_STRIDE`]) or the prefetcher cannot follow them
/// ([`MAX_IN_PLACE_STRIDE`]).
pub const fn readable_in_place(depth_stride: usize) -> bool {
    !depth_stride.is_multiple_of(COLLIDING_STRIDE) && depth_stride <= MAX_IN_PLACE_STRIDE
}

/// The largest `m · depth_stride` at which B panels at a colliding stride are still read in
/// place (384 rows at 256 floats, 192 at 512): their collisions cost once per A panel
/// streaming over them, the copy once.
pub const COLLIDING_B_IN_PLACE: usize = 384 * 256;

/// The most rows of C for which B panels with a stride over [`MAX_IN_PLACE_STRIDE`] are read
/// in place when every panel row starts on a cache line (32 floats are then two lines, not
/// three).
pub const LONG_STRIDE_B_IN_PLACE_ROWS: usize = 256;

/// Why B's panels are read in place, or that they are packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BLayout {
    /// Read in place: the stride neither collides nor outruns the prefetcher.
    InPlace,
    /// Read in place at a colliding stride, since few A panels stream over them.
    InPlaceColliding,
    /// Read in place at a long stride, since their rows start on cache lines.
    InPlaceLongStride,
    /// Packed into NR-wide panels.
    Packed,
}

/// How B is read in a product with `m` rows whose B has unit column stride and depths
/// `depth_stride` floats apart (`rows_on_lines`: every panel row starts on a cache line);
/// a B without unit column stride (the forward's `Wᵀ`) is always packed.
pub fn b_layout(unit_column_stride: bool, depth_stride: usize, m: usize, rows_on_lines: bool) -> BLayout {
    if !unit_column_stride {
        BLayout::Packed
    } else if readable_in_place(depth_stride) {
        BLayout::InPlace
    } else if depth_stride <= MAX_IN_PLACE_STRIDE
        && m.saturating_mul(depth_stride) <= COLLIDING_B_IN_PLACE
        && rule_enabled(Rule::CollidingBInPlace)
    {
        BLayout::InPlaceColliding
    } else if rows_on_lines
        && !depth_stride.is_multiple_of(COLLIDING_STRIDE)
        && m <= LONG_STRIDE_B_IN_PLACE_ROWS
        && rule_enabled(Rule::LongStrideBInPlace)
    {
        BLayout::InPlaceLongStride
    } else {
        BLayout::Packed
    }
}

/// Row strides (in floats) at which the `MR` rows of an A read by rows collide in L1: 2 KiB
/// apart, they share one or two sets with each other and the streaming B panels.
pub const ROWS_COLLIDE_STRIDE: usize = 512;

/// Columns of C from which a row-major A whose rows collide is packed rather than read by
/// rows: 16 tiles per A panel, enough to pay for the copy.
pub const PACK_COLLIDING_ROWS_FROM: usize = 512;

/// How an A block is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ALayout {
    /// A row-major A, broadcast straight from `MR` rows (no transposing copy).
    Rows,
    /// A with unit row stride (the weight gradient's `dZᵀ`), its panel columns read in place.
    InPlace,
    /// Packed into MR-tall panels.
    Packed,
}

/// How A is read, from its strides and the columns `nc` of the block of C it serves.
pub fn a_layout(row_stride: usize, col_stride: usize, nc: usize) -> ALayout {
    let rows_collide = row_stride.is_multiple_of(ROWS_COLLIDE_STRIDE) && rule_enabled(Rule::PackCollidingRows);
    if col_stride == 1 && (!rows_collide || nc < PACK_COLLIDING_ROWS_FROM) {
        ALayout::Rows
    } else if row_stride == 1 && readable_in_place(col_stride) {
        ALayout::InPlace
    } else {
        ALayout::Packed
    }
}

// ---- Strips: products with one small dimension (`strips.rs`) ---------------------------

/// Rows of A per register tile of the narrow forward strip (at most `LANES` outputs): 8
/// accumulators, the fewest that cover two FMA pipes × 4 cycles of latency, and 8 row
/// pointers still fit in registers.
pub const NARROW_ROWS: usize = 8;

/// The deepest `C = A·B` computed with B's strip held in registers (the input gradient of a
/// layer with few outputs), with AVX-512: a strip is this many of its 32 vector registers,
/// beside two accumulators.
pub const SHALLOW_MAX_DEPTH: usize = 15;

/// Fewest rows of A for the register-held strips: below, loading each strip costs more
/// than the direct loops' row at a time.
pub const SHALLOW_MIN_ROWS: usize = 4;

/// Rows of A per pass over B's strips: each strip is loaded into registers once per block;
/// shorter blocks reload the strips too often, longer ones walk all of a large C per strip.
pub const SHALLOW_ROW_BLOCK: usize = 64;

/// Row strides of C (in floats) at which the register-held strips are not used: rows 4 KiB
/// apart all fall into one L1 set and evict each other as a pass stores them.
pub const SHALLOW_AVOID_STRIDE: usize = 1024;

/// Whether `C = A·B` (`m × n`, depth `k`) takes the register-held strips: with 32 vector
/// registers (AVX-512; with 16 the strip would spill), depths `1..=SHALLOW_MAX_DEPTH`, at least
/// [`SHALLOW_MIN_ROWS`] rows, and C's rows not a multiple of [`SHALLOW_AVOID_STRIDE`] apart.
pub const fn takes_shallow(tiles: Tiles, m: usize, n: usize, k: usize) -> bool {
    tiles.register_strips
        && k >= 1
        && k <= SHALLOW_MAX_DEPTH
        && m >= SHALLOW_MIN_ROWS
        && !n.is_multiple_of(SHALLOW_AVOID_STRIDE)
}
