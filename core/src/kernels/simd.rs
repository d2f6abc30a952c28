//! The portable level's SIMD vector type, chosen at compile time, and its register tiles.
//!
//! Every target has this level: on x86-64 it is the baseline the build was compiled for
//! (SSE2 unless `-C target-cpu` says more), beside which `simd_x86.rs` adds AVX2 and
//! AVX-512 levels chosen at run time (`levels.rs`); elsewhere it is the only level.
//!
//! With AVX-512 enabled (e.g. `-C target-cpu=native` on a CPU that has it) the kernels run on
//! 16-lane `f32x16` vectors: cores with two 512-bit FMA units (Intel server parts) do twice
//! the arithmetic per cycle that 8-lane vectors allow. With other SIMD units (AVX2, SSE,
//! NEON, WebAssembly SIMD) they run on 8-lane `f32x8`, which `wide` lowers to what the target
//! has. Without SIMD (a Cortex-M FPU) they run on 4-lane `f32x4`, plain scalar code.

#[cfg(target_feature = "avx512f")]
mod choice {
    /// The kernels' vector type.
    pub type Vector = wide::f32x16;
    /// Number of `f32` lanes in [`Vector`].
    pub const LANES: usize = 16;
}

#[cfg(all(
    not(target_feature = "avx512f"),
    any(target_feature = "sse2", target_feature = "neon", target_feature = "simd128")
))]
mod choice {
    /// The kernels' vector type.
    pub type Vector = wide::f32x8;
    /// Number of `f32` lanes in [`Vector`].
    pub const LANES: usize = 8;
}

/// Without a SIMD unit every lane is a scalar instruction: 4 lanes keep loops unrolled
/// enough for the FPU's pipeline at half the code of 8 (flash is the scarce resource there).
#[cfg(not(any(target_feature = "sse2", target_feature = "neon", target_feature = "simd128")))]
mod choice {
    /// The kernels' vector type.
    pub type Vector = wide::f32x4;
    /// Number of `f32` lanes in [`Vector`].
    pub const LANES: usize = 4;
}

pub use choice::{Vector, LANES};

use super::tuning::Tiles;

/// This level's register tiles: `wide`'s vector width decides them.
pub const TILES: Tiles = if LANES == 16 {
    super::tuning::AVX512_TILES
} else if LANES == 8 {
    super::tuning::EIGHT_LANE_TILES
} else {
    super::tuning::SCALAR_TILES
};
/// Rows of a tall micro-tile.
pub const MR: usize = TILES.mr;
/// Rows of a short micro-tile.
pub const SHORT_MR: usize = TILES.short_mr;
/// Columns of a micro-tile.
pub const NR: usize = TILES.nr();

/// Whether the target has a SIMD unit `wide` uses (SSE2, NEON or WebAssembly SIMD). Without
/// one (a Cortex-M, say) `wide`'s vectors are plain arrays: the kernels then skip GEMM
/// packing, which pays off only with SIMD registers and caches, and take `exp`/`tanh` from
/// `libm`, which is smaller in flash than a lane-by-lane polynomial.
pub const HAS_SIMD: bool = cfg!(any(target_feature = "sse2", target_feature = "neon", target_feature = "simd128"));

/// Applies a scalar function to every lane.
#[inline(always)]
pub fn map_lanes(x: Vector, f: impl Fn(f32) -> f32) -> Vector {
    Vector::from(x.to_array().map(f))
}

/// Loads [`LANES`] consecutive values; `chunk` must have exactly that many elements.
#[inline(always)]
pub fn load(chunk: &[f32]) -> Vector {
    let mut lanes = [0.0f32; LANES];
    lanes.copy_from_slice(chunk);
    Vector::from(lanes)
}

/// Stores a vector into `chunk`, which must have exactly [`LANES`] elements.
#[inline(always)]
pub fn store(chunk: &mut [f32], value: Vector) {
    chunk.copy_from_slice(&value.to_array());
}

/// Eight `f32` lanes, the block of the 8×8 transposes (packing and the forward's output
/// transpose): `wide`'s `f32x8`, at whatever width this build gives it.
pub(crate) use wide::f32x8 as Block8;

/// Loads the first 8 values of `chunk` as a [`Block8`].
#[inline(always)]
pub(crate) fn load8(chunk: &[f32]) -> Block8 {
    let mut lanes = [0.0f32; 8];
    lanes.copy_from_slice(&chunk[..8]);
    Block8::from(lanes)
}
