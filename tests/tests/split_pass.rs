//! The split training pass (`Spec::loss_and_gradients_split`): the same results, bitwise,
//! whatever runs its pieces (in order, reversed, one thread per piece), equal up to rounding
//! to the unsplit pass, and split exactly where its rules say, at their boundaries; and the
//! persistent `Workers` that run the pieces on several threads.

use std::sync::atomic::{AtomicUsize, Ordering};

use embergrad::kernels::internals::split::{MAX_PIECES, MIN_PIECE_ROWS, MIN_SPLIT_WORK};
use embergrad::optim::{Optimizer, Sgd};
use embergrad::Step;
use embergrad::{Activation, Batch, Error, Executor, InOrder, LayerSpec, Loss, Spec, Target};
use embergrad_std::workers::Workers;

/// Every piece, last first.
struct Reversed;

impl Executor for Reversed {
    fn for_each<T: Send>(&self, items: &mut [T], task: &(dyn Fn(usize, &mut T) + Sync)) {
        for (i, item) in items.iter_mut().enumerate().rev() {
            task(i, item);
        }
    }
}

/// Every piece on a thread of its own, all at once.
struct ThreadPerPiece;

impl Executor for ThreadPerPiece {
    fn for_each<T: Send>(&self, items: &mut [T], task: &(dyn Fn(usize, &mut T) + Sync)) {
        std::thread::scope(|scope| {
            for (i, item) in items.iter_mut().enumerate() {
                scope.spawn(move || task(i, item));
            }
        });
    }
}

/// In order, counting the calls and their pieces.
#[derive(Default)]
struct Counting {
    calls: AtomicUsize,
    pieces: AtomicUsize,
}

impl Executor for Counting {
    fn for_each<T: Send>(&self, items: &mut [T], task: &(dyn Fn(usize, &mut T) + Sync)) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.pieces.fetch_add(items.len(), Ordering::Relaxed);
        InOrder.for_each(items, task);
    }
}

fn value(seed: u64, i: usize) -> f32 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
}

/// A network, its params and a batch of `batch` samples with class labels.
struct Case {
    layers: Vec<LayerSpec>,
    params: Vec<f32>,
    input: Vec<f32>,
    labels: Vec<usize>,
    batch: usize,
}

impl Case {
    fn new(widths: &[usize], batch: usize, seed: u64) -> Self {
        let activations = [Activation::Relu, Activation::Tanh, Activation::Gelu];
        let layers: Vec<LayerSpec> = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let last = i + 2 == widths.len();
                LayerSpec::new(w[0], w[1], if last { Activation::Identity } else { activations[i % 3] })
            })
            .collect();
        let spec = Spec::new(&layers);
        let scale = 2.0 / (widths[0] as f32).sqrt();
        let params = (0..spec.param_len()).map(|i| value(seed, i) * scale).collect();
        let input = (0..batch * widths[0]).map(|i| value(seed + 1, i) * 2.0).collect();
        let classes = *widths.last().unwrap();
        let labels =
            (0..batch).map(|i| (value(seed + 2, i) + 0.5).mul_add(classes as f32, 0.0) as usize % classes).collect();
        Case { layers, params, input, labels, batch }
    }

    fn spec(&self) -> Spec<'_> {
        Spec::new(&self.layers)
    }

    fn batch(&self) -> Batch<'_> {
        Batch::new(&self.input, Target::Classes(&self.labels), self.batch)
    }

    /// The split pass's loss and gradients with `executor`.
    fn split(&self, executor: &(impl Executor + Sync)) -> (f32, Vec<f32>) {
        let spec = self.spec();
        let mut grads = vec![0.0; spec.param_len()];
        let mut workspace = vec![f32::NAN; spec.split_workspace_len(self.batch)];
        let loss = spec
            .loss_and_gradients_split(
                &self.params,
                &self.batch(),
                Loss::SoftmaxCrossEntropy,
                &mut grads,
                &mut workspace,
                executor,
            )
            .unwrap();
        (loss, grads)
    }

    /// The unsplit pass's loss and gradients.
    fn plain(&self) -> (f32, Vec<f32>) {
        let spec = self.spec();
        let mut grads = vec![0.0; spec.param_len()];
        let mut workspace = vec![0.0; spec.workspace_len(self.batch)];
        let loss = spec
            .loss_and_gradients(&self.params, &self.batch(), Loss::SoftmaxCrossEntropy, &mut grads, &mut workspace)
            .unwrap();
        (loss, grads)
    }

    /// How many products the split pass cut, and into how many pieces in all.
    fn split_counts(&self) -> (usize, usize) {
        let counting = Counting::default();
        self.split(&counting);
        (counting.calls.into_inner(), counting.pieces.into_inner())
    }
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// Shapes that split each product, some with a last piece shorter than the rest, a piece
/// count at the cap, and widths that are no multiple of a vector.
fn split_shapes() -> Vec<(Vec<usize>, usize)> {
    vec![
        (vec![784, 256, 128, 10], 64),
        (vec![100, 200, 300, 7], 40),
        (vec![64, 1000, 130, 3], 33),
        (vec![300, 129, 129, 5], 70),
    ]
}

