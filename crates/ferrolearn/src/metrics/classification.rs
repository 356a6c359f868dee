//! Accuracy, the confusion matrix and per-class precision / recall / F1.

use serde::{Deserialize, Serialize};

use super::check_lengths;
use crate::{Error, Result};

/// The fraction of predictions equal to the true label.
///
/// Errors when the slices differ in length or are empty.
pub fn accuracy(truth: &[usize], pred: &[usize]) -> Result<f64> {
    check_lengths("accuracy", truth.len(), pred.len())?;
    let correct = truth.iter().zip(pred).filter(|(t, p)| t == p).count();
    Ok(correct as f64 / truth.len() as f64)
}

/// Counts of (true class, predicted class) pairs: `counts[t][p]`, rows = truth as in
/// scikit-learn's `confusion_matrix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    n_classes: usize,
    /// Row-major `n_classes x n_classes` counts.
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// Tallies `truth` against `pred` over `n_classes` classes.
    ///
    /// Errors when lengths differ, the input is empty, or a label is `>= n_classes`.
    pub fn new(truth: &[usize], pred: &[usize], n_classes: usize) -> Result<Self> {
        check_lengths("confusion matrix", truth.len(), pred.len())?;
        let mut counts = vec![0; n_classes * n_classes];
        for (i, (&t, &p)) in truth.iter().zip(pred).enumerate() {
            if t >= n_classes || p >= n_classes {
                return Err(Error::InvalidData(format!(
                    "confusion matrix: sample {i} has true label {t} and prediction {p}, \
                     but there are only {n_classes} classes"
                )));
            }
            counts[t * n_classes + p] += 1;
        }
        Ok(Self { n_classes, counts })
    }

    /// The number of classes (rows and columns).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// How many samples of class `truth` were predicted as `pred`.
    pub fn get(&self, truth: usize, pred: usize) -> usize {
        self.counts[truth * self.n_classes + pred]
    }

    /// The counts as rows (one per true class).
    pub fn rows(&self) -> Vec<Vec<usize>> {
        self.counts
            .chunks(self.n_classes.max(1))
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// Total number of samples.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Accuracy: the diagonal over the total.
    pub fn accuracy(&self) -> f64 {
        let diag: usize = (0..self.n_classes).map(|c| self.get(c, c)).sum();
        diag as f64 / self.total().max(1) as f64
    }

    /// Per-class precision, recall, F1 and support, with macro averages.
    ///
    /// As scikit-learn with `zero_division=0`: a class never predicted has precision 0, a
    /// class absent from the truth has recall 0, and F1 is 0 when precision + recall is 0.
    pub fn report(&self) -> ClassReport {
        let k = self.n_classes;
        let mut report = ClassReport {
            precision: Vec::with_capacity(k),
            recall: Vec::with_capacity(k),
            f1: Vec::with_capacity(k),
            support: Vec::with_capacity(k),
        };
        for c in 0..k {
            let tp = self.get(c, c) as f64;
            let predicted: usize = (0..k).map(|t| self.get(t, c)).sum();
            let actual: usize = (0..k).map(|p| self.get(c, p)).sum();
            let precision = if predicted == 0 {
                0.0
            } else {
                tp / predicted as f64
            };
            let recall = if actual == 0 { 0.0 } else { tp / actual as f64 };
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            report.precision.push(precision);
            report.recall.push(recall);
            report.f1.push(f1);
            report.support.push(actual);
        }
        report
    }
}

/// Per-class precision, recall, F1 and support (index = class), from [`ConfusionMatrix::report`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassReport {
    /// True positives over predicted positives, per class.
    pub precision: Vec<f64>,
    /// True positives over actual positives, per class.
    pub recall: Vec<f64>,
    /// Harmonic mean of precision and recall, per class.
    pub f1: Vec<f64>,
    /// The number of true samples of each class.
    pub support: Vec<usize>,
}

impl ClassReport {
    /// Unweighted mean of the per-class precisions.
    pub fn macro_precision(&self) -> f64 {
        mean(&self.precision)
    }

    /// Unweighted mean of the per-class recalls.
    pub fn macro_recall(&self) -> f64 {
        mean(&self.recall)
    }

    /// Unweighted mean of the per-class F1 scores (scikit-learn's `f1_score(average="macro")`).
    pub fn macro_f1(&self) -> f64 {
        mean(&self.f1)
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_matches() {
        assert_eq!(accuracy(&[0, 1, 2, 1], &[0, 2, 2, 1]).unwrap(), 0.75);
        assert!(accuracy(&[0, 1], &[0]).is_err());
        assert!(accuracy(&[], &[]).is_err());
    }

    // from sklearn.metrics import precision_recall_fscore_support, confusion_matrix
    // t = [0, 0, 1, 1, 1, 2, 2, 2, 2, 0]; p = [0, 1, 1, 1, 2, 2, 0, 2, 2, 0]
    // precision_recall_fscore_support(t, p) ->
    //   precision [0.66666667 0.66666667 0.75], recall [0.66666667 0.66666667 0.75],
    //   f1 [0.66666667 0.66666667 0.75], support [3 3 4]
    // confusion_matrix(t, p) -> [[2 1 0] [0 2 1] [1 0 3]]
    #[test]
    fn report_matches_sklearn() {
        let t = [0, 0, 1, 1, 1, 2, 2, 2, 2, 0];
        let p = [0, 1, 1, 1, 2, 2, 0, 2, 2, 0];
        let cm = ConfusionMatrix::new(&t, &p, 3).unwrap();
        assert_eq!(cm.rows(), vec![vec![2, 1, 0], vec![0, 2, 1], vec![1, 0, 3]]);
        let r = cm.report();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-8;
        for (got, want) in r.precision.iter().zip([2.0 / 3.0, 2.0 / 3.0, 0.75]) {
            assert!(close(*got, want));
        }
        for (got, want) in r.recall.iter().zip([2.0 / 3.0, 2.0 / 3.0, 0.75]) {
            assert!(close(*got, want));
        }
        assert_eq!(r.support, vec![3, 3, 4]);
        assert!(close(r.macro_f1(), (2.0 / 3.0 * 2.0 + 0.75) / 3.0));
        assert!(close(cm.accuracy(), 0.7));
    }

    #[test]
    fn never_predicted_class_has_zero_precision() {
        let cm = ConfusionMatrix::new(&[0, 1], &[0, 0], 2).unwrap();
        let r = cm.report();
        assert_eq!(r.precision, vec![0.5, 0.0]);
        assert_eq!(r.recall, vec![1.0, 0.0]);
        assert_eq!(r.f1[1], 0.0);
    }

    #[test]
    fn label_out_of_range_is_an_error() {
        let err = ConfusionMatrix::new(&[0, 3], &[0, 1], 2).unwrap_err();
        assert!(err.to_string().contains("sample 1"), "{err}");
    }
}
