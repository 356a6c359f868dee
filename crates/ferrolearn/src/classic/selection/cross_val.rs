//! Cross-validated scores: a learner fitted and scored on each fold ([`CvScores`]).

use ndarray::{ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::split::Fold;
use crate::classic::{Classifier, FitClassifier, FitRegressor, Regressor};
use crate::{Error, Result};

/// Mean and population standard deviation; `(NaN, NaN)` for an empty slice.
pub(crate) fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Scores of one model on each fold, with their mean and (population) std.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvScores {
    /// One score per fold, in fold order.
    pub scores: Vec<f64>,
    /// Mean of `scores`.
    pub mean: f64,
    /// Population standard deviation of `scores` (as `numpy.std`).
    pub std: f64,
}

impl CvScores {
    /// Summarises per-fold scores.
    pub fn new(scores: Vec<f64>) -> Self {
        let (mean, std) = mean_std(&scores);
        Self { scores, mean, std }
    }
}

fn check_rows(x: ArrayView2<f64>, n_targets: usize, folds: &[Fold]) -> Result<()> {
    if x.nrows() != n_targets {
        return Err(Error::InvalidData(format!(
            "x has {} rows but y has {n_targets} targets",
            x.nrows()
        )));
    }
    if folds.is_empty() {
        return Err(Error::InvalidParameter("no folds given".into()));
    }
    folds.iter().try_for_each(|f| f.check(x.nrows()))
}

/// Test-fold accuracy of `learner` fitted on each fold's training rows.
pub fn cross_val_score_classifier<L: FitClassifier>(
    learner: &L,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    folds: &[Fold],
) -> Result<CvScores> {
    score_folds(x, y, folds, |x_train, y_train, x_test, y_test| {
        let pred = learner.fit(x_train, y_train)?.predict(x_test)?;
        crate::metrics::accuracy(&y_test.to_vec(), &pred.to_vec())
    })
}

/// Test-fold R^2 of `learner` fitted on each fold's training rows (scikit-learn's default
/// regression score).
pub fn cross_val_score_regressor<L: FitRegressor>(
    learner: &L,
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    folds: &[Fold],
) -> Result<CvScores> {
    score_folds(x, y, folds, |x_train, y_train, x_test, y_test| {
        let pred = learner.fit(x_train, y_train)?.predict(x_test)?;
        crate::metrics::r2_score(&y_test.to_vec(), &pred.to_vec())
    })
}

/// Scores each fold with `score(x_train, y_train, x_test, y_test)`, after checking that the
/// folds fit the data.
pub(crate) fn score_folds<T: Clone>(
    x: ArrayView2<f64>,
    y: ArrayView1<T>,
    folds: &[Fold],
    score: impl Fn(ArrayView2<f64>, ArrayView1<T>, ArrayView2<f64>, ArrayView1<T>) -> Result<f64>,
) -> Result<CvScores> {
    check_rows(x, y.len(), folds)?;
    let scores = folds
        .iter()
        .map(|f| {
            score(
                x.select(Axis(0), &f.train).view(),
                y.select(Axis(0), &f.train).view(),
                x.select(Axis(0), &f.test).view(),
                y.select(Axis(0), &f.test).view(),
            )
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok(CvScores::new(scores))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::knn::KnnClassifier;
    use crate::classic::selection::*;
    use ndarray::array;

    #[test]
    fn cross_val_score_reports_mean_and_std() {
        let x = array![[0.0], [1.0], [2.0], [3.0], [10.0], [11.0], [12.0], [13.0]];
        let y = array![0, 0, 0, 0, 1, 1, 1, 1];
        let folds = StratifiedKFold {
            n_splits: 2,
            shuffle: None,
        }
        .split(y.as_slice().unwrap())
        .unwrap();
        let cv = cross_val_score_classifier(
            &KnnClassifier {
                k: 1,
                ..KnnClassifier::default()
            },
            x.view(),
            y.view(),
            &folds,
        )
        .unwrap();
        assert_eq!(cv.scores, vec![1.0, 1.0]);
        assert_eq!((cv.mean, cv.std), (1.0, 0.0));
        assert!(ParamGrid::new().with_spec("k").is_err());
        assert_eq!(ParamValue::parse("0.5"), ParamValue::Float(0.5));
        assert_eq!(ParamValue::parse("l1"), ParamValue::Text("l1".into()));
    }
}
