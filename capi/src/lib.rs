//! The C interface of embergrad: the core's networks, losses, optimizers and model files for
//! C programs, with caller-owned buffers and no allocator.
//!
//! Every function returns an `eg_status` (0 is success; [`eg_error_message`] describes the
//! others) and takes arrays as a pointer and a length, which it checks: a null pointer with a
//! non-zero length, a length that does not fit, or an unknown code is an error, never
//! undefined behaviour. No function can panic: the core reports bad input as errors, and the
//! arithmetic here is on lengths already checked; the library is built with `panic = "abort"`
//! so that an unwinding panic could not cross into C even if one were possible.
#![no_std]
#![allow(clippy::missing_safety_doc)] // the safety contract is the one above, for every function

use core::slice;

use embergrad::io::{self, Checkpoint};
use embergrad::nn::{BceWithLogits, Huber, LabelSmoothingCrossEntropy, Mse, SoftmaxCrossEntropy, L1};
use embergrad::optim::{Anneal, Optimizer, Schedule, Step};
use embergrad::{init_params, Activation, Batch, BatchLoss, Error, Init, LayerSpec, Loss, Rng, Spec, Target};

/// The most layers a network passed through this interface may have.
pub const EG_MAX_LAYERS: usize = 16;

/// One dense layer: its widths and its activation's model-file code (0 identity, 1 relu,
/// 2 leaky_relu, 3 sigmoid, 4 tanh, 5 gelu, 6 gelu_tanh, 7 silu, 8 elu, 9 softplus, 10 mish).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EgLayer {
    /// Inputs of the layer.
    pub inputs: u32,
    /// Outputs of the layer.
    pub outputs: u32,
    /// The activation's code.
    pub activation: u32,
}

/// An optimizer as the model file stores it: its code (0 sgd, 1 adagrad, 2 rmsprop, 3 adam,
/// 4 nadam, 5 radam, 6 adamax, 7 adadelta, 8 rprop), flag bits and six values, in the order
/// the embergrad documentation (`io` module) lists them.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EgOptimizer {
    /// The optimizer's code.
    pub kind: u8,
    /// Its flag bits (Nesterov, centered, AMSGrad, decoupled weight decay).
    pub flags: u8,
    /// Its hyper-parameters, the learning rate first.
    pub values: [f32; 6],
}

/// Success, or what went wrong: the core's errors, and the interface's own.
pub type EgStatus = i32;

/// Success.
pub const EG_OK: EgStatus = 0;
/// A null pointer where an array of non-zero length was expected.
pub const EG_NULL_POINTER: EgStatus = 100;
/// An unknown activation, loss or optimizer code, or more than [`EG_MAX_LAYERS`] layers.
pub const EG_UNKNOWN_CODE: EgStatus = 101;

/// The status of a core error: its variant's position (1 and up).
fn status(error: Error) -> EgStatus {
    match error {
        Error::InvalidSpec { .. } => 1,
        Error::LengthMismatch { .. } => 2,
        Error::BufferTooSmall { .. } => 3,
        Error::EmptyBatch => 4,
        Error::LabelOutOfRange { .. } => 5,
        Error::NonFiniteLoss => 6,
        Error::TargetKindMismatch { .. } => 7,
        Error::TapeFull { .. } => 8,
        Error::UnknownNode { .. } => 9,
        Error::NotALeaf { .. } => 10,
        Error::ModelFile { .. } => 11,
        Error::UnsupportedVersion { .. } => 12,
        Error::ChecksumMismatch { .. } => 13,
        Error::SpecMismatch { .. } => 14,
        Error::StateLength { .. } => 15,
        Error::InvalidArgument { .. } => 16,
        Error::InvalidHyperParameter { .. } => 17,
    }
}

/// A static, NUL-terminated description of `status`.
#[no_mangle]
pub extern "C" fn eg_error_message(status: EgStatus) -> *const u8 {
    let text: &'static [u8] = match status {
        EG_OK => b"ok\0",
        1 => b"invalid network spec\0",
        2 => b"an array has the wrong length\0",
        3 => b"a buffer is too small\0",
        4 => b"the batch is empty\0",
        5 => b"a class label is not below the number of classes\0",
        6 => b"the loss is NaN or infinite\0",
        7 => b"the loss needs the other kind of target\0",
        11 => b"not a usable model file\0",
        12 => b"unsupported model file version\0",
        13 => b"model file checksum mismatch\0",
        14 => b"the model file holds a different network\0",
        15 => b"optimizer state length is not a whole number of buffers\0",
        16 => b"invalid argument\0",
        17 => b"invalid hyper-parameter\0",
        EG_NULL_POINTER => b"null pointer\0",
        EG_UNKNOWN_CODE => b"unknown code, or too many layers\0",
        _ => b"unknown status\0",
    };
    text.as_ptr()
}

