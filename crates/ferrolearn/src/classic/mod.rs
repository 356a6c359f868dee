//! Classic supervised learners in the scikit-learn mould.
//!
//! Every learner is a hyperparameter struct with defaults; `fit(x, y)` validates them once and
//! returns a separate fitted type (no half-initialised state). Features are `f64` rows
//! (`ArrayView2<f64>`, one sample per row); class labels are `usize` in `0..n_classes`,
//! regression targets `f64`. Fitted models implement [`Classifier`] or [`Regressor`], so model
//! selection ([`crate::classic`]'s cross-validation and search) and the CLI treat them alike.

use ndarray::{Array1, ArrayView1, ArrayView2};

use crate::Result;

/// A learner that fits class labels.
pub trait FitClassifier {
    /// The fitted model.
    type Fitted: Classifier;
    /// Fits on rows `x` with labels `y` in `0..n_classes`.
    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<Self::Fitted>;
}

/// A learner that fits real-valued targets.
pub trait FitRegressor {
    /// The fitted model.
    type Fitted: Regressor;
    /// Fits on rows `x` with targets `y`.
    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<Self::Fitted>;
}

/// A fitted classifier.
pub trait Classifier {
    /// The number of features each row must have.
    fn n_features(&self) -> usize;
    /// Predicted class of each row; errors when the feature count differs from the fit.
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>>;
}

/// A fitted regressor.
pub trait Regressor {
    /// The number of features each row must have.
    fn n_features(&self) -> usize;
    /// Predicted target of each row; errors when the feature count differs from the fit.
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>>;
}

pub mod kmeans;
mod kmeans_assign;
pub mod kmeans_init;
pub mod knn;
pub mod lbfgs;
pub mod linear;
mod linear_input;
mod linear_kernels;
pub mod linear_solver;
pub mod logistic;
pub mod memory;
pub mod minibatch_kmeans;
pub mod mlp;
pub mod multiclass_svm;
pub mod penalty;
pub mod perceptron;
pub mod persist;
pub mod pipeline;
pub mod preprocessing;
pub mod scoring;
pub mod selection;
pub mod sgd;
pub mod softmax;
pub mod svm;
mod svm_dual;
mod svm_primal;

/// Checks training input: at least one row, one target per row, every feature finite.
///
/// Shared by every learner's `fit` so the messages read the same everywhere.
pub(crate) fn check_fit_input(x: ArrayView2<f64>, n_targets: usize) -> Result<()> {
    if x.nrows() == 0 {
        return Err(crate::Error::InvalidData(
            "cannot fit on an empty training set (0 rows)".into(),
        ));
    }
    if x.ncols() == 0 {
        return Err(crate::Error::InvalidData(
            "cannot fit on rows with 0 features".into(),
        ));
    }
    if x.nrows() != n_targets {
        return Err(crate::Error::InvalidData(format!(
            "x has {} rows but y has {} targets",
            x.nrows(),
            n_targets
        )));
    }
    check_finite(x)
}

/// Checks regression input: [`check_fit_input`], and every target finite (naming the row).
pub(crate) fn check_regression_input(x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<()> {
    check_fit_input(x, y.len())?;
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(crate::Error::InvalidData(format!(
            "non-finite target {} at row {i}",
            y[i]
        )));
    }
    Ok(())
}

/// Errors naming the first row and column holding a NaN or infinite value.
pub(crate) fn check_finite(x: ArrayView2<f64>) -> Result<()> {
    for (r, row) in x.outer_iter().enumerate() {
        if let Some(c) = row.iter().position(|v| !v.is_finite()) {
            return Err(crate::Error::InvalidData(format!(
                "non-finite value {} at row {r}, column {c}",
                row[c]
            )));
        }
    }
    Ok(())
}

/// Errors when rows passed to a fitted model have another feature count than the fit.
pub(crate) fn check_n_features(expected: usize, x: ArrayView2<f64>) -> Result<()> {
    if x.ncols() != expected {
        return Err(crate::Error::InvalidData(format!(
            "the model was fitted with {expected} features but the input has {}",
            x.ncols()
        )));
    }
    Ok(())
}

/// The number of classes `max(y) + 1` of labels in `0..n_classes`; errors on an empty `y`.
pub(crate) fn n_classes_of(y: ArrayView1<usize>) -> Result<usize> {
    y.iter()
        .max()
        .map(|&m| m + 1)
        .ok_or_else(|| crate::Error::InvalidData("no labels given".into()))
}
