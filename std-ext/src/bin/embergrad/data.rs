//! Reading the data a command works on: CSV files (targets by column name) or an MNIST
//! folder, as the task needs them.

use std::path::{Path, PathBuf};

use embergrad::io::Task;
use embergrad_std::{CsvOptions, Dataset, TargetKind};

/// Which part of the data is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Training data: targets required.
    Train,
    /// Test or evaluation data: targets required (an MNIST folder's t10k files).
    Test,
    /// Data to predict on: targets optional (the columns are dropped if present).
    Predict,
}

/// The CSV target columns: `--target`, or `label`.
pub fn target_columns(target: &[String]) -> Vec<String> {
    if target.is_empty() {
        vec!["label".to_string()]
    } else {
        target.to_vec()
    }
}

/// Reads `path`: a CSV file, or MNIST's train (or t10k) IDX files from a folder (class
/// labels only; pixels are left as 0..255 for the preprocessing to scale).
pub fn read(path: &Path, targets: &[String], task: Task, max_classes: usize, role: Role) -> Result<Dataset, String> {
    if path.is_dir() {
        if task != Task::Classification {
            return Err(format!(
                "{}: an MNIST folder holds class labels; it cannot be used for --task {}",
                path.display(),
                crate::plan::task_name(task)
            ));
        }
        let prefix = if role == Role::Train { "train" } else { "t10k" };
        let find = |kind: &str| -> Result<PathBuf, String> {
            ["", ".gz"]
                .iter()
                .map(|ext| path.join(format!("{prefix}-{kind}{ext}")))
                .find(|p| p.exists())
                .ok_or_else(|| format!("{}: no {prefix}-{kind}[.gz]", path.display()))
        };
        return Dataset::from_idx(find("images-idx3-ubyte")?, find("labels-idx1-ubyte")?, 1.0)
            .map_err(|e| e.to_string());
    }
    let options = CsvOptions {
        target_columns: target_columns(targets),
        kind: if task == Task::Classification { TargetKind::Classes } else { TargetKind::Values },
        targets_optional: role == Role::Predict,
        max_classes,
    };
    Dataset::read_csv(path, &options).map_err(|e| e.to_string())
}

/// Checks that `data` (read from `path`) has no class label the training data does not
/// (its class count is the training data's alone) and the features the model takes.
pub fn check_against(data: &Dataset, path: &Path, features: usize, classes: usize) -> Result<(), String> {
    if data.features != features {
        return Err(format!("{}: {} features per sample, the model takes {features}", path.display(), data.features));
    }
    if let Some((sample, &label)) = data.labels().iter().enumerate().find(|(_, &l)| l >= classes) {
        return Err(format!(
            "{}: sample {} has label {label}, but the training data has only {classes} classes",
            path.display(),
            sample + 1
        ));
    }
    Ok(())
}
