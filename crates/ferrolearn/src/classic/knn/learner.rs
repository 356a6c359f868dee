//! The kNN learners: [`KnnClassifier`] and [`KnnRegressor`] (k and the distance), checked
//! once into [`CheckedKnn`], which fits them.

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::fitted::{FittedKnnClassifier, FittedKnnRegressor};
use super::index::KnnIndex;
use crate::classic::{
    check_fit_input, check_regression_input, n_classes_of, FitClassifier, FitRegressor,
};
use crate::{Error, Result};

/// The distance between two rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metric {
    /// L2: `sqrt(sum (a - b)^2)`.
    #[default]
    Euclidean,
    /// L1: `sum |a - b|`.
    Manhattan,
}

/// k-nearest-neighbours classifier (uniform majority vote; see the module docs for ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnnClassifier {
    /// Neighbours that vote, `>= 1` and at most the training-set size (default 5).
    pub k: usize,
    /// Distance (default Euclidean).
    pub metric: Metric,
}

/// k-nearest-neighbours regressor: the mean target of the k nearest training rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnnRegressor {
    /// Neighbours averaged, `>= 1` and at most the training-set size (default 5).
    pub k: usize,
    /// Distance (default Euclidean).
    pub metric: Metric,
}

impl Default for KnnClassifier {
    fn default() -> Self {
        Self {
            k: 5,
            metric: Metric::Euclidean,
        }
    }
}

impl Default for KnnRegressor {
    fn default() -> Self {
        Self {
            k: 5,
            metric: Metric::Euclidean,
        }
    }
}

/// kNN settings that passed validation (`k >= 1`); fitting further checks `k <= n_train`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedKnn {
    k: usize,
    metric: Metric,
}

pub(super) fn check_k(k: usize, metric: Metric) -> Result<CheckedKnn> {
    if k == 0 {
        return Err(Error::InvalidParameter("k must be >= 1, got 0".into()));
    }
    Ok(CheckedKnn { k, metric })
}

impl KnnClassifier {
    /// Validates the settings.
    pub fn check(&self) -> Result<CheckedKnn> {
        check_k(self.k, self.metric)
    }
}

impl KnnRegressor {
    /// Validates the settings.
    pub fn check(&self) -> Result<CheckedKnn> {
        check_k(self.k, self.metric)
    }
}

impl CheckedKnn {
    /// Stores the training rows and labels (labels in `0..n_classes`).
    pub fn fit_classifier(
        &self,
        x: ArrayView2<f64>,
        y: ArrayView1<usize>,
    ) -> Result<FittedKnnClassifier> {
        check_fit_input(x, y.len())?;
        let index = KnnIndex::new(x, self.metric)?;
        index.check_k(self.k)?;
        Ok(FittedKnnClassifier {
            k: self.k,
            n_classes: n_classes_of(y)?,
            labels: y.to_vec(),
            index,
        })
    }

    /// Stores the training rows and targets.
    pub fn fit_regressor(
        &self,
        x: ArrayView2<f64>,
        y: ArrayView1<f64>,
    ) -> Result<FittedKnnRegressor> {
        check_regression_input(x, y)?;
        let index = KnnIndex::new(x, self.metric)?;
        index.check_k(self.k)?;
        Ok(FittedKnnRegressor {
            k: self.k,
            targets: y.to_vec(),
            index,
        })
    }
}

impl FitClassifier for KnnClassifier {
    type Fitted = FittedKnnClassifier;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<FittedKnnClassifier> {
        self.check()?.fit_classifier(x, y)
    }
}

impl FitRegressor for KnnRegressor {
    type Fitted = FittedKnnRegressor;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<FittedKnnRegressor> {
        self.check()?.fit_regressor(x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::{Classifier, FitClassifier};
    use ndarray::{array, Array2};

    #[test]
    fn invalid_settings_and_inputs_are_errors() {
        let x = array![[0.0, 1.0], [1.0, 0.0]];
        let y = array![0, 1];
        let e = KnnClassifier {
            k: 0,
            metric: Metric::Euclidean,
        }
        .fit(x.view(), y.view())
        .unwrap_err();
        assert_eq!(e.to_string(), "invalid parameter: k must be >= 1, got 0");
        let e = KnnClassifier {
            k: 3,
            metric: Metric::Euclidean,
        }
        .fit(x.view(), y.view())
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("k = 3 is larger than the training set (n_samples = 2)"),
            "{e}"
        );
        let m = KnnClassifier {
            k: 1,
            metric: Metric::Manhattan,
        }
        .fit(x.view(), y.view())
        .unwrap();
        let e = m.predict(array![[1.0, 2.0, 3.0]].view()).unwrap_err();
        assert!(
            e.to_string().contains("2 features") && e.to_string().contains("has 3"),
            "{e}"
        );
        assert!(m.predict(array![[f64::NAN, 0.0]].view()).is_err());
        assert!(KnnClassifier::default()
            .fit(x.view(), array![0].view())
            .is_err());
        assert_eq!(m.predict(Array2::zeros((0, 2)).view()).unwrap().len(), 0);
    }
}
