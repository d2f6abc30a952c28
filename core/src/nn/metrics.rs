//! Turning outputs into predictions: argmax and accuracy.

use crate::error::{check_len, Error, Result};

/// Index of the largest value (the first one on ties); 0 for an empty slice. NaN values are
/// never chosen over a number.
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] || values[best].is_nan() {
            best = i;
        }
    }
    best
}

/// Fraction of rows of `outputs` (`[labels.len(), classes]`) whose argmax equals the label.
pub fn accuracy(outputs: &[f32], classes: usize, labels: &[usize]) -> Result<f32> {
    if labels.is_empty() {
        return Err(Error::EmptyBatch);
    }
    if classes == 0 {
        return Err(Error::InvalidArgument { name: "classes", reason: "must be at least 1" });
    }
    check_len("outputs", labels.len().saturating_mul(classes), outputs.len())?;
    let correct = outputs.chunks_exact(classes).zip(labels).filter(|(row, &label)| argmax(row) == label).count();
    Ok(correct as f32 / labels.len() as f32)
}

/// Fraction of outputs on the same side of `threshold` as their 0/1 target
/// (for single-output binary classifiers).
pub fn binary_accuracy(outputs: &[f32], targets: &[f32], threshold: f32) -> Result<f32> {
    if outputs.is_empty() {
        return Err(Error::EmptyBatch);
    }
    check_len("targets", outputs.len(), targets.len())?;
    let correct = outputs.iter().zip(targets).filter(|(&y, &t)| (y > threshold) == (t > 0.5)).count();
    Ok(correct as f32 / outputs.len() as f32)
}
