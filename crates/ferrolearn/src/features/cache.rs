//! Feature matrices cached on disk in safetensors, so a search does not recompute them.
//!
//! A cache file holds two tensors, `features` (F32 `[N, D]`) and `labels` (U8 `[N]`), for
//! each bag of visual words (the `i`-th kind) its words `vocabulary.i` (F64 `[words, D_w]`,
//! `D_w = C x patch x patch`, learned on the training split; a test cache holds the same), and
//! in the safetensors metadata: `format` (`ferrolearn-features`), `version`
//! ([`CACHE_VERSION`]), `dataset`, `split`, `images` (N), `item_shape` (`CxHxW`), `kinds` (the canonical text of
//! the feature kinds, see [`super::kinds_text`]) and `checksum` (of every tensor's bytes).
//! Reading checks all of it, so a truncated or altered file, or one holding other features
//! than those asked, is refused with a message saying what differs. Files are written to a
//! temporary name and renamed.

use std::collections::HashMap;
use std::path::Path;

use ndarray::Array2;
use safetensors::tensor::{Dtype, SafeTensors};

use super::{feature_len, kinds_text, parse_kinds, FeatureKind, Vocabulary};
use crate::io::safetensors_file::{self, view};
use crate::{Error, Result};

/// The version of the cache layout this build writes and reads.
pub const CACHE_VERSION: u32 = 1;
/// The `format` metadata value of a feature cache.
const FORMAT: &str = "ferrolearn-features";

/// What a cache holds features of: a dataset's split and the feature kinds.
#[derive(Debug, Clone)]
pub struct CacheKey {
    /// The dataset's name (`cifar-10`).
    pub dataset: String,
    /// The split (`train`, `test`).
    pub split: String,
    /// The feature kinds, in column order (bags of visual words with their vocabularies when
    /// read from a cache).
    pub kinds: Vec<FeatureKind>,
}

impl CacheKey {
    /// `hog(...),color(...) features of cifar-10 train`.
    fn describe(&self) -> String {
        format!(
            "{} features of {} {}",
            kinds_text(&self.kinds),
            self.dataset,
            self.split
        )
    }
}

/// A feature matrix with its labels and what it was computed from.
#[derive(Debug, Clone)]
pub struct FeatureSet {
    /// The dataset, split and feature kinds.
    pub key: CacheKey,
    /// The shape `[C, H, W]` of the images the features describe.
    pub item_shape: [usize; 3],
    /// One row per image.
    pub features: Array2<f32>,
    /// One label per image.
    pub labels: Vec<u8>,
}

