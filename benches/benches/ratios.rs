//! Interleaved comparisons for a noisy machine (see `embergrad_benches::interleave`): every
//! figure below comes from rounds in which all contenders of a table ran one after the other,
//! and ratios are medians of per-round ratios. Single thread throughout.
//!
//! Tables: the measured FMA peak; GEMM at n = 64, 256, 1024 and the W1/W3 layer products in
//! their real layouts (forward `X·Wᵀ`, input gradient `dZ·W`, weight gradient `dZᵀ·X`), each
//! against `matrixmultiply` and the `gemm` crate given the same strides; the W1 and W3
//! training steps as a share of the peak measured in the same rounds; and the paths a
//! product with one small dimension could take (`depth`, `narrow`), behind the rules in
//! `core/src/kernels/strips.rs`; and `ablation`: each switchable rule of
//! `core/src/kernels/tuning.rs` turned off in turn, on the W1 and W3 products and training
//! steps, to show what each rule earns (docs/TUNING.md).
//!
//! `cargo bench -p embergrad-benches --bench ratios [-- FILTER...]` runs the tables whose
//! title contains one of the filters (all without one), e.g. `square-64`, `w1`, `train`.
//! `ROUNDS=n` changes the round count.

use embergrad::kernels::internals::tuning::{set_rule_enabled, Rule};
use embergrad::kernels::internals::{direct_a_b, transpose_with_row_offsets};
use embergrad::kernels::{
    forward_scratch_len, gemm, gemm_scratch_len, matmul_a_b, matmul_a_bt_bias, matmul_at_b, product_scratch_len, MatRef,
};
use embergrad::optim::{Adam, Optimizer, Sgd};
use embergrad::AlignedBuffer;
use embergrad_benches::interleave::{compare, Contender, Figures};
use embergrad_benches::{peak_call, peak_flops_per_call, uniform, ClassificationStep};
#[path = "common/references.rs"]
mod references;

use references::{gemm_crate_product, matrixmultiply_product, Strided};
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

/// Operands and results start on cache lines, as the network's buffers do (and PyTorch's
/// tensors: its CPU allocator aligns to 64 bytes); every contender gets the same buffers.
fn data(len: usize, seed: u64) -> AlignedBuffer {
    let values: Vec<f32> = (0..len).map(|i| uniform(seed, i as u64) - 0.5).collect();
    AlignedBuffer::from_slice(&values)
}

/// Rounds per table (`ROUNDS` overrides) and time per contender per round.
fn rounds() -> usize {
    std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(31)
}
const SLICE: Duration = Duration::from_millis(10);

/// The command line's table filters (its arguments other than `--` flags), read once.
fn filters() -> &'static [String] {
    static FILTERS: OnceLock<Vec<String>> = OnceLock::new();
    FILTERS.get_or_init(|| std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect())
}

/// Whether the command line asks for the table titled `title`.
fn wanted(title: &str) -> bool {
    let filters = filters();
    filters.is_empty() || filters.iter().any(|f| title.contains(f.as_str()))
}

/// Whether the command line asks for the ablation table titled `title`: only through a
/// filter that names the ablation (`ablation`, `ablation w1`...), so `-- w1` keeps meaning
/// the W1 product tables.
fn wanted_ablation(title: &str) -> bool {
    let filters = filters();
    filters.is_empty() || filters.iter().any(|f| f.starts_with("ablation") && title.contains(f.as_str()))
}

fn peak_contender() -> Contender<'static> {
    Contender::new("fma peak", peak_flops_per_call() as f64, peak_call)
}

fn print_table(title: &str, figures: &[Figures], peak: Option<f64>) {
    println!("\n{title}");
    for f in figures {
        let share = peak.map(|p| format!("{:5.1}% of peak", 100.0 * f.throughput / p)).unwrap_or_default();
        println!("  {:<28} {:9.2} GFLOP/s  {share}  x{:.3} vs first", f.name, f.throughput / 1e9, f.ratio_to_first);
    }
}