/// `ptr[..len]`, or an error for a null pointer with a non-zero length.
unsafe fn view<'a, T>(ptr: *const T, len: usize) -> Result<&'a [T], EgStatus> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(EG_NULL_POINTER);
    }
    // SAFETY: the caller promises `len` valid elements at a non-null `ptr` (the interface's
    // contract); null was refused above.
    Ok(unsafe { slice::from_raw_parts(ptr, len) })
}

/// `ptr[..len]` writable, or an error for a null pointer with a non-zero length.
unsafe fn view_mut<'a, T>(ptr: *mut T, len: usize) -> Result<&'a mut [T], EgStatus> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(EG_NULL_POINTER);
    }
    // SAFETY: as in `view`, and the caller promises no other reference to the array.
    Ok(unsafe { slice::from_raw_parts_mut(ptr, len) })
}

/// The layers as the core's, in a fixed array (no allocator).
unsafe fn layers(ptr: *const EgLayer, count: usize) -> Result<([LayerSpec; EG_MAX_LAYERS], usize), EgStatus> {
    if count > EG_MAX_LAYERS {
        return Err(EG_UNKNOWN_CODE);
    }
    let given = unsafe { view(ptr, count)? };
    let mut out = [LayerSpec::new(1, 1, Activation::Identity); EG_MAX_LAYERS];
    for (slot, layer) in out.iter_mut().zip(given) {
        let activation = Activation::from_file_code(layer.activation).ok_or(EG_UNKNOWN_CODE)?;
        *slot = LayerSpec::new(layer.inputs as usize, layer.outputs as usize, activation);
    }
    let spec = Spec::new(&out[..count]);
    spec.validate().map_err(status)?;
    Ok((out, count))
}

/// Runs `body` and turns its result into a status.
fn run(body: impl FnOnce() -> Result<(), EgStatus>) -> EgStatus {
    match body() {
        Ok(()) => EG_OK,
        Err(code) => code,
    }
}

/// Writes `value` through `out`, or an error for a null `out`.
unsafe fn put<T>(out: *mut T, value: T) -> Result<(), EgStatus> {
    if out.is_null() {
        return Err(EG_NULL_POINTER);
    }
    // SAFETY: non-null, and the caller promises it points to a writable `T`.
    unsafe { out.write(value) };
    Ok(())
}

/// Sizes of a network's buffers: params (and grads), the workspace for `batch` samples, and
/// a model file without and with an optimizer state of `state_len` values.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EgSizes {
    /// Params (and grads), in floats.
    pub params: usize,
    /// Workspace for training on `batch` samples, in floats.
    pub workspace: usize,
    /// Workspace for inference on `batch` samples, in floats.
    pub forward_workspace: usize,
    /// A model file without a checkpoint, in bytes.
    pub model_file: usize,
}

/// The sizes of the buffers of a network of `count` layers for `batch` samples.
#[no_mangle]
pub unsafe extern "C" fn eg_sizes(
    layer_array: *const EgLayer,
    count: usize,
    batch: usize,
    out: *mut EgSizes,
) -> EgStatus {
    run(|| {
        let (array, n) = unsafe { layers(layer_array, count)? };
        let spec = Spec::new(&array[..n]);
        let workspace = spec.checked_workspace_len(batch, false).ok_or(status(Error::EmptyBatch))?;
        let forward_workspace = spec.checked_workspace_len(batch, true).ok_or(status(Error::EmptyBatch))?;
        let sizes = EgSizes {
            params: spec.param_len(),
            workspace,
            forward_workspace,
            model_file: io::encoded_len(&spec, None),
        };
        unsafe { put(out, sizes) }
    })
}

/// Fills `params` with initial weights (He for the ReLU family, Xavier for the others, as
/// `Init::Auto`) from `seed`; biases 0.
#[no_mangle]
pub unsafe extern "C" fn eg_init(
    layer_array: *const EgLayer,
    count: usize,
    params: *mut f32,
    params_len: usize,
    seed: u64,
) -> EgStatus {
    run(|| {
        let (array, n) = unsafe { layers(layer_array, count)? };
        let params = unsafe { view_mut(params, params_len)? };
        init_params(&Spec::new(&array[..n]), params, Init::Auto, &mut Rng::new(seed)).map_err(status)
    })
}

/// Fills `params` with Xavier-uniform weights for every layer from `seed`; biases 0. The
/// same as [`eg_init`] for networks without ReLU-family layers, but links only the uniform
/// draw (for firmware).
#[no_mangle]
pub unsafe extern "C" fn eg_init_uniform(
    layer_array: *const EgLayer,
    count: usize,
    params: *mut f32,
    params_len: usize,
    seed: u64,
) -> EgStatus {
    run(|| {
        let (array, n) = unsafe { layers(layer_array, count)? };
        let params = unsafe { view_mut(params, params_len)? };
        init_params(&Spec::new(&array[..n]), params, Init::XavierUniform, &mut Rng::new(seed)).map_err(status)
    })
}