impl FeatureSet {
    /// Writes the set to `path` atomically.
    ///
    /// # Errors
    /// `InvalidData` when the matrix does not have one row per label or its width does not
    /// match the kinds; `Io` when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        let (n, d) = self.features.dim();
        let expected_d = feature_len(&self.key.kinds, self.item_shape)?;
        if n != self.labels.len() || d != expected_d {
            return Err(Error::InvalidData(format!(
                "a {n}x{d} feature matrix with {} labels does not fit {} of {:?} images \
                 ({expected_d} values each)",
                self.labels.len(),
                kinds_text(&self.key.kinds),
                self.item_shape
            )));
        }
        let values: Vec<u8> = self.features.iter().flat_map(|v| v.to_le_bytes()).collect();
        let vocabularies = vocabulary_bytes(path, &self.key.kinds)?;
        let mut parts = vec![&values[..], &self.labels[..]];
        parts.extend(vocabularies.iter().map(|(_, _, bytes)| &bytes[..]));
        let [c, h, w] = self.item_shape;
        let metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("version".to_string(), CACHE_VERSION.to_string()),
            ("dataset".to_string(), self.key.dataset.clone()),
            ("split".to_string(), self.key.split.clone()),
            ("images".to_string(), n.to_string()),
            ("item_shape".to_string(), format!("{c}x{h}x{w}")),
            ("kinds".to_string(), kinds_text(&self.key.kinds)),
            ("checksum".to_string(), format!("{:016x}", checksum(&parts))),
        ]);
        let mut views = vec![
            (
                "features".to_string(),
                view(path, Dtype::F32, vec![n, d], &values)?,
            ),
            (
                "labels".to_string(),
                view(path, Dtype::U8, vec![n], &self.labels)?,
            ),
        ];
        for (name, shape, bytes) in &vocabularies {
            views.push((name.clone(), view(path, Dtype::F64, shape.clone(), bytes)?));
        }
        safetensors_file::write(path, views, Some(metadata))
    }

    /// Reads a cache written by [`FeatureSet::save`], checking that it holds the features of
    /// `expected` (dataset, split and kinds with all their settings).
    ///
    /// # Errors
    /// `Io` when the file cannot be read; `Format` when it is not a feature cache, is
    /// truncated or altered, or holds other features than `expected` (the message names both).
    pub fn load(path: &Path, expected: &CacheKey) -> Result<FeatureSet> {
        let set = FeatureSet::read(path)?;
        let same = set.key.dataset == expected.dataset
            && set.key.split == expected.split
            && kinds_text(&set.key.kinds) == kinds_text(&expected.kinds);
        if !same {
            return Err(Error::format(
                path,
                format!(
                    "holds {}, but {} were asked",
                    set.key.describe(),
                    expected.describe()
                ),
            ));
        }
        Ok(set)
    }

    /// Reads any feature cache, checking it against itself (sizes, kinds, checksum).
    ///
    /// # Errors
    /// As [`FeatureSet::load`], without the comparison.
    pub fn read(path: &Path) -> Result<FeatureSet> {
        let bytes = safetensors_file::read(path)?;
        let bad = |msg: String| Error::format(path, msg);
        let st = safetensors_file::parse(
            path,
            &bytes,
            "not a feature cache (truncated or not safetensors)",
        )?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| bad(format!("unreadable safetensors header: {e}")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let field = |key: &str| {
            meta.get(key)
                .map(String::as_str)
                .ok_or_else(|| bad(format!("not a feature cache: metadata `{key}` missing")))
        };
        if field("format")? != FORMAT {
            return Err(bad(format!(
                "not a feature cache: format `{}`, expected `{FORMAT}`",
                field("format")?
            )));
        }
        if field("version")? != CACHE_VERSION.to_string() {
            return Err(bad(format!(
                "feature cache version {}, this build reads version {CACHE_VERSION}: \
                 compute the features again",
                field("version")?
            )));
        }
        let n: usize = field("images")?.parse().map_err(|_| {
            bad(format!(
                "metadata images `{}` is not a count",
                meta["images"]
            ))
        })?;
        let item_shape = parse_shape(field("item_shape")?).ok_or_else(|| {
            bad(format!(
                "metadata item_shape `{}` is not CxHxW",
                meta["item_shape"]
            ))
        })?;
        let kinds =
            parse_kinds(field("kinds")?).map_err(|e| bad(format!("metadata kinds: {e}")))?;
        let d = feature_len(&kinds, item_shape).map_err(|e| bad(format!("metadata kinds: {e}")))?;
        let tensor = |name: &str, dtype: Dtype, shape: &[usize]| {
            let view = st
                .tensor(name)
                .map_err(|e| bad(format!("tensor `{name}`: {e}")))?;
            if view.dtype() != dtype || view.shape() != shape {
                return Err(bad(format!(
                    "tensor `{name}` is {:?} {:?}, expected {dtype:?} {shape:?}",
                    view.dtype(),
                    view.shape()
                )));
            }
            Ok(view.data())
        };
        let values = tensor("features", Dtype::F32, &[n, d])?;
        let labels = tensor("labels", Dtype::U8, &[n])?.to_vec();
        let mut parts = vec![values, &labels[..]];
        let mut kinds = kinds;
        for (i, kind) in kinds.iter_mut().enumerate() {
            if let FeatureKind::Bovw(b) = kind {
                let p = b.params();
                let shape = [item_shape[0], p.patch, p.patch];
                let name = vocabulary_name(i);
                let bytes = tensor(
                    &name,
                    Dtype::F64,
                    &[p.words, shape.iter().product::<usize>()],
                )?;
                let centres =
                    Array2::from_shape_vec((p.words, shape.iter().product::<usize>()), f64s(bytes))
                        .map_err(|e| bad(format!("tensor `{name}`: {e}")))?;
                let vocabulary = Vocabulary::new(shape, centres.view())
                    .map_err(|e| bad(format!("tensor `{name}`: {e}")))?;
                *b = b
                    .with_vocabulary(vocabulary)
                    .map_err(|e| bad(format!("tensor `{name}`: {e}")))?;
                parts.push(bytes);
            }
        }
        let sum = format!("{:016x}", checksum(&parts));
        if field("checksum")? != sum {
            return Err(bad(format!(
                "checksum {sum} differs from the recorded {}: the file is corrupt",
                field("checksum")?
            )));
        }
        let data = values
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let features = Array2::from_shape_vec((n, d), data)
            .map_err(|e| bad(format!("tensor `features`: {e}")))?;
        Ok(FeatureSet {
            key: CacheKey {
                dataset: field("dataset")?.to_string(),
                split: field("split")?.to_string(),
                kinds,
            },
            item_shape,
            features,
            labels,
        })
    }
}

