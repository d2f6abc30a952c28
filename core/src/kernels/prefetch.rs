//! A cache prefetch hint: the one place the core uses `unsafe`.
//!
//! Safe Rust has no prefetch. The safe alternative, a plain load of the line ahead (kept
//! alive by folding it into a value), recovers little of the gain (docs/TUNING.md, under
//! `PREFETCH_DEPTHS`), since a load must complete before it retires and a prefetch need not.

/// Asks the CPU to start loading the cache line holding `ptr` into its L1 cache. Only a
/// hint: `ptr` may point anywhere (past the end of a slice included), it is never
/// dereferenced. A no-op on targets without an x86 prefetch instruction.
#[inline(always)]
pub(crate) fn prefetch_line(ptr: *const f32) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    #[allow(unsafe_code)]
    // SAFETY: `_mm_prefetch` requires SSE, which this build enables (the cfg above), so the
    // CPU running it has the instruction. A prefetch has no architectural effect and never
    // faults, whatever the address, so `ptr` needs no validity.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(ptr.cast());
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = ptr;
}
