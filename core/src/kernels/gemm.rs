//! A cache-blocked matrix product `C (+)= A·B` with a register-blocked SIMD micro-kernel, in
//! the BLIS loop order. The packing buffers come from the caller.
//!
//! Loop nest, outermost first (names as in the BLIS papers; the sizes and the rules below are
//! in `tuning.rs`):
//! 1. `jc`: columns of C and B in blocks of [`NC`];
//! 2. `pc`: the shared dimension in blocks of [`KC`]; B's block as NR-wide panels;
//! 3. `ic`: rows of C and A in blocks of [`MC`]; A's block as MR-tall panels;
//! 4. `ir`, `jr`: every MR×NR tile of the block, computed by [`micro_kernel`] from one A panel
//!    (held in L1 across the `jr` loop) and one B panel with all MR·NR accumulators in
//!    registers.
//!
//! Packing is a copy, and at the sizes a small network has (batch 64, a few hundred units) it
//! costs a large share of the product, so each operand is read in place where its layout
//! allows it and packed only where it does not:
//! - B with unit column stride (the input and weight gradients' B): its panel rows are
//!   contiguous, read in place unless the stride makes them collide in L1 or defeats the
//!   prefetcher ([`b_layout`]); other B (the forward's `Wᵀ`) is packed with SIMD
//!   transposes.
//! - A with unit column stride (row-major): the kernel broadcasts from MR rows directly,
//!   unless their stride makes them collide in L1 ([`a_layout`]).
//! - A with unit row stride (the weight gradient's `dZᵀ`): its panel columns are contiguous,
//!   read in place like B.
//!
//! Edges: a partial last panel is packed with zeros (or, for A read by rows, repeats a row),
//! so the micro-kernel always runs a full-height tile, one vector wide where at most one
//! vector of columns is left and two otherwise; a partial tile is written whole into a
//! buffer of its own and only its valid corner copied into C.
//!
//! Compiled once per instruction-set level (`levels.rs`): `Vector`, `LANES` and the tile
//! sizes come from that level's `simd` module, and every function that touches a vector, or
//! calls one that does, is `#[inline(always)]`, so it is compiled inside the level's entry
//! points, which enable its instructions (a vector intrinsic left in a function without
//! them becomes a call).

use super::simd::{load, load8, store, Block8, Vector, LANES, MR, NR, SHORT_MR, TILES};
use crate::kernels::layout::{
    array_of, floats_to_line, gemm_scratch_len_for, packed_a_rows, packed_b_cols, take_aligned, MatRef, LINE_FLOATS,
};
use crate::kernels::paths::{record, KernelPath};
use crate::kernels::tuning::{
    a_layout, b_layout, row_split, rule_enabled, ALayout, BLayout, RowSplit, Rule, KC, MC, NC,
};

