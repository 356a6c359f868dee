//! Input checks shared by the linear classifiers: shapes, finiteness, labels.

use ndarray::{ArrayView1, ArrayView2};

use crate::{Error, Result};

/// Checks a training set and returns the number of classes (`max(y) + 1`).
///
/// Errors (`InvalidData`) when `x` has no rows or columns, `x` and `y` differ in length, a
/// feature is not finite (naming row and column), or `y` holds fewer than two distinct labels.
pub(crate) fn check_training_set(x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<usize> {
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return Err(Error::InvalidData(format!(
            "training data must have at least one row and one column, got {n} x {d}"
        )));
    }
    if y.len() != n {
        return Err(Error::InvalidData(format!(
            "x has {n} rows but y has {} labels",
            y.len()
        )));
    }
    check_finite(x)?;
    let first = y[0];
    let max = y.iter().copied().max().unwrap_or(first);
    if y.iter().all(|&v| v == first) {
        return Err(Error::InvalidData(format!(
            "y has only one class ({first}); a classifier needs at least two"
        )));
    }
    Ok(max + 1)
}

/// Errors (`InvalidData`) when `x` does not have `expected` columns or holds a non-finite value.
pub(crate) fn check_predict_input(x: ArrayView2<f64>, expected: usize) -> Result<()> {
    if x.ncols() != expected {
        return Err(Error::InvalidData(format!(
            "x has {} features but the model was fitted with {expected}",
            x.ncols()
        )));
    }
    check_finite(x)
}

fn check_finite(x: ArrayView2<f64>) -> Result<()> {
    for (i, row) in x.outer_iter().enumerate() {
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "x[{i}, {j}] is {}; features must be finite",
                row[j]
            )));
        }
    }
    Ok(())
}

/// Errors (`InvalidParameter`) unless `value` is finite and > 0; `name` appears in the message
/// (`C must be > 0, got -1`).
pub(crate) fn check_positive(name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter(format!(
            "{name} must be > 0, got {value}"
        )))
    }
}

/// Errors (`InvalidParameter`) unless `value >= 1`.
pub(crate) fn check_at_least_one(name: &str, value: usize) -> Result<()> {
    if value >= 1 {
        Ok(())
    } else {
        Err(Error::InvalidParameter(format!(
            "{name} must be >= 1, got {value}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn one_class_is_rejected_by_name() {
        let x = array![[1.0], [2.0]];
        let err = check_training_set(x.view(), array![3usize, 3].view()).unwrap_err();
        assert!(err.to_string().contains("only one class (3)"), "{err}");
    }

    #[test]
    fn nan_is_located() {
        let x = array![[1.0, 2.0], [f64::NAN, 0.0]];
        let err = check_training_set(x.view(), array![0usize, 1].view()).unwrap_err();
        assert!(err.to_string().contains("x[1, 0] is NaN"), "{err}");
    }

    #[test]
    fn length_mismatch_and_feature_count() {
        let x = array![[1.0, 2.0], [3.0, 0.0]];
        assert!(check_training_set(x.view(), array![0usize].view()).is_err());
        let err = check_predict_input(x.view(), 3).unwrap_err();
        assert!(err
            .to_string()
            .contains("x has 2 features but the model was fitted with 3"));
        assert_eq!(
            check_training_set(x.view(), array![0usize, 4].view()).unwrap(),
            5
        );
    }

    #[test]
    fn parameter_messages() {
        let err = check_positive("C", -1.0).unwrap_err();
        assert_eq!(err.to_string(), "invalid parameter: C must be > 0, got -1");
        assert!(check_positive("C", f64::NAN).is_err());
        assert!(check_at_least_one("epochs", 0).is_err());
    }
}
