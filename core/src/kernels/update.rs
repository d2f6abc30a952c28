//! Runs an element-wise update rule ([`ElementUpdate`]) over flat buffers on this level's
//! vectors and the scalar tail; compiled once per instruction-set level, like `gemm.rs`.

use super::simd::{load, store, Vector, HAS_SIMD, LANES};
use crate::kernels::lanes::ElementUpdate;

/// Runs `rule` over every parameter. `states` are `S` buffers of `params.len()` values each
/// (checked by the caller).
#[cfg_attr(target_arch = "x86_64", inline(always))] // see `levels.rs`: into the x86 entry points
pub(crate) fn run_update<U: ElementUpdate<S>, const S: usize>(
    rule: &U,
    params: &mut [f32],
    grads: &[f32],
    mut states: [&mut [f32]; S],
) {
    let n = params.len();
    debug_assert!(grads.len() == n && states.iter().all(|s| s.len() == n));
    // Without SIMD, `Vector` is a software array of lanes whose arithmetic is the scalar
    // path's, value for value: one scalar loop gives the same numbers in a fifth of the code
    // (flash on a Cortex-M), as the activation kernels do.
    let full = if HAS_SIMD { n - n % LANES } else { 0 };
    let mut start = 0;
    while start < full {
        let end = start + LANES;
        let mut p = load(&params[start..end]);
        let g = load(&grads[start..end]);
        let mut s: [Vector; S] = core::array::from_fn(|k| load(&states[k][start..end]));
        rule.apply(&mut p, g, &mut s);
        store(&mut params[start..end], p);
        for (buffer, value) in states.iter_mut().zip(&s) {
            store(&mut buffer[start..end], *value);
        }
        start = end;
    }
    for i in full..n {
        let mut s: [f32; S] = core::array::from_fn(|k| states[k][i]);
        rule.apply(&mut params[i], grads[i], &mut s);
        for (buffer, value) in states.iter_mut().zip(s) {
            buffer[i] = value;
        }
    }
}