/// One product in three contenders: embergrad's dispatching `ours`, and both references on
/// `a·b` with the given strides. The peak runs in the same rounds.
fn product_table(
    title: &str,
    (m, n, k): (usize, usize, usize),
    a: Strided<'_>,
    b: Strided<'_>,
    mut ours: impl FnMut(&mut [f32]),
) {
    let title = format!("{title}: m={m} n={n} k={k}");
    if !wanted(&title) {
        return;
    }
    let flops = 2.0 * (m * n * k) as f64;
    let mut outs = [AlignedBuffer::zeroed(m * n), AlignedBuffer::zeroed(m * n), AlignedBuffer::zeroed(m * n)];
    let [c0, c1, c2] = &mut outs;
    let mut contenders = vec![
        Contender::new("embergrad", flops, || {
            ours(c0);
            black_box(&mut *c0);
        }),
        Contender::new("matrixmultiply", flops, || {
            matrixmultiply_product(m, n, k, a, b, c1);
            black_box(&mut *c1);
        }),
        Contender::new("gemm crate", flops, || {
            gemm_crate_product(m, n, k, a, b, c2);
            black_box(&mut *c2);
        }),
        peak_contender(),
    ];
    let figures = compare(&mut contenders, rounds(), SLICE);
    let peak = figures.last().map(|f| f.throughput);
    print_table(&title, &figures, peak);
}

fn square_tables() {
    for s in [64usize, 256, 1024] {
        let (a, b) = (data(s * s, 1), data(s * s, 2));
        let mut scratch = vec![0.0; product_scratch_len(s, s, s)];
        product_table(&format!("square-{s}"), (s, s, s), Strided::row_major(&a, s), Strided::row_major(&b, s), |c| {
            matmul_a_b(&a, &b, c, s, s, s, &mut scratch)
        });
    }
}

/// The three products of a dense layer `n_in → n_out` at `batch`, in the layouts the network
/// uses (weights `[n_out, n_in]`).
fn layer_tables(name: &str, batch: usize, n_in: usize, n_out: usize) {
    let x = data(batch * n_in, 1);
    let w = data(n_out * n_in, 2);
    let dz = data(batch * n_out, 3);
    let bias = vec![0.0; n_out];
    let scratch_len = forward_scratch_len(batch, n_out, n_in)
        .max(product_scratch_len(batch, n_in, n_out))
        .max(product_scratch_len(n_out, n_in, batch));
    let mut scratch = vec![0.0; scratch_len];
    product_table(
        &format!("{name} forward Y=X·Wᵀ"),
        (batch, n_out, n_in),
        Strided::row_major(&x, n_in),
        Strided::transposed(&w, n_in),
        |y| matmul_a_bt_bias(&x, &w, &bias, y, batch, n_in, n_out, &mut scratch),
    );
    product_table(
        &format!("{name} input grad dX=dZ·W"),
        (batch, n_in, n_out),
        Strided::row_major(&dz, n_out),
        Strided::row_major(&w, n_in),
        |dx| matmul_a_b(&dz, &w, dx, batch, n_out, n_in, &mut scratch),
    );
    product_table(
        &format!("{name} weight grad dW=dZᵀ·X"),
        (n_out, n_in, batch),
        Strided::transposed(&dz, n_out),
        Strided::row_major(&x, n_in),
        |dw| matmul_at_b(&dz, &x, dw, batch, n_out, n_in, &mut scratch),
    );
}

/// One way to compute a product into the given output.
type Path<'a> = Box<dyn FnMut(&mut [f32]) + 'a>;

