//! Cached image features (`ferrolearn features --out DIR`) as rows of the classic commands:
//! the training rows from `DIR/train.safetensors`, the test rows from `DIR/test.safetensors`,
//! and what they were computed from, recorded in saved runs so `eval` refuses other features.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context};
use ferrolearn::classic::pipeline::FeatureOrigin;
use ferrolearn::data::Target;
use ferrolearn::features::{kinds_text, FeatureKind, FeatureSet};
use ndarray::Array2;

use super::classic_data::{Loaded, Table};

/// Errors unless `other` holds the features the run in `run` was `fitted_on` (dataset and
/// kinds; the checksums tell a recomputation apart but the same settings give the same
/// columns).
pub fn check_same(
    fitted_on: &FeatureOrigin,
    other: &FeatureOrigin,
    run: &Path,
    dir: &Path,
) -> anyhow::Result<()> {
    if fitted_on.dataset != other.dataset || fitted_on.kinds != other.kinds {
        bail!(
            "{} was fitted on {} features of {}, but {} holds {} features of {}: compute \
             the same features with `ferrolearn features --dataset {} --kind '{}' --out DIR`",
            run.display(),
            fitted_on.kinds,
            fitted_on.dataset,
            dir.display(),
            other.kinds,
            other.dataset,
            fitted_on.dataset,
            fitted_on.kinds
        );
    }
    Ok(())
}

/// Errors when the run in `run` was fitted on cached features (`origin`) but is given a CSV:
/// nothing in a CSV says which features its columns hold.
pub fn refuse_csv(origin: Option<&FeatureOrigin>, run: &Path, csv: &Path) -> anyhow::Result<()> {
    if let Some(o) = origin {
        bail!(
            "{} was fitted on cached {} features of {} (train cache checksum {}), not on CSV \
             columns, so {} cannot be checked to hold the same features: evaluate it on the \
             cache's test split with `ferrolearn eval --run {} --features DIR`, DIR written by \
             `ferrolearn features --dataset {} --kind '{}'`",
            run.display(),
            o.kinds,
            o.dataset,
            o.train_checksum,
            csv.display(),
            run.display(),
            o.dataset,
            o.kinds
        );
    }
    Ok(())
}

/// The training rows (the first `limit` when given) and test rows of the feature cache in
/// `dir`, with what they were computed from (`origin`).
///
/// Errors name the file when the cache is missing, corrupt (the cache checks its sizes and
/// checksum), or its two files do not hold the same dataset and kinds.
pub fn load_features(dir: &Path, limit: Option<usize>) -> anyhow::Result<Loaded> {
    let (train, train_checksum) = read_split(dir, "train")?;
    let (test, test_checksum) = read_split(dir, "test")?;
    let (a, b) = (kinds_text(&train.key.kinds), kinds_text(&test.key.kinds));
    if train.key.dataset != test.key.dataset || a != b {
        bail!(
            "{}: train.safetensors holds {a} features of {}, but test.safetensors holds {b} \
             features of {}: compute both with one `ferrolearn features --out {}`",
            dir.display(),
            train.key.dataset,
            test.key.dataset,
            dir.display()
        );
    }
    // Same text, different words: the two files came from runs that learned their own
    // vocabularies (another `--limit`, say), so a word means something else in each.
    let words = |k: &FeatureKind| match k {
        FeatureKind::Bovw(b) => b.vocabulary().cloned(),
        _ => None,
    };
    if let Some(i) = (0..train.key.kinds.len())
        .find(|&i| words(&train.key.kinds[i]) != words(&test.key.kinds[i]))
    {
        bail!(
            "{}: train.safetensors and test.safetensors hold bags of visual words (kind {} of \
             `{a}`) over different vocabularies, learned by two different runs: compute both \
             with one `ferrolearn features --out {}`",
            dir.display(),
            i + 1,
            dir.display()
        );
    }
    let n = limit.map_or(train.labels.len(), |l| l.min(train.labels.len()));
    if n == 0 {
        bail!("--limit 0 leaves no training rows");
    }
    let origin = FeatureOrigin {
        dataset: train.key.dataset.clone(),
        kinds: a,
        train_checksum,
        test_checksum,
    };
    let source =
        |split: &str| format!("{} ({split} features of {})", dir.display(), origin.dataset);
    Ok(Loaded {
        train: table(&train, n, source("train")),
        test: Some(table(&test, test.labels.len(), source("test"))),
        origin: Some(origin),
    })
}

/// One split's cache file, checked to be that split, and its recorded checksum.
fn read_split(dir: &Path, split: &str) -> anyhow::Result<(FeatureSet, String)> {
    let path = dir.join(format!("{split}.safetensors"));
    if !path.is_file() {
        bail!(
            "{} not found: --features takes the directory written by `ferrolearn features \
             --dataset NAME --kind KINDS --out {}`",
            path.display(),
            dir.display()
        );
    }
    let set = FeatureSet::read(&path)?;
    if set.key.split != split {
        bail!(
            "{}: holds the {} split, expected {split}",
            path.display(),
            set.key.split
        );
    }
    Ok((set, recorded_checksum(&path)?))
}

/// The `checksum` of a cache file's metadata (already verified by [`FeatureSet::read`]),
/// read from the header alone.
fn recorded_checksum(path: &Path) -> anyhow::Result<String> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .with_context(|| format!("{}: reading the header length", path.display()))?;
    let len = usize::try_from(u64::from_le_bytes(len))?;
    let mut header = vec![0u8; len];
    file.read_exact(&mut header)
        .with_context(|| format!("{}: reading the header", path.display()))?;
    let header: serde_json::Value = serde_json::from_slice(&header)
        .with_context(|| format!("{}: header is not JSON", path.display()))?;
    header["__metadata__"]["checksum"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{}: no checksum in the metadata", path.display()))
}

/// The first `n` rows of `set` as a classic table (features as stored, labels as numbers, as
/// `--dataset` gives them).
fn table(set: &FeatureSet, n: usize, source: String) -> Table {
    let d = set.features.ncols();
    let x = Array2::from_shape_fn((n, d), |(i, j)| f64::from(set.features[[i, j]]));
    Table {
        source,
        feature_names: (0..d).map(|j| format!("feature_{j}")).collect(),
        x,
        y: Target::Numbers(set.labels[..n].iter().map(|&l| f64::from(l)).collect()),
    }
}
