//! The kernels at the AVX-512F level (`simd_x86.rs`), entered through
//! `entry`, whose functions enable those instructions.

pub(crate) use super::simd_x86::avx512 as simd;

#[path = "elementwise.rs"]
#[allow(clippy::duplicate_mod)] // one copy of the kernel per level: see mod.rs
pub(crate) mod elementwise;
#[path = "gemm.rs"]
#[allow(clippy::duplicate_mod)] // one copy of the kernel per level: see mod.rs
pub(crate) mod gemm;
#[path = "products.rs"]
#[allow(clippy::duplicate_mod)] // one copy of the kernel per level: see mod.rs
pub(crate) mod products;
#[path = "strips.rs"]
#[allow(clippy::duplicate_mod)] // one copy of the kernel per level: see mod.rs
pub(crate) mod strips;
#[path = "transpose.rs"]
#[allow(clippy::duplicate_mod)] // one copy of the kernel per level: see mod.rs
pub(crate) mod transpose;
#[path = "update.rs"]
#[allow(clippy::duplicate_mod)] // one copy of the kernel per level: see mod.rs
pub(crate) mod update;
#[path = "vector.rs"]
#[allow(clippy::duplicate_mod)] // one copy of the kernel per level: see mod.rs
pub(crate) mod vector;
#[path = "vector_lanes.rs"]
#[allow(clippy::duplicate_mod)] // one copy of the kernel per level: see mod.rs
pub(crate) mod vector_lanes;

super::levels::x86_entry_points!("avx512f,avx2,fma");