#[test]
fn every_executor_gives_the_same_bits() {
    for (seed, (widths, batch)) in split_shapes().into_iter().enumerate() {
        let case = Case::new(&widths, batch, seed as u64);
        let (products, _) = case.split_counts();
        assert!(products >= 3, "{widths:?} at batch {batch}: only {products} products split");
        let (loss, grads) = case.split(&InOrder);
        for (name, (other_loss, other_grads)) in
            [("reversed", case.split(&Reversed)), ("thread per piece", case.split(&ThreadPerPiece))]
        {
            assert_eq!(other_loss.to_bits(), loss.to_bits(), "{widths:?}: loss {name}");
            assert!(bits(&other_grads) == bits(&grads), "{widths:?}: gradients {name} differ");
        }
    }
}

#[test]
fn the_split_pass_equals_the_unsplit_pass_up_to_rounding() {
    for (seed, (widths, batch)) in split_shapes().into_iter().enumerate() {
        let case = Case::new(&widths, batch, 10 + seed as u64);
        let (loss, grads) = case.split(&InOrder);
        let (plain_loss, plain_grads) = case.plain();
        assert!(
            (loss - plain_loss).abs() <= 1e-5 * plain_loss.abs().max(1.0),
            "{widths:?}: loss {loss} vs {plain_loss}"
        );
        // Layer by layer, relative to the layer's largest gradient: sums of hundreds of terms
        // blocked differently differ in their last bits.
        let spec = case.spec();
        for (offset, layer) in spec.layer_offsets() {
            let range = offset..offset + layer.param_len();
            let largest = plain_grads[range.clone()].iter().fold(0.0f32, |m, g| m.max(g.abs()));
            for (i, (a, b)) in grads[range.clone()].iter().zip(&plain_grads[range]).enumerate() {
                assert!((a - b).abs() <= 1e-4 * largest, "{widths:?}: gradient {} split {a} unsplit {b}", offset + i);
            }
        }
    }
}

#[test]
fn products_split_exactly_where_the_rules_say() {
    // One layer `inputs → outputs`: its forward and weight gradient split by `outputs` (the
    // input gradient of a first layer is not computed).
    let counts = |inputs: usize, outputs: usize, batch: usize| Case::new(&[inputs, outputs], batch, 3).split_counts();
    let rows = 2 * MIN_PIECE_ROWS;
    let depth = 64;
    let batch = MIN_SPLIT_WORK / (rows * depth);
    assert_eq!(batch * rows * depth, MIN_SPLIT_WORK, "the boundary shape must hit the threshold exactly");
    // Work at the threshold splits, one batch row less does not.
    assert_eq!(counts(depth, rows, batch), (2, 4));
    assert_eq!(counts(depth, rows, batch - 1), (0, 0));
    // Enough rows for two pieces splits, one row fewer does not.
    assert_eq!(counts(depth, rows - 1, 2 * batch), (0, 0));
    // Rows in pieces of a multiple of 16, the last one shorter: 200 rows.
    let pieces = (200 / MIN_PIECE_ROWS).min(MAX_PIECES);
    let per_piece = 200usize.div_ceil(pieces).next_multiple_of(16);
    assert!(200 % per_piece != 0, "the boundary case needs a shorter last piece");
    assert_eq!(counts(depth, 200, batch), (2, 2 * 200usize.div_ceil(per_piece)));
    // At most MAX_PIECES pieces however many rows.
    assert_eq!(counts(depth, 4 * MAX_PIECES * MIN_PIECE_ROWS, batch), (2, 2 * MAX_PIECES));
    // A second layer's input gradient splits by its inputs.
    let case = Case::new(&[depth, rows, rows], batch, 4);
    assert_eq!(case.split_counts(), (5, 10));
}

