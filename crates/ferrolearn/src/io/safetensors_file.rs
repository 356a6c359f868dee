//! Safetensors encoding and reading with the crate's errors, each naming the file: the
//! tensors of saved classic models and feature caches go through here.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::atomic::write_atomic;
use crate::{Error, Result};

/// A view of `bytes` (little-endian) as a tensor of `dtype` and `shape`, to be written to
/// `path`; errors when the byte count does not match the shape.
pub fn view<'a>(
    path: &Path,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: &'a [u8],
) -> Result<TensorView<'a>> {
    TensorView::new(dtype, shape, bytes).map_err(|e| Error::format(path, e.to_string()))
}

/// The safetensors bytes of the named `tensors` and `metadata`, for the file `path`.
pub fn encode(
    path: &Path,
    tensors: Vec<(String, TensorView<'_>)>,
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    safetensors::serialize(tensors, &metadata).map_err(|e| Error::format(path, e.to_string()))
}

/// Encodes the named `tensors` and `metadata` and writes them to `path` atomically.
pub fn write(
    path: &Path,
    tensors: Vec<(String, TensorView<'_>)>,
    metadata: Option<HashMap<String, String>>,
) -> Result<()> {
    write_atomic(path, &encode(path, tensors, metadata)?)
}

/// The bytes of the file `path`.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::io(path, e))
}

/// The tensors in `bytes` (read from `path`); errors as `path: {refusal}: {reason}` when the
/// bytes are not safetensors (`refusal` says what the file should have been).
pub fn parse<'a>(path: &Path, bytes: &'a [u8], refusal: &str) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes).map_err(|e| Error::format(path, format!("{refusal}: {e}")))
}
