//! How a pass's independent pieces are run: the hook through which a caller with threads
//! (`embergrad-std`'s rayon pool) shares out the products of [`Spec::loss_and_gradients_split`],
//! while the core itself has no threads.
//!
//! An executor decides only *where and when* each piece runs. What a piece computes, and so
//! every value the pass produces, is fixed by the network's shapes, so any executor (one
//! thread, two, or sixteen, in any order) gives bitwise-identical results.
//!
//! [`Spec::loss_and_gradients_split`]: crate::Spec::loss_and_gradients_split

/// A piece of work: its index, its part of the output, and scratch of its own.
pub type PieceTask<'t> = &'t (dyn Fn(usize, &mut [f32], &mut [f32]) + Sync);

/// Runs the pieces of a product.
pub trait Executor {
    /// Calls `task(i, out_i, scratch_i)` exactly once for every piece `i` and returns when all
    /// calls have returned, where `out_i` is `out.chunks_mut(piece_len)`'s `i`-th chunk (the
    /// last may be shorter) and `scratch_i` is `scratch.chunks_mut(scratch_len)`'s. The calls
    /// may run in any order and at the same time. The core always passes `piece_len ≥ 1`,
    /// `scratch_len ≥ 1` and at least as many scratch chunks as pieces.
    fn for_each_piece(
        &self,
        out: &mut [f32],
        piece_len: usize,
        scratch: &mut [f32],
        scratch_len: usize,
        task: PieceTask<'_>,
    );
}

/// Every piece in turn, in index order, on the calling thread.
///
/// ```
/// use embergrad::{Executor, InOrder};
/// let mut out = [0.0f32; 5];
/// let mut scratch = [0.0f32; 3];
/// InOrder.for_each_piece(&mut out, 2, &mut scratch, 1, &|i, piece, _| piece.fill(i as f32));
/// assert_eq!(out, [0.0, 0.0, 1.0, 1.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct InOrder;

impl Executor for InOrder {
    fn for_each_piece(
        &self,
        out: &mut [f32],
        piece_len: usize,
        scratch: &mut [f32],
        scratch_len: usize,
        task: PieceTask<'_>,
    ) {
        let pieces = out.chunks_mut(piece_len.max(1)).zip(scratch.chunks_mut(scratch_len.max(1)));
        for (i, (piece, scratch)) in pieces.enumerate() {
            task(i, piece, scratch);
        }
    }
}
