//! The kernels at the portable level (`simd.rs`, `wide`'s vectors as the
//! build's target features allow), on every target.

pub(crate) use super::simd;

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
