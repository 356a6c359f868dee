//! Inputs of the classic commands: a CSV table (numeric features and a target of numbers or
//! class names), an image dataset's flattened pixels scaled to `[0, 1]`, or cached image
//! features (read by [`super::classic_features`]).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use ferrolearn::classic::pipeline::{align_columns, FeatureOrigin};
use ferrolearn::data::csv::{read_csv, read_csv_features};
use ferrolearn::data::{self, class_labels, ClassLabels, Classes, Dataset, DatasetName, Target};
use ndarray::{Array2, Axis};

use super::classic_features::load_features;

/// Where the rows come from: `--data` with `--target`, `--dataset` (`--data-dir`, `--limit`),
/// or `--features` (`--limit`).
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Data")]
pub struct DataArgs {
    /// CSV file with a header line; every column but the target must be numeric. A target
    /// column with any cell that is not a number holds class names (classifiers only).
    #[arg(
        long,
        value_name = "CSV",
        required_unless_present_any = ["dataset", "features"],
        conflicts_with_all = ["dataset", "features"]
    )]
    pub data: Option<PathBuf>,
    /// Name of the target column in the CSV files.
    #[arg(long, value_name = "COLUMN", default_value = "target")]
    pub target: String,
    /// Use an image dataset instead of a CSV: mnist, fashion-mnist or cifar-10 (pixels / 255
    /// as features).
    #[arg(long, value_name = "NAME", value_parser = parse_dataset, conflicts_with = "features")]
    pub dataset: Option<DatasetName>,
    /// Use cached image features instead: the directory written by `ferrolearn features
    /// --out DIR` (training rows from its train split, test rows from its test split).
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,
    /// Directory holding the image dataset (default: $FERROLEARN_DATA, then the bundled data/).
    #[arg(long, value_name = "DIR", requires = "dataset")]
    pub data_dir: Option<PathBuf>,
    /// Take only the first N training images of --dataset (or rows of --features).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

fn parse_dataset(s: &str) -> Result<DatasetName, String> {
    s.parse().map_err(|e: ferrolearn::Error| e.to_string())
}

/// Feature rows with their target values and column names.
#[derive(Debug, Clone)]
pub struct Table {
    /// Where the rows came from (a file path or a dataset name), for messages.
    pub source: String,
    /// The feature column names, in the order of `x`'s columns.
    pub feature_names: Vec<String>,
    /// One row per sample.
    pub x: Array2<f64>,
    /// The target value of each row.
    pub y: Target,
}

impl Table {
    /// The target's numbers, for a regressor; errors naming the file on class names.
    pub fn numbers(&self) -> anyhow::Result<&[f64]> {
        self.y
            .numbers()
            .with_context(|| format!("{}: target", self.source))
    }

    /// The rows `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Table {
        Table {
            source: self.source.clone(),
            feature_names: self.feature_names.clone(),
            x: self.x.select(Axis(0), rows),
            y: self.y.select(rows),
        }
    }
}

/// The rows of `--data` or `--dataset`, plus the official test rows of a dataset.
#[derive(Debug)]
pub struct Loaded {
    /// Rows to fit (and cross-validate) on.
    pub train: Table,
    /// The dataset's own test split (none for a CSV).
    pub test: Option<Table>,
    /// What cached features were computed from, for `--features`.
    pub origin: Option<FeatureOrigin>,
}

impl DataArgs {
    /// Reads the rows the flags name.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        if let Some(name) = self.dataset {
            return load_images(name, self.data_dir.as_deref(), self.limit);
        }
        if let Some(dir) = &self.features {
            return load_features(dir, self.limit);
        }
        let path = self
            .data
            .as_deref()
            .context("give --data FILE.csv, --dataset NAME or --features DIR")?;
        if self.limit.is_some() {
            bail!("--limit applies to --dataset and --features, not to a --data CSV");
        }
        Ok(Loaded {
            train: read_table(path, &self.target)?,
            test: None,
            origin: None,
        })
    }

    /// A short name of the input for reports.
    pub fn describe(&self) -> String {
        match (&self.dataset, &self.features, &self.data) {
            (Some(name), _, _) => name.to_string(),
            (None, Some(dir), _) => format!("features in {}", dir.display()),
            (None, None, Some(path)) => path.display().to_string(),
            (None, None, None) => String::new(),
        }
    }
}