/// The outputs of `batch` samples (`input`: `batch × inputs`) into `output` (`batch ×
/// outputs`).
#[no_mangle]
pub unsafe extern "C" fn eg_forward(
    layer_array: *const EgLayer,
    count: usize,
    params: *const f32,
    params_len: usize,
    input: *const f32,
    input_len: usize,
    batch: usize,
    workspace: *mut f32,
    workspace_len: usize,
    output: *mut f32,
    output_len: usize,
) -> EgStatus {
    run(|| {
        let (array, n) = unsafe { layers(layer_array, count)? };
        let spec = Spec::new(&array[..n]);
        let (params, input) = unsafe { (view(params, params_len)?, view(input, input_len)?) };
        let (workspace, output) = unsafe { (view_mut(workspace, workspace_len)?, view_mut(output, output_len)?) };
        let result = spec.forward(params, input, batch, workspace).map_err(status)?;
        if output.len() != result.len() {
            return Err(status(Error::LengthMismatch {
                buffer: "output",
                expected: result.len(),
                actual: output.len(),
            }));
        }
        output.copy_from_slice(result);
        Ok(())
    })
}

/// The mean loss of `batch` samples into `loss`, and its gradients into `grads`. Loss codes:
/// 0 mse, 1 l1, 2 huber (delta `parameter`), 3 bce_logits, 4 softmax_ce, 5 softmax_ce with
/// label smoothing `parameter`. Targets are `values` (`batch × outputs`) for the first four
/// and `classes` (`batch`, at most 1024) for the others; the other array may be null with
/// length 0. This links every loss; `eg_mse_loss_and_gradients` and its siblings link one.
#[no_mangle]
pub unsafe extern "C" fn eg_loss_and_gradients(
    layer_array: *const EgLayer,
    count: usize,
    params: *const f32,
    params_len: usize,
    input: *const f32,
    input_len: usize,
    batch: usize,
    loss_code: u32,
    parameter: f32,
    values: *const f32,
    values_len: usize,
    classes: *const u32,
    classes_len: usize,
    grads: *mut f32,
    grads_len: usize,
    workspace: *mut f32,
    workspace_len: usize,
    loss: *mut f32,
) -> EgStatus {
    let the_loss = match loss_code {
        0 => Loss::Mse,
        1 => Loss::L1,
        2 => Loss::Huber { delta: parameter },
        3 => Loss::BceWithLogits,
        4 => Loss::SoftmaxCrossEntropy,
        5 => Loss::LabelSmoothingCrossEntropy { smoothing: parameter },
        _ => return EG_UNKNOWN_CODE,
    };
    let targets =
        if loss_code >= 4 { Targets::Classes(classes, classes_len) } else { Targets::Values(values, values_len) };
    let pass = Pass {
        layer_array,
        count,
        params,
        params_len,
        input,
        input_len,
        batch,
        grads,
        grads_len,
        workspace,
        workspace_len,
    };
    unsafe { loss_and_gradients(the_loss, pass, targets, loss) }
}

/// The arrays of a loss-and-gradients call but the targets, as C passes them.
struct Pass {
    layer_array: *const EgLayer,
    count: usize,
    params: *const f32,
    params_len: usize,
    input: *const f32,
    input_len: usize,
    batch: usize,
    grads: *mut f32,
    grads_len: usize,
    workspace: *mut f32,
    workspace_len: usize,
}

/// A call's targets: values (`batch × outputs`) or class labels (`batch`).
enum Targets {
    Values(*const f32, usize),
    Classes(*const u32, usize),
}

/// The body of every loss-and-gradients function, for one loss. Inlined into each, so that
/// a function for one loss type links only that loss.
#[inline(always)]
unsafe fn loss_and_gradients(loss: impl BatchLoss, pass: Pass, targets: Targets, out: *mut f32) -> EgStatus {
    run(|| {
        let (array, n) = unsafe { layers(pass.layer_array, pass.count)? };
        let spec = Spec::new(&array[..n]);
        let (params, input) = unsafe { (view(pass.params, pass.params_len)?, view(pass.input, pass.input_len)?) };
        let grads = unsafe { view_mut(pass.grads, pass.grads_len)? };
        let workspace = unsafe { view_mut(pass.workspace, pass.workspace_len)? };
        let value = match targets {
            Targets::Values(values, len) => {
                let batch = Batch::new(input, Target::Values(unsafe { view(values, len)? }), pass.batch);
                spec.loss_and_gradients(params, &batch, loss, grads, workspace)
            }
            Targets::Classes(classes, len) => {
                // Class labels arrive as u32; the core takes usize: converted on the stack.
                const MOST: usize = 1024;
                let classes32 = unsafe { view(classes, len)? };
                if classes32.len() > MOST {
                    return Err(status(Error::InvalidArgument {
                        name: "classes",
                        reason: "at most 1024 samples per call",
                    }));
                }
                let mut labels = [0usize; MOST];
                for (l, &c) in labels.iter_mut().zip(classes32) {
                    *l = c as usize;
                }
                let batch = Batch::new(input, Target::Classes(&labels[..classes32.len()]), pass.batch);
                spec.loss_and_gradients(params, &batch, loss, grads, workspace)
            }
        }
        .map_err(status)?;
        unsafe { put(out, value) }
    })
}

