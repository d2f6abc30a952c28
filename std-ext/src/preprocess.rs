//! Preprocessing fitted on the training data and stored with the model, so that evaluating
//! or predicting with the model applies exactly what training applied.
//!
//! Per input feature `x' = (x - offset)·factor`; per output the same for targets (regression
//! targets are standardised too, so a network predicts values of order 1), and a prediction
//! `y` reads `y / factor + offset` in target units. This is the core's
//! [`Preprocessing`], owned.

use embergrad::io::{Preprocessing, Task};

use crate::dataset::{column_statistics, Dataset, Targets};

/// How to scale the input features.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scaling {
    /// To mean 0 and standard deviation 1, per feature (statistics of the training data).
    Standardize,
    /// To `[0, 1]`, per feature (the training data's minimum and maximum).
    MinMax,
    /// Multiplied by one constant (e.g. 1/255 for pixels).
    Constant(f32),
}

/// A fitted preprocessing: the task and the affine maps of inputs and targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Preprocess {
    /// What the outputs are for.
    pub task: Task,
    /// Subtracted from each input feature.
    pub input_offset: Vec<f32>,
    /// Then multiplied into it.
    pub input_factor: Vec<f32>,
    /// Subtracted from each target value (regression), 0 otherwise.
    pub target_offset: Vec<f32>,
    /// Then multiplied into it (regression), 1 otherwise.
    pub target_factor: Vec<f32>,
}

impl Preprocess {
    /// Fits `scaling` of the inputs on `data` (the training split), and for a regression the
    /// targets' standardisation; `outputs` is the network's output width.
    pub fn fit(data: &Dataset, task: Task, scaling: Scaling, outputs: usize) -> Preprocess {
        let features = data.features;
        let (input_offset, input_factor) = match scaling {
            Scaling::Standardize => {
                let (mean, std) = column_statistics(&data.inputs, features);
                (mean, std.iter().map(|s| 1.0 / s).collect())
            }
            Scaling::MinMax => {
                let mut low = vec![f32::INFINITY; features];
                let mut high = vec![f32::NEG_INFINITY; features];
                for row in data.inputs.chunks_exact(features) {
                    for ((l, h), &x) in low.iter_mut().zip(&mut high).zip(row) {
                        *l = l.min(x);
                        *h = h.max(x);
                    }
                }
                let factor = low.iter().zip(&high).map(|(l, h)| 1.0 / (h - l).max(1e-6)).collect();
                (low, factor)
            }
            Scaling::Constant(factor) => (vec![0.0; features], vec![factor; features]),
        };
        let (target_offset, target_factor) = match (&data.targets, task) {
            (Targets::Values { values, width }, Task::Regression) => {
                let (mean, std) = column_statistics(values, *width);
                (mean, std.iter().map(|s| 1.0 / s).collect())
            }
            _ => (vec![0.0; outputs], vec![1.0; outputs]),
        };
        Preprocess { task, input_offset, input_factor, target_offset, target_factor }
    }

    /// Maps `data`'s inputs (and, for a regression, its targets) as training saw them.
    pub fn apply(&self, data: &mut Dataset) {
        affine(&mut data.inputs, &self.input_offset, &self.input_factor);
        if let (Targets::Values { values, .. }, Task::Regression) = (&mut data.targets, self.task) {
            affine(values, &self.target_offset, &self.target_factor);
        }
    }

    /// Maps network outputs back to target units (regression; others are left alone).
    pub fn outputs_to_targets(&self, outputs: &mut [f32]) {
        if self.task != Task::Regression {
            return;
        }
        let width = self.target_offset.len();
        for row in outputs.chunks_exact_mut(width) {
            for ((y, offset), factor) in row.iter_mut().zip(&self.target_offset).zip(&self.target_factor) {
                *y = *y / factor + offset;
            }
        }
    }

    /// The flat values the model file stores ([`Preprocessing`]'s layout).
    pub fn values(&self) -> Vec<f32> {
        [&self.input_offset, &self.input_factor, &self.target_offset, &self.target_factor]
            .into_iter()
            .flat_map(|block| block.iter().copied())
            .collect()
    }

    /// The preprocessing stored in a model file with `inputs` inputs and `outputs` outputs.
    pub fn from_values(task: Task, inputs: usize, outputs: usize, values: &[f32]) -> Preprocess {
        let (input, target) = values.split_at(2 * inputs);
        Preprocess {
            task,
            input_offset: input[..inputs].to_vec(),
            input_factor: input[inputs..].to_vec(),
            target_offset: target[..outputs].to_vec(),
            target_factor: target[outputs..].to_vec(),
        }
    }

    /// The core's view of it, for [`embergrad::io::save_with`], over `values` (from
    /// [`Preprocess::values`]).
    pub fn as_core<'v>(&self, values: &'v [f32]) -> Preprocessing<'v> {
        Preprocessing { task: self.task, values }
    }
}

/// `x = (x - offset)·factor` over rows as wide as `offset`.
fn affine(rows: &mut [f32], offset: &[f32], factor: &[f32]) {
    for row in rows.chunks_exact_mut(offset.len().max(1)) {
        for ((x, o), f) in row.iter_mut().zip(offset).zip(factor) {
            *x = (*x - o) * f;
        }
    }
}
