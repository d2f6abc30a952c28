//! The one error type of the core.

use core::fmt;

/// Everything a caller can get wrong, reported instead of panicking.
///
/// A panic on a microcontroller is a reboot, so every public function of the core that takes
/// sizes, slices or labels checks them and returns one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The network spec itself is unusable: no layers, a zero-sized layer, or a layer whose
    /// input size differs from the previous layer's output size.
    InvalidSpec {
        /// Index of the offending layer (0 for an empty spec).
        layer: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A slice has the wrong length for the spec and batch size it is used with.
    LengthMismatch {
        /// Which buffer (e.g. `"params"`, `"input"`).
        buffer: &'static str,
        /// The length the spec and batch call for.
        expected: usize,
        /// The length that was passed.
        actual: usize,
    },
    /// A buffer is shorter than the spec and batch size need (longer is fine).
    BufferTooSmall {
        /// Which buffer (e.g. `"workspace"`).
        buffer: &'static str,
        /// The minimum length needed.
        needed: usize,
        /// The length that was passed.
        actual: usize,
    },
    /// The batch size is zero.
    EmptyBatch,
    /// A class label is not below the number of classes.
    LabelOutOfRange {
        /// Position of the sample in the batch.
        sample: usize,
        /// The label found there.
        label: usize,
        /// The number of classes (the network's output width).
        classes: usize,
    },
    /// The loss came out NaN or infinite (diverging training, or NaN/Inf in the data).
    NonFiniteLoss,
    /// The chosen loss cannot be used with this kind of target (e.g. MSE with class labels).
    TargetKindMismatch {
        /// The loss that was asked for.
        loss: &'static str,
        /// The kind of target it needs.
        needs: &'static str,
    },
    /// A tape has no room for another node.
    TapeFull {
        /// The tape's capacity in nodes.
        capacity: usize,
    },
    /// A node id that does not belong to this tape (made by another tape, or past its end).
    UnknownNode {
        /// The id's index.
        index: usize,
    },
    /// A node's value cannot be set because it is computed from other nodes.
    NotALeaf {
        /// The node's index.
        index: usize,
    },
    /// A model file is not one, is truncated or corrupt, or holds values that cannot be used.
    ModelFile {
        /// What is wrong.
        reason: &'static str,
        /// Byte offset in the file where the problem was found.
        offset: usize,
    },
    /// A model file of a format version this build does not read.
    UnsupportedVersion {
        /// The version found in the file.
        version: u16,
    },
    /// A model file's checksum does not match its contents (corruption in storage or transit).
    ChecksumMismatch {
        /// The checksum stored in the file.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// A model file holds a different network than the one it is loaded for.
    SpecMismatch {
        /// The first layer that differs (or the layer count if the counts differ).
        layer: usize,
    },
    /// An optimizer state buffer whose length is not a whole number of the optimizer's
    /// buffers (each as long as the params).
    StateLength {
        /// The optimizer's buffer count.
        buffers: usize,
        /// The length that was passed.
        actual: usize,
    },
    /// An argument that is not a buffer or a hyper-parameter is unusable (e.g. zero classes,
    /// or a batch whose size times the output width overflows).
    InvalidArgument {
        /// Name of the argument.
        name: &'static str,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// A hyper-parameter is out of its valid range (e.g. a negative learning rate).
    InvalidHyperParameter {
        /// Name of the parameter.
        name: &'static str,
        /// Why it is rejected.
        reason: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::InvalidSpec { layer, reason } => write!(f, "invalid network spec at layer {layer}: {reason}"),
            Error::LengthMismatch { buffer, expected, actual } => {
                write!(f, "`{buffer}` has length {actual}, expected {expected}")
            }
            Error::BufferTooSmall { buffer, needed, actual } => {
                write!(f, "`{buffer}` has length {actual}, needs at least {needed}")
            }
            Error::EmptyBatch => write!(f, "batch size is zero"),
            Error::LabelOutOfRange { sample, label, classes } => {
                write!(f, "label {label} of sample {sample} is out of range for {classes} classes")
            }
            Error::NonFiniteLoss => write!(f, "loss is NaN or infinite (diverging training or non-finite data)"),
            Error::TargetKindMismatch { loss, needs } => write!(f, "loss `{loss}` needs {needs} targets"),
            Error::TapeFull { capacity } => write!(f, "the tape is full ({capacity} nodes)"),
            Error::UnknownNode { index } => write!(f, "node {index} does not belong to this tape"),
            Error::NotALeaf { index } => write!(f, "node {index} is computed from other nodes; only inputs can be set"),
            Error::ModelFile { reason, offset } => write!(f, "bad model file at byte {offset}: {reason}"),
            Error::UnsupportedVersion { version } => write!(f, "model file format version {version} is not supported"),
            Error::ChecksumMismatch { stored, computed } => {
                write!(f, "model file checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the file is corrupt")
            }
            Error::SpecMismatch { layer } => {
                write!(f, "the model file's network differs from the expected one at layer {layer}")
            }
            Error::StateLength { buffers, actual } => {
                write!(f, "optimizer state has length {actual}, not a multiple of its {buffers} buffers")
            }
            Error::InvalidArgument { name, reason } => write!(f, "invalid argument `{name}`: {reason}"),
            Error::InvalidHyperParameter { name, reason } => write!(f, "invalid hyper-parameter `{name}`: {reason}"),
        }
    }
}

impl core::error::Error for Error {}

/// Shorthand for results of the core.
pub type Result<T> = core::result::Result<T, Error>;

/// Checks that `buffer` has exactly `expected` elements.
pub(crate) fn check_len(buffer: &'static str, expected: usize, actual: usize) -> Result<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(Error::LengthMismatch { buffer, expected, actual })
    }
}

/// Checks that `buffer` has at least `needed` elements.
pub(crate) fn check_min_len(buffer: &'static str, needed: usize, actual: usize) -> Result<()> {
    if actual >= needed {
        Ok(())
    } else {
        Err(Error::BufferTooSmall { buffer, needed, actual })
    }
}

/// Checks a hyper-parameter: `Ok` if `ok`, else [`Error::InvalidHyperParameter`].
pub(crate) fn check_hyper_parameter(ok: bool, name: &'static str, reason: &'static str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidHyperParameter { name, reason })
    }
}

/// Whether `value` is finite and not negative (the range of most hyper-parameters).
pub(crate) fn non_negative(value: f32) -> bool {
    value.is_finite() && value >= 0.0
}