/// [`eg_loss_and_gradients`] under MSE, `targets` holding `batch × outputs` values; links
/// only this loss.
#[no_mangle]
pub unsafe extern "C" fn eg_mse_loss_and_gradients(
    layer_array: *const EgLayer,
    count: usize,
    params: *const f32,
    params_len: usize,
    input: *const f32,
    input_len: usize,
    batch: usize,
    targets: *const f32,
    targets_len: usize,
    grads: *mut f32,
    grads_len: usize,
    workspace: *mut f32,
    workspace_len: usize,
    loss: *mut f32,
) -> EgStatus {
    let pass = Pass {
        layer_array,
        count,
        params,
        params_len,
        input,
        input_len,
        batch,
        grads,
        grads_len,
        workspace,
        workspace_len,
    };
    unsafe { loss_and_gradients(Mse, pass, Targets::Values(targets, targets_len), loss) }
}

/// [`eg_loss_and_gradients`] under L1, `targets` holding `batch × outputs` values; links
/// only this loss.
#[no_mangle]
pub unsafe extern "C" fn eg_l1_loss_and_gradients(
    layer_array: *const EgLayer,
    count: usize,
    params: *const f32,
    params_len: usize,
    input: *const f32,
    input_len: usize,
    batch: usize,
    targets: *const f32,
    targets_len: usize,
    grads: *mut f32,
    grads_len: usize,
    workspace: *mut f32,
    workspace_len: usize,
    loss: *mut f32,
) -> EgStatus {
    let pass = Pass {
        layer_array,
        count,
        params,
        params_len,
        input,
        input_len,
        batch,
        grads,
        grads_len,
        workspace,
        workspace_len,
    };
    unsafe { loss_and_gradients(L1, pass, Targets::Values(targets, targets_len), loss) }
}

/// [`eg_loss_and_gradients`] under the Huber loss with `delta`, `targets` holding
/// `batch × outputs` values; links only this loss.
#[no_mangle]
pub unsafe extern "C" fn eg_huber_loss_and_gradients(
    layer_array: *const EgLayer,
    count: usize,
    params: *const f32,
    params_len: usize,
    input: *const f32,
    input_len: usize,
    batch: usize,
    delta: f32,
    targets: *const f32,
    targets_len: usize,
    grads: *mut f32,
    grads_len: usize,
    workspace: *mut f32,
    workspace_len: usize,
    loss: *mut f32,
) -> EgStatus {
    let pass = Pass {
        layer_array,
        count,
        params,
        params_len,
        input,
        input_len,
        batch,
        grads,
        grads_len,
        workspace,
        workspace_len,
    };
    unsafe { loss_and_gradients(Huber { delta }, pass, Targets::Values(targets, targets_len), loss) }
}

/// [`eg_loss_and_gradients`] under sigmoid plus binary cross-entropy on logits, `targets`
/// holding `batch × outputs` values in [0, 1]; links only this loss.
#[no_mangle]
pub unsafe extern "C" fn eg_bce_logits_loss_and_gradients(
    layer_array: *const EgLayer,
    count: usize,
    params: *const f32,
    params_len: usize,
    input: *const f32,
    input_len: usize,
    batch: usize,
    targets: *const f32,
    targets_len: usize,
    grads: *mut f32,
    grads_len: usize,
    workspace: *mut f32,
    workspace_len: usize,
    loss: *mut f32,
) -> EgStatus {
    let pass = Pass {
        layer_array,
        count,
        params,
        params_len,
        input,
        input_len,
        batch,
        grads,
        grads_len,
        workspace,
        workspace_len,
    };
    unsafe { loss_and_gradients(BceWithLogits, pass, Targets::Values(targets, targets_len), loss) }
}

/// [`eg_loss_and_gradients`] under softmax cross-entropy, `classes` holding `batch` labels
/// (at most 1024); links only this loss.
#[no_mangle]
pub unsafe extern "C" fn eg_softmax_ce_loss_and_gradients(
    layer_array: *const EgLayer,
    count: usize,
    params: *const f32,
    params_len: usize,
    input: *const f32,
    input_len: usize,
    batch: usize,
    classes: *const u32,
    classes_len: usize,
    grads: *mut f32,
    grads_len: usize,
    workspace: *mut f32,
    workspace_len: usize,
    loss: *mut f32,
) -> EgStatus {
    let pass = Pass {
        layer_array,
        count,
        params,
        params_len,
        input,
        input_len,
        batch,
        grads,
        grads_len,
        workspace,
        workspace_len,
    };
    unsafe { loss_and_gradients(SoftmaxCrossEntropy, pass, Targets::Classes(classes, classes_len), loss) }
}

