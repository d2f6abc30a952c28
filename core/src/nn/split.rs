//! The training pass with its large products cut into pieces that an [`Executor`] may run at
//! the same time: parallelism inside each product, which leaves every value where a single
//! thread would put it.
//!
//! Each large product is cut along the weight matrix's rows or columns, so that the large
//! operand (the weights, or their gradient) is packed once in all, and only the batch-sized
//! operand is packed again by every piece:
//! - forward: `Yᵀ = W·Xᵀ` by rows of `W` (output neurons), then one transpose into `Y` that
//!   adds the bias;
//! - weight gradient: `dW = dZᵀ·X` by rows of `dW` (output neurons);
//! - input gradient: `dXᵀ = Wᵀ·dZᵀ` by columns of `W` (input neurons), then one transpose.
//!
//! The pieces follow from the shapes alone ([`split_rows`]), never from the number of
//! threads, and each output value is computed by one piece, its sum over the shared dimension
//! in the kernel's fixed order. So every executor gives bitwise-identical results, and
//! [`InOrder`](crate::InOrder) is the one-thread run. (They differ from the unsplit
//! [`Spec::loss_and_gradients`] by rounding only: the same sums, blocked differently.)
//! Products too small to pay for a fork and a join run whole on the calling thread, and the
//! activations and the loss stay on it too.

use crate::error::{check_len, check_min_len, Result};
use crate::executor::Executor;
use crate::kernels::{
    forward_scratch_len, gemm, gemm_scratch_len, product_scratch_len, transpose_with_row_offsets, MatRef,
};
use crate::nn::loss::BatchLoss;
use crate::nn::network::{Batch, LayerProducts, Packed, Shape};
use crate::nn::spec::Spec;

/// A piece has at least this many rows. Every piece packs the batch-sized operand again
/// (`batch × k` values), which must stay small beside its share of the product
/// (`rows × batch × k` multiply-adds).
pub const MIN_PIECE_ROWS: usize = 64;

/// At most this many pieces per product: one per core of the two-core machines this is tuned
/// on. Each further piece packs the batch-sized operand again and cuts the product's tiles
/// smaller, which cost more than finer sharing gained, even beside a busy neighbour
/// (docs/PARALLEL.md). More cores would want more pieces; shards spread a batch over any
/// number.
pub const MAX_PIECES: usize = 2;

/// Products with fewer multiply-adds than this run whole: a fork and a join cost a few
/// microseconds, about what a core does with this many multiply-adds.
pub const MIN_SPLIT_WORK: usize = 1 << 20;

/// Rows per piece when a product whose output is cut along `rows` is split, `None` when it
/// runs whole. A multiple of 16, so pieces start on cache lines.
fn split_rows(rows: usize, shape: Shape) -> Option<usize> {
    let work = shape.batch.saturating_mul(shape.inputs).saturating_mul(shape.outputs);
    let pieces = (rows / MIN_PIECE_ROWS).min(MAX_PIECES);
    if work < MIN_SPLIT_WORK || pieces < 2 {
        return None;
    }
    Some(rows.div_ceil(pieces).next_multiple_of(16))
}

/// What the split pass needs after the activations and the backward buffers, per batch.
struct SplitScratch {
    /// `Yᵀ` or `dXᵀ` of a split product.
    transposed: usize,
    /// Zero offsets for the input gradient's transpose.
    zeros: usize,
    /// One piece's packing scratch (at least 1).
    piece: usize,
    /// Every piece's scratch, or an unsplit product's.
    shared: usize,
}

