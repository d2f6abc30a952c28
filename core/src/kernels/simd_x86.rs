//! The AVX2 + FMA and AVX-512 levels' vector types, on `core::arch` (the `wide` crate picks
//! its instructions when it is compiled, so a baseline build of it never uses AVX).
//!
//! Each level module offers what the matrix kernels (`gemm.rs`, `strips.rs`, `products.rs`,
//! `vector.rs`) use of a vector, under the same names as the portable level's `wide` type,
//! so those files compile unchanged once per level.
//!
//! Safety: the intrinsics here need the level's CPU features. These types are private to
//! the crate, and values of them are only made inside the kernels of their level, which run
//! only through the entry points of `levels.rs`, which the dispatcher calls only after the
//! CPU was found to have the features (`SimdLevel::is_supported`). Every memory access goes
//! through a slice that was first cut to exactly one vector's length, so it is in bounds.
#![allow(unsafe_code)]

/// AVX2 with FMA: 8 lanes, the same register tiles as the portable 8-lane level.
pub(crate) mod avx2 {
    use core::arch::x86_64::*;
    use core::ops::{Add, AddAssign, Mul};

    use crate::kernels::tuning::{Tiles, EIGHT_LANE_TILES};

    /// `f32` lanes per vector.
    pub(crate) const LANES: usize = 8;
    /// The level has SIMD (for the kernels' size rules).
    pub(crate) const HAS_SIMD: bool = true;
    /// This level's register tiles.
    pub(crate) const TILES: Tiles = EIGHT_LANE_TILES;
    /// Rows of a tall micro-tile.
    pub(crate) const MR: usize = TILES.mr;
    /// Rows of a short micro-tile.
    pub(crate) const SHORT_MR: usize = TILES.short_mr;
    /// Columns of a micro-tile.
    pub(crate) const NR: usize = TILES.nr();

    /// Eight `f32` lanes in a `ymm` register.
    #[derive(Clone, Copy)]
    pub(crate) struct Vector(__m256);

    impl Vector {
        /// Every lane zero.
        // SAFETY: an all-zero bit pattern is a valid `__m256` (eight 0.0 floats).
        pub(crate) const ZERO: Vector = Vector(unsafe { core::mem::transmute::<[f32; 8], __m256>([0.0; 8]) });

        /// Every lane `value`.
        #[inline(always)]
        pub(crate) fn splat(value: f32) -> Vector {
            // SAFETY: see the module notes (the CPU has AVX).
            Vector(unsafe { _mm256_set1_ps(value) })
        }

        /// `self · a + b`, fused.
        #[inline(always)]
        pub(crate) fn mul_add(self, a: Vector, b: Vector) -> Vector {
            // SAFETY: see the module notes (the CPU has FMA).
            Vector(unsafe { _mm256_fmadd_ps(self.0, a.0, b.0) })
        }

        /// The lanes as an array.
        #[inline(always)]
        pub(crate) fn to_array(self) -> [f32; LANES] {
            let mut lanes = [0.0; LANES];
            store(&mut lanes, self);
            lanes
        }

