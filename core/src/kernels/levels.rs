//! Run-time choice of the instruction-set level the matrix and vector kernels run at.
//!
//! The kernels in `gemm.rs`, `strips.rs`, `products.rs` and `vector.rs` are compiled once per
//! level (see `mod.rs`): the portable level on every target, with `wide`'s vectors as the
//! build's target features allow; and on x86-64 also AVX2 + FMA and AVX-512F, on
//! `core::arch` vectors (`simd_x86.rs`), each behind entry points compiled with
//! `#[target_feature]`. The public kernel functions ask [`simd_level`] which to call: one
//! relaxed atomic load and a branch per product, never per element.
//!
//! Inside the level files every function that touches a vector is `#[inline(always)]` on
//! x86-64, so it is compiled within the entry points and gets their instruction set (a
//! vector intrinsic left in a function without it becomes a call); the public kernels that
//! were ordinary functions before the dispatch keep that on other targets
//! (`cfg_attr(target_arch = "x86_64", inline(always))`), so firmware code size does not grow.
//!
//! The level is chosen once, on first use: the `EMBERGRAD_SIMD` environment variable
//! (`baseline`, `avx2` or `avx512`; with the `std` feature) or else the best level the CPU
//! has; [`set_simd_level`] changes it later. CPU detection needs the `std` feature (which
//! `embergrad` has by default); a `no_std` build on x86-64 uses the levels its compile-time
//! target features guarantee. Other targets have only the portable level and no dispatch.

use core::fmt;

use super::tuning::Tiles;

/// An instruction-set level the matrix and vector kernels can run at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimdLevel {
    /// What the build targets, chosen at compile time: SSE2 on a default x86-64 build (or
    /// whatever `-C target-cpu` enables), NEON on aarch64, scalar code on a Cortex-M.
    Baseline,
    /// AVX2 with FMA, 8 lanes (x86-64).
    Avx2,
    /// AVX-512F, 16 lanes and 32 registers (x86-64).
    Avx512,
}

impl SimdLevel {
    /// Every level, from the least to the most capable.
    pub const ALL: [SimdLevel; 3] = [SimdLevel::Baseline, SimdLevel::Avx2, SimdLevel::Avx512];

    /// The level's name, as `EMBERGRAD_SIMD` takes it.
    pub const fn name(self) -> &'static str {
        match self {
            SimdLevel::Baseline => "baseline",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }

    /// The level named `name` (see [`SimdLevel::name`]).
    pub fn from_name(name: &str) -> Option<SimdLevel> {
        SimdLevel::ALL.into_iter().find(|level| level.name() == name)
    }

    /// Whether this build has the level and the CPU it runs on can run it.
    pub fn is_supported(self) -> bool {
        match self {
            SimdLevel::Baseline => true,
            SimdLevel::Avx2 => cpu_has_avx2_fma(),
            SimdLevel::Avx512 => cpu_has_avx512(),
        }
    }

    /// The level's vector width and register tiles.
    pub const fn tiles(self) -> Tiles {
        match self {
            SimdLevel::Baseline => super::simd::TILES,
            SimdLevel::Avx2 => super::tuning::EIGHT_LANE_TILES,
            SimdLevel::Avx512 => super::tuning::AVX512_TILES,
        }
    }

    /// Whether the level has vector registers (the blocked kernels are used only with them).
    pub const fn has_simd(self) -> bool {
        match self {
            SimdLevel::Baseline => super::simd::HAS_SIMD,
            SimdLevel::Avx2 | SimdLevel::Avx512 => true,
        }
    }
}

impl fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// [`set_simd_level`] was asked for a level this build or CPU does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsupportedSimdLevel(pub SimdLevel);

impl fmt::Display for UnsupportedSimdLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIMD level `{}` is not supported by this build or CPU", self.0)
    }
}

impl core::error::Error for UnsupportedSimdLevel {}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
fn cpu_has_avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

