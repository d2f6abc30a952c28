//! Output paths checked before any work: a run must not train for an hour and then fail to
//! save, or save over its own data.

use std::fs;
use std::path::{Path, PathBuf};

/// Checks that a file can be written at `path` (its folder exists and takes a new file, it
/// is not a folder) and that it is none of `inputs`. `what` names the option in errors.
pub fn check_writable(what: &str, path: &Path, inputs: &[&Path]) -> Result<(), String> {
    let shown = path.display();
    if path.is_dir() {
        return Err(format!("{what} {shown} is a folder, not a file"));
    }
    if let Some(input) = inputs.iter().find(|input| same_file(path, input)) {
        return Err(format!("{what} {shown} is the input {}; it would be overwritten", input.display()));
    }
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(format!("{what} {shown}: the folder {} does not exist", folder.display()));
    }
    // Creating (and removing) a file beside it is the only sure test of permission.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let probe = folder.join(format!(".{name}.probe-{}", std::process::id()));
    fs::write(&probe, b"").map_err(|e| format!("{what} {shown}: cannot write in {}: {e}", folder.display()))?;
    let _ = fs::remove_file(&probe);
    Ok(())
}

/// Whether `a` and `b` name the same existing file (or the same path, if neither exists).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => absolute(a) == absolute(b),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