        /// The sum of the lanes.
        #[inline(always)]
        pub(crate) fn reduce_add(self) -> f32 {
            // SAFETY: see the module notes (the CPU has AVX).
            unsafe {
                let halves = _mm_add_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps::<1>(self.0));
                let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
                _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps::<0b01>(pairs, pairs)))
            }
        }
    }

    impl From<[f32; LANES]> for Vector {
        #[inline(always)]
        fn from(lanes: [f32; LANES]) -> Vector {
            load(&lanes)
        }
    }

    impl Add for Vector {
        type Output = Vector;
        #[inline(always)]
        fn add(self, other: Vector) -> Vector {
            // SAFETY: see the module notes (the CPU has AVX).
            Vector(unsafe { _mm256_add_ps(self.0, other.0) })
        }
    }

    impl AddAssign for Vector {
        #[inline(always)]
        fn add_assign(&mut self, other: Vector) {
            *self = *self + other;
        }
    }

    impl Mul for Vector {
        type Output = Vector;
        #[inline(always)]
        fn mul(self, other: Vector) -> Vector {
            // SAFETY: see the module notes (the CPU has AVX).
            Vector(unsafe { _mm256_mul_ps(self.0, other.0) })
        }
    }

    /// Loads the first [`LANES`] values of `chunk` (which must have that many).
    #[inline(always)]
    pub(crate) fn load(chunk: &[f32]) -> Vector {
        let chunk = &chunk[..LANES];
        // SAFETY: `chunk` holds exactly LANES floats, the bytes read; see the module notes.
        Vector(unsafe { _mm256_loadu_ps(chunk.as_ptr()) })
    }

    /// Stores a vector into the first [`LANES`] values of `chunk` (which must have that many).
    #[inline(always)]
    pub(crate) fn store(chunk: &mut [f32], value: Vector) {
        let chunk = &mut chunk[..LANES];
        // SAFETY: `chunk` holds exactly LANES floats, the bytes written; see the module notes.
        unsafe { _mm256_storeu_ps(chunk.as_mut_ptr(), value.0) }
    }

    /// Eight `f32` lanes, the block of the 8×8 transposes: the AVX vector itself.
    pub(crate) type Block8 = Vector;

    /// Loads the first 8 values of `chunk` as a [`Block8`].
    #[inline(always)]
    pub(crate) fn load8(chunk: &[f32]) -> Block8 {
        load(chunk)
    }

    impl Vector {
        /// The 8×8 transpose of eight rows: unpack pairs of rows, shuffle pairs of pairs, then
        /// exchange 128-bit halves (24 shuffles, all in registers).
        #[inline(always)]
        pub(crate) fn transpose(rows: [Vector; 8]) -> [Vector; 8] {
            let [r0, r1, r2, r3, r4, r5, r6, r7] = [rows[0].0, rows[1].0, rows[2].0, rows[3].0, rows[4].0, rows[5].0, rows[6].0, rows[7].0];
            // SAFETY: see the module notes (the CPU has AVX).
            unsafe {
                let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
                let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
                let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
                let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
                let (s0, s1) = (_mm256_shuffle_ps::<0x44>(t0, t2), _mm256_shuffle_ps::<0xEE>(t0, t2));
                let (s2, s3) = (_mm256_shuffle_ps::<0x44>(t1, t3), _mm256_shuffle_ps::<0xEE>(t1, t3));
                let (s4, s5) = (_mm256_shuffle_ps::<0x44>(t4, t6), _mm256_shuffle_ps::<0xEE>(t4, t6));
                let (s6, s7) = (_mm256_shuffle_ps::<0x44>(t5, t7), _mm256_shuffle_ps::<0xEE>(t5, t7));
                [
                    Vector(_mm256_permute2f128_ps::<0x20>(s0, s4)),
                    Vector(_mm256_permute2f128_ps::<0x20>(s1, s5)),
                    Vector(_mm256_permute2f128_ps::<0x20>(s2, s6)),
                    Vector(_mm256_permute2f128_ps::<0x20>(s3, s7)),
                    Vector(_mm256_permute2f128_ps::<0x31>(s0, s4)),
                    Vector(_mm256_permute2f128_ps::<0x31>(s1, s5)),
                    Vector(_mm256_permute2f128_ps::<0x31>(s2, s6)),
                    Vector(_mm256_permute2f128_ps::<0x31>(s3, s7)),
                ]
            }
        }
    }
}

/// AVX-512F: 16 lanes and 32 registers, the tiles of the portable level built for AVX-512.
pub(crate) mod avx512 {
    use core::arch::x86_64::*;
    use core::ops::{Add, AddAssign, Mul};

    use crate::kernels::tuning::{Tiles, AVX512_TILES};

