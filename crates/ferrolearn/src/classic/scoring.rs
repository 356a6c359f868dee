//! Named scores for model selection, as scikit-learn's `scoring=` strings: greater is
//! better, so errors are negated (`neg_mean_squared_error`).
//!
//! Averages over classes take the classes present in the truth or the predictions of the
//! rows scored, as scikit-learn's `f1_score(average="macro")` does on one fold.

use ndarray::{ArrayView1, ArrayView2};

use super::selection::{score_folds, CvScores, Fold};
use super::{Classifier, FitClassifier, FitRegressor, Regressor};
use crate::metrics::{mean_absolute_error, mean_squared_error, r2_score, ConfusionMatrix};
use crate::{Error, Result};

/// A score of predictions against the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoring {
    /// Share of correct predictions.
    Accuracy,
    /// Mean recall over the classes in the truth.
    BalancedAccuracy,
    /// Unweighted mean of the per-class F1 scores.
    F1Macro,
    /// Mean of the per-class F1 scores weighted by support.
    F1Weighted,
    /// Unweighted mean of the per-class precisions.
    PrecisionMacro,
    /// Unweighted mean of the per-class recalls.
    RecallMacro,
    /// Coefficient of determination.
    R2,
    /// Minus the mean squared error.
    NegMeanSquaredError,
    /// Minus the root of the mean squared error.
    NegRootMeanSquaredError,
    /// Minus the mean absolute error.
    NegMeanAbsoluteError,
}

/// Every score, classifier scores first.
pub const ALL: [Scoring; 10] = [
    Scoring::Accuracy,
    Scoring::BalancedAccuracy,
    Scoring::F1Macro,
    Scoring::F1Weighted,
    Scoring::PrecisionMacro,
    Scoring::RecallMacro,
    Scoring::R2,
    Scoring::NegMeanSquaredError,
    Scoring::NegRootMeanSquaredError,
    Scoring::NegMeanAbsoluteError,
];

impl Scoring {
    /// scikit-learn's name of the score.
    pub fn name(self) -> &'static str {
        match self {
            Scoring::Accuracy => "accuracy",
            Scoring::BalancedAccuracy => "balanced_accuracy",
            Scoring::F1Macro => "f1_macro",
            Scoring::F1Weighted => "f1_weighted",
            Scoring::PrecisionMacro => "precision_macro",
            Scoring::RecallMacro => "recall_macro",
            Scoring::R2 => "r2",
            Scoring::NegMeanSquaredError => "neg_mean_squared_error",
            Scoring::NegRootMeanSquaredError => "neg_root_mean_squared_error",
            Scoring::NegMeanAbsoluteError => "neg_mean_absolute_error",
        }
    }

    /// Whether the score compares classes (else real values).
    pub fn is_for_classifiers(self) -> bool {
        matches!(
            self,
            Scoring::Accuracy
                | Scoring::BalancedAccuracy
                | Scoring::F1Macro
                | Scoring::F1Weighted
                | Scoring::PrecisionMacro
                | Scoring::RecallMacro
        )
    }

    /// The names of the scores for classifiers (`true`) or regressors, comma-separated.
    pub fn names_for(classifiers: bool) -> String {
        ALL.iter()
            .filter(|s| s.is_for_classifiers() == classifiers)
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The score of class predictions; errors for a regression score or bad input.
    pub fn score_classes(self, truth: &[usize], pred: &[usize]) -> Result<f64> {
        let n = truth.iter().chain(pred).max().map_or(0, |m| m + 1);
        let cm = ConfusionMatrix::new(truth, pred, n)?;
        let report = cm.report();
        let predicted = |c: usize| (0..n).map(|t| cm.get(t, c)).sum::<usize>();
        let present: Vec<usize> = (0..n)
            .filter(|&c| report.support[c] > 0 || predicted(c) > 0)
            .collect();
        let mean_over = |v: &[f64], classes: &[usize]| {
            classes.iter().map(|&c| v[c]).sum::<f64>() / classes.len() as f64
        };
        Ok(match self {
            Scoring::Accuracy => cm.accuracy(),
            Scoring::BalancedAccuracy => {
                let in_truth: Vec<usize> = (0..n).filter(|&c| report.support[c] > 0).collect();
                mean_over(&report.recall, &in_truth)
            }
            Scoring::F1Macro => mean_over(&report.f1, &present),
            Scoring::PrecisionMacro => mean_over(&report.precision, &present),
            Scoring::RecallMacro => mean_over(&report.recall, &present),
            Scoring::F1Weighted => {
                let total: usize = report.support.iter().sum();
                (0..n)
                    .map(|c| report.f1[c] * report.support[c] as f64)
                    .sum::<f64>()
                    / total as f64
            }
            other => return Err(other.wrong_kind("class predictions")),
        })
    }

    /// The score of real-valued predictions; errors for a classification score or bad input.
    pub fn score_values(self, truth: &[f64], pred: &[f64]) -> Result<f64> {
        Ok(match self {
            Scoring::R2 => r2_score(truth, pred)?,
            Scoring::NegMeanSquaredError => -mean_squared_error(truth, pred)?,
            Scoring::NegRootMeanSquaredError => -mean_squared_error(truth, pred)?.sqrt(),
            Scoring::NegMeanAbsoluteError => -mean_absolute_error(truth, pred)?,
            other => return Err(other.wrong_kind("real-valued predictions")),
        })
    }

    fn wrong_kind(self, what: &str) -> Error {
        Error::InvalidParameter(format!(
            "scoring `{}` does not apply to {what}; use one of {}",
            self.name(),
            Scoring::names_for(what.starts_with("class"))
        ))
    }
}