/// `C = A·B` (or `C += A·B` with `accumulate`), with A `m × k`, B `k × n` and C row-major
/// `m × n` in `c[..m·n]`. `scratch` needs `gemm_scratch_len(m, n, k)` elements.
#[allow(clippy::too_many_arguments)] // the BLAS-style signature: three shapes, three matrices, scratch
#[inline(always)] // into the level's entry points, which enable its instruction set
pub(crate) fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [f32],
    accumulate: bool,
    scratch: &mut [f32],
) {
    debug_assert!(c.len() >= m * n && scratch.len() >= gemm_scratch_len_for(TILES, m, n, k));
    if k == 0 && !accumulate {
        c[..m * n].fill(0.0);
    }
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let kc_max = k.min(KC);
    let (packed_a, rest) = take_aligned(scratch, kc_max * packed_a_rows(TILES, m));
    let (packed_b, _) = take_aligned(rest, kc_max * packed_b_cols(TILES, n));
    // B's panels are A-style panels of Bᵀ.
    let bt = MatRef { data: b.data, row_stride: b.col_stride, col_stride: b.row_stride };
    let rows_on_lines = floats_to_line(bt.data.as_ptr()) == 0 && bt.col_stride.is_multiple_of(LINE_FLOATS);
    let b_layout = b_layout(bt.row_stride == 1, bt.col_stride, m, rows_on_lines);
    record(match b_layout {
        BLayout::InPlace => KernelPath::BInPlace,
        BLayout::InPlaceColliding => KernelPath::BInPlaceColliding,
        BLayout::InPlaceLongStride => KernelPath::BInPlaceLongStride,
        BLayout::Packed => KernelPath::BPacked,
    });
    let b_in_place = b_layout != BLayout::Packed;
    let split = row_split(TILES, m, k);
    record(match split {
        RowSplit::AllShort => KernelPath::SplitAllShort,
        RowSplit::AllTall => KernelPath::SplitAllTall,
        RowSplit::OneShort => KernelPath::SplitOneShort,
        RowSplit::TwoShort => KernelPath::SplitTwoShort,
        RowSplit::Few => KernelPath::SplitFew,
    });
    let tall = split.tall_rows(TILES, m);
    if n > NC {
        record(KernelPath::SeveralColumnBlocks);
    }
    if k > KC {
        record(KernelPath::SeveralDepthBlocks);
    }
    if tall > MC || m - tall > MC {
        record(KernelPath::SeveralRowBlocks);
    }
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            // The first depth block overwrites C unless the caller accumulates.
            let write = if accumulate || pc > 0 { Write::Add } else { Write::Store };
            let b_panels = if b_in_place {
                Panels::in_place::<NR>(bt, jc, nc, pc, kc, packed_b)
            } else {
                pack_b(b, pc, kc, jc, nc, packed_b);
                Panels::packed(packed_b, kc)
            };
            let depth = DepthBlock { b_panels, p0: pc, kc, j0: jc, nc, write };
            // Tiles MR tall for the first `tall` rows, SHORT_MR tall below, both against the
            // same B panels.
            // `packed_a` holds one block of at most MC rows, so both heights go in MC blocks.
            for ic in (0..tall).step_by(MC) {
                row_block::<MR>(a, ic, MC.min(tall - ic), &depth, packed_a, c, n);
            }
            for ic in (tall..m).step_by(MC) {
                row_block::<SHORT_MR>(a, ic, MC.min(m - ic), &depth, packed_a, c, n);
            }
        }
    }
}

/// One depth block of B against which row blocks of A are multiplied: its panels, depths
/// `p0..p0+kc`, columns `j0..j0+nc`, and how tiles go into C.
struct DepthBlock<'a> {
    b_panels: Panels<'a>,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    write: Write,
}

/// Rows `i0..i0+mc` of C (row stride `ldc`) for one depth block, in `R`-tall tiles; A's
/// rows are read in place or packed into `packed_a`.
#[inline(always)]
fn row_block<const R: usize>(
    a: MatRef<'_>,
    i0: usize,
    mc: usize,
    depth: &DepthBlock<'_>,
    packed_a: &mut [f32],
    c: &mut [f32],
    ldc: usize,
) {
    let DepthBlock { ref b_panels, p0, kc, j0, nc, write } = *depth;
    let a_block = ABlock::new::<R>(a, (i0, mc), (p0, kc), nc, packed_a);
    // A partial tile goes whole into `edge`, then its valid corner into C: every tile is
    // then stored from its registers the same way, and none is spilled to the stack first.
    let mut edge = [[0.0; NR]; R];
    // A panel outermost: it stays in L1 while the B panels stream from L2.
    for ir in (0..mc).step_by(R) {
        let rows = R.min(mc - ir);
        for jr in (0..nc).step_by(NR) {
            let b_panel = b_panels.panel::<NR>(jr, nc);
            let cols = NR.min(nc - jr);
            let at = (i0 + ir, j0 + jr);
            if cols <= LANES && rule_enabled(Rule::OneVectorTiles) {
                record(KernelPath::TileOneVector);
                let tile = a_block.tile::<R, 1>(ir, rows, kc, b_panel);
                place_tile(tile, c, ldc, at, (rows, cols), write, &mut edge);
            } else {
                record(KernelPath::TileTwoVectors);
                let tile = a_block.tile::<R, 2>(ir, rows, kc, b_panel);
                place_tile(tile, c, ldc, at, (rows, cols), write, &mut edge);
            }
        }
    }
}

/// Writes (or adds) an `R × V·LANES` tile whose valid part is `rows × cols` into C at
/// `(i0, j0)`: straight from the registers when the tile is whole, else through `edge`.
#[inline(always)]
fn place_tile<const R: usize, const V: usize>(
    tile: [[Vector; V]; R],
    c: &mut [f32],
    ldc: usize,
    (i0, j0): (usize, usize),
    (rows, cols): (usize, usize),
    write: Write,
    edge: &mut [[f32; NR]; R],
) {
    let full = rows == R && cols == V * LANES;
    let (dest, dest_ldc, at, dest_write) =
        if full { (&mut *c, ldc, i0 * ldc + j0, write) } else { (edge.as_flattened_mut(), NR, 0, Write::Store) };
    write_full_tile(tile, dest, dest_ldc, at, dest_write);
    if !full {
        record(KernelPath::TileEdge);
        write_corner(edge, c, ldc, (i0, j0), (rows, cols), write);
    }
}

