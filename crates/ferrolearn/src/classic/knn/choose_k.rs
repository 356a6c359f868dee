//! Choosing k: the accuracy of every candidate k on a validation split or by k-fold
//! cross-validation, each query's neighbours computed once for the largest k.

use ndarray::{ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::learner::{check_k, Metric};
use crate::classic::selection::Fold;
use crate::{Error, Result};

/// The validation accuracy of a kNN classifier for each k (highest first is not implied:
/// results are in the order of `ks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KScore {
    /// The number of neighbours.
    pub k: usize,
    /// Accuracy on each validation fold (one entry for a single split).
    pub scores: Vec<f64>,
    /// Mean of `scores`.
    pub mean: f64,
    /// Population standard deviation of `scores`.
    pub std: f64,
}

impl KScore {
    fn new(k: usize, scores: Vec<f64>) -> Self {
        let (mean, std) = crate::classic::selection::mean_std(&scores);
        Self {
            k,
            scores,
            mean,
            std,
        }
    }
}

/// Validation accuracy of each `k` in `ks` (training on `x_train`, scoring on `x_val`).
///
/// Neighbours are found once for the largest k and reused for the smaller ones.
pub fn scores_per_k(
    metric: Metric,
    x_train: ArrayView2<f64>,
    y_train: ArrayView1<usize>,
    x_val: ArrayView2<f64>,
    y_val: ArrayView1<usize>,
    ks: &[usize],
) -> Result<Vec<KScore>> {
    let acc = accuracies_per_k(metric, x_train, y_train, x_val, y_val, ks)?;
    Ok(ks
        .iter()
        .zip(acc)
        .map(|(&k, a)| KScore::new(k, vec![a]))
        .collect())
}

fn accuracies_per_k(
    metric: Metric,
    x_train: ArrayView2<f64>,
    y_train: ArrayView1<usize>,
    x_val: ArrayView2<f64>,
    y_val: ArrayView1<usize>,
    ks: &[usize],
) -> Result<Vec<f64>> {
    let k_max = ks
        .iter()
        .copied()
        .max()
        .ok_or_else(|| Error::InvalidParameter("no values of k to try".into()))?;
    if x_val.nrows() != y_val.len() {
        return Err(Error::InvalidData(format!(
            "validation x has {} rows but y has {} labels",
            x_val.nrows(),
            y_val.len()
        )));
    }
    for &k in ks {
        check_k(k, metric)?;
    }
    let fitted = check_k(k_max, metric)?.fit_classifier(x_train, y_train)?;
    let nb = fitted.kneighbors(x_val)?;
    let truth = y_val.to_vec();
    ks.iter()
        .map(|&k| {
            let pred = fitted.vote_rows(nb.indices.view(), k);
            crate::metrics::accuracy(&truth, &pred.to_vec())
        })
        .collect()
}

/// Cross-validated accuracy of each `k` in `ks` over `folds` (see
/// [`crate::classic::selection::KFold`] and [`crate::classic::selection::StratifiedKFold`]).
pub fn cv_scores_per_k(
    metric: Metric,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    ks: &[usize],
    folds: &[Fold],
) -> Result<Vec<KScore>> {
    if x.nrows() != y.len() {
        return Err(Error::InvalidData(format!(
            "x has {} rows but y has {} labels",
            x.nrows(),
            y.len()
        )));
    }
    let mut per_k = vec![Vec::with_capacity(folds.len()); ks.len()];
    for fold in folds {
        fold.check(x.nrows())?;
        let acc = accuracies_per_k(
            metric,
            x.select(Axis(0), &fold.train).view(),
            y.select(Axis(0), &fold.train).view(),
            x.select(Axis(0), &fold.test).view(),
            y.select(Axis(0), &fold.test).view(),
            ks,
        )?;
        for (s, a) in per_k.iter_mut().zip(acc) {
            s.push(a);
        }
    }
    Ok(ks
        .iter()
        .zip(per_k)
        .map(|(&k, s)| KScore::new(k, s))
        .collect())
}

/// The k with the highest mean score, the smallest k winning ties; `None` when empty.
pub fn best_k(scores: &[KScore]) -> Option<usize> {
    let mut best: Option<&KScore> = None;
    for s in scores {
        if best.is_none_or(|b| s.mean > b.mean || (s.mean == b.mean && s.k < b.k)) {
            best = Some(s);
        }
    }
    best.map(|s| s.k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::selection::KFold;
    use ndarray::array;

    #[test]
    fn choosing_k_scores_each_candidate() {
        // Two clusters with one mislabelled point near the first: k = 1 copies the noise,
        // larger k outvotes it.
        let x = array![
            [0.0],
            [0.1],
            [0.2],
            [0.3],
            [0.15],
            [5.0],
            [5.1],
            [5.2],
            [5.3]
        ];
        let y = array![0, 0, 0, 0, 1, 1, 1, 1, 1];
        let xv = array![[0.14], [5.05]];
        let yv = array![0, 1];
        let s = scores_per_k(
            Metric::Euclidean,
            x.view(),
            y.view(),
            xv.view(),
            yv.view(),
            &[1, 3],
        )
        .unwrap();
        assert_eq!(s[0].mean, 0.5);
        assert_eq!(s[1].mean, 1.0);
        assert_eq!(best_k(&s), Some(3));
        let folds = KFold {
            n_splits: 3,
            shuffle: Some(1),
        }
        .split(9)
        .unwrap();
        let cv = cv_scores_per_k(Metric::Euclidean, x.view(), y.view(), &[1, 3], &folds).unwrap();
        assert_eq!(cv.len(), 2);
        assert!(cv
            .iter()
            .all(|s| s.scores.len() == 3 && (0.0..=1.0).contains(&s.mean)));
        assert!(scores_per_k(
            Metric::Euclidean,
            x.view(),
            y.view(),
            xv.view(),
            yv.view(),
            &[]
        )
        .is_err());
    }
}