#[test]
fn bad_arguments_are_errors_that_change_nothing() {
    let case = Case::new(&[100, 200, 10], 40, 7);
    let spec = case.spec();
    let batch = case.batch();
    let needed = spec.split_workspace_len(40);
    assert!(needed > spec.workspace_len(40), "the split pass needs room for its pieces");
    let mut grads = vec![7.0; spec.param_len()];
    let mut workspace = vec![0.0; needed - 1];
    let err = spec
        .loss_and_gradients_split(&case.params, &batch, Loss::SoftmaxCrossEntropy, &mut grads, &mut workspace, &InOrder)
        .unwrap_err();
    assert!(matches!(err, Error::BufferTooSmall { buffer: "workspace", .. }), "{err:?}");
    let mut workspace = vec![0.0; needed];
    let mut short_grads = vec![7.0; spec.param_len() - 1];
    let err = spec
        .loss_and_gradients_split(
            &case.params,
            &batch,
            Loss::SoftmaxCrossEntropy,
            &mut short_grads,
            &mut workspace,
            &InOrder,
        )
        .unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { buffer: "grads", .. }), "{err:?}");
    let bad_labels = vec![10; 40];
    let bad = Batch::new(&case.input, Target::Classes(&bad_labels), 40);
    assert!(spec
        .loss_and_gradients_split(&case.params, &bad, Loss::SoftmaxCrossEntropy, &mut grads, &mut workspace, &InOrder)
        .is_err());
    let empty = Batch::new(&[], Target::Classes(&[]), 0);
    assert_eq!(
        spec.loss_and_gradients_split(
            &case.params,
            &empty,
            Loss::SoftmaxCrossEntropy,
            &mut grads,
            &mut workspace,
            &InOrder
        ),
        Err(Error::EmptyBatch)
    );
    assert!(grads.iter().all(|&g| g == 7.0) && short_grads.iter().all(|&g| g == 7.0), "an error wrote gradients");
    assert_eq!(
        Spec::new(&[LayerSpec::new(usize::MAX / 2, 4, Activation::Relu)]).split_workspace_len(1 << 20),
        usize::MAX
    );
}

#[test]
fn workers_give_the_bits_of_the_one_thread_run() {
    let case = Case::new(&[784, 256, 128, 10], 64, 21);
    let (loss, grads) = case.split(&InOrder);
    for threads in [1, 2, 3, 8] {
        let workers = Workers::new(threads).unwrap();
        assert_eq!(workers.threads(), threads.max(1));
        for _ in 0..3 {
            let (other_loss, other_grads) = case.split(&workers);
            assert_eq!(other_loss.to_bits(), loss.to_bits(), "{threads} threads: loss");
            assert!(bits(&other_grads) == bits(&grads), "{threads} threads: gradients differ");
        }
    }
}

#[test]
fn sharing_turned_off_and_on_between_steps_changes_no_bit() {
    let case = Case::new(&[784, 256, 128, 10], 64, 22);
    let (loss, grads) = case.split(&InOrder);
    let workers = Workers::new(2).unwrap();
    assert!(workers.is_sharing() && !Workers::new(1).unwrap().is_sharing());
    for sharing in [false, true, false, true] {
        workers.set_sharing(sharing);
        assert_eq!(workers.is_sharing(), sharing);
        let (other_loss, other_grads) = case.split(&workers);
        assert_eq!(other_loss.to_bits(), loss.to_bits(), "sharing {sharing}: loss");
        assert!(bits(&other_grads) == bits(&grads), "sharing {sharing}: gradients differ");
    }
}