impl Spec<'_> {
    /// The scratch of the split pass over `batch` samples; `None` on overflow.
    fn split_scratch(&self, batch: usize) -> Option<SplitScratch> {
        let (mut transposed, mut zeros, mut piece, mut whole) = (0usize, 0, 1, 0);
        for layer in self.layers() {
            let (inputs, outputs) = (layer.inputs, layer.outputs);
            let shape = Shape { batch, inputs, outputs };
            transposed = transposed.max(batch.checked_mul(inputs.max(outputs))?);
            match split_rows(outputs, shape) {
                Some(rows) => {
                    piece = piece.max(gemm_scratch_len(rows, batch, inputs)).max(gemm_scratch_len(rows, inputs, batch));
                }
                None => {
                    whole = whole
                        .max(forward_scratch_len(batch, outputs, inputs))
                        .max(product_scratch_len(outputs, inputs, batch));
                }
            }
            match split_rows(inputs, shape) {
                Some(rows) => {
                    piece = piece.max(gemm_scratch_len(rows, batch, outputs));
                    zeros = zeros.max(inputs);
                }
                None => whole = whole.max(product_scratch_len(batch, inputs, outputs)),
            }
        }
        let shared = piece.checked_mul(MAX_PIECES)?.max(whole);
        Some(SplitScratch { transposed, zeros, piece, shared })
    }

    /// The most pieces [`Spec::loss_and_gradients_split`] cuts any product of this network
    /// into at `batch` samples: 1 when every product runs whole, so that more threads than
    /// this have nothing to do.
    ///
    /// ```
    /// use embergrad::{Activation, LayerSpec, Spec};
    /// let mnist = [LayerSpec::new(784, 256, Activation::Relu), LayerSpec::new(256, 10, Activation::Identity)];
    /// assert_eq!(Spec::new(&mnist).split_pieces(64), 2);
    /// assert_eq!(Spec::new(&mnist).split_pieces(1), 1);
    /// let linear = [LayerSpec::new(784, 10, Activation::Identity)];
    /// assert_eq!(Spec::new(&linear).split_pieces(1024), 1);
    /// ```
    pub fn split_pieces(&self, batch: usize) -> usize {
        let pieces =
            |rows: usize, shape: Shape| split_rows(rows, shape).map_or(1, |per_piece| rows.div_ceil(per_piece));
        // The first layer's input gradient is not computed.
        self.layers()
            .iter()
            .enumerate()
            .map(|(index, layer)| {
                let shape = Shape { batch, inputs: layer.inputs, outputs: layer.outputs };
                let input_gradient = if index > 0 { pieces(layer.inputs, shape) } else { 1 };
                pieces(layer.outputs, shape).max(input_gradient)
            })
            .max()
            .unwrap_or(1)
    }

    /// Workspace length for [`Spec::loss_and_gradients_split`] over `batch` samples (more than
    /// [`Spec::workspace_len`]: room for a transposed product and each piece's packing);
    /// `usize::MAX` if it does not fit in a `usize`.
    pub fn split_workspace_len(&self, batch: usize) -> usize {
        self.split_scratch(batch).map_or(usize::MAX, |scratch| self.split_workspace_len_with(batch, &scratch))
    }

    /// [`Spec::split_workspace_len`] from the pass's `scratch` at `batch` samples.
    fn split_workspace_len_with(&self, batch: usize, scratch: &SplitScratch) -> usize {
        let base = self.checked_workspace_len(batch, false).unwrap_or(usize::MAX);
        let needed = base.checked_add(scratch.transposed).and_then(|n| n.checked_add(scratch.zeros));
        needed.and_then(|n| n.checked_add(scratch.shared)).unwrap_or(usize::MAX)
    }

    /// [`Spec::loss_and_gradients`] with its large products cut into pieces that `executor`
    /// runs (see the module notes of `nn/split.rs`): the same checks, errors and results for
    /// every executor, bitwise. `workspace` needs [`Spec::split_workspace_len`] elements.
    ///
    /// ```
    /// use embergrad::{Activation, Batch, InOrder, LayerSpec, Loss, Spec, Target};
    /// let layers = [LayerSpec::new(300, 256, Activation::Relu), LayerSpec::new(256, 3, Activation::Identity)];
    /// let spec = Spec::new(&layers);
    /// let params: Vec<f32> = (0..spec.param_len()).map(|i| ((i % 7) as f32 - 3.0) * 0.01).collect();
    /// let input: Vec<f32> = (0..64 * 300).map(|i| (i % 5) as f32 * 0.1).collect();
    /// let labels: Vec<usize> = (0..64).map(|i| i % 3).collect();
    /// let batch = Batch::new(&input, Target::Classes(&labels), 64);
    /// let mut grads = vec![0.0; spec.param_len()];
    /// let mut workspace = vec![0.0; spec.split_workspace_len(64)];
    /// let split = spec.loss_and_gradients_split(&params, &batch, Loss::SoftmaxCrossEntropy, &mut grads, &mut workspace, &InOrder)?;
    /// let mut plain_grads = vec![0.0; spec.param_len()];
    /// let mut plain_workspace = vec![0.0; spec.workspace_len(64)];
    /// let plain = spec.loss_and_gradients(&params, &batch, Loss::SoftmaxCrossEntropy, &mut plain_grads, &mut plain_workspace)?;
    /// assert!((split - plain).abs() < 1e-5);
    /// # Ok::<(), embergrad::Error>(())
    /// ```
    pub fn loss_and_gradients_split(
        &self,
        params: &[f32],
        batch: &Batch<'_>,
        loss: impl BatchLoss,
        grads: &mut [f32],
        workspace: &mut [f32],
        executor: &(impl Executor + Sync),
    ) -> Result<f32> {
        self.check_samples(params.len(), batch.input.len(), batch.size)?;
        check_len("grads", self.param_len(), grads.len())?;
        let scratch = self.split_scratch(batch.size);
        let needed = scratch.as_ref().map_or(usize::MAX, |s| self.split_workspace_len_with(batch.size, s));
        check_min_len("workspace", needed, workspace.len())?;
        let scratch = scratch.expect("a workspace long enough means the scratch was counted");
        let (activations, buffers, rest) = self.split_workspace(workspace, batch.size);
        let (transposed, rest) = rest.split_at_mut(scratch.transposed);
        let (zeros, rest) = rest.split_at_mut(scratch.zeros);
        let mut products =
            Split { executor, transposed, zeros, scratch: &mut rest[..scratch.shared], piece: scratch.piece };
        self.loss_and_gradients_unchecked(params, batch, loss, grads, activations, buffers, &mut products)
    }
}

