//! The images a run trains, validates and is tested on: a dataset's training images cut to
//! the run's `limit` and split for validation, and its test images, each set checked to be
//! non-empty with an error naming the option that emptied it.

use super::options::Spelling;
use crate::data::{Dataset, TrainTest};
use crate::{Error, Result};

/// The training, validation and test images of one run.
#[derive(Debug, Clone)]
pub struct RunData {
    /// What the optimizer steps on.
    pub train: Dataset,
    /// The held-out part of the training images (`None` with a validation fraction of 0).
    pub val: Option<Dataset>,
    /// The final evaluation's images.
    pub test: Dataset,
}

impl RunData {
    /// The first `limit` training images of `sets` (all with `None`), less the
    /// `val_fraction` held out for validation (drawn from `seed`), and the test images;
    /// `name` names the dataset in errors and `spelling` the options.
    pub fn new(
        sets: TrainTest,
        name: &str,
        limit: Option<usize>,
        val_fraction: f64,
        seed: u64,
        spelling: Spelling,
    ) -> Result<RunData> {
        if sets.test.is_empty() {
            return Err(Error::InvalidData(format!(
                "the {name} test set is empty: nothing to evaluate the model on"
            )));
        }
        let (train, val) = split_train(sets.train, name, limit, val_fraction, seed, spelling)?;
        Ok(RunData {
            train,
            val,
            test: sets.test,
        })
    }
}

/// The training and validation parts of [`RunData::new`], for a run with no test set.
pub fn split_train(
    train: Dataset,
    name: &str,
    limit: Option<usize>,
    val_fraction: f64,
    seed: u64,
    spelling: Spelling,
) -> Result<(Dataset, Option<Dataset>)> {
    let mut train = train;
    if let Some(limit) = limit {
        if limit == 0 {
            return Err(Error::InvalidParameter(format!(
                "{} must be >= 1, got 0: it would leave no training images",
                spelling.option("limit")
            )));
        }
        train = train.subset(&(0..limit.min(train.len())).collect::<Vec<_>>());
    }
    if train.is_empty() {
        return Err(Error::InvalidData(format!(
            "the {name} training set is empty: nothing to train on"
        )));
    }
    if val_fraction <= 0.0 {
        return Ok((train, None));
    }
    let option = spelling.option("val_fraction");
    let images = train.len();
    let (t, v) = train
        .split_validation(val_fraction, seed)
        .map_err(|e| Error::InvalidParameter(format!("{option}: {e}")))?;
    if t.is_empty() || v.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "{option} {val_fraction} of {images} training images leaves {} for training and {} for validation: use more images ({}) or another fraction (0 for none)",
            t.len(),
            v.len(),
            spelling.option("limit")
        )));
    }
    Ok((t, Some(v)))
}