/// A CSV file whose column `target` is the target.
pub fn read_table(path: &Path, target: &str) -> anyhow::Result<Table> {
    let t = read_csv(path, target)?;
    Ok(Table {
        source: path.display().to_string(),
        feature_names: t.feature_names,
        x: t.features,
        y: t.target,
    })
}

/// The features of a CSV file, in the order of `feature_names`, with the target column's
/// values when the file has one. Extra and missing columns are errors naming them.
pub fn read_features(
    path: &Path,
    feature_names: &[String],
    target: &str,
) -> anyhow::Result<(Array2<f64>, Option<Target>)> {
    if csv_header(path)?.iter().any(|h| h == target) {
        let table = read_table(path, target)?;
        let x = align(&table, feature_names)?;
        return Ok((x, Some(table.y)));
    }
    let t = read_csv_features(path)?;
    let table = Table {
        source: path.display().to_string(),
        feature_names: t.feature_names,
        x: t.features,
        y: t.target,
    };
    Ok((align(&table, feature_names)?, None))
}

/// The header names of a CSV file.
fn csv_header(path: &Path) -> anyhow::Result<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let header = reader
        .headers()
        .map_err(|e| anyhow::anyhow!("{}: cannot read the header: {e}", path.display()))?;
    Ok(header.iter().map(str::to_string).collect())
}

/// The columns of `table` reordered to `expected` ([`align_columns`]); errors naming the
/// file, missing and extra columns and both feature counts.
pub fn align(table: &Table, expected: &[String]) -> anyhow::Result<Array2<f64>> {
    Ok(align_columns(
        &table.source,
        &table.feature_names,
        table.x.view(),
        expected,
    )?)
}

/// Encodes a classification target (integers or names, at least two distinct values).
pub fn encode_classes(table: &Table) -> anyhow::Result<ClassLabels> {
    let regressors = "use a regressor (--model linear, ridge or poly) for a continuous target";
    let l = class_labels(&table.y)
        .with_context(|| format!("{}: target: {regressors}", table.source))?;
    // As scikit-learn's type_of_target would not, but as a user means: integer values that
    // are mostly distinct (over a third of the rows) are measurements, not classes.
    let (classes, rows) = (l.classes.len(), table.y.len());
    if matches!(l.classes, Classes::Integers(_)) && classes > 20 && 3 * classes > rows {
        anyhow::bail!(
            "{}: target: {classes} distinct values in {rows} rows looks continuous, not like class labels: {regressors}",
            table.source
        );
    }
    Ok(l)
}

/// Labels of `y` under the classes of the training rows; errors naming `source`, the row and
/// a value never seen.
pub fn labels_in(y: &Target, classes: &Classes, source: &str) -> anyhow::Result<Vec<usize>> {
    data::labels_in(y, classes).with_context(|| source.to_string())
}

/// Train and test rows of an image dataset, pixels / 255, the first `limit` training images.
fn load_images(
    name: DatasetName,
    dir: Option<&Path>,
    limit: Option<usize>,
) -> anyhow::Result<Loaded> {
    let sets = data::load(name, dir)?;
    let n_train = limit.map_or(sets.train.len(), |n| n.min(sets.train.len()));
    if n_train == 0 {
        bail!("--limit 0 leaves no training images");
    }
    Ok(Loaded {
        train: image_table(&sets.train, n_train, name)?,
        test: Some(image_table(&sets.test, sets.test.len(), name)?),
        origin: None,
    })
}

/// The first `n` images of `set` as rows of `item_len` features in `[0, 1]`.
pub fn image_table(set: &Dataset, n: usize, name: DatasetName) -> anyhow::Result<Table> {
    let d = set.item_len();
    let pixels = &set.images()[..n * d];
    let x = Array2::from_shape_vec(
        (n, d),
        pixels.iter().map(|&p| f64::from(p) / 255.0).collect(),
    )?;
    Ok(Table {
        source: name.to_string(),
        feature_names: (0..d).map(|i| format!("pixel_{i}")).collect(),
        x,
        y: Target::Numbers(set.labels()[..n].iter().map(|&l| f64::from(l)).collect()),
    })
}
