//! How independent pieces of work are run: the hook through which a caller with threads
//! (`embergrad-std`'s `Workers`) shares out the products of
//! [`Spec::loss_and_gradients_split`] and the update of [`Step::step_split`], while the core
//! itself has no threads.
//!
//! An executor decides only *where and when* each piece runs. What a piece computes, and so
//! every value produced, is fixed by the shapes alone, so every executor (one thread, two,
//! sixteen, in any order) gives bitwise-identical results.
//!
//! [`Spec::loss_and_gradients_split`]: crate::Spec::loss_and_gradients_split
//! [`Step::step_split`]: crate::Step::step_split

/// Runs pieces of work, perhaps at the same time.
pub trait Executor {
    /// Whether pieces may run on other threads. Work that is cut into pieces only so that
    /// they can run at once (an optimizer's element-wise update) is done whole when this is
    /// `false`; the split pass's products are cut the same way whatever it says, so that
    /// their results do not depend on the executor.
    const PARALLEL: bool = true;

    /// Calls `task(i, &mut items[i])` exactly once for every item and returns when all the
    /// calls have returned. The calls may run in any order and at the same time.
    fn for_each<T: Send>(&self, items: &mut [T], task: &(dyn Fn(usize, &mut T) + Sync));
}

/// Every piece in turn, in index order, on the calling thread.
///
/// ```
/// use embergrad::{Executor, InOrder};
/// let mut items = [0.0f32; 3];
/// InOrder.for_each(&mut items, &|i, item| *item = i as f32 * 2.0);
/// assert_eq!(items, [0.0, 2.0, 4.0]);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct InOrder;

impl Executor for InOrder {
    const PARALLEL: bool = false;

    fn for_each<T: Send>(&self, items: &mut [T], task: &(dyn Fn(usize, &mut T) + Sync)) {
        for (i, item) in items.iter_mut().enumerate() {
            task(i, item);
        }
    }
}