/// [`eg_loss_and_gradients`] under softmax cross-entropy with label smoothing `smoothing`,
/// `classes` holding `batch` labels (at most 1024); links only this loss.
#[no_mangle]
pub unsafe extern "C" fn eg_softmax_ce_smoothing_loss_and_gradients(
    layer_array: *const EgLayer,
    count: usize,
    params: *const f32,
    params_len: usize,
    input: *const f32,
    input_len: usize,
    batch: usize,
    smoothing: f32,
    classes: *const u32,
    classes_len: usize,
    grads: *mut f32,
    grads_len: usize,
    workspace: *mut f32,
    workspace_len: usize,
    loss: *mut f32,
) -> EgStatus {
    let pass = Pass {
        layer_array,
        count,
        params,
        params_len,
        input,
        input_len,
        batch,
        grads,
        grads_len,
        workspace,
        workspace_len,
    };
    let loss_type = LabelSmoothingCrossEntropy { smoothing };
    unsafe { loss_and_gradients(loss_type, pass, Targets::Classes(classes, classes_len), loss) }
}

/// The optimizer `optimizer` describes, checked, or an error.
unsafe fn optimizer(optimizer: *const EgOptimizer) -> Result<Optimizer, EgStatus> {
    let decoded = unsafe { picked(Some, optimizer)? };
    decoded.validate().map_err(status)?;
    Ok(decoded)
}

/// What `pick` makes of the optimizer `optimizer` describes (not checked), or an error: a
/// null pointer, an unknown code, or an optimizer `pick` refuses.
unsafe fn picked<S>(pick: fn(Optimizer) -> Option<S>, optimizer: *const EgOptimizer) -> Result<S, EgStatus> {
    if optimizer.is_null() {
        return Err(EG_NULL_POINTER);
    }
    // SAFETY: non-null, and the caller promises it points to an `EgOptimizer`.
    let o = unsafe { *optimizer };
    Optimizer::from_file_parts(o.kind, o.flags, &o.values).and_then(pick).ok_or(EG_UNKNOWN_CODE)
}

/// The length of the optimizer's state buffer for `param_len` parameters.
#[no_mangle]
pub unsafe extern "C" fn eg_optimizer_state_len(
    opt: *const EgOptimizer,
    param_len: usize,
    out: *mut usize,
) -> EgStatus {
    run(|| {
        let optimizer = unsafe { optimizer(opt)? };
        unsafe { put(out, optimizer.state_len(param_len)) }
    })
}

/// Puts `state` in its starting condition and zeroes `*steps`.
#[no_mangle]
pub unsafe extern "C" fn eg_optimizer_init(
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    run(|| {
        let optimizer = unsafe { optimizer(opt)? };
        let state = unsafe { view_mut(state, state_len)? };
        if steps.is_null() {
            return Err(EG_NULL_POINTER);
        }
        optimizer.init_state(state).map_err(status)?;
        unsafe { put(steps, 0) }
    })
}

/// One optimizer step at learning rate `lr` (e.g. from a schedule; the optimizer's own with
/// `lr` < 0): updates `params` from `grads` and `state`, and advances `*steps`.
#[no_mangle]
pub unsafe extern "C" fn eg_optimizer_step(
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    run(|| {
        let optimizer = unsafe { optimizer(opt)? };
        if steps.is_null() {
            return Err(EG_NULL_POINTER);
        }
        let (params, grads) = unsafe { (view_mut(params, len)?, view(grads, len)?) };
        let state = unsafe { view_mut(state, state_len)? };
        // SAFETY: `steps` is non-null, and the caller promises a writable `u64` there.
        let steps = unsafe { &mut *steps };
        let lr = if lr < 0.0 { optimizer.lr() } else { lr };
        optimizer.step_with_lr(lr, steps, params, grads, state).map_err(status)
    })
}

/// [`eg_optimizer_init`] for the one optimizer `pick` accepts, through its config's own
/// `Step`: a firmware that calls only these links only the optimizers it uses.
unsafe fn init_one<S: Step>(
    pick: fn(Optimizer) -> Option<S>,
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    run(|| {
        let config = unsafe { picked(pick, opt)? };
        config.validate_with_lr(config.lr()).map_err(status)?;
        let state = unsafe { view_mut(state, state_len)? };
        if steps.is_null() {
            return Err(EG_NULL_POINTER);
        }
        config.init_state(state).map_err(status)?;
        unsafe { put(steps, 0) }
    })
}

