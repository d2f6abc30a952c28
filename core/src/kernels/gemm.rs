//! A packed, cache-blocked matrix product `C (+)= A·B` with a register-blocked SIMD
//! micro-kernel, in the BLIS loop order. The packing buffers come from the caller.
//!
//! Loop nest, outermost first (names as in the BLIS papers):
//! 1. `jc`: columns of C and B in blocks of [`NC`];
//! 2. `pc`: the shared dimension in blocks of [`KC`]; pack `B[pc, jc]` into NR-wide panels;
//! 3. `ic`: rows of C and A in blocks of [`MC`]; pack `A[ic, pc]` into MR-tall panels;
//! 4. `jr`, `ir`: every MR×NR tile of the block, computed by [`micro_kernel`] from one A panel
//!    and one B panel with all MR·NR accumulators in registers.
//!
//! Edges: packing pads partial panels with zeros, so the micro-kernel always runs a full tile;
//! only the write-back of a partial tile is clipped to the rows and columns that exist.

use wide::f32x8;

use super::simd::{load, store, Vector, LANES};

/// Rows of a micro-tile with AVX-512: 12 rows × 2 vectors = 24 accumulators, plus 2 registers
/// for the B row and 1 for the broadcast A value: 27 of the 32 zmm registers. Each loaded B
/// vector feeds 12 FMAs, so loads stay well below the two FMA pipes' demand.
#[cfg(target_feature = "avx512f")]
pub const MR: usize = 12;

/// Rows of a micro-tile. 6 rows × 2 vectors = 12 accumulators, plus 2 registers for the B
/// row and 1 for the broadcast A value: 15 of the 16 vector registers AVX2 has, and enough
/// independent FMA chains (12) to cover 2 FMA pipes × 4 cycles of latency.
#[cfg(not(target_feature = "avx512f"))]
pub const MR: usize = 6;

/// Columns of a micro-tile: two SIMD vectors.
pub const NR: usize = 2 * LANES;

/// Depth of a packed block. One B micro-panel (`KC × NR` floats: 16 KiB with 8 lanes, 32 KiB
/// with 16) stays in a 32–48 KiB L1 data cache while the A panels stream past it.
pub const KC: usize = 256;

/// Rows of a packed A block: `MC × KC` floats = 120 KiB, well inside a 512 KiB–2 MiB L2, so
/// the block is reused from L2 for every B panel. A multiple of [`MR`] (6 and 12).
pub const MC: usize = 120;

/// Columns of a packed B block: `KC × NC` floats = 2 MiB, a share of the L3 cache. A multiple
/// of [`NR`].
pub const NC: usize = 2048;

/// A read-only strided matrix view: element `(i, j)` is `data[i·row_stride + j·col_stride]`.
/// Transposes are views with the strides swapped, so one product serves all three of a
/// dense layer's products.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    data: &'a [f32],
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix (`row_stride = cols`).
    pub const fn row_major(data: &'a [f32], cols: usize) -> Self {
        MatRef { data, row_stride: cols, col_stride: 1 }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub const fn transposed(data: &'a [f32], cols: usize) -> Self {
        MatRef { data, row_stride: 1, col_stride: cols }
    }

    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_stride + j * self.col_stride]
    }
}

const fn round_up(n: usize, multiple: usize) -> usize {
    n.div_ceil(multiple) * multiple
}

/// Length of the packing scratch [`gemm`] needs for an `m × n × k` product (0 when any
/// dimension is 0).
pub const fn gemm_scratch_len(m: usize, n: usize, k: usize) -> usize {
    if m == 0 || n == 0 || k == 0 {
        return 0;
    }
    let kc = if k < KC { k } else { KC };
    let mc = round_up(if m < MC { m } else { MC }, MR);
    let nc = round_up(if n < NC { n } else { NC }, NR);
    kc * (mc + nc)
}

/// `C = A·B` (or `C += A·B` with `accumulate`), with A `m × k`, B `k × n` and C row-major
/// `m × n` in `c[..m·n]`. `scratch` needs [`gemm_scratch_len`]`(m, n, k)` elements.
#[allow(clippy::too_many_arguments)] // the BLAS-style signature: three shapes, three matrices, scratch
pub fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [f32],
    accumulate: bool,
    scratch: &mut [f32],
) {
    debug_assert!(c.len() >= m * n && scratch.len() >= gemm_scratch_len(m, n, k));
    if !accumulate {
        c[..m * n].fill(0.0);
    }
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let kc_max = k.min(KC);
    let (packed_a, packed_b) = scratch.split_at_mut(kc_max * round_up(m.min(MC), MR));
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            pack_b(b, pc, kc, jc, nc, packed_b);
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                pack_a(a, ic, mc, pc, kc, packed_a);
                for jr in (0..nc).step_by(NR) {
                    let b_panel = &packed_b[jr * kc..(jr + NR) * kc];
                    for ir in (0..mc).step_by(MR) {
                        let a_panel = &packed_a[ir * kc..(ir + MR) * kc];
                        let tile = micro_kernel(kc, a_panel, b_panel);
                        let rows = MR.min(mc - ir);
                        let cols = NR.min(nc - jr);
                        add_tile(&tile, c, n, ic + ir, jc + jr, rows, cols);
                    }
                }
            }
        }
    }
}