#[cfg(all(target_arch = "x86_64", not(feature = "std")))]
fn cpu_has_avx2_fma() -> bool {
    cfg!(all(target_feature = "avx2", target_feature = "fma"))
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_avx2_fma() -> bool {
    false
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
fn cpu_has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f") && cpu_has_avx2_fma()
}

#[cfg(all(target_arch = "x86_64", not(feature = "std")))]
fn cpu_has_avx512() -> bool {
    cfg!(all(target_feature = "avx512f", target_feature = "avx2", target_feature = "fma"))
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_avx512() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
mod choice {
    use super::SimdLevel;
    use core::sync::atomic::{AtomicU8, Ordering};

    /// The level in use, as its index in `SimdLevel::ALL` plus one; 0 until first chosen.
    static LEVEL: AtomicU8 = AtomicU8::new(0);

    /// The level the kernels run at (chosen on first use, see the module notes).
    #[inline]
    pub fn simd_level() -> SimdLevel {
        match LEVEL.load(Ordering::Relaxed) {
            1 => SimdLevel::Baseline,
            2 => SimdLevel::Avx2,
            3 => SimdLevel::Avx512,
            _ => choose(),
        }
    }

    /// Stores `level`, which must be supported.
    pub(super) fn store(level: SimdLevel) {
        let index = SimdLevel::ALL.iter().position(|&l| l == level).unwrap_or(0);
        LEVEL.store(index as u8 + 1, Ordering::Relaxed);
    }

    /// The first choice: `EMBERGRAD_SIMD` if it names a supported level, else the best one.
    #[cold]
    fn choose() -> SimdLevel {
        let level = requested().filter(|l| l.is_supported()).unwrap_or_else(|| {
            SimdLevel::ALL.into_iter().rev().find(|l| l.is_supported()).unwrap_or(SimdLevel::Baseline)
        });
        store(level);
        level
    }

    #[cfg(feature = "std")]
    fn requested() -> Option<SimdLevel> {
        std::env::var("EMBERGRAD_SIMD").ok().and_then(|name| SimdLevel::from_name(name.trim()))
    }

    #[cfg(not(feature = "std"))]
    fn requested() -> Option<SimdLevel> {
        None
    }
}

/// The level the kernels run at: on x86-64, chosen on first use (see the module notes); on
/// other targets always [`SimdLevel::Baseline`].
#[cfg(target_arch = "x86_64")]
pub fn simd_level() -> SimdLevel {
    choice::simd_level()
}

/// The level the kernels run at: on x86-64, chosen on first use (see the module notes); on
/// other targets always [`SimdLevel::Baseline`].
#[cfg(not(target_arch = "x86_64"))]
pub const fn simd_level() -> SimdLevel {
    SimdLevel::Baseline
}

/// Makes the kernels run at `level` from now on (for every thread), if this build and CPU
/// support it; otherwise changes nothing. Results differ between levels only by rounding;
/// at one level they are the same bit for bit on every run.
///
/// ```
/// use embergrad::kernels::{set_simd_level, simd_level, SimdLevel};
///
/// set_simd_level(SimdLevel::Baseline).unwrap();
/// assert_eq!(simd_level(), SimdLevel::Baseline);
/// ```
pub fn set_simd_level(level: SimdLevel) -> Result<(), UnsupportedSimdLevel> {
    if !level.is_supported() {
        return Err(UnsupportedSimdLevel(level));
    }
    #[cfg(target_arch = "x86_64")]
    choice::store(level);
    Ok(())
}

/// Calls `$function` of the kernels compiled for the level in use: the portable level's
/// module `$module`, or on x86-64 an AVX2 or AVX-512 entry point.
macro_rules! dispatch {
    ($module:ident :: $function:ident $(::<$($generic:ty),+>)? ( $($arg:expr),* $(,)? )) => {{
        #[cfg(target_arch = "x86_64")]
        {
            match $crate::kernels::levels::simd_level() {
                // SAFETY: `simd_level` returns a level only if `SimdLevel::is_supported`
                // found its instructions on this CPU, which is all the entry point needs.
                #[allow(unsafe_code)]
                $crate::kernels::levels::SimdLevel::Avx512 => unsafe {
                    $crate::kernels::avx512::entry::$function$(::<$($generic),+>)?($($arg),*)
                },
                // SAFETY: as above, for AVX2 and FMA.
                #[allow(unsafe_code)]
                $crate::kernels::levels::SimdLevel::Avx2 => unsafe {
                    $crate::kernels::avx2::entry::$function$(::<$($generic),+>)?($($arg),*)
                },
                $crate::kernels::levels::SimdLevel::Baseline => {
                    $crate::kernels::portable::$module::$function$(::<$($generic),+>)?($($arg),*)
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            $crate::kernels::portable::$module::$function$(::<$($generic),+>)?($($arg),*)
        }
    }};
}
pub(crate) use dispatch;

/// Entry points that call `super::$module::$name` with the same arguments inside a function
/// compiled with `$features`; each item may carry attributes (a `cfg`).
#[cfg(target_arch = "x86_64")]
macro_rules! entry_fns {
    ($features:literal, $module:ident; $($(#[$meta:meta])* $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;)*) => {
        $(
            $(#[$meta])*
            #[doc = concat!("See `", stringify!($module), ".rs`.")]
            #[target_feature(enable = $features)]
            #[allow(clippy::too_many_arguments)] // the kernels' BLAS-style signatures
            pub(crate) fn $name($($arg: $ty),*) $(-> $ret)? {
                super::$module::$name($($arg),*)
            }
        )*
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use entry_fns;

/// The entry points of one x86 level: each calls the level's kernel (inlined, with all it
/// calls) inside a function compiled with the level's target features.
#[cfg(target_arch = "x86_64")]
macro_rules! x86_entry_points {
    ($features:literal) => {
        /// This level's entry points, compiled with its target features; call them only
        /// where the CPU has them (`dispatch!`).
        pub(crate) mod entry {
            use crate::kernels::layout::MatRef;

            crate::kernels::levels::entry_fns! {
                $features, gemm;
                gemm(m: usize, n: usize, k: usize, a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32], accumulate: bool, scratch: &mut [f32]);
            }
            crate::kernels::levels::entry_fns! {
                $features, products;
                matmul_a_bt_bias(a: &[f32], b: &[f32], bias: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, scratch: &mut [f32]);
                matmul_a_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, scratch: &mut [f32]);
                matmul_at_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, scratch: &mut [f32]);
                #[cfg(feature = "bench-internals")]
                direct_a_bt_bias(a: &[f32], b: &[f32], bias: &[f32], c: &mut [f32], m: usize, k: usize, n: usize);
                #[cfg(feature = "bench-internals")]
                direct_a_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize);
                #[cfg(feature = "bench-internals")]
                direct_at_b(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize);
            }
            crate::kernels::levels::entry_fns! {
                $features, vector;
                dot(a: &[f32], b: &[f32]) -> f32;
                axpy(y: &mut [f32], alpha: f32, x: &[f32]);
                scale(y: &mut [f32], alpha: f32);
                sum(x: &[f32]) -> f32;
                #[cfg(feature = "bench-internals")]
                fma_peak(iters: u64) -> u64;
            }
            crate::kernels::levels::entry_fns! {
                $features, transpose;
                transpose_with_row_offsets(src: &[f32], rows: usize, cols: usize, offsets: &[f32], dst: &mut [f32]);
            }

            /// See `update.rs`.
            #[target_feature(enable = $features)]
            pub(crate) fn run_update<U: crate::kernels::ElementUpdate<S>, const S: usize>(
                rule: &U,
                params: &mut [f32],
                grads: &[f32],
                states: [&mut [f32]; S],
            ) {
                super::update::run_update(rule, params, grads, states)
            }

            /// See `elementwise.rs`.
            #[target_feature(enable = $features)]
            pub(crate) fn apply_function<F: crate::kernels::ElementFunction>(values: &mut [f32]) {
                super::elementwise::apply_function::<F>(values)
            }

            /// See `elementwise.rs`.
            #[target_feature(enable = $features)]
            pub(crate) fn apply_function_and_derivative<F: crate::kernels::ElementFunction>(
                values: &mut [f32],
                derivatives: &mut [f32],
            ) {
                super::elementwise::apply_function_and_derivative::<F>(values, derivatives)
            }

            /// See `elementwise.rs`.
            #[target_feature(enable = $features)]
            pub(crate) fn scale_by_derivative<F: crate::kernels::ElementFunction>(arguments: &[f32], grads: &mut [f32]) {
                super::elementwise::scale_by_derivative::<F>(arguments, grads)
            }

            crate::kernels::levels::entry_fns! {
                $features, elementwise;
                exp_slice(values: &mut [f32]);
                multiply(factors: &[f32], grads: &mut [f32]);
                max(values: &[f32]) -> f32;
                log_sum_exp(row: &[f32]) -> f32;
                softmax_in_place(row: &mut [f32]) -> f32;
            }
        }
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use x86_entry_points;
