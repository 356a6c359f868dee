//! The figures a fitted run records on its training and test rows ([`Metrics`]): accuracy,
//! macro F1 and the confusion matrix for classifiers, MSE and R^2 for regressors.

use serde::{Deserialize, Serialize};

use crate::metrics::{mean_squared_error, r2_score, ConfusionMatrix};
use crate::Result;

/// Scores of predictions against the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Metrics {
    /// Classifier figures.
    Classification {
        /// Share of correct predictions.
        accuracy: f64,
        /// Unweighted mean of the per-class F1 scores.
        macro_f1: f64,
        /// `confusion_matrix[true][predicted]` counts, classes in label order.
        confusion_matrix: Vec<Vec<usize>>,
    },
    /// Regressor figures.
    Regression {
        /// Mean squared error.
        mse: f64,
        /// Coefficient of determination.
        r2: f64,
    },
}

impl Metrics {
    /// Accuracy, macro F1 and confusion matrix of class predictions.
    pub fn classification(truth: &[usize], pred: &[usize], n_classes: usize) -> Result<Metrics> {
        let cm = ConfusionMatrix::new(truth, pred, n_classes)?;
        Ok(Metrics::Classification {
            accuracy: cm.accuracy(),
            macro_f1: cm.report().macro_f1(),
            confusion_matrix: cm.rows(),
        })
    }

    /// MSE and R^2 of real-valued predictions.
    pub fn regression(truth: &[f64], pred: &[f64]) -> Result<Metrics> {
        Ok(Metrics::Regression {
            mse: mean_squared_error(truth, pred)?,
            r2: r2_score(truth, pred)?,
        })
    }
}
