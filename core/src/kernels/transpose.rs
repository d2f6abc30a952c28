//! Out-of-place matrix transposes in 8×8 SIMD blocks (`Block8`, 8-lane vectors at every
//! level), compiled once per instruction-set level like `gemm.rs`.

use super::simd::{load8, Block8};
use crate::kernels::layout::array_of;

/// `dst[j·rows + i] = src[i·cols + j] + offsets[i]`: the row-major `cols × rows` transpose of
/// the row-major `rows × cols` matrix in `src`, with `offsets[i]` added to everything that
/// came from row `i`. The forward product uses it to turn `Yᵀ = W·Xᵀ` into `Y` and add the
/// bias in the same pass (rather than filling `Yᵀ` with the bias first and accumulating
/// onto it, one more pass over the output).
#[inline(always)]
pub(crate) fn transpose_with_row_offsets(src: &[f32], rows: usize, cols: usize, offsets: &[f32], dst: &mut [f32]) {
    debug_assert!(src.len() >= rows * cols && dst.len() >= rows * cols && offsets.len() >= rows);
    let full_rows = rows - rows % 8;
    let full_cols = cols - cols % 8;
    // Blocks of 8 columns of `src` outermost, so each 8-row strip of `dst` is written from
    // start to end, whole lines at a time, rather than every line in two halves far apart
    // (docs/TUNING.md has the measurement).
    for j in (0..full_cols).step_by(8) {
        for i in (0..full_rows).step_by(8) {
            let block = Block8::transpose(array_of(Block8::ZERO, |r| load8(&src[(i + r) * cols + j..])));
            let row_offsets = load8(&offsets[i..]);
            for (q, column) in block.iter().enumerate() {
                let at = (j + q) * rows + i;
                dst[at..at + 8].copy_from_slice(&(*column + row_offsets).to_array());
            }
        }
    }
    // The edges: the last columns of the full row blocks, then the last rows.
    for i in 0..full_rows {
        for j in full_cols..cols {
            dst[j * rows + i] = src[i * cols + j] + offsets[i];
        }
    }
    for i in full_rows..rows {
        for j in 0..cols {
            dst[j * rows + i] = src[i * cols + j] + offsets[i];
        }
    }
}
