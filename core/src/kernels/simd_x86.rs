//! The AVX2 + FMA and AVX-512 levels' vector types, on `core::arch` (the `wide` crate picks
//! its instructions when it is compiled, so a baseline build of it never uses AVX).
//!
//! Each level module offers what the level kernels (`gemm.rs`, `strips.rs`, `products.rs`,
//! `vector.rs`, `transpose.rs`, `elementwise.rs`, `update.rs`) use of a vector, under the same
//! names as the portable level's `wide` type, so those files compile unchanged once per
//! level. Both levels are stamped from one macro, [`x86_vector`], given their intrinsics.
//! `exp` and `tanh` follow `wide`'s algorithms (the portable level's) on the full width, so
//! every level computes them with the same formula, up to fused multiply-adds.
//!
//! Safety: the intrinsics here need the level's CPU features. These types are private to
//! the crate, and values of them are only made inside the kernels of their level, which run
//! only through the entry points of `levels.rs`, which the dispatcher calls only after the
//! CPU was found to have the features (`SimdLevel::is_supported`). Every memory access goes
//! through a slice that was first cut to exactly one vector's length, so it is in bounds.
#![allow(unsafe_code)]

/// Defines a level's `Vector` (a newtype over `$reg`, `$lanes` lanes), its `Mask`, `load`
/// and `store`, from the level's intrinsics.
macro_rules! x86_vector {
    (
        reg: $reg:ty, lanes: $lanes:literal, mask: $mask:ty,
        set1: $set1:ident, loadu: $loadu:ident, storeu: $storeu:ident,
        add: $add:ident, sub: $sub:ident, mul: $mul:ident, div: $div:ident, fmadd: $fmadd:ident,
        max: $max:ident, min: $min:ident, sqrt: $sqrt:ident,
        lt: |$lt_a:ident, $lt_b:ident| $lt:expr,
        gt: |$gt_a:ident, $gt_b:ident| $gt:expr,
        unordered: |$un_a:ident| $unordered:expr,
        select: |$sel_mask:ident, $sel_true:ident, $sel_false:ident| $select:expr,
        any: |$any_mask:ident| $any:expr,
        reduce_add: |$sum_v:ident| $reduce_add:expr,
        round_even: |$round_v:ident| $round_even:expr,
        exponent_bits: |$bits_v:ident| $exponent_bits:expr,
        one_shifted: |$shift_v:ident| $one_shifted:expr $(,)?
    ) => {
        use core::arch::x86_64::*;
        use core::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

        /// `f32` lanes per vector.
        pub(crate) const LANES: usize = $lanes;
        /// The level has SIMD (for the kernels' size rules).
        pub(crate) const HAS_SIMD: bool = true;
        /// Rows of a tall micro-tile.
        pub(crate) const MR: usize = TILES.mr;
        /// Rows of a short micro-tile.
        pub(crate) const SHORT_MR: usize = TILES.short_mr;
        /// Columns of a micro-tile.
        pub(crate) const NR: usize = TILES.nr();

        /// `LANES` floats in one vector register.
        #[derive(Clone, Copy)]
        pub(crate) struct Vector($reg);

        /// The result of a lane-wise comparison.
        #[derive(Clone, Copy)]
        pub(crate) struct Mask($mask);

        impl Vector {
            /// Every lane zero.
            // SAFETY: an all-zero bit pattern is a valid vector of 0.0 floats.
            pub(crate) const ZERO: Vector =
                Vector(unsafe { core::mem::transmute::<[f32; $lanes], $reg>([0.0; $lanes]) });
            /// Every lane one.
            // SAFETY: the bit pattern of `$lanes` floats 1.0 is a valid vector.
            pub(crate) const ONE: Vector =
                Vector(unsafe { core::mem::transmute::<[f32; $lanes], $reg>([1.0; $lanes]) });

            /// Every lane `value`.
            #[inline(always)]
            pub(crate) fn splat(value: f32) -> Vector {
                // SAFETY: see the module notes.
                Vector(unsafe { $set1(value) })
            }

            /// `self · a + b`, fused.
            #[inline(always)]
            pub(crate) fn mul_add(self, a: Vector, b: Vector) -> Vector {
                // SAFETY: see the module notes (the level has FMA).
                Vector(unsafe { $fmadd(self.0, a.0, b.0) })
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
                let $sum_v = self.0;
                // SAFETY: see the module notes.
                unsafe { $reduce_add }
            }

            /// Lane-wise maximum.
            #[inline(always)]
            pub(crate) fn max(self, other: Vector) -> Vector {
                // SAFETY: see the module notes.
                Vector(unsafe { $max(self.0, other.0) })
            }

            /// Lane-wise minimum.
            #[inline(always)]
            pub(crate) fn min(self, other: Vector) -> Vector {
                // SAFETY: see the module notes.
                Vector(unsafe { $min(self.0, other.0) })
            }

            /// Lane-wise square root.
            #[inline(always)]
            pub(crate) fn sqrt(self) -> Vector {
                // SAFETY: see the module notes.
                Vector(unsafe { $sqrt(self.0) })
            }

            /// Lane-wise absolute value (the sign bit cleared).
            #[inline(always)]
            pub(crate) fn abs(self) -> Vector {
                self.max(-self)
            }

            /// Lanes where `self < other` (false where either is NaN).
            #[inline(always)]
            pub(crate) fn simd_lt(self, other: Vector) -> Mask {
                let ($lt_a, $lt_b) = (self.0, other.0);
                // SAFETY: see the module notes.
                Mask(unsafe { $lt })
            }

            /// Lanes where `self > other` (false where either is NaN).
            #[inline(always)]
            pub(crate) fn simd_gt(self, other: Vector) -> Mask {
                let ($gt_a, $gt_b) = (self.0, other.0);
                // SAFETY: see the module notes.
                Mask(unsafe { $gt })
            }

            /// Lanes that are NaN.
            #[inline(always)]
            pub(crate) fn is_nan(self) -> Mask {
                let $un_a = self.0;
                // SAFETY: see the module notes.
                Mask(unsafe { $unordered })
            }

            /// `e^x` on every lane: `wide`'s algorithm (range reduction by ln 2 split in two
            /// parts, a degree-7 polynomial for `e^r`, `2^n` built in the exponent bits) on
            /// this level's full width, with fused multiply-adds; overflow to +inf above
            /// 88.723, 0 below -103.63, NaN kept.
            #[inline(always)]
            pub(crate) fn exp(self) -> Vector {
                let x = self;
                let (z, [excess, scale], _) = self.exp_parts();
                let z = (z + Vector::ONE) * excess * scale;
                let z = x.simd_gt(Vector::splat(88.723)).select(Vector::splat(f32::INFINITY), z);
                let z = x.simd_lt(Vector::splat(-103.63)).select(Vector::ZERO, z);
                x.is_nan().select(x, z)
            }

            /// `tanh(x)` on every lane, as `wide` computes it: `x` itself below 2e-4 in
            /// magnitude, ±1 above 9.011, else `-t / (t + 2)` with `t = e^(-2|x|) - 1`, the
            /// sign of `x` restored.
            #[inline(always)]
            pub(crate) fn tanh(self) -> Vector {
                let a = self.abs();
                let t = (a * Vector::splat(-2.0)).exp_m1_nonpositive();
                let magnitude = -t / (t + Vector::splat(2.0));
                let magnitude = a.simd_gt(Vector::splat(9.011)).select(Vector::ONE, magnitude);
                let signed = self.simd_lt(Vector::ZERO).select(-magnitude, magnitude);
                a.simd_lt(Vector::splat(2e-4)).select(self, signed)
            }

            /// `e^v - 1` for `v` in `[-18.03, 0]` (what [`Vector::tanh`] asks), accurate near
            /// zero: the polynomial part alone where the reduction is exact (`n = 0`).
            #[inline(always)]
            fn exp_m1_nonpositive(self) -> Vector {
                let (z, [excess, scale], n) = self.exp_parts();
                let n_is_zero = n.simd_gt(Vector::splat(-0.5));
                let z = n_is_zero.select(z, (z + Vector::ONE) * excess * scale - Vector::ONE);
                self.simd_lt(Vector::splat(-17.329)).select(-Vector::ONE, z)
            }

            /// The shared part of `exp`: `(e^r - 1, [2^(n - 127), 2^127] or [1, 2^n], n)` with
            /// `x = n·ln 2 + r`, `|r| ≤ ln2/2`: `2^n` comes in two factors, to be multiplied
            /// into `e^r` one after the other, so a result near `f32::MAX` does not overflow
            /// on the way.
            #[inline(always)]
            fn exp_parts(self) -> (Vector, [Vector; 2], Vector) {
                let n = (self * Vector::splat(core::f32::consts::LOG2_E)).round_even();
                let max_n = Vector::splat(127.0);
                let big = n.simd_gt(max_n);
                let n_safe = big.select(max_n, n);
                let excess = big.select(n - max_n, Vector::ZERO);
                // ln 2 in two parts (fdlibm's split), so `n · ln2_hi` is exact.
                let r = (-n).mul_add(Vector::splat(0.693_359_4), self);
                let r = (-n).mul_add(Vector::splat(-2.121_944_4e-4), r);
                let r2 = r * r;
                let r4 = r2 * r2;
                // No closure for the constants: a closure is a function of its own, and an
                // intrinsic inside one that is not inlined becomes a call.
                let (c0, c1, c2) = (Vector::splat(0.5), Vector::splat(1.0 / 6.0), Vector::splat(1.0 / 24.0));
                let (c3, c4, c5) =
                    (Vector::splat(1.0 / 120.0), Vector::splat(1.0 / 720.0), Vector::splat(1.0 / 5040.0));
                let poly = c3.mul_add(r, c2).mul_add(r2, c5.mul_add(r, c4).mul_add(r4, c1.mul_add(r, c0)));
                let e_r_minus_1 = poly.mul_add(r2, r);
                (e_r_minus_1, [excess.pow2n(), n_safe.pow2n()], n)
            }

            /// `2^n` for lanes holding whole numbers `n` (≤ 127): built in the exponent bits,
            /// or as a subnormal's single mantissa bit for `-149 ≤ n < -126`; 0 below.
            #[inline(always)]
            fn pow2n(self) -> Vector {
                let biased = self + Vector::splat(127.0 + 8_388_608.0);
                let $bits_v = biased.0;
                // SAFETY: see the module notes.
                let normal = Vector(unsafe { $exponent_bits });
                let subnormal = self.simd_lt(Vector::splat(-126.0));
                if !subnormal.any() {
                    return normal;
                }
                let $shift_v = (self + Vector::splat(149.0)).max(Vector::ZERO).0;
                // SAFETY: see the module notes.
                let bit = Vector(unsafe { $one_shifted });
                let bit = self.simd_lt(Vector::splat(-149.0)).select(Vector::ZERO, bit);
                subnormal.select(bit, normal)
            }

            /// Lane-wise rounding to the nearest whole number, ties to even.
            #[inline(always)]
            fn round_even(self) -> Vector {
                let $round_v = self.0;
                // SAFETY: see the module notes.
                Vector(unsafe { $round_even })
            }
        }

        impl Mask {
            /// `if_true` where the mask is set, `if_false` elsewhere.
            #[inline(always)]
            pub(crate) fn select(self, if_true: Vector, if_false: Vector) -> Vector {
                let ($sel_mask, $sel_true, $sel_false) = (self.0, if_true.0, if_false.0);
                // SAFETY: see the module notes.
                Vector(unsafe { $select })
            }

            /// Whether any lane is set.
            #[inline(always)]
            pub(crate) fn any(self) -> bool {
                let $any_mask = self.0;
                // SAFETY: see the module notes.
                #[allow(unused_unsafe)]
                unsafe {
                    $any
                }
            }
        }

        impl From<[f32; LANES]> for Vector {
            #[inline(always)]
            fn from(lanes: [f32; LANES]) -> Vector {
                load(&lanes)
            }
        }

        /// A binary operator from its intrinsic.
        macro_rules! operator {
            ($trait:ident, $method:ident, $intrinsic:ident) => {
                impl $trait for Vector {
                    type Output = Vector;
                    #[inline(always)]
                    fn $method(self, other: Vector) -> Vector {
                        // SAFETY: see the module notes.
                        Vector(unsafe { $intrinsic(self.0, other.0) })
                    }
                }
            };
        }
        operator!(Add, add, $add);
        operator!(Sub, sub, $sub);
        operator!(Mul, mul, $mul);
        operator!(Div, div, $div);

        impl Neg for Vector {
            type Output = Vector;
            #[inline(always)]
            fn neg(self) -> Vector {
                Vector::ZERO - self
            }
        }

        impl AddAssign for Vector {
            #[inline(always)]
            fn add_assign(&mut self, other: Vector) {
                *self = *self + other;
            }
        }

        /// Loads the first [`LANES`] values of `chunk` (which must have that many).
        #[inline(always)]
        pub(crate) fn load(chunk: &[f32]) -> Vector {
            let chunk = &chunk[..LANES];
            // SAFETY: `chunk` holds exactly LANES floats, the bytes read; see the module notes.
            Vector(unsafe { $loadu(chunk.as_ptr()) })
        }

        /// Stores a vector into the first [`LANES`] values of `chunk` (which must have that
        /// many).
        #[inline(always)]
        pub(crate) fn store(chunk: &mut [f32], value: Vector) {
            let chunk = &mut chunk[..LANES];
            // SAFETY: `chunk` holds exactly LANES floats, the bytes written; see the module
            // notes.
            unsafe { $storeu(chunk.as_mut_ptr(), value.0) }
        }

        /// Applies a scalar function to every lane.
        #[inline(always)]
        pub(crate) fn map_lanes(x: Vector, f: impl Fn(f32) -> f32) -> Vector {
            Vector::from(x.to_array().map(f))
        }
    };
}

