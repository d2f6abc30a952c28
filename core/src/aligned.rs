//! A heap buffer of `f32` that starts on a cache line (feature `alloc`).

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::ops::{Deref, DerefMut};

use crate::kernels::{floats_to_line, LINE_FLOATS};

/// A fixed-length, zero-initialised `f32` buffer whose first element sits on a 64-byte
/// boundary; it dereferences to `[f32]`.
///
/// The kernels accept any slice, but with AVX-512 every 64-byte vector store into a buffer
/// that starts off a cache line straddles two lines, and a large `Vec` from the system
/// allocator usually starts 16 bytes off one (docs/TUNING.md gives the measured cost). [`Mlp`](crate::Mlp) keeps its params, grads
/// and workspace in these; callers that own their buffers get the same by allocating them
/// here (or with any 64-byte alignment).
///
/// The storage is a `Vec` with up to 15 spare floats in front, so the buffer is safe code
/// throughout and never moves while it lives (it has no operation that grows it in place).
///
/// ```
/// use embergrad::AlignedBuffer;
/// let mut grads = AlignedBuffer::zeroed(1000);
/// assert_eq!(grads.len(), 1000);
/// assert_eq!(grads.as_ptr() as usize % 64, 0);
/// grads[3] = 1.5;
/// let copy = AlignedBuffer::from_slice(&grads);
/// assert_eq!(copy[3], 1.5);
/// assert_eq!(copy.as_ptr() as usize % 64, 0);
/// ```
pub struct AlignedBuffer {
    storage: Vec<f32>,
    start: usize,
    len: usize,
}

impl AlignedBuffer {
    /// `len` zeros, the first on a 64-byte boundary.
    pub fn zeroed(len: usize) -> Self {
        let storage = vec![0.0; len + LINE_FLOATS - 1];
        let start = floats_to_line(storage.as_ptr());
        AlignedBuffer { storage, start, len }
    }

    /// A copy of `values`, the first on a 64-byte boundary.
    pub fn from_slice(values: &[f32]) -> Self {
        let mut buffer = Self::zeroed(values.len());
        buffer.copy_from_slice(values);
        buffer
    }

    /// Makes the buffer at least `len` long: a new zeroed buffer when it is shorter (the old
    /// contents are dropped, as for a workspace), nothing otherwise.
    pub fn ensure_len(&mut self, len: usize) {
        if self.len < len {
            *self = Self::zeroed(len);
        }
    }
}

impl Default for AlignedBuffer {
    fn default() -> Self {
        Self::zeroed(0)
    }
}

impl Deref for AlignedBuffer {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        &self.storage[self.start..self.start + self.len]
    }
}

impl DerefMut for AlignedBuffer {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

/// A clone is a new allocation, aligned on its own (a derived clone would keep the old
/// offset, which need not fit the new storage).
impl Clone for AlignedBuffer {
    fn clone(&self) -> Self {
        Self::from_slice(self)
    }
}

impl fmt::Debug for AlignedBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for AlignedBuffer {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}
