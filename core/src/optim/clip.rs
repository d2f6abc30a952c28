//! Gradient clipping by global norm and by value (`torch.nn.utils.clip_grad_*`).

use crate::error::{Error, Result};
use crate::kernels::{dot, scale};

/// The L2 norm of all gradients together.
pub fn grad_norm(grads: &[f32]) -> f32 {
    libm::sqrtf(dot(grads, grads))
}

/// Scales `grads` so that their global L2 norm is at most `max_norm`, exactly as
/// `clip_grad_norm_`: by `max_norm / (norm + 1e-6)` when that is below 1. Returns the norm
/// before clipping. A non-finite norm leaves `grads` unscaled and is returned as it is, for
/// the caller to treat as divergence.
pub fn clip_grad_norm(grads: &mut [f32], max_norm: f32) -> Result<f32> {
    if !(max_norm.is_finite() && max_norm >= 0.0) {
        return Err(Error::InvalidHyperParameter { name: "max_norm", reason: "must be finite and non-negative" });
    }
    let norm = grad_norm(grads);
    let coefficient = max_norm / (norm + 1e-6);
    if norm.is_finite() && coefficient < 1.0 {
        scale(grads, coefficient);
    }
    Ok(norm)
}

/// Clamps every gradient into `[-clip, clip]` (`clip_grad_value_`). NaN stays NaN.
pub fn clip_grad_value(grads: &mut [f32], clip: f32) -> Result<()> {
    if !(clip.is_finite() && clip >= 0.0) {
        return Err(Error::InvalidHyperParameter { name: "clip", reason: "must be finite and non-negative" });
    }
    for g in grads {
        if *g > clip {
            *g = clip;
        } else if *g < -clip {
            *g = -clip;
        }
    }
    Ok(())
}