/// AVX2 with FMA: 8 lanes, the same register tiles as the portable 8-lane level.
pub(crate) mod avx2 {
    use crate::kernels::tuning::{Tiles, EIGHT_LANE_TILES};

    /// This level's register tiles.
    pub(crate) const TILES: Tiles = EIGHT_LANE_TILES;

    // The expressions below run inside `unsafe` blocks of the generated methods (see the
    // module notes: the CPU has AVX and FMA).
    x86_vector! {
        reg: __m256, lanes: 8, mask: __m256,
        set1: _mm256_set1_ps, loadu: _mm256_loadu_ps, storeu: _mm256_storeu_ps,
        add: _mm256_add_ps, sub: _mm256_sub_ps, mul: _mm256_mul_ps, div: _mm256_div_ps, fmadd: _mm256_fmadd_ps,
        max: _mm256_max_ps, min: _mm256_min_ps, sqrt: _mm256_sqrt_ps,
        lt: |a, b| _mm256_cmp_ps::<_CMP_LT_OQ>(a, b),
        gt: |a, b| _mm256_cmp_ps::<_CMP_GT_OQ>(a, b),
        unordered: |a| _mm256_cmp_ps::<_CMP_UNORD_Q>(a, a),
        select: |mask, t, f| _mm256_blendv_ps(f, t, mask),
        any: |mask| _mm256_movemask_ps(mask) != 0,
        reduce_add: |v| {
            let halves = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
            _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps::<0b01>(pairs, pairs)))
        },
        round_even: |v| _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v),
        exponent_bits: |v| _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_castps_si256(v))),
        one_shifted: |v| _mm256_castsi256_ps(_mm256_sllv_epi32(_mm256_set1_epi32(1), _mm256_cvttps_epi32(v))),
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
            let [r0, r1, r2, r3, r4, r5, r6, r7] =
                [rows[0].0, rows[1].0, rows[2].0, rows[3].0, rows[4].0, rows[5].0, rows[6].0, rows[7].0];
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
    use crate::kernels::tuning::{Tiles, AVX512_TILES};

    pub(crate) use super::avx2::{load8, Block8};

    /// This level's register tiles.
    pub(crate) const TILES: Tiles = AVX512_TILES;

    // The expressions below run inside `unsafe` blocks of the generated methods (see the
    // module notes: the CPU has AVX-512F).
    x86_vector! {
        reg: __m512, lanes: 16, mask: __mmask16,
        set1: _mm512_set1_ps, loadu: _mm512_loadu_ps, storeu: _mm512_storeu_ps,
        add: _mm512_add_ps, sub: _mm512_sub_ps, mul: _mm512_mul_ps, div: _mm512_div_ps, fmadd: _mm512_fmadd_ps,
        max: _mm512_max_ps, min: _mm512_min_ps, sqrt: _mm512_sqrt_ps,
        lt: |a, b| _mm512_cmp_ps_mask::<_CMP_LT_OQ>(a, b),
        gt: |a, b| _mm512_cmp_ps_mask::<_CMP_GT_OQ>(a, b),
        unordered: |a| _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(a, a),
        select: |mask, t, f| _mm512_mask_blend_ps(mask, f, t),
        any: |mask| mask != 0,
        reduce_add: |v| _mm512_reduce_add_ps(v),
        round_even: |v| _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v),
        exponent_bits: |v| _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_castps_si512(v))),
        one_shifted: |v| _mm512_castsi512_ps(_mm512_sllv_epi32(_mm512_set1_epi32(1), _mm512_cvttps_epi32(v))),
    }
}
