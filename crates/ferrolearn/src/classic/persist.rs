//! Saving and loading fitted classic models: numeric arrays in a safetensors file, everything
//! else in a small JSON file beside it.
//!
//! Any value that implements serde's `Serialize` can be saved — every fitted model, scaler
//! and hyperparameter struct of [`crate::classic`] does. The value is turned into a JSON tree;
//! each array of at least [`MIN_TENSOR_LEN`] numbers is moved into the safetensors file (as
//! `U64`, `I64` or `F64`, whichever holds its values exactly) and replaced in the JSON by
//! `{"$tensor": "<name>"}`. Loading reverses the substitution and deserializes the tree, so
//! the JSON stays readable while weights and training rows stay binary.
//!
//! Both files are written atomically ([`crate::io`]), the tensors first and
//! the JSON last; the JSON records the length and an FNV-1a hash of the tensors file, so a
//! directory caught between two saves is reported instead of loaded with mismatched halves.
//!
//! ```no_run
//! use ferrolearn::classic::{linear::LinearModel, persist};
//! # fn main() -> ferrolearn::Result<()> {
//! let model = LinearModel::new(vec![1.0, 2.0], 0.5);
//! persist::save("model_dir".as_ref(), &model)?;
//! let back: LinearModel = persist::load("model_dir".as_ref())?;
//! assert_eq!(back, model);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::io::safetensors_file;
use crate::io::write_atomic;
use crate::{Error, Result};

/// The JSON file of a saved model; its presence marks a directory as holding a classic model.
pub const JSON_FILE: &str = "classic.json";
/// The safetensors file holding the saved model's numeric arrays.
pub const TENSORS_FILE: &str = "classic.safetensors";
/// Numeric arrays shorter than this stay inline in the JSON.
pub const MIN_TENSOR_LEN: usize = 16;

/// The key that marks a JSON object as a reference into the tensors file.
const TENSOR_KEY: &str = "$tensor";
/// The format tag written in the JSON, checked on load.
const FORMAT: &str = "ferrolearn-classic/1";
/// How errors name a buffer of [`to_bytes`], which has no file.
const BYTES_NAME: &str = "<saved model bytes>";

/// Whether `dir` holds a model written by [`save`] (it has a [`JSON_FILE`]).
pub fn is_saved_model(dir: &Path) -> bool {
    dir.join(JSON_FILE).is_file()
}

/// Saves `value` into the directory `dir` (created if needed) as [`JSON_FILE`] and
/// [`TENSORS_FILE`], each written atomically.
///
/// # Errors
/// `Io` naming the file that could not be written; `InvalidData` when `value` cannot be
/// represented (serde refuses it).
pub fn save<T: Serialize>(dir: &Path, value: &T) -> Result<()> {
    let tensors_path = dir.join(TENSORS_FILE);
    let (tree, columns) = split(value)?;
    let bytes = encode_columns(&tensors_path, &columns, None)?;
    let envelope = serde_json::json!({
        "format": FORMAT,
        "tensors_file": { "bytes": bytes.len(), "fnv1a": format!("{:016x}", fnv1a(&bytes)) },
        "value": tree,
    });
    let json = serde_json::to_vec_pretty(&envelope)
        .map_err(|e| Error::InvalidData(format!("cannot encode the model: {e}")))?;
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    write_atomic(&tensors_path, &bytes)?;
    write_atomic(&dir.join(JSON_FILE), &json)
}

/// Loads a value saved by [`save`] from `dir`.
///
/// # Errors
/// `Io` when a file is missing or unreadable; `Format` naming the file when it is not a
/// saved model, the two files do not belong together, or the contents do not describe a `T`.
pub fn load<T: DeserializeOwned>(dir: &Path) -> Result<T> {
    let json_path = dir.join(JSON_FILE);
    let tensors_path = dir.join(TENSORS_FILE);
    let json = fs::read(&json_path).map_err(|e| Error::io(&json_path, e))?;
    let mut envelope: Value = serde_json::from_slice(&json)
        .map_err(|e| Error::format(&json_path, format!("not valid JSON: {e}")))?;
    if envelope.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(Error::format(
            &json_path,
            format!("not a saved classic model (expected format `{FORMAT}`)"),
        ));
    }
    let bytes = safetensors_file::read(&tensors_path)?;
    let expected = envelope.get("tensors_file").cloned().unwrap_or(Value::Null);
    let actual = serde_json::json!({
        "bytes": bytes.len(),
        "fnv1a": format!("{:016x}", fnv1a(&bytes)),
    });
    if expected != actual {
        return Err(Error::format(
            &tensors_path,
            format!("does not match {JSON_FILE} (a save was interrupted or the files were mixed)"),
        ));
    }
    let store = safetensors_file::parse(&tensors_path, &bytes, "not a safetensors file")?;
    let mut tree = envelope
        .get_mut("value")
        .map(Value::take)
        .ok_or_else(|| Error::format(&json_path, "no `value` field"))?;
    restore(&mut tree, &store, &tensors_path)?;
    serde_json::from_value(tree)
        .map_err(|e| Error::format(&json_path, format!("does not describe this model: {e}")))
}

