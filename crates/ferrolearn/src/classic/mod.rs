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

pub mod lbfgs;
mod linear_input;
mod linear_kernels;
pub mod linear_solver;
pub mod logistic;
pub mod multiclass_svm;
pub mod penalty;
pub mod perceptron;
pub mod softmax;
pub mod svm;
mod svm_dual;
mod svm_primal;