/// The paths one product could take, timed in the same rounds (ratios against the first,
/// the dispatching function): where `strips.rs` takes over from the blocked GEMM and the
/// direct loops, at the depths and widths its rules name.
fn paths_table(title: &str, (m, n, k): (usize, usize, usize), paths: Vec<(&str, Path<'_>)>) {
    let title = format!("{title}: m={m} n={n} k={k}");
    if !wanted(&title) {
        return;
    }
    let flops = 2.0 * (m * n * k) as f64;
    let mut outs: Vec<AlignedBuffer> = paths.iter().map(|_| AlignedBuffer::zeroed(m * n)).collect();
    let mut contenders: Vec<Contender<'_>> = paths
        .into_iter()
        .zip(outs.iter_mut())
        .map(|((name, mut path), out)| {
            Contender::new(name, flops, move || {
                path(out);
                black_box(&mut *out);
            })
        })
        .collect();
    let figures = compare(&mut contenders, rounds(), SLICE);
    print_table(&title, &figures, None);
}

/// `C = A·B` at small depths (the input gradient of a layer with `k` outputs): the
/// dispatching `matmul_a_b` (the register-held strips of `SHALLOW_MAX_DEPTH` and
/// `SHALLOW_MIN_ROWS`) against the blocked GEMM, the direct loops and `matrixmultiply`.
fn depth_tables() {
    let small_m = [1, 2, 4, 8].map(|m| (m, 128, 10));
    let depths = [3, 8, 12, 15, 16, 24].map(|k| (64, 128, k));
    for (m, n, k) in [(64, 128, 10), (256, 1000, 10), (256, 1024, 10), (256, 256, 15), (256, 256, 16)]
        .into_iter()
        .chain(small_m)
        .chain(depths)
    {
        let (a, b) = (data(m * k, 1), data(k * n, 2));
        let scratch = std::cell::RefCell::new(vec![0.0; gemm_scratch_len(m, n, k)]);
        let (a, b, scratch) = (&a, &b, &scratch);
        paths_table(
            "depth",
            (m, n, k),
            vec![
                ("matmul_a_b", Box::new(move |c| matmul_a_b(a, b, c, m, k, n, &mut scratch.borrow_mut()))),
                (
                    "blocked gemm",
                    Box::new(move |c| {
                        let (a, b) = (MatRef::row_major(a, k), MatRef::row_major(b, n));
                        gemm(m, n, k, a, b, c, false, &mut scratch.borrow_mut())
                    }),
                ),
                ("direct loops", Box::new(move |c| direct_a_b(a, b, c, m, k, n))),
                (
                    "matrixmultiply",
                    Box::new(move |c| {
                        matrixmultiply_product(m, n, k, Strided::row_major(a, k), Strided::row_major(b, n), c)
                    }),
                ),
            ],
        );
    }
}

/// The forward product of a layer with few outputs: the dispatching `matmul_a_bt_bias`
/// (one-vector strips from `strips.rs` up to `LANES` outputs) against the blocked path it
/// replaced there (`Yᵀ = W·Xᵀ`, then a transpose that adds the bias) and `matrixmultiply`.
fn narrow_tables() {
    for (m, n, k) in [(64, 10, 128), (256, 10, 1024), (32, 16, 128), (8, 10, 64)] {
        let (x, w, bias) = (data(m * k, 1), data(n * k, 2), vec![0.5; n]);
        let scratch =
            std::cell::RefCell::new(vec![0.0; m * n + gemm_scratch_len(n, m, k) + forward_scratch_len(m, n, k)]);
        let (x, w, bias, scratch) = (&x, &w, &bias, &scratch);
        paths_table(
            "narrow",
            (m, n, k),
            vec![
                (
                    "matmul_a_bt_bias",
                    Box::new(move |y| matmul_a_bt_bias(x, w, bias, y, m, k, n, &mut scratch.borrow_mut())),
                ),
                (
                    "blocked Yᵀ + transpose",
                    Box::new(move |y| {
                        let mut scratch = scratch.borrow_mut();
                        let (y_t, packing) = scratch.split_at_mut(m * n);
                        gemm(n, m, k, MatRef::row_major(w, k), MatRef::transposed(x, k), y_t, false, packing);
                        transpose_with_row_offsets(y_t, n, m, bias, y);
                    }),
                ),
                (
                    "matrixmultiply",
                    Box::new(move |y| {
                        matrixmultiply_product(m, n, k, Strided::row_major(x, k), Strided::transposed(w, k), y)
                    }),
                ),
            ],
        );
    }
}

fn training_table(title: &str, step: impl FnOnce() -> ClassificationStep) {
    if !wanted(title) {
        return;
    }
    let mut step = step();
    let flops = step.flops_per_step();
    let batch = step.batch() as f64;
    let mut contenders = vec![peak_contender(), Contender::new("training step", flops, || step.run())];
    let figures = compare(&mut contenders, rounds(), SLICE);
    let train = &figures[1];
    println!("\n{title}");
    println!(
        "  {:.0} samples/s, {:.2} GFLOP/s (6 flops/weight/sample) = {:.1}% of the peak's {:.2} GFLOP/s (median per-round share {:.1}%)",
        train.throughput / flops * batch,
        train.throughput / 1e9,
        100.0 * train.throughput / figures[0].throughput,
        figures[0].throughput / 1e9,
        100.0 * train.ratio_to_first
    );
}

/// Runs `work` with every tuning rule on, and again with each [`Rule`] off in turn, in the
/// same interleaved rounds; ratios below 1 for "without R" are what rule R earns.
fn ablation_table(title: &str, flops: f64, mut work: impl FnMut()) {
    let title = format!("ablation {title}");
    if !wanted_ablation(&title) {
        return;
    }
    let work = std::cell::RefCell::new(&mut work);
    let variant = |off: Option<Rule>| {
        let work = &work;
        move || {
            for rule in Rule::ALL {
                set_rule_enabled(rule, Some(rule) != off);
            }
            (work.borrow_mut())();
        }
    };
    let mut contenders = vec![Contender::new("all rules", flops, variant(None))];
    for rule in Rule::ALL {
        contenders.push(Contender::new(format!("without {rule:?}"), flops, variant(Some(rule))));
    }
    let figures = compare(&mut contenders, rounds(), SLICE);
    for rule in Rule::ALL {
        set_rule_enabled(rule, true);
    }
    print_table(&title, &figures, None);
}

/// The ablation tables: the three products of W1's and W3's layers, a shallow input gradient
/// and a small-batch weight gradient (where the short-tile rules act), and both training
/// steps.
fn ablation_tables() {
    let layers = [
        ("w1 784→256 b64", 64, 784, 256),
        ("w1 256→128 b64", 64, 256, 128),
        ("w1 128→10 b64", 64, 128, 10),
        ("w3 256→1024 b256", 256, 256, 1024),
        ("w3 1024→1024 b256", 256, 1024, 1024),
        ("w3 1024→10 b256", 256, 1024, 10),
        ("784→256 b32", 32, 784, 256),
        ("128→24 b64", 64, 128, 24),
        ("80→64 b64", 64, 80, 64),
        ("48→128 b64", 64, 48, 128),
    ];
    for (name, batch, n_in, n_out) in layers {
        let (x, w, dz, bias) = (data(batch * n_in, 1), data(n_out * n_in, 2), data(batch * n_out, 3), vec![0.0; n_out]);
        let scratch_len = forward_scratch_len(batch, n_out, n_in)
            .max(product_scratch_len(batch, n_in, n_out))
            .max(product_scratch_len(n_out, n_in, batch));
        let (mut scratch, mut out) =
            (vec![0.0; scratch_len], AlignedBuffer::zeroed(batch * n_in.max(n_out) * n_out.max(batch)));
        let flops = 2.0 * (batch * n_in * n_out) as f64;
        ablation_table(&format!("{name} forward"), flops, || {
            matmul_a_bt_bias(&x, &w, &bias, &mut out, batch, n_in, n_out, &mut scratch);
            black_box(&mut out);
        });
        ablation_table(&format!("{name} input grad"), flops, || {
            matmul_a_b(&dz, &w, &mut out, batch, n_out, n_in, &mut scratch);
            black_box(&mut out);
        });
        ablation_table(&format!("{name} weight grad"), flops, || {
            matmul_at_b(&dz, &x, &mut out, batch, n_out, n_in, &mut scratch);
            black_box(&mut out);
        });
    }
    for s in [64usize, 256, 1024] {
        let (a, b, mut c) = (data(s * s, 1), data(s * s, 2), AlignedBuffer::zeroed(s * s));
        let mut scratch = vec![0.0; product_scratch_len(s, s, s)];
        ablation_table(&format!("square-{s}"), 2.0 * (s * s * s) as f64, || {
            matmul_a_b(&a, &b, &mut c, s, s, s, &mut scratch);
            black_box(&mut c);
        });
    }
    for (title, widths, batch, optimizer) in [
        ("train W1", &[784, 256, 128, 10][..], 64, Optimizer::Sgd(Sgd::new(0.01))),
        ("train W3", &[256, 1024, 1024, 10][..], 256, Optimizer::Adam(Adam { lr: 1e-3, ..Adam::default() })),
    ] {
        if !wanted_ablation(&format!("ablation {title}")) {
            continue;
        }
        let mut step = ClassificationStep::new(1, widths, batch, optimizer);
        let flops = step.flops_per_step();
        ablation_table(title, flops, || step.run());
    }
}

fn main() {
    square_tables();
    layer_tables("w1 784→256 b64", 64, 784, 256);
    layer_tables("w1 256→128 b64", 64, 256, 128);
    layer_tables("w1 128→10 b64", 64, 128, 10);
    layer_tables("w3 1024→1024 b256", 256, 1024, 1024);
    depth_tables();
    narrow_tables();
    ablation_tables();
    training_table("train W1 784-256-128-10 batch 64 SGD", || {
        ClassificationStep::new(1, &[784, 256, 128, 10], 64, Optimizer::Sgd(Sgd::new(0.01)))
    });
    training_table("train W3 256-1024-1024-10 batch 256 Adam", || {
        let adam = Optimizer::Adam(Adam { lr: 1e-3, ..Adam::default() });
        ClassificationStep::new(3, &[256, 1024, 1024, 10], 256, adam)
    });
}