/// `value` as one safetensors buffer: its long arrays as tensors and the rest of its JSON
/// tree in the metadata (`format`, `value`); what Python's pickling of a fitted model holds.
///
/// # Errors
/// `InvalidData` when serde cannot represent `value`.
pub fn to_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let (tree, columns) = split(value)?;
    let metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("value".to_string(), tree.to_string()),
    ]);
    encode_columns(Path::new(BYTES_NAME), &columns, Some(metadata))
}

/// Reads a value written by [`to_bytes`].
///
/// # Errors
/// `Format` when the bytes are not such a buffer or do not describe a `T`.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let place = Path::new(BYTES_NAME);
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| Error::format(place, format!("not a saved classic model: {e}")))?;
    let meta = header.metadata().as_ref();
    let field = |key: &str| meta.and_then(|m| m.get(key));
    if field("format").map(String::as_str) != Some(FORMAT) {
        return Err(Error::format(
            place,
            format!("not a saved classic model (expected format `{FORMAT}`)"),
        ));
    }
    let mut tree: Value = serde_json::from_str(field("value").map_or("", String::as_str))
        .map_err(|e| Error::format(place, format!("no readable `value`: {e}")))?;
    let store = safetensors_file::parse(place, bytes, "not a safetensors buffer")?;
    restore(&mut tree, &store, place)?;
    serde_json::from_value(tree)
        .map_err(|e| Error::format(place, format!("does not describe this model: {e}")))
}

/// `value`'s JSON tree with its long arrays replaced by references, and those arrays.
fn split<T: Serialize>(value: &T) -> Result<(Value, BTreeMap<String, Column>)> {
    let mut tree = serde_json::to_value(value)
        .map_err(|e| Error::InvalidData(format!("cannot serialize the model: {e}")))?;
    let mut columns = BTreeMap::new();
    extract(&mut tree, "", &mut columns);
    Ok((tree, columns))
}

/// The safetensors bytes of `columns` and `metadata`, for `file` (named in errors).
fn encode_columns(
    file: &Path,
    columns: &BTreeMap<String, Column>,
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    let views = columns
        .iter()
        .map(|(name, t)| Ok((name.clone(), t.view(file)?)))
        .collect::<Result<Vec<_>>>()?;
    safetensors_file::encode(file, views, metadata)
}

/// A numeric array taken out of the JSON tree, as little-endian bytes.
struct Column {
    dtype: Dtype,
    len: usize,
    bytes: Vec<u8>,
}

impl Column {
    /// The array's bytes if every element is a number, in the narrowest exact type.
    fn from_numbers(items: &[Value]) -> Option<Column> {
        let encode = |dtype, words: Vec<[u8; 8]>| Column {
            dtype,
            len: words.len(),
            bytes: words.concat(),
        };
        if let Some(v) = items.iter().map(Value::as_u64).collect::<Option<Vec<_>>>() {
            return Some(encode(
                Dtype::U64,
                v.iter().map(|x| x.to_le_bytes()).collect(),
            ));
        }
        if let Some(v) = items.iter().map(Value::as_i64).collect::<Option<Vec<_>>>() {
            return Some(encode(
                Dtype::I64,
                v.iter().map(|x| x.to_le_bytes()).collect(),
            ));
        }
        items
            .iter()
            .map(|v| v.as_number().and_then(serde_json::Number::as_f64))
            .map(|x| x.map(f64::to_le_bytes))
            .collect::<Option<Vec<_>>>()
            .map(|w| encode(Dtype::F64, w))
    }

    fn view(&self, file: &Path) -> Result<TensorView<'_>> {
        safetensors_file::view(file, self.dtype, vec![self.len], &self.bytes)
    }
}