    pub(crate) use super::avx2::{load8, Block8};

    /// `f32` lanes per vector.
    pub(crate) const LANES: usize = 16;
    /// The level has SIMD (for the kernels' size rules).
    pub(crate) const HAS_SIMD: bool = true;
    /// This level's register tiles.
    pub(crate) const TILES: Tiles = AVX512_TILES;
    /// Rows of a tall micro-tile.
    pub(crate) const MR: usize = TILES.mr;
    /// Rows of a short micro-tile.
    pub(crate) const SHORT_MR: usize = TILES.short_mr;
    /// Columns of a micro-tile.
    pub(crate) const NR: usize = TILES.nr();

    /// Sixteen `f32` lanes in a `zmm` register.
    #[derive(Clone, Copy)]
    pub(crate) struct Vector(__m512);

    impl Vector {
        /// Every lane zero.
        // SAFETY: an all-zero bit pattern is a valid `__m512` (sixteen 0.0 floats).
        pub(crate) const ZERO: Vector = Vector(unsafe { core::mem::transmute::<[f32; 16], __m512>([0.0; 16]) });

        /// Every lane `value`.
        #[inline(always)]
        pub(crate) fn splat(value: f32) -> Vector {
            // SAFETY: see the module notes (the CPU has AVX-512F).
            Vector(unsafe { _mm512_set1_ps(value) })
        }

        /// `self · a + b`, fused.
        #[inline(always)]
        pub(crate) fn mul_add(self, a: Vector, b: Vector) -> Vector {
            // SAFETY: see the module notes (the CPU has AVX-512F).
            Vector(unsafe { _mm512_fmadd_ps(self.0, a.0, b.0) })
        }

        /// The lanes as an array.
        #[inline(always)]
        pub(crate) fn to_array(self) -> [f32; LANES] {
            let mut lanes = [0.0; LANES];
            store(&mut lanes, self);
            lanes
        }

        /// The sum of the lanes.
        #[inline(always)]
        pub(crate) fn reduce_add(self) -> f32 {
            // SAFETY: see the module notes (the CPU has AVX-512F).
            unsafe { _mm512_reduce_add_ps(self.0) }
        }
    }

    impl From<[f32; LANES]> for Vector {
        #[inline(always)]
        fn from(lanes: [f32; LANES]) -> Vector {
            load(&lanes)
        }
    }

    impl Add for Vector {
        type Output = Vector;
        #[inline(always)]
        fn add(self, other: Vector) -> Vector {
            // SAFETY: see the module notes (the CPU has AVX-512F).
            Vector(unsafe { _mm512_add_ps(self.0, other.0) })
        }
    }

    impl AddAssign for Vector {
        #[inline(always)]
        fn add_assign(&mut self, other: Vector) {
            *self = *self + other;
        }
    }

    impl Mul for Vector {
        type Output = Vector;
        #[inline(always)]
        fn mul(self, other: Vector) -> Vector {
            // SAFETY: see the module notes (the CPU has AVX-512F).
            Vector(unsafe { _mm512_mul_ps(self.0, other.0) })
        }
    }

    /// Loads the first [`LANES`] values of `chunk` (which must have that many).
    #[inline(always)]
    pub(crate) fn load(chunk: &[f32]) -> Vector {
        let chunk = &chunk[..LANES];
        // SAFETY: `chunk` holds exactly LANES floats, the bytes read; see the module notes.
        Vector(unsafe { _mm512_loadu_ps(chunk.as_ptr()) })
    }

    /// Stores a vector into the first [`LANES`] values of `chunk` (which must have that many).
    #[inline(always)]
    pub(crate) fn store(chunk: &mut [f32], value: Vector) {
        let chunk = &mut chunk[..LANES];
        // SAFETY: `chunk` holds exactly LANES floats, the bytes written; see the module notes.
        unsafe { _mm512_storeu_ps(chunk.as_mut_ptr(), value.0) }
    }
}
