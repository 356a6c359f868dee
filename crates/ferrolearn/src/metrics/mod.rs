//! Classification and regression metrics shared by both halves of the crate.
//!
//! Labels are `usize` class indices in `0..n_classes` (what the classic learners and the
//! networks both predict); regression metrics take `f64` slices. Each function checks that
//! its two inputs have the same length and are not empty, and says which counts differ.

mod classification;
mod regression;

pub use classification::{accuracy, ClassReport, ConfusionMatrix};
pub use regression::{mean_absolute_error, mean_squared_error, r2_score};

use crate::{Error, Result};

/// Errors unless `truth` and `pred` have the same, non-zero length.
fn check_lengths(what: &str, truth: usize, pred: usize) -> Result<()> {
    if truth != pred {
        return Err(Error::InvalidData(format!(
            "{what}: {truth} true values but {pred} predictions"
        )));
    }
    if truth == 0 {
        return Err(Error::InvalidData(format!("{what}: no samples")));
    }
    Ok(())
}
