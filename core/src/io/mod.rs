//! The embergrad model file: a compact binary format for a network's spec, its params and,
//! optionally, the optimizer state and step counter to resume training exactly.
//!
//! Layout, all integers and floats little-endian:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `EMBRGRAD` |
//! | 2 | format version ([`VERSION`]) |
//! | 2 | flags: bit 0 = a checkpoint section follows the params |
//! | 4 | number of layers `L` |
//! | 12·L | per layer: inputs (u32), outputs (u32), activation code (u32, [`Activation::file_code`]) |
//! | 4 | number of params `P` (must equal the spec's) |
//! | 4·P | params (f32), the flat layout of [`Spec`] |
//! | 44 | checkpoint only: optimizer kind (u8), flags (u8), 2 zero bytes, 6 hyper-parameters (f32), steps (u64), epochs completed (u64), state length `S` (u32) |
//! | 4·S | checkpoint only: optimizer state (f32) |
//! | 4 | CRC-32 of every byte before it |
//!
//! Codes are fixed per member, never a position in a list, and an unknown one is an error.
//! Activations: identity 0, relu 1, leaky_relu 2, sigmoid 3, tanh 4, gelu 5, gelu_tanh 6,
//! silu 7, elu 8, softplus 9, mish 10. Optimizers (kind; flag bits; the six values in order):
//! SGD 0 (Nesterov 1; lr, momentum, dampening, weight decay), Adagrad 1 (lr, lr decay, weight
//! decay, initial accumulator, eps), RMSprop 2 (centered 2; lr, alpha, eps, weight decay,
//! momentum), Adam 3 (AMSGrad 4, decoupled 8; lr, β1, β2, eps, weight decay), NAdam 4
//! (decoupled 8; lr, β1, β2, eps, weight decay, momentum decay), RAdam 5 (decoupled 8; lr, β1,
//! β2, eps, weight decay), Adamax 6 (lr, β1, β2, eps, weight decay), Adadelta 7 (lr, rho, eps,
//! weight decay), Rprop 8 (lr, eta minus, eta plus, step min, step max); unused slots are 0.
//!
//! Loading reads into caller-provided buffers and checks everything first (magic, version,
//! checksum, the spec, every length, every value finite, the optimizer's hyper-parameters), so
//! a corrupt, truncated or foreign file is an [`Error`] and never a half-loaded network.

mod crc32;

pub use crc32::crc32;

use crate::error::{check_len, check_min_len, Error, Result};
use crate::nn::{Activation, LayerSpec, Spec};
use crate::optim::Optimizer;

/// The file's first eight bytes.
pub const MAGIC: [u8; 8] = *b"EMBRGRAD";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;

const HEADER_LEN: usize = 16;
const LAYER_LEN: usize = 12;
const CHECKPOINT_HEADER_LEN: usize = 4 + 6 * 4 + 8 + 8 + 4;
const FLAG_CHECKPOINT: u16 = 1;

/// Everything needed to resume training: the optimizer, its step counter and its state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Checkpoint<'a> {
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// Steps taken.
    pub steps: u64,
    /// Epochs completed (for a training loop to resume where it stopped).
    pub epoch: u64,
    /// The optimizer's state buffer.
    pub state: &'a [f32],
}

/// What a model file holds, without its numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelInfo {
    /// Number of layers.
    pub layer_count: usize,
    /// Number of params.
    pub param_len: usize,
    /// The checkpoint section, if present.
    pub checkpoint: Option<CheckpointInfo>,
}

/// The checkpoint section of a model file, without the state's numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckpointInfo {
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// Steps taken.
    pub steps: u64,
    /// Epochs completed.
    pub epoch: u64,
    /// Length of the optimizer state.
    pub state_len: usize,
}

/// Bytes of a model file for `spec`, with a checkpoint of `state_len` values if given (a
/// `const fn`: a device can reserve exactly this much flash or RAM).
pub const fn encoded_len(spec: &Spec<'_>, state_len: Option<usize>) -> usize {
    let checkpoint = match state_len {
        Some(n) => CHECKPOINT_HEADER_LEN + 4 * n,
        None => 0,
    };
    HEADER_LEN + LAYER_LEN * spec.layers().len() + 4 + 4 * spec.param_len() + checkpoint + 4
}