impl std::str::FromStr for Scoring {
    type Err = Error;

    /// A score by its scikit-learn name; errors listing the names.
    fn from_str(s: &str) -> Result<Scoring> {
        ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| {
            Error::InvalidParameter(format!(
                "unknown scoring `{s}`; classifiers: {}; regressors: {}",
                Scoring::names_for(true),
                Scoring::names_for(false)
            ))
        })
    }
}

/// Test-fold scores of `learner` fitted on each fold's training rows.
pub fn cross_val_scores_classifier<L: FitClassifier>(
    learner: &L,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    folds: &[Fold],
    scoring: Scoring,
) -> Result<CvScores> {
    score_folds(x, y, folds, |x_train, y_train, x_test, y_test| {
        let pred = learner.fit(x_train, y_train)?.predict(x_test)?;
        scoring.score_classes(&y_test.to_vec(), &pred.to_vec())
    })
}

/// Test-fold scores of the regressor `learner` fitted on each fold's training rows.
pub fn cross_val_scores_regressor<L: FitRegressor>(
    learner: &L,
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    folds: &[Fold],
    scoring: Scoring,
) -> Result<CvScores> {
    score_folds(x, y, folds, |x_train, y_train, x_test, y_test| {
        let pred = learner.fit(x_train, y_train)?.predict(x_test)?;
        scoring.score_values(&y_test.to_vec(), &pred.to_vec())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_scores_match_sklearn() {
        // sklearn.metrics on y_true = [0, 0, 1, 1, 2, 2], y_pred = [0, 1, 1, 1, 0, 2]:
        // accuracy 4/6, balanced_accuracy (0.5 + 1 + 0.5) / 3, f1_macro (0.5 + 0.8 + 2/3) / 3,
        // precision_macro (0.5 + 2/3 + 1) / 3, recall_macro = balanced_accuracy,
        // f1_weighted = f1_macro (equal supports).
        let (t, p) = ([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 0, 2]);
        let s = |scoring: Scoring| scoring.score_classes(&t, &p).unwrap();
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} != {b}");
        close(s(Scoring::Accuracy), 4.0 / 6.0);
        close(s(Scoring::BalancedAccuracy), 2.0 / 3.0);
        close(s(Scoring::F1Macro), (0.5 + 0.8 + 2.0 / 3.0) / 3.0);
        close(s(Scoring::PrecisionMacro), (0.5 + 2.0 / 3.0 + 1.0) / 3.0);
        close(s(Scoring::RecallMacro), 2.0 / 3.0);
        close(s(Scoring::F1Weighted), s(Scoring::F1Macro));
    }

    #[test]
    fn averages_skip_classes_absent_from_both_sides() {
        // Class 1 is neither true nor predicted here: sklearn averages over {0, 2} only.
        let (t, p) = ([0, 2, 2], [0, 2, 0]);
        let f1 = Scoring::F1Macro.score_classes(&t, &p).unwrap();
        assert!((f1 - (2.0 / 3.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12, "{f1}");
        // f1_weighted: (1 * 2/3 + 2 * 2/3) / 3.
        let w = Scoring::F1Weighted.score_classes(&t, &p).unwrap();
        assert!((w - 2.0 / 3.0).abs() < 1e-12, "{w}");
    }

    #[test]
    fn regression_scores_are_negated_errors() {
        let (t, p) = ([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]);
        let s = |scoring: Scoring| scoring.score_values(&t, &p).unwrap();
        assert_eq!(s(Scoring::NegMeanSquaredError), -4.0 / 3.0);
        assert_eq!(s(Scoring::NegRootMeanSquaredError), -(4.0f64 / 3.0).sqrt());
        assert_eq!(s(Scoring::NegMeanAbsoluteError), -2.0 / 3.0);
        assert_eq!(s(Scoring::R2), -1.0);
    }

    #[test]
    fn names_parse_and_kinds_are_checked() {
        for s in ALL {
            assert_eq!(s.name().parse::<Scoring>().unwrap(), s);
        }
        let e = "f1".parse::<Scoring>().unwrap_err().to_string();
        assert!(
            e.contains("unknown scoring `f1`") && e.contains("f1_macro"),
            "{e}"
        );
        let e = Scoring::R2
            .score_classes(&[0], &[0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`r2`") && e.contains("accuracy"), "{e}");
        let e = Scoring::F1Macro
            .score_values(&[0.0], &[0.0])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`f1_macro`") && e.contains("neg_mean_squared_error"),
            "{e}"
        );
    }
}
