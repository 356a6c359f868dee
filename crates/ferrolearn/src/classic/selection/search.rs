//! Search: every candidate scored by cross-validation, the results ranked best first.

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::cross_val::{cross_val_score_classifier, cross_val_score_regressor, CvScores};
use super::params::ParamSet;
use super::split::Fold;
use crate::classic::{FitClassifier, FitRegressor};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRow {
    /// The hyperparameters.
    pub params: ParamSet,
    /// Its per-fold scores, mean and std.
    pub cv: CvScores,
}

/// Search results sorted by mean score, best first (candidates with equal means keep
/// their order of evaluation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The rows, best first.
    pub rows: Vec<SearchRow>,
}

impl SearchResults {
    /// The best candidate.
    pub fn best(&self) -> Option<&SearchRow> {
        self.rows.first()
    }
}

/// Evaluates every candidate with `evaluate` (for example a cross-validation) and sorts
/// the results best first. `on_done(i, n)` is called after each candidate, for progress.
pub fn search(
    candidates: &[ParamSet],
    mut evaluate: impl FnMut(&ParamSet) -> Result<CvScores>,
    mut on_done: impl FnMut(usize, usize),
) -> Result<SearchResults> {
    if candidates.is_empty() {
        return Err(Error::InvalidParameter("no candidates to search".into()));
    }
    let mut rows = Vec::with_capacity(candidates.len());
    for (i, params) in candidates.iter().enumerate() {
        let cv = evaluate(params)?;
        rows.push(SearchRow {
            params: params.clone(),
            cv,
        });
        on_done(i + 1, candidates.len());
    }
    rows.sort_by(|a, b| b.cv.mean.total_cmp(&a.cv.mean));
    Ok(SearchResults { rows })
}

/// Cross-validated accuracy of the classifier `make` builds from each candidate.
pub fn search_classifier<L: FitClassifier>(
    candidates: &[ParamSet],
    make: impl Fn(&ParamSet) -> Result<L>,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    folds: &[Fold],
) -> Result<SearchResults> {
    search(
        candidates,
        |p| cross_val_score_classifier(&make(p)?, x, y, folds),
        |_, _| {},
    )
}

/// Cross-validated R^2 of the regressor `make` builds from each candidate.
pub fn search_regressor<L: FitRegressor>(
    candidates: &[ParamSet],
    make: impl Fn(&ParamSet) -> Result<L>,
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    folds: &[Fold],
) -> Result<SearchResults> {
    search(
        candidates,
        |p| cross_val_score_regressor(&make(p)?, x, y, folds),
        |_, _| {},
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::knn::KnnClassifier;
    use crate::classic::selection::*;
    use ndarray::Array2;

    #[test]
    fn grid_search_ranks_candidates() {
        let x = Array2::from_shape_fn((40, 1), |(i, _)| i as f64);
        let y: ndarray::Array1<usize> = (0..40).map(|i| usize::from(i >= 20)).collect();
        let folds = StratifiedKFold {
            n_splits: 4,
            shuffle: Some(0),
        }
        .split(y.as_slice().unwrap())
        .unwrap();
        let grid = ParamGrid::new().with_spec("k=1,3,25").unwrap();
        let res = search_classifier(
            &grid.candidates(),
            |p| {
                Ok(KnnClassifier {
                    k: p.get_usize("k")?,
                    ..KnnClassifier::default()
                })
            },
            x.view(),
            y.view(),
            &folds,
        )
        .unwrap();
        assert_eq!(res.rows.len(), 3);
        assert!(res.rows.windows(2).all(|w| w[0].cv.mean >= w[1].cv.mean));
        assert_eq!(
            res.rows[2].params.get_usize("k").unwrap(),
            25,
            "k = 25 mixes both classes"
        );
        assert!(res.best().unwrap().cv.mean >= 0.95);
    }
}
