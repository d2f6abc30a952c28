//! Which path each matrix product took: a record for tests, compiled only with the
//! `kernel-paths` feature.
//!
//! Every branch the kernels take for speed calls [`record`] with its [`KernelPath`]. Without
//! the feature `record` is an empty inline function, so normal builds carry no counter and
//! no code. With it, each path has a global counter, and `tests/tests/kernel_paths.rs` aims
//! shapes at every path and boundary at every level the machine has, then fails if a path
//! that exists at that level ([`KernelPath::exists_at`]) was never taken: a new path without
//! a test fails CI.

use super::levels::SimdLevel;
use super::tuning::SMALL_SIDE_MIN;

/// Defines [`KernelPath`] with its `ALL` list and names from one table, so a path added to
/// the enum is in `ALL` too.
macro_rules! kernel_paths {
    ($($(#[$doc:meta])* $path:ident,)*) => {
        /// One path a matrix product can take (see the module notes).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum KernelPath {
            $($(#[$doc])* $path,)*
        }

        #[cfg_attr(not(feature = "bench-internals"), allow(dead_code))]
        impl KernelPath {
            /// Every path, in declaration order.
            pub const ALL: &'static [KernelPath] = &[$(KernelPath::$path,)*];

            /// The path's name, as in the source.
            pub const fn name(self) -> &'static str {
                match self {
                    $(KernelPath::$path => stringify!($path),)*
                }
            }
        }
    };
}

kernel_paths! {
    /// Forward `X·Wᵀ + b` by direct dot products (small products, or no SIMD).
    ForwardDirect,
    /// Forward with at most `LANES` outputs: the narrow strip.
    ForwardNarrow,
    /// Forward by the GEMM on `W·Xᵀ`, transposed back with the bias.
    ForwardTransposed,
    /// Forward by the GEMM on `X·Wᵀ`, accumulating onto the bias.
    ForwardGemm,
    /// Input gradient `dZ·W` by the direct loops.
    InputGradientDirect,
    /// Input gradient with B's strips in registers (AVX-512 only).
    InputGradientShallow,
    /// Input gradient by the GEMM.
    InputGradientGemm,
    /// Weight gradient `dZᵀ·X` by the direct axpys.
    WeightGradientDirect,
    /// Weight gradient by the GEMM.
    WeightGradientGemm,
    /// Direct `A·B`: the widest block of a row held in registers (`DIRECT_ROW_VECTORS[0]`).
    DirectRowWide,
    /// Direct `A·B`: the middle block of a row held in registers (`DIRECT_ROW_VECTORS[1]`).
    DirectRowMiddle,
    /// Direct `A·B`: the narrowest block of a row held in registers (`DIRECT_ROW_VECTORS[2]`).
    DirectRowLast,
    /// Direct `A·B`: the columns left after the vectors (or every column without SIMD), by axpys.
    DirectRowAxpyTail,
    /// GEMM: B's panels read in place.
    BInPlace,
    /// GEMM: B's panels read in place at a colliding stride.
    BInPlaceColliding,
    /// GEMM: B's panels read in place at a long, line-aligned stride.
    BInPlaceLongStride,
    /// GEMM: B packed.
    BPacked,
    /// GEMM: an operand read in place whose partial last panel is packed.
    PartialPanelPacked,
    /// GEMM: A broadcast from its rows in place.
    ARows,
    /// GEMM: A's panel columns read in place.
    AInPlace,
    /// GEMM: A packed.
    APacked,
    /// GEMM rows: all in short tiles.
    SplitAllShort,
    /// GEMM rows: all in tall tiles.
    SplitAllTall,
    /// GEMM rows: tall tiles and one short tile (AVX-512 only).
    SplitOneShort,
    /// GEMM rows: tall tiles and two short tiles (AVX-512 only).
    SplitTwoShort,
    /// GEMM rows: fewer than a tall tile (AVX-512 only).
    SplitFew,
    /// GEMM: more than one `NC` block of columns.
    SeveralColumnBlocks,
    /// GEMM: more than one `KC` block of depth (later blocks add into C).
    SeveralDepthBlocks,
    /// GEMM: more than one `MC` block of rows of one tile height.
    SeveralRowBlocks,
    /// GEMM tile two vectors wide.
    TileTwoVectors,
    /// GEMM tile one vector wide (a last panel of at most `LANES` columns).
    TileOneVector,
    /// GEMM tile only partly inside C, written through the edge buffer.
    TileEdge,
    /// Packing a row-major operand: full 8-row blocks through SIMD transposes.
    PackTransposedRows,
    /// Packing a row-major operand: a last block of fewer than 8 rows.
    PackTransposedPartialRows,
    /// Packing a row-major operand: depths left after the 8-deep blocks.
    PackDepthTail,
    /// Packing a full panel with contiguous columns: row copies.
    PackCopyRows,
    /// Packing any other panel element by element (a partial panel with contiguous columns).
    PackStrided,
    /// Narrow strip: a tile of `NARROW_ROWS` rows.
    NarrowTile,
    /// Narrow strip: one leftover row.
    NarrowRow,
    /// A strip's very last row stored lane by lane.
    StripStoreLanes,
    /// Register-held strips: a full `LANES`-wide strip (AVX-512 only).
    ShallowFullStrip,
    /// Register-held strips: a partial last strip (AVX-512 only).
    ShallowPartialStrip,
}

#[cfg_attr(not(feature = "bench-internals"), allow(dead_code))]
impl KernelPath {
    /// Whether the kernels at `level` have the path: the register-held strips and the
    /// short-tile splits other than "all short" need 32 vector registers (AVX-512); the
    /// blocked paths need SIMD. The coverage test fails on a path that exists and was not
    /// taken, and on one taken that should not exist, so this stays true.
    pub const fn exists_at(self, level: SimdLevel) -> bool {
        let tiles = level.tiles();
        let simd = level.has_simd();
        let two_heights = tiles.mr != tiles.short_mr;
        match self {
            KernelPath::InputGradientShallow | KernelPath::ShallowFullStrip | KernelPath::ShallowPartialStrip => {
                simd && tiles.register_strips
            }
            KernelPath::SplitOneShort | KernelPath::SplitTwoShort | KernelPath::SplitFew => simd && two_heights,
            // A strip row is cut short only where a strip can be narrower than a vector: the
            // register-held strips, or a narrow forward strip with fewer than `lanes` outputs,
            // which the blocked path's size rules admit only where lanes > SMALL_SIDE_MIN.
            KernelPath::StripStoreLanes => simd && (tiles.register_strips || tiles.lanes > SMALL_SIDE_MIN),
            KernelPath::ForwardDirect
            | KernelPath::InputGradientDirect
            | KernelPath::WeightGradientDirect
            | KernelPath::DirectRowAxpyTail => true,
            _ => simd,
        }
    }
}

#[cfg(feature = "kernel-paths")]
mod counters {
    use super::KernelPath;
    use core::sync::atomic::{AtomicU64, Ordering};

    static COUNTS: [AtomicU64; KernelPath::ALL.len()] = [const { AtomicU64::new(0) }; KernelPath::ALL.len()];

    pub(crate) fn record(path: KernelPath) {
        COUNTS[path as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// How often each path was taken since the program started (or the last [`reset`]).
    pub fn counts() -> impl Iterator<Item = (KernelPath, u64)> {
        KernelPath::ALL.iter().map(|&path| (path, COUNTS[path as usize].load(Ordering::Relaxed)))
    }

    /// Sets every counter to zero.
    pub fn reset() {
        COUNTS.iter().for_each(|count| count.store(0, Ordering::Relaxed));
    }
}

#[cfg(feature = "kernel-paths")]
pub use counters::{counts, reset};

/// Notes that a product took `path` (nothing without the `kernel-paths` feature).
#[inline(always)]
pub(crate) fn record(path: KernelPath) {
    #[cfg(feature = "kernel-paths")]
    counters::record(path);
    #[cfg(not(feature = "kernel-paths"))]
    let _ = path;
}
