//! Reading a finished run back from its directory, and its `metrics.csv`.

use std::path::Path;

use super::checkpoint::{self, read_json};
use super::config::TrainConfig;
use super::progress::EpochRecord;
use crate::data::Normalizer;
use crate::nn::Sequential;
use crate::Result;

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