/// Writes a model file for `spec` and `params` (and `checkpoint`) into `out`; returns the
/// number of bytes written ([`encoded_len`]). Non-finite values are refused: a diverged
/// network is not saved over a good one.
///
/// ```
/// use embergrad::io::{encoded_len, load_for_spec, save};
/// use embergrad::{Activation, LayerSpec, Spec};
/// const LAYERS: [LayerSpec; 1] = [LayerSpec::new(2, 1, Activation::Sigmoid)];
/// const NET: Spec<'static> = Spec::new(&LAYERS);
/// let params = [0.5f32, -0.25, 0.125];
/// let mut file = [0u8; encoded_len(&NET, None)];
/// save(&NET, &params, None, &mut file).unwrap();
/// let mut loaded = [0.0f32; NET.param_len()];
/// load_for_spec(&file, &NET, &mut loaded, None).unwrap();
/// assert_eq!(loaded, params);
/// ```
pub fn save(spec: &Spec<'_>, params: &[f32], checkpoint: Option<Checkpoint<'_>>, out: &mut [u8]) -> Result<usize> {
    spec.validate()?;
    check_len("params", spec.param_len(), params.len())?;
    if let Some(c) = &checkpoint {
        c.optimizer.validate()?;
        check_len("optimizer state", c.optimizer.state_len(params.len()), c.state.len())?;
    }
    const CUSTOM: Error =
        Error::ModelFile { reason: "a custom activation is code and cannot be stored in a model file", offset: 0 };
    if spec.layers().iter().any(|l| l.activation.file_code().is_none()) {
        return Err(CUSTOM);
    }
    let len = encoded_len(spec, checkpoint.as_ref().map(|c| c.state.len()));
    check_min_len("output", len, out.len())?;
    let mut w = Writer { out: &mut out[..len], pos: 0 };
    w.bytes(&MAGIC);
    w.u16(VERSION);
    w.u16(if checkpoint.is_some() { FLAG_CHECKPOINT } else { 0 });
    w.u32(spec.layers().len() as u32);
    for layer in spec.layers() {
        w.u32(layer.inputs as u32);
        w.u32(layer.outputs as u32);
        w.u32(layer.activation.file_code().ok_or(CUSTOM)?);
    }
    w.u32(params.len() as u32);
    w.floats(params)?;
    if let Some(c) = checkpoint {
        let (kind, flags, values) = c.optimizer.encode();
        w.bytes(&[kind, flags, 0, 0]);
        w.floats(&values)?;
        w.u64(c.steps);
        w.u64(c.epoch);
        w.u32(c.state.len() as u32);
        w.floats(c.state)?;
    }
    let checksum = crc32(&w.out[..len - 4]);
    w.u32(checksum);
    Ok(len)
}

/// Checks a model file completely and describes it, without loading anything.
pub fn inspect(bytes: &[u8]) -> Result<ModelInfo> {
    decode(bytes, &mut Outputs::none())
}

/// Loads a model file into `layers` (room for at least its layer count; the first
/// `layer_count` entries are written), `params` (exactly its length) and, if the file has a
/// checkpoint and `state` is given, `state` (exactly its length). Nothing is written unless
/// the whole file is valid.
pub fn load(
    bytes: &[u8],
    layers: &mut [LayerSpec],
    params: &mut [f32],
    state: Option<&mut [f32]>,
) -> Result<ModelInfo> {
    let info = inspect(bytes)?;
    check_min_len("layers", info.layer_count, layers.len())?;
    check_len("params", info.param_len, params.len())?;
    let state = check_state(&info, state)?;
    decode(bytes, &mut Outputs { layers: Some(layers), params: Some(params), state, expected: None })
}