/// The name of the `i`-th kind's vocabulary tensor.
fn vocabulary_name(i: usize) -> String {
    format!("vocabulary.{i}")
}

/// A tensor's name, shape and bytes.
type NamedTensor = (String, Vec<usize>, Vec<u8>);

/// Each bag of visual words' tensor name, shape and little-endian `f64` bytes, in kind order.
fn vocabulary_bytes(path: &Path, kinds: &[FeatureKind]) -> Result<Vec<NamedTensor>> {
    let mut out = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        if let FeatureKind::Bovw(b) = kind {
            let v = b.vocabulary().ok_or_else(|| {
                Error::format(
                    path,
                    format!(
                        "{} features cannot be cached without their vocabulary",
                        b.params()
                    ),
                )
            })?;
            let centres = v.centres();
            let bytes = centres.iter().flat_map(|x| x.to_le_bytes()).collect();
            out.push((
                vocabulary_name(i),
                vec![centres.nrows(), centres.ncols()],
                bytes,
            ));
        }
    }
    Ok(out)
}

/// Little-endian `f64` bytes to numbers.
fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect()
}

/// `CxHxW` to `[C, H, W]`.
fn parse_shape(text: &str) -> Option<[usize; 3]> {
    let mut parts = text.split('x').map(|p| p.parse().ok());
    let shape = [parts.next()??, parts.next()??, parts.next()??];
    parts.next().is_none().then_some(shape)
}