/// [`eg_optimizer_step`] for the one optimizer `pick` accepts, through its config's own
/// `Step`: a firmware that calls only these links only the optimizers it uses.
#[allow(clippy::too_many_arguments)] // the step's arrays, as eg_optimizer_step takes them
unsafe fn step_one<S: Step>(
    pick: fn(Optimizer) -> Option<S>,
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    run(|| {
        if steps.is_null() {
            return Err(EG_NULL_POINTER);
        }
        let config = unsafe { picked(pick, opt)? };
        let (params, grads) = unsafe { (view_mut(params, len)?, view(grads, len)?) };
        let state = unsafe { view_mut(state, state_len)? };
        // SAFETY: `steps` is non-null, and the caller promises a writable `u64` there.
        let steps = unsafe { &mut *steps };
        let lr = if lr < 0.0 { config.lr() } else { lr };
        config.step_with_lr(lr, steps, params, grads, state).map_err(status)
    })
}

/// [`eg_optimizer_step`] for SGD only (`EG_UNKNOWN_CODE` for another optimizer), linking only
/// SGD's code.
#[no_mangle]
pub unsafe extern "C" fn eg_sgd_step(
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    let pick = |o| if let Optimizer::Sgd(c) = o { Some(c) } else { None };
    unsafe { step_one(pick, opt, lr, steps, params, grads, len, state, state_len) }
}

/// [`eg_optimizer_step`] for Adam only (`EG_UNKNOWN_CODE` for another optimizer), linking only
/// Adam's code.
#[no_mangle]
pub unsafe extern "C" fn eg_adam_step(
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    let pick = |o| if let Optimizer::Adam(c) = o { Some(c) } else { None };
    unsafe { step_one(pick, opt, lr, steps, params, grads, len, state, state_len) }
}

/// [`eg_optimizer_step`] for Adagrad only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only Adagrad's code.
#[no_mangle]
pub unsafe extern "C" fn eg_adagrad_step(
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    let pick = |o| if let Optimizer::Adagrad(c) = o { Some(c) } else { None };
    unsafe { step_one(pick, opt, lr, steps, params, grads, len, state, state_len) }
}

/// [`eg_optimizer_step`] for RMSprop only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only RMSprop's code.
#[no_mangle]
pub unsafe extern "C" fn eg_rmsprop_step(
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    let pick = |o| if let Optimizer::RmsProp(c) = o { Some(c) } else { None };
    unsafe { step_one(pick, opt, lr, steps, params, grads, len, state, state_len) }
}

/// [`eg_optimizer_step`] for NAdam only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only NAdam's code.
#[no_mangle]
pub unsafe extern "C" fn eg_nadam_step(
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    let pick = |o| if let Optimizer::NAdam(c) = o { Some(c) } else { None };
    unsafe { step_one(pick, opt, lr, steps, params, grads, len, state, state_len) }
}

/// [`eg_optimizer_step`] for RAdam only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only RAdam's code.
#[no_mangle]
pub unsafe extern "C" fn eg_radam_step(
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    let pick = |o| if let Optimizer::RAdam(c) = o { Some(c) } else { None };
    unsafe { step_one(pick, opt, lr, steps, params, grads, len, state, state_len) }
}

/// [`eg_optimizer_step`] for Adamax only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only Adamax's code.
#[no_mangle]
pub unsafe extern "C" fn eg_adamax_step(
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    let pick = |o| if let Optimizer::Adamax(c) = o { Some(c) } else { None };
    unsafe { step_one(pick, opt, lr, steps, params, grads, len, state, state_len) }
}

/// [`eg_optimizer_step`] for Adadelta only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only Adadelta's code.
#[no_mangle]
pub unsafe extern "C" fn eg_adadelta_step(
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    let pick = |o| if let Optimizer::Adadelta(c) = o { Some(c) } else { None };
    unsafe { step_one(pick, opt, lr, steps, params, grads, len, state, state_len) }
}

/// [`eg_optimizer_step`] for Rprop only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only Rprop's code.
#[no_mangle]
pub unsafe extern "C" fn eg_rprop_step(
    opt: *const EgOptimizer,
    lr: f32,
    steps: *mut u64,
    params: *mut f32,
    grads: *const f32,
    len: usize,
    state: *mut f32,
    state_len: usize,
) -> EgStatus {
    let pick = |o| if let Optimizer::Rprop(c) = o { Some(c) } else { None };
    unsafe { step_one(pick, opt, lr, steps, params, grads, len, state, state_len) }
}

/// [`eg_optimizer_init`] for SGD only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only SGD's code.
#[no_mangle]
pub unsafe extern "C" fn eg_sgd_init(
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    let pick = |o| if let Optimizer::Sgd(c) = o { Some(c) } else { None };
    unsafe { init_one(pick, opt, state, state_len, steps) }
}

