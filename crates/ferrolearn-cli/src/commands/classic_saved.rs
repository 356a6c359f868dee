//! A classic run directory (`classic.json` + `classic.safetensors`): written by `fit --out`
//! and `search --refit --out`, read by `predict` and `eval`.

use std::path::Path;

use anyhow::Context;
use ferrolearn::classic::persist;
use ferrolearn::data::Classes;
use serde::{Deserialize, Serialize};

use super::classic_features::FeatureOrigin;
use super::classic_model::{FittedPipeline, Hyper, ModelKind};
use super::classic_report::Metrics;

/// Everything a saved classic model directory holds besides the arrays' layout.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    /// Which model.
    pub model: ModelKind,
    /// The hyperparameters it was fitted with.
    pub hyperparameters: Hyper,
    /// The feature columns, in the order the model expects them.
    pub feature_names: Vec<String>,
    /// The target column's name.
    pub target: String,
    /// The image dataset it was fitted on (`--dataset`), if any: `visualize` reads its image
    /// shape, class names and test images from it. Absent for CSV input and older runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// The cached features it was fitted on (`--features`): dataset, kinds and checksums.
    /// `predict` and `eval` then take the same features, not a CSV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<FeatureOrigin>,
    /// For classifiers, the class (integer or name) of each label.
    pub classes: Option<Classes>,
    /// Figures on the training rows, when asked for (`fit --train-score`).
    pub train: Option<Metrics>,
    /// Figures on the test rows, when there were any.
    pub test: Option<Metrics>,
    /// The scaler and the fitted model.
    pub pipeline: FittedPipeline,
}

impl SavedModel {
    /// Writes the model into `dir` (created if needed).
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        persist::save(dir, self).with_context(|| format!("saving the model to {}", dir.display()))
    }

    /// Reads the model saved in `dir`; errors naming `dir` when it holds none.
    pub fn load(dir: &Path) -> anyhow::Result<SavedModel> {
        if !persist::is_saved_model(dir) {
            anyhow::bail!(
                "{} does not hold a classic model (no {}); write one with `ferrolearn fit --out`",
                dir.display(),
                persist::JSON_FILE
            );
        }
        persist::load(dir).with_context(|| format!("loading the model in {}", dir.display()))
    }
}