/// Packs rows `i0..i0+mc`, columns `p0..p0+kc` of A into MR-tall panels: panel `r` holds,
/// for each `p`, the MR values `A[i0 + r·MR + 0..MR, p0 + p]` (zero past the last row).
fn pack_a(a: MatRef<'_>, i0: usize, mc: usize, p0: usize, kc: usize, packed: &mut [f32]) {
    for (panel_index, panel) in packed.chunks_exact_mut(MR * kc).take(mc.div_ceil(MR)).enumerate() {
        let row0 = i0 + panel_index * MR;
        let rows = MR.min(i0 + mc - row0);
        pack_panel::<MR>(a, row0, rows, p0, kc, panel);
    }
}

/// Packs rows `p0..p0+kc`, columns `j0..j0+nc` of B into NR-wide panels: panel `s` holds, for
/// each `p`, the NR values `B[p0 + p, j0 + s·NR + 0..NR]` (zero past the last column).
fn pack_b(b: MatRef<'_>, p0: usize, kc: usize, j0: usize, nc: usize, packed: &mut [f32]) {
    // B's panels are A-style panels of Bᵀ.
    let bt = MatRef { data: b.data, row_stride: b.col_stride, col_stride: b.row_stride };
    for (panel_index, panel) in packed.chunks_exact_mut(NR * kc).take(nc.div_ceil(NR)).enumerate() {
        let col0 = j0 + panel_index * NR;
        let cols = NR.min(j0 + nc - col0);
        pack_panel::<NR>(bt, col0, cols, p0, kc, panel);
    }
}

/// Writes `panel[p·W + r] = M[row0 + r, p0 + p]` for `r < rows` (zero for `rows ≤ r < W`),
/// `p < kc`. The two common layouts get loops that read `M` contiguously: a unit column
/// stride copies each source row into a column of the panel; a unit row stride copies `W`
/// consecutive values straight into each panel row.
#[inline(always)]
fn pack_panel<const W: usize>(m: MatRef<'_>, row0: usize, rows: usize, p0: usize, kc: usize, panel: &mut [f32]) {
    if m.col_stride == 1 {
        if rows < W {
            panel.fill(0.0);
        }
        // Whole 8×8 blocks through a SIMD transpose, the leftover rows and depth one by one.
        let full_rows = rows - rows % 8;
        let full_depth = kc - kc % 8;
        for r in (0..full_rows).step_by(8) {
            let sources: [&[f32]; 8] = core::array::from_fn(|i| {
                let start = (row0 + r + i) * m.row_stride + p0;
                &m.data[start..start + kc]
            });
            for p in (0..full_depth).step_by(8) {
                let block = f32x8::transpose(core::array::from_fn(|i| load8(&sources[i][p..p + 8])));
                for (q, column) in block.iter().enumerate() {
                    panel[(p + q) * W + r..(p + q) * W + r + 8].copy_from_slice(&column.to_array());
                }
            }
            for (i, source) in sources.iter().enumerate() {
                for p in full_depth..kc {
                    panel[p * W + r + i] = source[p];
                }
            }
        }
        for r in full_rows..rows {
            let start = (row0 + r) * m.row_stride + p0;
            for (p, value) in m.data[start..start + kc].iter().enumerate() {
                panel[p * W + r] = *value;
            }
        }
    } else if m.row_stride == 1 && rows == W {
        for (p, slot) in panel.chunks_exact_mut(W).enumerate() {
            let start = (p0 + p) * m.col_stride + row0;
            slot.copy_from_slice(&m.data[start..start + W]);
        }
    } else {
        for (p, slot) in panel.chunks_exact_mut(W).enumerate() {
            for (r, value) in slot.iter_mut().enumerate() {
                *value = if r < rows { m.at(row0 + r, p0 + p) } else { 0.0 };
            }
        }
    }
}

/// Loads 8 values as an `f32x8` (the packing transposes in 8×8 blocks at any vector width).
#[inline(always)]
fn load8(chunk: &[f32]) -> f32x8 {
    let mut lanes = [0.0f32; 8];
    lanes.copy_from_slice(chunk);
    f32x8::from(lanes)
}

/// One MR×NR tile of `A_panel · B_panel` over depth `kc`, all in registers.
#[inline(always)]
fn micro_kernel(kc: usize, a_panel: &[f32], b_panel: &[f32]) -> [[Vector; 2]; MR] {
    let mut acc = [[Vector::ZERO; 2]; MR];
    for (a_column, b_row) in a_panel.chunks_exact(MR).zip(b_panel.chunks_exact(NR)).take(kc) {
        let b0 = load(&b_row[..LANES]);
        let b1 = load(&b_row[LANES..]);
        for (row, &a_value) in acc.iter_mut().zip(a_column) {
            let a = Vector::splat(a_value);
            row[0] = a.mul_add(b0, row[0]);
            row[1] = a.mul_add(b1, row[1]);
        }
    }
    acc
}

/// Adds the valid `rows × cols` corner of a tile into C at `(i0, j0)`.
#[inline(always)]
fn add_tile(tile: &[[Vector; 2]; MR], c: &mut [f32], ldc: usize, i0: usize, j0: usize, rows: usize, cols: usize) {
    for (ii, row) in tile.iter().enumerate().take(rows) {
        let c_row = &mut c[(i0 + ii) * ldc + j0..(i0 + ii) * ldc + j0 + cols];
        if cols == NR {
            let (left, right) = c_row.split_at_mut(LANES);
            store(left, load(left) + row[0]);
            store(right, load(right) + row[1]);
        } else {
            let values: [f32; NR] = {
                let mut all = [0.0; NR];
                all[..LANES].copy_from_slice(&row[0].to_array());
                all[LANES..].copy_from_slice(&row[1].to_array());
                all
            };
            for (out, v) in c_row.iter_mut().zip(values) {
                *out += v;
            }
        }
    }
}