/// [`eg_optimizer_init`] for Adam only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only Adam's code.
#[no_mangle]
pub unsafe extern "C" fn eg_adam_init(
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    let pick = |o| if let Optimizer::Adam(c) = o { Some(c) } else { None };
    unsafe { init_one(pick, opt, state, state_len, steps) }
}

/// [`eg_optimizer_init`] for Adagrad only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only Adagrad's code.
#[no_mangle]
pub unsafe extern "C" fn eg_adagrad_init(
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    let pick = |o| if let Optimizer::Adagrad(c) = o { Some(c) } else { None };
    unsafe { init_one(pick, opt, state, state_len, steps) }
}

/// [`eg_optimizer_init`] for RMSprop only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only RMSprop's code.
#[no_mangle]
pub unsafe extern "C" fn eg_rmsprop_init(
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    let pick = |o| if let Optimizer::RmsProp(c) = o { Some(c) } else { None };
    unsafe { init_one(pick, opt, state, state_len, steps) }
}

/// [`eg_optimizer_init`] for NAdam only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only NAdam's code.
#[no_mangle]
pub unsafe extern "C" fn eg_nadam_init(
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    let pick = |o| if let Optimizer::NAdam(c) = o { Some(c) } else { None };
    unsafe { init_one(pick, opt, state, state_len, steps) }
}

/// [`eg_optimizer_init`] for RAdam only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only RAdam's code.
#[no_mangle]
pub unsafe extern "C" fn eg_radam_init(
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    let pick = |o| if let Optimizer::RAdam(c) = o { Some(c) } else { None };
    unsafe { init_one(pick, opt, state, state_len, steps) }
}

/// [`eg_optimizer_init`] for Adamax only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only Adamax's code.
#[no_mangle]
pub unsafe extern "C" fn eg_adamax_init(
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    let pick = |o| if let Optimizer::Adamax(c) = o { Some(c) } else { None };
    unsafe { init_one(pick, opt, state, state_len, steps) }
}

/// [`eg_optimizer_init`] for Adadelta only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only Adadelta's code.
#[no_mangle]
pub unsafe extern "C" fn eg_adadelta_init(
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    let pick = |o| if let Optimizer::Adadelta(c) = o { Some(c) } else { None };
    unsafe { init_one(pick, opt, state, state_len, steps) }
}

/// [`eg_optimizer_init`] for Rprop only (`EG_UNKNOWN_CODE` for another optimizer), linking
/// only Rprop's code.
#[no_mangle]
pub unsafe extern "C" fn eg_rprop_init(
    opt: *const EgOptimizer,
    state: *mut f32,
    state_len: usize,
    steps: *mut u64,
) -> EgStatus {
    let pick = |o| if let Optimizer::Rprop(c) = o { Some(c) } else { None };
    unsafe { init_one(pick, opt, state, state_len, steps) }
}

/// Scales `grads` so that their global L2 norm is at most `max_norm` (PyTorch's
/// `clip_grad_norm_`); the norm before clipping into `*norm` (may be null).
#[no_mangle]
pub unsafe extern "C" fn eg_clip_grad_norm(grads: *mut f32, len: usize, max_norm: f32, norm: *mut f32) -> EgStatus {
    run(|| {
        let grads = unsafe { view_mut(grads, len)? };
        let before = embergrad::optim::clip_grad_norm(grads, max_norm).map_err(status)?;
        if norm.is_null() {
            return Ok(());
        }
        unsafe { put(norm, before) }
    })
}

/// Clamps every gradient to `[-clip, clip]` (PyTorch's `clip_grad_value_`).
#[no_mangle]
pub unsafe extern "C" fn eg_clip_grad_value(grads: *mut f32, len: usize, clip: f32) -> EgStatus {
    run(|| {
        let grads = unsafe { view_mut(grads, len)? };
        embergrad::optim::clip_grad_value(grads, clip).map_err(status)
    })
}

/// The learning rate of a schedule at step `t` for base rate `base_lr`, into `*lr`. Kinds
/// and their `parameters`: 0 constant; 1 step (step size, gamma); 2 exponential (gamma);
/// 3 cosine (t_max, eta_min); 4 cosine with warm restarts (t_0, t_mult, eta_min); 5 linear
/// (start factor, end factor, total steps); 6 polynomial (total steps, power); 7 one-cycle
/// (max lr, total steps, pct_start, div_factor, final_div_factor; cosine annealing). Step
/// counts are given as floats and rounded down.
#[no_mangle]
pub unsafe extern "C" fn eg_schedule_lr(
    kind: u32,
    parameters: *const f32,
    base_lr: f32,
    t: u64,
    lr: *mut f32,
) -> EgStatus {
    run(|| {
        let schedule = unsafe { schedule(kind, parameters)? };
        unsafe { put(lr, schedule.lr_at(base_lr, t)) }
    })
}