/// `items[i] = (i + 1, i)` for `len` items through `executor`, checked.
fn fill_items(executor: &impl Executor, len: usize) {
    let mut items = vec![(0usize, usize::MAX); len];
    executor.for_each(&mut items, &|i, item| {
        assert_eq!(*item, (0, usize::MAX), "item {i} was run twice");
        *item = (i + 1, i);
    });
    assert!(items.iter().enumerate().all(|(i, &item)| item == (i + 1, i)), "{items:?}");
}

#[test]
fn workers_run_every_piece_once_even_from_two_callers_at_once() {
    let workers = Workers::new(2).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            // A second caller while the first runs gets its pieces run on its own thread.
            scope.spawn(|| {
                for len in (0..400).map(|round| round % 11) {
                    fill_items(&workers, len);
                }
            });
        }
    });
    fill_items(&Workers::new(1).unwrap(), 7);
    fill_items(&Workers::new(0).unwrap(), 7);
}

#[test]
fn a_panicking_piece_panics_the_caller_and_the_workers_go_on() {
    let workers = Workers::new(2).unwrap();
    for bad_piece in [0, 3] {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut items = [0u8; 4];
            workers.for_each(&mut items, &|i, item| {
                assert_ne!(i, bad_piece, "piece {i} fails");
                *item = 1;
            });
        }));
        assert!(outcome.is_err(), "piece {bad_piece} panicked, the call did not");
        fill_items(&workers, 9);
    }
}

#[test]
fn a_split_update_is_the_whole_update_bitwise() {
    // Long enough for the update to be cut (its pieces are 16 Ki values at least), with a
    // length that is no multiple of any vector width.
    let n = 100_003;
    let grads: Vec<f32> = (0..n).map(|i| value(31, i)).collect();
    let start: Vec<f32> = (0..n).map(|i| value(32, i)).collect();
    let momentum = Optimizer::Sgd(Sgd { momentum: 0.9, ..Sgd::new(0.01) });
    let every = Optimizer::NAMES.iter().map(|name| Optimizer::from_name(name).unwrap()).chain([momentum]);
    for optimizer in every {
        let optimizer = optimizer.with_lr(0.01);
        let mut state = vec![0.0; optimizer.state_len(n)];
        optimizer.init_state(&mut state).unwrap();
        let (mut params, mut steps) = (start.clone(), 0);
        let (mut split_params, mut split_state, mut split_steps) = (start.clone(), state.clone(), 0);
        let counting = Counting::default();
        let workers = Workers::new(2).unwrap();
        for round in 0..3 {
            optimizer.step(&mut steps, &mut params, &grads, &mut state).unwrap();
            let (p, s, t) = (&mut split_params, &mut split_state, &mut split_steps);
            match round {
                1 => optimizer.step_split(0.01, t, p, &grads, s, &counting),
                _ => optimizer.step_split(0.01, t, p, &grads, s, &workers),
            }
            .unwrap();
        }
        assert_eq!(split_steps, steps);
        assert!(bits(&split_params) == bits(&params), "{}: params differ", optimizer.name());
        assert!(bits(&split_state) == bits(&state), "{}: state differs", optimizer.name());
        assert!(counting.pieces.into_inner() >= 2, "{}: the update was not cut", optimizer.name());
    }
    // A short update is done whole, even by an executor that runs pieces at once.
    let counting = Counting::default();
    let short = 2 * 16 * 1024 - 1;
    let mut params = start[..short].to_vec();
    Sgd::new(0.1).step_split(0.1, &mut 0, &mut params, &grads[..short], &mut [], &counting).unwrap();
    assert_eq!(counting.calls.into_inner(), 0, "an update shorter than two pieces was cut");
}