/// A 64-bit FNV-1a style hash over 8-byte words of the feature bytes, then the labels, then
/// any vocabularies.
fn checksum(parts: &[&[u8]]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &bytes in parts {
        let words = bytes.chunks_exact(8);
        let tail = words.remainder();
        for w in words {
            let word = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            h = (h ^ word).wrapping_mul(PRIME).rotate_left(29);
        }
        for &b in tail {
            h = (h ^ u64::from(b)).wrapping_mul(PRIME);
        }
        h = (h ^ bytes.len() as u64).wrapping_mul(PRIME);
    }
    h
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn set(dataset: &str, kinds: &str) -> FeatureSet {
        let kinds = parse_kinds(kinds).unwrap();
        let d = feature_len(&kinds, [3, 32, 32]).unwrap();
        FeatureSet {
            key: CacheKey {
                dataset: dataset.into(),
                split: "train".into(),
                kinds,
            },
            item_shape: [3, 32, 32],
            features: Array2::from_shape_fn((5, d), |(i, j)| (i * d + j) as f32 * 0.25),
            labels: vec![0, 1, 2, 3, 4],
        }
    }

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ferrolearn-cache-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn a_saved_set_reads_back_unchanged() {
        let path = temp("round_trip.safetensors");
        let original = set("cifar-10", "hog,color");
        original.save(&path).unwrap();
        let back = FeatureSet::load(&path, &original.key).unwrap();
        assert_eq!(back.features, original.features);
        assert_eq!(back.labels, original.labels);
        assert_eq!(back.item_shape, [3, 32, 32]);
    }

    #[test]
    fn other_features_are_refused_naming_both() {
        let path = temp("mismatch.safetensors");
        set("cifar-10", "hog").save(&path).unwrap();
        let asked = set("cifar-10", "hog(orientations=12)").key;
        let err = FeatureSet::load(&path, &asked).unwrap_err().to_string();
        assert!(
            err.contains("mismatch.safetensors: holds hog(orientations=9,")
                && err.contains("but hog(orientations=12,"),
            "{err}"
        );
        let asked = set("mnist", "hog").key;
        let err = FeatureSet::load(&path, &asked).unwrap_err().to_string();
        assert!(
            err.contains("of cifar-10 train") && err.contains("of mnist train"),
            "{err}"
        );
    }

    #[test]
    fn truncated_and_altered_files_are_refused() {
        let path = temp("corrupt.safetensors");
        let original = set("cifar-10", "color");
        original.save(&path).unwrap();
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
        let err = FeatureSet::load(&path, &original.key)
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated"), "{err}");
        let mut altered = bytes.clone();
        let last = altered.len() - 9; // inside the features tensor
        altered[last] ^= 0x40;
        fs::write(&path, &altered).unwrap();
        let err = FeatureSet::load(&path, &original.key)
            .unwrap_err()
            .to_string();
        assert!(err.contains("corrupt"), "{err}");
        fs::write(&path, b"hello").unwrap();
        assert!(FeatureSet::read(&path).is_err());
    }

    /// A cache of `color` then `bovw(words=4,patch=3,...)` features with a made-up
    /// vocabulary of 3x3x3 patches.
    fn bovw_set(seed: u64) -> FeatureSet {
        let mut kinds = parse_kinds(&format!(
            "color,bovw(words=4,patch=3,patches=10,seed={seed})"
        ))
        .unwrap();
        let centres = Array2::from_shape_fn((4, 27), |(i, j)| (i * 27 + j) as f64 / 7.0 - 3.0);
        let FeatureKind::Bovw(b) = &kinds[1] else {
            unreachable!()
        };
        let fitted = b
            .with_vocabulary(Vocabulary::new([3, 3, 3], centres.view()).unwrap())
            .unwrap();
        kinds[1] = FeatureKind::Bovw(fitted);
        let mut s = set("cifar-10", "color");
        s.key.kinds = kinds;
        let d = feature_len(&s.key.kinds, [3, 32, 32]).unwrap();
        s.features = Array2::from_shape_fn((5, d), |(i, j)| (i + j) as f32);
        s
    }

    #[test]
    fn a_vocabulary_is_saved_and_read_back_with_its_features() {
        let path = temp("bovw.safetensors");
        let original = bovw_set(0);
        original.save(&path).unwrap();
        let back = FeatureSet::load(&path, &bovw_set(0).key).unwrap();
        let vocabulary = |s: &FeatureSet| match &s.key.kinds[1] {
            FeatureKind::Bovw(b) => b.vocabulary().cloned(),
            _ => None,
        };
        assert!(vocabulary(&back).is_some());
        assert_eq!(vocabulary(&back), vocabulary(&original));
        assert_eq!(back.features, original.features);

        let err = FeatureSet::load(&path, &bovw_set(1).key)
            .unwrap_err()
            .to_string();
        assert!(err.contains("seed=0)") && err.contains("seed=1)"), "{err}");

        // The vocabulary is under the checksum too.
        let mut bytes = fs::read(&path).unwrap();
        let (header, meta) = SafeTensors::read_metadata(&bytes).unwrap();
        let (start, _) = meta.info("vocabulary.1").unwrap().data_offsets;
        let vocab_start = 8 + header + start;
        bytes[vocab_start + 3] ^= 0x10;
        fs::write(&path, &bytes).unwrap();
        let err = FeatureSet::read(&path).unwrap_err().to_string();
        assert!(err.contains("corrupt"), "{err}");

        let mut unfitted = bovw_set(0);
        unfitted.key.kinds = parse_kinds(&kinds_text(&unfitted.key.kinds)).unwrap();
        let err = unfitted.save(&path).unwrap_err().to_string();
        assert!(err.contains("without their vocabulary"), "{err}");
    }

    #[test]
    fn a_matrix_that_does_not_fit_its_kinds_is_not_saved() {
        let mut s = set("cifar-10", "color");
        s.labels.pop();
        let err = s.save(&temp("unfit.safetensors")).unwrap_err().to_string();
        assert!(err.contains("4 labels"), "{err}");
    }
}