/// The closed-form schedule of `kind` with its six `parameters` (see [`eg_schedule_lr`]).
unsafe fn schedule(kind: u32, parameters: *const f32) -> Result<Schedule, EgStatus> {
    let p = unsafe { view(parameters, 6)? };
    let count = |v: f32| if v.is_finite() && v > 0.0 { v as u64 } else { 0 };
    Ok(match kind {
        0 => Schedule::Constant,
        1 => Schedule::Step { step_size: count(p[0]), gamma: p[1] },
        2 => Schedule::Exponential { gamma: p[0] },
        3 => Schedule::CosineAnnealing { t_max: count(p[0]), eta_min: p[1] },
        4 => Schedule::CosineWarmRestarts { t_0: count(p[0]), t_mult: count(p[1]), eta_min: p[2] },
        5 => Schedule::Linear { start_factor: p[0], end_factor: p[1], total_iters: count(p[2]) },
        6 => Schedule::Polynomial { total_iters: count(p[0]), power: p[1] },
        7 => Schedule::OneCycle {
            max_lr: p[0],
            total_steps: count(p[1]),
            pct_start: p[2],
            anneal: Anneal::Cosine,
            div_factor: p[3],
            final_div_factor: p[4],
        },
        _ => return Err(EG_UNKNOWN_CODE),
    })
}

/// The multi-step schedule (`MultiStepLR`): `base_lr · gamma^k` at step `t`, `k` the number
/// of the `count` `milestones` at or before `t` (a repeated milestone counts twice), into
/// `*lr`.
#[no_mangle]
pub unsafe extern "C" fn eg_multistep_lr(
    milestones: *const u64,
    count: usize,
    gamma: f32,
    base_lr: f32,
    t: u64,
    lr: *mut f32,
) -> EgStatus {
    run(|| {
        let milestones = unsafe { view(milestones, count)? };
        let decays = milestones.iter().filter(|&&m| m <= t).count() as u64;
        // The core's `MultiStep` is `Exponential` at the number of decays: the same numbers.
        unsafe { put(lr, Schedule::Exponential { gamma }.lr_at(base_lr, decays)) }
    })
}

/// Two schedules in sequence (`SequentialLR`): `first` (a kind and six parameters, as
/// [`eg_schedule_lr`] takes them) before step `milestone`, then `then` counted from 0 at the
/// milestone, e.g. a linear warm-up then cosine annealing; the rate at step `t` into `*lr`.
#[no_mangle]
pub unsafe extern "C" fn eg_sequential_lr(
    first_kind: u32,
    first_parameters: *const f32,
    milestone: u64,
    then_kind: u32,
    then_parameters: *const f32,
    base_lr: f32,
    t: u64,
    lr: *mut f32,
) -> EgStatus {
    run(|| {
        let (first, then) = unsafe { (schedule(first_kind, first_parameters)?, schedule(then_kind, then_parameters)?) };
        let rate = if t < milestone { first.lr_at(base_lr, t) } else { then.lr_at(base_lr, t - milestone) };
        unsafe { put(lr, rate) }
    })
}

/// Writes a model file of the network and its params into `out`; its length into `*written`.
#[no_mangle]
pub unsafe extern "C" fn eg_model_save(
    layer_array: *const EgLayer,
    count: usize,
    params: *const f32,
    params_len: usize,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> EgStatus {
    run(|| {
        let (array, n) = unsafe { layers(layer_array, count)? };
        let spec = Spec::new(&array[..n]);
        let (params, out) = unsafe { (view(params, params_len)?, view_mut(out, out_len)?) };
        let len = io::save(&spec, params, None::<Checkpoint<'_>>, out).map_err(status)?;
        unsafe { put(written, len) }
    })
}

/// Loads the params of a model file that must hold the network `layer_array` into `params`,
/// with the checks of the core's `io::load_params_for_spec` (everything but a checkpoint's
/// optimizer, which is read over: this links no optimizer), all of them before anything is
/// written.
#[no_mangle]
pub unsafe extern "C" fn eg_model_load(
    layer_array: *const EgLayer,
    count: usize,
    bytes: *const u8,
    bytes_len: usize,
    params: *mut f32,
    params_len: usize,
) -> EgStatus {
    run(|| {
        let (array, n) = unsafe { layers(layer_array, count)? };
        let spec = Spec::new(&array[..n]);
        let (bytes, params) = unsafe { (view(bytes, bytes_len)?, view_mut(params, params_len)?) };
        io::load_params_for_spec(bytes, &spec, params).map_err(status)
    })
}

/// No panic can happen (see the crate notes); were one to, it must not unwind into C.
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    extern "C" {
        fn abort() -> !;
    }
    // SAFETY: `abort` from the C library ends the process; it takes no arguments.
    unsafe { abort() }
}