/// One block `[i0.., p0..p0+kc]` of A, as the micro-kernel reads it.
enum ABlock<'a> {
    /// A with unit column stride (row-major): each tile broadcasts straight from MR rows of
    /// A, which saves the transposing copy that packing a row-major A needs.
    Rows { a: MatRef<'a>, i0: usize, p0: usize },
    /// Panels with contiguous columns: packed, or in place when A has unit row stride.
    Panels(Panels<'a>),
}

impl<'a> ABlock<'a> {
    /// Rows `i0..i0+mc`, depths `p0..p0+kc` of `a`, for a block of `nc` columns of C;
    /// `scratch` holds whatever must be packed.
    #[inline(always)]
    fn new<const R: usize>(
        a: MatRef<'a>,
        (i0, mc): (usize, usize),
        (p0, kc): (usize, usize),
        nc: usize,
        scratch: &'a mut [f32],
    ) -> Self {
        match a_layout(a.row_stride, a.col_stride, nc) {
            ALayout::Rows => {
                record(KernelPath::ARows);
                ABlock::Rows { a, i0, p0 }
            }
            ALayout::InPlace => {
                record(KernelPath::AInPlace);
                ABlock::Panels(Panels::in_place::<R>(a, i0, mc, p0, kc, scratch))
            }
            ALayout::Packed => {
                record(KernelPath::APacked);
                pack_a::<R>(a, i0, mc, p0, kc, scratch);
                ABlock::Panels(Panels::packed(scratch, kc))
            }
        }
    }

    /// The tile of block rows `ir..ir+rows` (`rows ≤ R`) against `b_panel`.
    #[inline(always)]
    fn tile<const R: usize, const V: usize>(
        &self,
        ir: usize,
        rows: usize,
        kc: usize,
        b_panel: Panel<'_>,
    ) -> [[Vector; V]; R] {
        match self {
            ABlock::Rows { a, i0, p0 } => {
                // Missing rows of a partial panel repeat its first row; they are never
                // written back.
                let row_slices: [&[f32]; R] = array_of(&[][..], |r| {
                    let start = (i0 + ir + if r < rows { r } else { 0 }) * a.row_stride + p0;
                    &a.data[start..start + kc]
                });
                micro_kernel(kc, |p| array_of(0.0, |r| row_slices[r][p]), b_panel)
            }
            ABlock::Panels(panels) => {
                let a_panel = panels.panel::<R>(ir, ir + rows);
                let column = |p: usize| {
                    let column = &a_panel.data[p * a_panel.step..p * a_panel.step + R];
                    array_of(0.0, |r| column[r])
                };
                micro_kernel(kc, column, b_panel)
            }
        }
    }
}

/// One micro-panel: element `(p, r)` (depth `p`, row `r` of an A panel or column `r` of a B
/// panel) at `data[p·step + r]`.
#[derive(Clone, Copy)]
struct Panel<'a> {
    data: &'a [f32],
    step: usize,
}

/// Where the micro-panels of one operand block are: all packed, or read in place from an
/// operand whose panel columns are contiguous, with only a partial last panel packed.
struct Panels<'a> {
    /// Packed panels (all of them, or just the partial last one of an in-place operand).
    packed: &'a [f32],
    kc: usize,
    /// For an in-place operand: the block's first element and the distance between depths.
    in_place: Option<Panel<'a>>,
}

impl<'a> Panels<'a> {
    /// Panels packed one after the other in `packed`, each `kc` deep.
    #[inline(always)]
    fn packed(packed: &'a [f32], kc: usize) -> Self {
        Panels { packed, kc, in_place: None }
    }

