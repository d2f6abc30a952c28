//! How well a network does on a dataset: its mean loss and the measure that suits its task
//! (accuracy for classes and multi-label targets; MAE, RMSE and R² for values).

use embergrad::io::Task;
use embergrad::{accuracy, Error, Loss, Mlp};

use crate::dataset::{Dataset, Gathered, Targets};
use crate::preprocess::Preprocess;

/// A network's scores on a dataset. Which of the optional ones are present depends on the
/// targets: `accuracy` for class labels and multi-label (0/1) values, the others for
/// regression values (in target units when the preprocessing is given).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    /// The mean loss (on the network's own scale).
    pub loss: f32,
    /// Fraction of samples classified right (classes), or of outputs on the right side of
    /// 0.5 (multi-label).
    pub accuracy: Option<f32>,
    /// Mean absolute error.
    pub mae: Option<f32>,
    /// Root mean squared error.
    pub rmse: Option<f32>,
    /// Coefficient of determination, averaged over the outputs (1 is perfect, 0 is as good
    /// as predicting the mean).
    pub r2: Option<f32>,
}

impl Metrics {
    /// One line, e.g. `loss 0.1234 accuracy 97.22%` or `loss 0.41 MAE 42.3 RMSE 53.9 R² 0.49`.
    pub fn summary(&self) -> String {
        let mut text = format!("loss {:.4}", self.loss);
        if let Some(a) = self.accuracy {
            text += &format!(" accuracy {:.2}%", 100.0 * a);
        }
        if let (Some(mae), Some(rmse), Some(r2)) = (self.mae, self.rmse, self.r2) {
            text += &format!(" MAE {mae:.4} RMSE {rmse:.4} R² {r2:.4}");
        }
        text
    }
}

/// Evaluates `net` on `data` (already preprocessed as the network expects) with `loss`, in
/// chunks that bound the workspace. `task` says how to score the outputs; `preprocess`, if
/// given, maps regression outputs and targets back to target units for MAE and RMSE.
pub fn evaluate(
    net: &mut Mlp,
    data: &Dataset,
    loss: Loss,
    task: Task,
    preprocess: Option<&Preprocess>,
) -> Result<Metrics, Error> {
    const CHUNK: usize = 256;
    if data.is_empty() {
        return Err(Error::EmptyBatch);
    }
    let width = net.spec().outputs();
    let mut gathered = Gathered::default();
    let mut total_loss = 0.0f64;
    let mut scores = Scores::new(width);
    let mut outputs_in_units = Vec::new();
    let mut targets_in_units = Vec::new();
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(CHUNK) {
        data.gather(chunk, &mut gathered);
        let outputs = net.forward(&gathered.inputs, chunk.len())?;
        let n = chunk.len() as f64;
        total_loss += f64::from(loss.evaluate(outputs, chunk.len(), width, gathered.target(), None)?) * n;
        match (&data.targets, task) {
            (Targets::Classes(_), _) => scores.correct += f64::from(accuracy(outputs, width, &gathered.classes)?) * n,
            (Targets::Values { .. }, Task::MultiLabel) => {
                let right = outputs.iter().zip(&gathered.values).filter(|&(&y, &t)| (y > 0.0) == (t >= 0.5)).count();
                scores.correct += right as f64 / width as f64;
            }
            (Targets::Values { .. }, _) => {
                outputs_in_units.clear();
                outputs_in_units.extend_from_slice(outputs);
                targets_in_units.clear();
                targets_in_units.extend_from_slice(&gathered.values);
                if let Some(p) = preprocess {
                    p.outputs_to_targets(&mut outputs_in_units);
                    p.outputs_to_targets(&mut targets_in_units);
                }
                scores.add_values(&outputs_in_units, &targets_in_units);
            }
            (Targets::None, _) => return Err(Error::TargetKindMismatch { loss: loss.name(), needs: "labelled" }),
        }
    }
    let n = data.len() as f64;
    let mut metrics = Metrics { loss: (total_loss / n) as f32, accuracy: None, mae: None, rmse: None, r2: None };
    match (&data.targets, task) {
        (Targets::Classes(_), _) | (Targets::Values { .. }, Task::MultiLabel) => {
            metrics.accuracy = Some((scores.correct / n) as f32);
        }
        _ => scores.finish(&mut metrics, n),
    }
    Ok(metrics)
}

/// Running sums behind the metrics.
struct Scores {
    correct: f64,
    absolute: f64,
    squared: f64,
    /// Per output: Σt and Σt², for R²'s total sum of squares.
    target_sum: Vec<f64>,
    target_square: Vec<f64>,
    /// Per output: Σ(y - t)².
    residual: Vec<f64>,
}

impl Scores {
    fn new(width: usize) -> Self {
        Scores {
            correct: 0.0,
            absolute: 0.0,
            squared: 0.0,
            target_sum: vec![0.0; width],
            target_square: vec![0.0; width],
            residual: vec![0.0; width],
        }
    }

    fn add_values(&mut self, outputs: &[f32], targets: &[f32]) {
        let width = self.residual.len();
        for (y_row, t_row) in outputs.chunks_exact(width).zip(targets.chunks_exact(width)) {
            for (k, (&y, &t)) in y_row.iter().zip(t_row).enumerate() {
                let (y, t) = (f64::from(y), f64::from(t));
                self.absolute += (y - t).abs();
                self.squared += (y - t) * (y - t);
                self.target_sum[k] += t;
                self.target_square[k] += t * t;
                self.residual[k] += (y - t) * (y - t);
            }
        }
    }

    /// MAE, RMSE and R² over `n` samples.
    fn finish(&self, metrics: &mut Metrics, n: f64) {
        let width = self.residual.len() as f64;
        metrics.mae = Some((self.absolute / (n * width)) as f32);
        metrics.rmse = Some((self.squared / (n * width)).sqrt() as f32);
        let r2: f64 = (0..self.residual.len())
            .map(|k| {
                let total = self.target_square[k] - self.target_sum[k] * self.target_sum[k] / n;
                if total > 0.0 {
                    1.0 - self.residual[k] / total
                } else {
                    0.0
                }
            })
            .sum::<f64>()
            / width;
        metrics.r2 = Some(r2 as f32);
    }
}
