//! A run's directory: preparing it for a new run, reading a finished run back, and its
//! `metrics.csv`.

use std::path::{Path, PathBuf};

use super::checkpoint::{self, read_json};
use super::config::TrainConfig;
use super::progress::EpochRecord;
use crate::data::Normalizer;
use crate::nn::Sequential;
use crate::{Error, Result};

/// What training, `eval` and `predict` write into a run directory (files and directories),
/// besides temporary `*.tmp` files.
const RUN_ENTRIES: &[&str] = &[
    "config.json",
    "model.safetensors",
    "normalizer.json",
    "metrics.csv",
    "curves.png",
    "confusion.png",
    "checkpoint",
    "checkpoint.old",
    "checkpoint.tmp",
];

/// Whether `name` is one of the entries a run writes.
fn is_run_entry(name: &str) -> bool {
    RUN_ENTRIES.contains(&name) || name.ends_with(".tmp")
}

/// Makes `dir` ready for a new run, so no file of another run ever sits beside the new
/// model: accepts it when missing (training creates it) or empty. A directory holding a run is
/// refused, unless `overwrite`, which deletes that run's files first; a directory holding
/// anything else is refused either way (those files are not ours to delete).
///
/// # Errors
/// `InvalidParameter` naming the directory, what it holds and the way out; `Io` when it
/// cannot be read or cleared.
pub fn prepare_run_dir(dir: &Path, overwrite: bool) -> Result<()> {
    let entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(list) => list
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .map_err(|e| Error::io(dir, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let name = |p: &PathBuf| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let foreign: Vec<String> = entries
        .iter()
        .filter_map(name)
        .filter(|n| !is_run_entry(n))
        .collect();
    if !foreign.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "--out {} holds files that are not a ferrolearn run ({}): choose a new or empty directory",
            dir.display(),
            foreign.join(", ")
        )));
    }
    if !entries.is_empty() && !overwrite {
        let what = match read_json::<TrainConfig>(&dir.join("config.json")) {
            Ok(c) => format!(
                "a run ({} on {}, {} epochs)",
                c.model_name, c.dataset, c.epochs
            ),
            Err(_) => "the files of an unfinished run".to_string(),
        };
        return Err(Error::InvalidParameter(format!(
            "--out {} already holds {what}: pass --resume to continue it, --overwrite to replace it, or choose another --out",
            dir.display()
        )));
    }
    for path in &entries {
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
        removed.map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// `base` when it is free (missing or empty), else the first free `base-2`, `base-3`, ...:
/// the directory a run takes when none was named.
pub fn fresh_run_dir(base: &Path) -> PathBuf {
    let free = |p: &Path| std::fs::read_dir(p).map_or(true, |mut d| d.next().is_none());
    if free(base) {
        return base.to_path_buf();
    }
    let stem = base
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    (2u64..)
        .map(|k| base.with_file_name(format!("{stem}-{k}")))
        .find(|p| free(p))
        .unwrap_or_else(|| base.to_path_buf())
}

/// A trained model read back from its run directory, for evaluation and prediction.
pub struct LoadedRun {
    /// The run's definition.
    pub config: TrainConfig,
    /// The model with the weights to evaluate: the moving average when the run kept one,
    /// else the latest.
    pub model: Sequential,
    /// The input normaliser, when the run used one.
    pub normalizer: Option<Normalizer>,
}

/// Reads `config.json`, `model.safetensors` and `normalizer.json` from a run directory.
pub fn load_run(dir: &Path) -> Result<LoadedRun> {
    let config: TrainConfig = read_json(&dir.join("config.json"))?;
    let mut model = config.build_model()?;
    checkpoint::load_model(&dir.join("model.safetensors"), &mut model)?;
    let normalizer = read_json(&dir.join("normalizer.json"))?;
    Ok(LoadedRun {
        config,
        model,
        normalizer,
    })
}

/// Writes the per-epoch figures as CSV.
pub fn write_metrics_csv(path: &Path, history: &[EpochRecord]) -> Result<()> {
    let opt = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    let mut text =
        String::from("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n");
    for r in history {
        text.push_str(&format!(
            "{},{:.6},{:.6},{},{},{},{:.3}\n",
            r.epoch,
            r.train_loss,
            r.train_accuracy,
            opt(r.val_loss),
            opt(r.val_accuracy),
            r.lr,
            r.seconds
        ));
    }
    checkpoint::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_directory_is_refused_cleared_or_renamed() {
        let root = std::env::temp_dir().join(format!("ferrolearn-rundir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("lenet5-mnist");
        prepare_run_dir(&dir, false).expect("a missing directory is free");
        assert!(!dir.exists(), "nothing is created before training starts");
        std::fs::create_dir_all(&dir).expect("mkdir");
        assert_eq!(fresh_run_dir(&dir), dir, "empty: free");
        std::fs::write(dir.join("model.safetensors"), b"old").expect("write");
        std::fs::create_dir_all(dir.join("checkpoint")).expect("mkdir");
        let e = prepare_run_dir(&dir, false).unwrap_err().to_string();
        assert!(
            e.contains("already holds the files of an unfinished run"),
            "{e}"
        );
        assert!(e.contains("--overwrite") && e.contains("--resume"), "{e}");
        assert_eq!(fresh_run_dir(&dir), root.join("lenet5-mnist-2"));
        prepare_run_dir(&dir, true).expect("overwritten");
        assert_eq!(
            std::fs::read_dir(&dir).expect("dir").count(),
            0,
            "old files gone"
        );
        std::fs::write(dir.join("notes.txt"), b"mine").expect("write");
        let e = prepare_run_dir(&dir, true).unwrap_err().to_string();
        assert!(e.contains("not a ferrolearn run (notes.txt)"), "{e}");
        assert!(dir.join("notes.txt").is_file(), "never deleted");
        std::fs::remove_dir_all(&root).expect("cleanup");
    }
}