/// What a piece of a product computes: piece `i` into its part of the output, with its own
/// scratch.
type PieceTask<'t> = &'t (dyn Fn(usize, &mut [f32], &mut [f32]) + Sync);

/// Runs `task(i, out_i, scratch_i)` through `executor` for the pieces of `out` (`piece_len`
/// values each, the last perhaps fewer), each with `scratch_len` values of `scratch`.
fn run_pieces(
    executor: &(impl Executor + Sync),
    out: &mut [f32],
    piece_len: usize,
    scratch: &mut [f32],
    scratch_len: usize,
    task: PieceTask<'_>,
) {
    let mut pieces: [(&mut [f32], &mut [f32]); MAX_PIECES] = Default::default();
    let mut count = 0;
    for (piece, chunks) in pieces.iter_mut().zip(out.chunks_mut(piece_len).zip(scratch.chunks_mut(scratch_len))) {
        *piece = chunks;
        count += 1;
    }
    executor.for_each(&mut pieces[..count], &|i, (out, scratch)| task(i, out, scratch));
}

/// The products cut into pieces for an executor, over the split pass's scratch.
struct Split<'w, E> {
    executor: &'w E,
    transposed: &'w mut [f32],
    zeros: &'w mut [f32],
    /// Every piece's packing scratch, `piece` values each; or an unsplit product's.
    scratch: &'w mut [f32],
    piece: usize,
}

impl<E: Executor + Sync> LayerProducts for Split<'_, E> {
    fn forward(&mut self, x: &[f32], weights: &[f32], biases: &[f32], y: &mut [f32], s: Shape) {
        let Some(rows) = split_rows(s.outputs, s) else {
            return Packed(self.scratch).forward(x, weights, biases, y, s);
        };
        let y_t = &mut self.transposed[..s.outputs * s.batch];
        let w_rows = |first: usize| MatRef::row_major(&weights[first * s.inputs..], s.inputs);
        let product = Pieces { rows, cols: s.batch, depth: s.inputs };
        product.run(self.executor, y_t, &w_rows, MatRef::transposed(x, s.inputs), self.scratch, self.piece);
        transpose_with_row_offsets(y_t, s.outputs, s.batch, biases, y);
    }

    fn weight_gradient(&mut self, dz: &[f32], x: &[f32], grad_weights: &mut [f32], s: Shape) {
        let Some(rows) = split_rows(s.outputs, s) else {
            return Packed(self.scratch).weight_gradient(dz, x, grad_weights, s);
        };
        // Rows of dZᵀ: columns of dZ, read in place through the strides.
        let dz_t_rows = |first: usize| MatRef::transposed(&dz[first..], s.outputs);
        let product = Pieces { rows, cols: s.inputs, depth: s.batch };
        let grad_weights = &mut grad_weights[..s.outputs * s.inputs];
        product.run(self.executor, grad_weights, &dz_t_rows, MatRef::row_major(x, s.inputs), self.scratch, self.piece);
    }

    fn input_gradient(&mut self, dz: &[f32], weights: &[f32], dx: &mut [f32], s: Shape) {
        let Some(rows) = split_rows(s.inputs, s) else {
            return Packed(self.scratch).input_gradient(dz, weights, dx, s);
        };
        let dx_t = &mut self.transposed[..s.inputs * s.batch];
        // Rows of Wᵀ: columns of W, read in place through the strides.
        let w_t_rows = |first: usize| MatRef::transposed(&weights[first..], s.inputs);
        let product = Pieces { rows, cols: s.batch, depth: s.outputs };
        product.run(self.executor, dx_t, &w_t_rows, MatRef::transposed(dz, s.outputs), self.scratch, self.piece);
        let zeros = &mut self.zeros[..s.inputs];
        zeros.fill(0.0);
        transpose_with_row_offsets(dx_t, s.inputs, s.batch, zeros, dx);
    }
}

/// A product `C = A·B` cut into pieces of `rows` rows of `A` (and of `C`, row-major with `cols`
/// columns); `depth` is the dimension the product sums over.
#[derive(Clone, Copy)]
struct Pieces {
    rows: usize,
    cols: usize,
    depth: usize,
}

impl Pieces {
    /// Computes `c` through `executor`, piece `i` from `a_from(i · rows)` (A from that row
    /// on: a view into the operand, no copy) and `b`, each piece with `scratch_len` values of
    /// `scratch` for its packing.
    fn run<'a>(
        self,
        executor: &(impl Executor + Sync),
        c: &mut [f32],
        a_from: &(dyn Fn(usize) -> MatRef<'a> + Sync),
        b: MatRef<'a>,
        scratch: &mut [f32],
        scratch_len: usize,
    ) {
        let Pieces { rows, cols, depth } = self;
        run_pieces(executor, c, rows * cols, scratch, scratch_len, &|i, piece, scratch| {
            gemm(piece.len() / cols, cols, depth, a_from(i * rows), b, piece, false, scratch);
        });
    }
}
