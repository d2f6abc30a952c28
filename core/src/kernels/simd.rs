//! The SIMD vector type every kernel is written in, chosen at compile time.
//!
//! With AVX-512 enabled (e.g. `-C target-cpu=native` on a CPU that has it) the kernels run on
//! 16-lane `f32x16` vectors: cores with two 512-bit FMA units (Intel server parts) do twice
//! the arithmetic per cycle that 8-lane vectors allow. Everywhere else (AVX2, SSE, NEON, a
//! Cortex-M FPU with no SIMD at all) they run on 8-lane `f32x8`, which `wide` lowers to
//! whatever the target has, down to scalar code.

#[cfg(target_feature = "avx512f")]
mod choice {
    /// The kernels' vector type.
    pub type Vector = wide::f32x16;
    /// Number of `f32` lanes in [`Vector`].
    pub const LANES: usize = 16;
}

#[cfg(not(target_feature = "avx512f"))]
mod choice {
    /// The kernels' vector type.
    pub type Vector = wide::f32x8;
    /// Number of `f32` lanes in [`Vector`].
    pub const LANES: usize = 8;
}

pub use choice::{Vector, LANES};

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