/// Loads a model file that must hold exactly the network `spec` (else
/// [`Error::SpecMismatch`]) into `params` and, if present and asked for, `state`. Nothing is
/// written unless the whole file is valid. This is the call for firmware that embeds a model
/// with `include_bytes!`.
pub fn load_for_spec(
    bytes: &[u8],
    spec: &Spec<'_>,
    params: &mut [f32],
    state: Option<&mut [f32]>,
) -> Result<ModelInfo> {
    spec.validate()?;
    let info = decode(bytes, &mut Outputs { expected: Some(spec.layers()), ..Outputs::none() })?;
    check_len("params", info.param_len, params.len())?;
    let state = check_state(&info, state)?;
    decode(bytes, &mut Outputs { layers: None, params: Some(params), state, expected: Some(spec.layers()) })
}

fn check_state<'s>(info: &ModelInfo, state: Option<&'s mut [f32]>) -> Result<Option<&'s mut [f32]>> {
    match (info.checkpoint, state) {
        (Some(c), Some(s)) => {
            check_len("optimizer state", c.state_len, s.len())?;
            Ok(Some(s))
        }
        _ => Ok(None),
    }
}

/// Where a decoding pass writes (nothing, on the checking pass).
struct Outputs<'o> {
    layers: Option<&'o mut [LayerSpec]>,
    params: Option<&'o mut [f32]>,
    state: Option<&'o mut [f32]>,
    /// Layers the file must match.
    expected: Option<&'o [LayerSpec]>,
}

impl Outputs<'_> {
    fn none() -> Self {
        Outputs { layers: None, params: None, state: None, expected: None }
    }
}

/// Walks the whole file, checking everything, and writes into `out` what it asks for.
fn decode(bytes: &[u8], out: &mut Outputs<'_>) -> Result<ModelInfo> {
    let mut r = Reader { bytes, pos: 0 };
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(Error::ModelFile { reason: "not an embergrad model file (wrong magic bytes)", offset: 0 });
    }
    r.pos = MAGIC.len();
    let version = r.u16()?;
    if version != VERSION {
        return Err(Error::UnsupportedVersion { version });
    }
    if bytes.len() < HEADER_LEN + 4 {
        return Err(Error::ModelFile { reason: "truncated header", offset: bytes.len() });
    }
    let body = &bytes[..bytes.len() - 4];
    let stored =
        u32::from_le_bytes([bytes[body.len()], bytes[body.len() + 1], bytes[body.len() + 2], bytes[body.len() + 3]]);
    let computed = crc32(body);
    if stored != computed {
        return Err(Error::ChecksumMismatch { stored, computed });
    }
    r.bytes = body;
    let flags = r.u16()?;
    if flags & !FLAG_CHECKPOINT != 0 {
        return Err(Error::ModelFile { reason: "unknown flags", offset: 10 });
    }
    let layer_count = r.u32()? as usize;
    if layer_count == 0 {
        return Err(Error::ModelFile { reason: "no layers", offset: 12 });
    }
    if let Some(expected) = out.expected {
        if expected.len() != layer_count {
            return Err(Error::SpecMismatch { layer: expected.len().min(layer_count) });
        }
    }
    let mut param_len = 0usize;
    let mut previous_outputs = None;
    for index in 0..layer_count {
        let offset = r.pos;
        let inputs = r.u32()? as usize;
        let outputs = r.u32()? as usize;
        let code = r.u32()?;
        let activation = Activation::from_file_code(code)
            .ok_or(Error::ModelFile { reason: "unknown activation code", offset: offset + 8 })?;
        if inputs == 0 || outputs == 0 {
            return Err(Error::ModelFile { reason: "a layer has zero width", offset });
        }
        if previous_outputs.is_some_and(|p| p != inputs) {
            return Err(Error::ModelFile { reason: "layer widths do not chain", offset });
        }
        previous_outputs = Some(outputs);
        let layer = LayerSpec::new(inputs, outputs, activation);
        param_len = inputs
            .checked_add(1)
            .and_then(|i| i.checked_mul(outputs))
            .and_then(|n| n.checked_add(param_len))
            .ok_or(Error::ModelFile { reason: "layer too large", offset })?;
        if let Some(expected) = out.expected {
            if expected[index] != layer {
                return Err(Error::SpecMismatch { layer: index });
            }
        }
        if let Some(layers) = out.layers.as_deref_mut() {
            layers[index] = layer;
        }
    }
    let offset = r.pos;
    if r.u32()? as usize != param_len {
        return Err(Error::ModelFile { reason: "param count differs from the layers' sizes", offset });
    }
    r.floats(param_len, out.params.as_deref_mut())?;
    let checkpoint = if flags & FLAG_CHECKPOINT != 0 {
        let offset = r.pos;
        let head = [r.u8()?, r.u8()?, r.u8()?, r.u8()?];
        let mut values = [0.0f32; 6];
        for v in &mut values {
            *v = r.f32()?;
        }
        let optimizer = Optimizer::decode(head[0], head[1], &values)
            .ok_or(Error::ModelFile { reason: "unknown optimizer", offset })?;
        // Reserved bytes, unknown flag bits and unused slots must be zero: one model, one
        // encoding (what `save` writes back is bit for bit what was read).
        let (kind, flags, canonical) = optimizer.encode();
        let same_values = canonical.iter().zip(&values).all(|(a, b)| a.to_bits() == b.to_bits());
        if head != [kind, flags, 0, 0] || !same_values {
            return Err(Error::ModelFile {
                reason: "optimizer section has unknown flags or non-zero reserved fields",
                offset,
            });
        }
        optimizer.validate().map_err(|_| Error::ModelFile { reason: "invalid optimizer hyper-parameters", offset })?;
        let steps = r.u64()?;
        let epoch = r.u64()?;
        let state_offset = r.pos;
        let state_len = r.u32()? as usize;
        if state_len != optimizer.state_len(param_len) {
            return Err(Error::ModelFile {
                reason: "optimizer state length does not fit the optimizer",
                offset: state_offset,
            });
        }
        r.floats(state_len, out.state.as_deref_mut())?;
        Some(CheckpointInfo { optimizer, steps, epoch, state_len })
    } else {
        None
    };
    if r.pos != body.len() {
        return Err(Error::ModelFile { reason: "trailing bytes after the model", offset: r.pos });
    }
    Ok(ModelInfo { layer_count, param_len, checkpoint })
}

