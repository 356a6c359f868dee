//! Saving and restoring runs: weights in safetensors, state in JSON, every file written to a
//! temporary name and renamed, the resumable checkpoint swapped in as a whole directory.
//!
//! A run directory holds `config.json`, `model.safetensors` (the latest weights, for
//! evaluation and prediction) and `checkpoint/` (weights, optimizer buffers and loop state
//! at the end of the last completed epoch). Killing the process at any moment leaves either
//! the previous or the new checkpoint complete.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{de::DeserializeOwned, Serialize};

use crate::io::atomic::sync_parent;
pub use crate::io::atomic::write_atomic;
use crate::nn::Module;
use crate::tensor::Tensor;
use crate::{Error, Result};

/// Writes `value` as pretty JSON, atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::format(path, format!("cannot serialise: {e}")))?;
    write_atomic(path, text.as_bytes())
}

/// Reads JSON written by [`write_json`].
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::format(path, e.to_string()))
}

/// Serialises named f32 tensors to safetensors bytes.
pub fn tensors_to_bytes(path: &Path, tensors: &[(String, Tensor)]) -> Result<Vec<u8>> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(name, t)| {
            let raw = t.data().iter().flat_map(|v| v.to_le_bytes()).collect();
            (name.clone(), raw, t.shape().to_vec())
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, raw, shape)| {
            TensorView::new(Dtype::F32, shape.clone(), raw)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::format(path, format!("tensor {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, &None).map_err(|e| Error::format(path, e.to_string()))
}

/// Reads every tensor of a safetensors file (f32 only), checking each against the file.
pub fn read_tensors(path: &Path) -> Result<BTreeMap<String, Tensor>> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::format(path, format!("not a safetensors file: {e}")))?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(Error::format(
                path,
                format!("tensor {name} is {:?}, expected F32", view.dtype()),
            ));
        }
        let data: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let t = Tensor::try_from_vec(data, view.shape())
            .map_err(|e| Error::format(path, format!("tensor {name}: {e}")))?;
        out.insert(name, t);
    }
    Ok(out)
}

/// The model's parameters and buffers by their `state_dict` names.
pub fn model_tensors(model: &mut dyn Module) -> Vec<(String, Tensor)> {
    let mut tensors: Vec<(String, Tensor)> = model
        .parameters()
        .into_iter()
        .map(|(n, v)| (n, v.value().clone()))
        .collect();
    tensors.extend(model.buffers_mut().into_iter().map(|(n, t)| (n, t.clone())));
    tensors
}

/// Saves the model's weights (parameters and buffers) to a safetensors file, atomically.
pub fn save_model(path: &Path, model: &mut dyn Module) -> Result<()> {
    let bytes = tensors_to_bytes(path, &model_tensors(model))?;
    write_atomic(path, &bytes)
}

/// Loads weights saved by [`save_model`] into a model of the same architecture; every
/// parameter and buffer must be present with its shape.
pub fn load_model(path: &Path, model: &mut dyn Module) -> Result<()> {
    let mut saved = read_tensors(path)?;
    let mut take = |name: &str, shape: &[usize]| -> Result<Tensor> {
        let t = saved
            .remove(name)
            .ok_or_else(|| Error::format(path, format!("tensor {name} is missing")))?;
        if t.shape() != shape {
            return Err(Error::format(
                path,
                format!(
                    "tensor {name} has shape {:?}, the model expects {shape:?}",
                    t.shape()
                ),
            ));
        }
        Ok(t)
    };
    for (name, var) in model.parameters_mut() {
        let t = take(&name, var.shape())?;
        *var.value_mut() = t;
    }
    for (name, buffer) in model.buffers_mut() {
        let t = take(&name, buffer.shape())?;
        *buffer = t;
    }
    if let Some(extra) = saved.keys().next() {
        return Err(Error::format(
            path,
            format!("tensor {extra} does not belong to this model"),
        ));
    }
    Ok(())
}

/// Replaces directory `dir` by a freshly written one: `fill` writes into `dir.tmp` (each file
/// with [`write_atomic`], so flushed), which is then swapped in; a crash leaves `dir` or `dir.old` complete ([`existing_checkpoint`]
/// finds whichever survived).
pub fn swap_dir(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = sibling(dir, "tmp");
    let old = sibling(dir, "old");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    fill(&tmp)?;
    if dir.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        }
        fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
    }
    fs::rename(&tmp, dir).map_err(|e| Error::io(&tmp, e))?;
    sync_parent(dir)?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    Ok(())
}

/// The complete checkpoint directory: `dir` itself, or `dir.old` when a crash interrupted
/// [`swap_dir`] between its two renames.
pub fn existing_checkpoint(dir: &Path) -> Option<PathBuf> {
    [dir.to_path_buf(), sibling(dir, "old")]
        .into_iter()
        .find(|d| d.join("state.json").is_file())
}

/// `path` with `.suffix` appended to its file name (`checkpoint` -> `checkpoint.old`).
fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    dir.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::models::lenet5;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn weights_round_trip_and_mismatches_are_named() {
        let dir = std::env::temp_dir().join(format!("ferrolearn-ckpt-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("model.safetensors");
        let spec = lenet5(10);
        let mut a = spec
            .build(&[1, 28, 28], 10, &mut ChaCha8Rng::seed_from_u64(1))
            .unwrap();
        let mut b = spec
            .build(&[1, 28, 28], 10, &mut ChaCha8Rng::seed_from_u64(2))
            .unwrap();
        save_model(&path, &mut a).unwrap();
        load_model(&path, &mut b).unwrap();
        let wa = model_tensors(&mut a);
        let wb = model_tensors(&mut b);
        assert!(wa
            .iter()
            .zip(&wb)
            .all(|((_, x), (_, y))| x.data() == y.data()));
        let mut other = crate::nn::models::lenet5(3)
            .build(&[1, 28, 28], 3, &mut ChaCha8Rng::seed_from_u64(1))
            .unwrap();
        let err = load_model(&path, &mut other).unwrap_err().to_string();
        assert!(
            err.contains("9.weight has shape [10, 500], the model expects [3, 500]"),
            "{err}"
        );
        fs::write(&path, b"garbage").unwrap();
        assert!(load_model(&path, &mut b)
            .unwrap_err()
            .to_string()
            .contains("not a safetensors file"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