    /// Panels read in place from `m` (an A-style view with unit row stride: element `(r, p)`
    /// at `data[r + p·col_stride]`), rows `r0..r0+extent`, depths `p0..p0+kc`; a partial last
    /// panel is packed into `scratch`.
    #[inline(always)]
    fn in_place<const W: usize>(
        m: MatRef<'a>,
        r0: usize,
        extent: usize,
        p0: usize,
        kc: usize,
        scratch: &'a mut [f32],
    ) -> Self {
        let full = extent - extent % W;
        if full < extent {
            record(KernelPath::PartialPanelPacked);
            pack_panel::<W>(m, r0 + full, extent - full, p0, kc, &mut scratch[..W * kc]);
        }
        let start = r0 + p0 * m.col_stride;
        let block = Panel { data: &m.data[start..], step: m.col_stride };
        Panels { packed: scratch, kc, in_place: Some(block) }
    }

    /// Panel starting at offset `r0` (a multiple of `W`) of a block `extent` wide.
    #[inline(always)]
    fn panel<const W: usize>(&self, r0: usize, extent: usize) -> Panel<'_> {
        match self.in_place {
            Some(block) if r0 + W <= extent => Panel { data: &block.data[r0..], ..block },
            Some(_) => Panel { data: self.packed, step: W },
            None => Panel { data: &self.packed[r0 * self.kc..], step: W },
        }
    }
}

/// Packs rows `i0..i0+mc`, columns `p0..p0+kc` of A into MR-tall panels: panel `r` holds,
/// for each `p`, the MR values `A[i0 + r·MR + 0..MR, p0 + p]` (zero past the last row).
#[inline(always)]
fn pack_a<const R: usize>(a: MatRef<'_>, i0: usize, mc: usize, p0: usize, kc: usize, packed: &mut [f32]) {
    for (panel_index, panel) in packed.chunks_exact_mut(R * kc).take(mc.div_ceil(R)).enumerate() {
        let row0 = i0 + panel_index * R;
        let rows = R.min(i0 + mc - row0);
        pack_panel::<R>(a, row0, rows, p0, kc, panel);
    }
}

/// Packs rows `p0..p0+kc`, columns `j0..j0+nc` of B into NR-wide panels: panel `s` holds, for
/// each `p`, the NR values `B[p0 + p, j0 + s·NR + 0..NR]` (zero past the last column).
#[inline(always)]
fn pack_b(b: MatRef<'_>, p0: usize, kc: usize, j0: usize, nc: usize, packed: &mut [f32]) {
    // B's panels are A-style panels of Bᵀ.
    let bt = MatRef { data: b.data, row_stride: b.col_stride, col_stride: b.row_stride };
    for (panel_index, panel) in packed.chunks_exact_mut(NR * kc).take(nc.div_ceil(NR)).enumerate() {
        let col0 = j0 + panel_index * NR;
        let cols = NR.min(j0 + nc - col0);
        pack_panel::<NR>(bt, col0, cols, p0, kc, panel);
    }
}

/// One R×(V·LANES) tile of `A_panel · B_panel` over depth `kc`, all in registers: `V` = 2
/// (the full [`NR`]-wide tile) everywhere but at a last panel of at most one vector of
/// columns, where `V` = 1 halves the multiply-adds.
#[inline(always)]
fn micro_kernel<const R: usize, const V: usize>(
    kc: usize,
    a_column: impl Fn(usize) -> [f32; R],
    b_panel: Panel<'_>,
) -> [[Vector; V]; R] {
    let mut acc = [[Vector::ZERO; V]; R];
    for p in 0..kc {
        let a_column = a_column(p);
        let b_row = &b_panel.data[p * b_panel.step..p * b_panel.step + V * LANES];
        let b: [Vector; V] = array_of(Vector::ZERO, |v| load(&b_row[v * LANES..(v + 1) * LANES]));
        for (row, a_value) in acc.iter_mut().zip(a_column) {
            let a = Vector::splat(a_value);
            for (acc_v, b_v) in row.iter_mut().zip(b) {
                *acc_v = a.mul_add(b_v, *acc_v);
            }
        }
    }
    acc
}

/// How a finished tile goes into C.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    /// `C = tile` (the first depth block of an overwriting product).
    Store,
    /// `C += tile`.
    Add,
}

/// Writes (or adds) a whole tile into `c` from `c[at]` on, rows `ldc` apart: `V` vector
/// stores per row, straight from the registers. The tile comes by value and is walked in
/// full, so it stays in registers (through a loop over a variable number of rows, the
/// first depth block of a 10-deep product spent a third of its time copying the tile out of
/// the stack in halves).
#[inline(always)]
fn write_full_tile<const R: usize, const V: usize>(
    tile: [[Vector; V]; R],
    c: &mut [f32],
    ldc: usize,
    at: usize,
    write: Write,
) {
    for (ii, row) in tile.into_iter().enumerate() {
        let at = at + ii * ldc;
        write_full_row(&mut c[at..at + V * LANES], row, write);
    }
}