/// Whether no code appears twice in a family's list of model-file codes (the activation and
/// optimizer lists assert it at compile time).
pub(crate) const fn codes_are_unique(codes: &[u32]) -> bool {
    let mut i = 0;
    while i < codes.len() {
        let mut j = i + 1;
        while j < codes.len() {
            if codes[i] == codes[j] {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

struct Writer<'o> {
    out: &'o mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        self.out[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }
    fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn floats(&mut self, values: &[f32]) -> Result<()> {
        for (i, v) in values.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::ModelFile {
                    reason: "refusing to save a non-finite value",
                    offset: self.pos + 4 * i,
                });
            }
        }
        for v in values {
            self.bytes(&v.to_le_bytes());
        }
        Ok(())
    }
}

struct Reader<'b> {
    bytes: &'b [u8],
    pos: usize,
}

impl<'b> Reader<'b> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let end = self.pos.checked_add(N).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or(Error::ModelFile { reason: "truncated", offset: self.bytes.len() })?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[self.pos..end]);
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_le_bytes(self.take()?))
    }
    /// Reads `count` finite floats, writing them into `out` if given.
    fn floats(&mut self, count: usize, mut out: Option<&mut [f32]>) -> Result<()> {
        let needed = count.checked_mul(4).ok_or(Error::ModelFile { reason: "length overflows", offset: self.pos })?;
        if self.bytes.len() - self.pos < needed {
            return Err(Error::ModelFile { reason: "truncated", offset: self.bytes.len() });
        }
        for i in 0..count {
            let offset = self.pos;
            let value = self.f32()?;
            if !value.is_finite() {
                return Err(Error::ModelFile { reason: "non-finite value", offset });
            }
            if let Some(out) = out.as_deref_mut() {
                out[i] = value;
            }
        }
        Ok(())
    }
}
