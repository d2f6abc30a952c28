//! Plain stochastic gradient descent.

use crate::error::{check_len, Error, Result};
use crate::kernels::axpy;

/// One plain SGD step, `params -= lr · grads`, over the flat buffers.
///
/// ```
/// let mut params = [1.0f32, 2.0];
/// embergrad::sgd_step(&mut params, &[0.5, -1.0], 0.1).unwrap();
/// assert_eq!(params, [0.95, 2.1]);
/// ```
pub fn sgd_step(params: &mut [f32], grads: &[f32], lr: f32) -> Result<()> {
    check_len("grads", params.len(), grads.len())?;
    if !(lr.is_finite() && lr >= 0.0) {
        return Err(Error::InvalidHyperParameter { name: "lr", reason: "must be finite and non-negative" });
    }
    axpy(params, -lr, grads);
    Ok(())
}