/// Writes (or adds) one full row of a tile into the `V·LANES` values of `c_row`: `V` vector
/// stores.
#[inline(always)]
fn write_full_row<const V: usize>(c_row: &mut [f32], row: [Vector; V], write: Write) {
    for (chunk, value) in c_row.chunks_exact_mut(LANES).zip(row) {
        match write {
            Write::Store => store(chunk, value),
            Write::Add => store(chunk, load(chunk) + value),
        }
    }
}

/// Writes (or adds) the valid `rows × cols` corner of a tile, held in `edge`, into C at
/// `(i0, j0)`. Out of line: only the edge tiles of a product come here, and inlined into
/// every tile loop it only adds code around the micro-kernel.
#[inline(never)]
fn write_corner<const R: usize>(
    edge: &[[f32; NR]; R],
    c: &mut [f32],
    ldc: usize,
    (i0, j0): (usize, usize),
    (rows, cols): (usize, usize),
    write: Write,
) {
    for (ii, values) in edge.iter().enumerate().take(rows) {
        let c_row = &mut c[(i0 + ii) * ldc + j0..(i0 + ii) * ldc + j0 + cols];
        for (out, v) in c_row.iter_mut().zip(values) {
            *out = if write == Write::Store { *v } else { *out + v };
        }
    }
}

/// Writes `panel[p·W + r] = M[row0 + r, p0 + p]` for `r < rows` (zero for `rows ≤ r < W`),
/// `p < kc`. The two common layouts get loops that read `M` contiguously: a unit column
/// stride copies each source row into a column of the panel; a unit row stride copies `W`
/// consecutive values straight into each panel row.
#[inline(always)]
pub(crate) fn pack_panel<const W: usize>(
    m: MatRef<'_>,
    row0: usize,
    rows: usize,
    p0: usize,
    kc: usize,
    panel: &mut [f32],
) {
    if m.col_stride == 1 {
        if rows < W {
            panel.fill(0.0);
        }
        // Blocks of 8 rows × 8 depth through a SIMD transpose (a last block of fewer rows
        // repeats its first row into the missing ones and keeps only the valid lanes), the
        // leftover depth one by one.
        let full_depth = kc - kc % 8;
        if rows >= 8 {
            record(KernelPath::PackTransposedRows);
        }
        if !rows.is_multiple_of(8) {
            record(KernelPath::PackTransposedPartialRows);
        }
        if full_depth < kc {
            record(KernelPath::PackDepthTail);
        }
        for r in (0..rows).step_by(8) {
            let block_rows = 8.min(rows - r);
            let sources: [&[f32]; 8] = array_of(&[][..], |i| {
                let start = (row0 + r + if i < block_rows { i } else { 0 }) * m.row_stride + p0;
                &m.data[start..start + kc]
            });
            for p in (0..full_depth).step_by(8) {
                let block = Block8::transpose(array_of(Block8::ZERO, |i| load8(&sources[i][p..p + 8])));
                for (q, column) in block.iter().enumerate() {
                    let at = (p + q) * W + r;
                    let lanes = column.to_array();
                    if block_rows == 8 {
                        panel[at..at + 8].copy_from_slice(&lanes);
                    } else {
                        // A fixed-length loop: a copy of `block_rows` values would be a memcpy call.
                        for (i, value) in lanes.into_iter().enumerate().take(block_rows) {
                            panel[at + i] = value;
                        }
                    }
                }
            }
            for (i, source) in sources.iter().enumerate().take(block_rows) {
                for p in full_depth..kc {
                    panel[p * W + r + i] = source[p];
                }
            }
        }
    } else if m.row_stride == 1 && rows == W {
        record(KernelPath::PackCopyRows);
        for (p, slot) in panel.chunks_exact_mut(W).enumerate() {
            let start = (p0 + p) * m.col_stride + row0;
            slot.copy_from_slice(&m.data[start..start + W]);
        }
    } else {
        record(KernelPath::PackStrided);
        for (p, slot) in panel.chunks_exact_mut(W).enumerate() {
            for (r, value) in slot.iter_mut().enumerate() {
                *value = if r < rows { m.at(row0 + r, p0 + p) } else { 0.0 };
            }
        }
    }
}
