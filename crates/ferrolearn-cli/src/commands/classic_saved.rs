//! A classic run directory ([`SavedModel`]: `classic.json` + `classic.safetensors`), written
//! by `fit --out` and `search --refit --out`, read by `predict`, `eval` and `visualize`, with
//! the command line's messages around the library's save and load.

use std::path::Path;

use anyhow::Context;
use ferrolearn::classic::persist;
use ferrolearn::classic::pipeline::SavedModel;

/// Writes `saved` into `dir` (created if needed).
pub fn save(saved: &SavedModel, dir: &Path) -> anyhow::Result<()> {
    saved
        .save(dir)
        .with_context(|| format!("saving the model to {}", dir.display()))
}

/// Reads the run saved in `dir`; errors naming `dir` when it holds none.
pub fn load(dir: &Path) -> anyhow::Result<SavedModel> {
    if !SavedModel::is_saved(dir) {
        anyhow::bail!(
            "{} does not hold a classic model (no {}); write one with `ferrolearn fit --out`",
            dir.display(),
            persist::JSON_FILE
        );
    }
    SavedModel::load(dir).with_context(|| format!("loading the model in {}", dir.display()))
}