/// Moves every long numeric array of `value` into `out`, named by its JSON path.
fn extract(value: &mut Value, path: &str, out: &mut BTreeMap<String, Column>) {
    match value {
        Value::Array(items) => {
            if items.len() >= MIN_TENSOR_LEN {
                if let Some(column) = Column::from_numbers(items) {
                    let name = if path.is_empty() { "." } else { path }.to_string();
                    out.insert(name.clone(), column);
                    *value = serde_json::json!({ TENSOR_KEY: name });
                    return;
                }
            }
            for (i, item) in items.iter_mut().enumerate() {
                extract(item, &format!("{path}.{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                extract(item, &format!("{path}.{key}"), out);
            }
        }
        _ => {}
    }
}

/// Puts the arrays of `store` back where [`extract`] took them from.
fn restore(value: &mut Value, store: &SafeTensors, file: &Path) -> Result<()> {
    match value {
        Value::Array(items) => items.iter_mut().try_for_each(|v| restore(v, store, file)),
        Value::Object(map) => {
            if let Some(name) = tensor_ref(map) {
                *value = read_column(store, &name, file)?;
                return Ok(());
            }
            map.values_mut().try_for_each(|v| restore(v, store, file))
        }
        _ => Ok(()),
    }
}

/// The tensor name of a `{"$tensor": name}` object.
fn tensor_ref(map: &Map<String, Value>) -> Option<String> {
    match (map.len(), map.get(TENSOR_KEY)) {
        (1, Some(Value::String(name))) => Some(name.clone()),
        _ => None,
    }
}

/// One stored array as a JSON array of numbers.
fn read_column(store: &SafeTensors, name: &str, file: &Path) -> Result<Value> {
    let t = store
        .tensor(name)
        .map_err(|e| Error::format(file, format!("array `{name}`: {e}")))?;
    let words = t.data().chunks_exact(8).map(|c| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        w
    });
    let items: Vec<Value> = match t.dtype() {
        Dtype::U64 => words.map(|w| Value::from(u64::from_le_bytes(w))).collect(),
        Dtype::I64 => words.map(|w| Value::from(i64::from_le_bytes(w))).collect(),
        Dtype::F64 => words.map(|w| Value::from(f64::from_le_bytes(w))).collect(),
        other => {
            return Err(Error::format(
                file,
                format!("array `{name}` has type {other:?}; expected U64, I64 or F64"),
            ))
        }
    };
    Ok(Value::Array(items))
}

/// 64-bit FNV-1a hash, enough to tell two saves apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use ndarray::array;

    use super::*;
    use crate::classic::knn::KnnClassifier;
    use crate::classic::softmax::SoftmaxRegression;
    use crate::classic::{Classifier, FitClassifier};

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ferrolearn-persist-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn round_trips_fitted_models_bit_for_bit() {
        let x = ndarray::Array2::from_shape_fn((30, 3), |(i, j)| {
            (i as f64 * 0.37 + j as f64 * 1.1).sin() + if i % 3 == 0 { 2.0 } else { 0.0 }
        });
        let y: ndarray::Array1<usize> = (0..30).map(|i| i % 3).collect();
        let dir = temp_dir("models");
        let knn = KnnClassifier::default().fit(x.view(), y.view()).unwrap();
        save(&dir, &knn).unwrap();
        // The 90 training values went to the tensors file, not the JSON.
        let json = fs::read_to_string(dir.join(JSON_FILE)).unwrap();
        assert!(json.contains(TENSOR_KEY), "{json}");
        let back: crate::classic::knn::FittedKnnClassifier = load(&dir).unwrap();
        assert_eq!(back, knn);
        assert_eq!(
            back.predict(x.view()).unwrap(),
            knn.predict(x.view()).unwrap()
        );

        let soft = SoftmaxRegression::default()
            .fit(x.view(), y.view())
            .unwrap();
        save(&dir, &soft).unwrap();
        let back: crate::classic::softmax::SoftmaxModel = load(&dir).unwrap();
        assert_eq!(back, soft);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_model_round_trips_through_bytes_and_other_bytes_are_refused() {
        let x = ndarray::Array2::from_shape_fn((20, 2), |(i, j)| (i * 3 + j) as f64 * 0.25);
        let y: ndarray::Array1<usize> = (0..20).map(|i| usize::from(i >= 10)).collect();
        let knn = KnnClassifier::default().fit(x.view(), y.view()).unwrap();
        let bytes = to_bytes(&knn).unwrap();
        let back: crate::classic::knn::FittedKnnClassifier = from_bytes(&bytes).unwrap();
        assert_eq!(back, knn);
        let e = from_bytes::<Vec<f64>>(b"junk").unwrap_err().to_string();
        assert!(e.contains("not a saved classic model"), "{e}");
        let e = from_bytes::<Vec<String>>(&bytes).unwrap_err().to_string();
        assert!(e.contains("does not describe"), "{e}");
    }

    #[test]
    fn inline_numbers_round_trip_bit_for_bit() {
        let dir = temp_dir("inline");
        // Short arrays and scalars stay in the JSON text; they must still come back exactly.
        let value: (Vec<f64>, f64) = (
            (1..10).map(|i| (i as f64).sqrt() * 1e-7 + 0.1).collect(),
            0.592_440_275_096_033_5,
        );
        save(&dir, &value).unwrap();
        let back: (Vec<f64>, f64) = load(&dir).unwrap();
        let bits = |v: &(Vec<f64>, f64)| -> Vec<u64> {
            v.0.iter().chain([&v.1]).map(|x| x.to_bits()).collect()
        };
        assert_eq!(bits(&back), bits(&value));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn mismatched_files_and_wrong_types_are_errors() {
        let dir = temp_dir("mismatch");
        let long: Vec<i64> = (-10..10).collect();
        save(&dir, &long).unwrap();
        assert_eq!(load::<Vec<i64>>(&dir).unwrap(), long);
        let e = load::<Vec<String>>(&dir).unwrap_err().to_string();
        assert!(e.contains("does not describe"), "{e}");
        let short = array![1.5, 2.5];
        save(&dir, &short.to_vec()).unwrap();
        fs::write(dir.join(TENSORS_FILE), b"junk").unwrap();
        let e = load::<Vec<f64>>(&dir).unwrap_err().to_string();
        assert!(e.contains("does not match"), "{e}");
        let _ = fs::remove_dir_all(&dir);
    }
}
