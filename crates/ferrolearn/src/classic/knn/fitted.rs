//! The fitted kNN models: [`FittedKnnClassifier`] (a vote of the k nearest labels, ties to
//! the smallest) and [`FittedKnnRegressor`] (the mean of the k nearest targets).

use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::index::{KnnIndex, Neighbours};
use crate::classic::{Classifier, Regressor};
use crate::Result;

/// The majority label among `labels`, the smallest label winning ties; `counts` is scratch
/// of length `n_classes`.
fn vote(neighbours: impl Iterator<Item = usize>, counts: &mut [usize]) -> usize {
    counts.iter_mut().for_each(|c| *c = 0);
    for l in neighbours {
        if let Some(c) = counts.get_mut(l) {
            *c += 1;
        }
    }
    let mut best = 0;
    for (label, &c) in counts.iter().enumerate() {
        if c > counts[best] {
            best = label;
        }
    }
    best
}

/// A fitted [`KnnClassifier`](super::KnnClassifier): the training rows, their labels and k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedKnnClassifier {
    pub(super) k: usize,
    pub(super) n_classes: usize,
    pub(super) labels: Vec<usize>,
    pub(super) index: KnnIndex,
}

impl FittedKnnClassifier {
    /// The number of voting neighbours.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The number of classes (largest training label + 1).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The search structure over the training rows.
    pub fn index(&self) -> &KnnIndex {
        &self.index
    }

    /// The label of each training row, in the index's order.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The k nearest training rows of each row of `x`.
    pub fn kneighbors(&self, x: ArrayView2<f64>) -> Result<Neighbours> {
        self.index.kneighbors(x, self.k)
    }

    /// Majority votes over the first `k` neighbours of each row of `indices` (ordered by
    /// distance), `k <= indices.ncols()`.
    pub(super) fn vote_rows(&self, indices: ArrayView2<usize>, k: usize) -> Array1<usize> {
        let mut counts = vec![0; self.n_classes];
        indices
            .outer_iter()
            .map(|row| vote(row.iter().take(k).map(|&i| self.labels[i]), &mut counts))
            .collect()
    }
}

impl Classifier for FittedKnnClassifier {
    fn n_features(&self) -> usize {
        self.index.n_features()
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        let nb = self.kneighbors(x)?;
        Ok(self.vote_rows(nb.indices.view(), self.k))
    }
}

/// A fitted [`KnnRegressor`](super::KnnRegressor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedKnnRegressor {
    pub(super) k: usize,
    pub(super) targets: Vec<f64>,
    pub(super) index: KnnIndex,
}

impl FittedKnnRegressor {
    /// The index over the training rows.
    pub fn index(&self) -> &KnnIndex {
        &self.index
    }

    /// The k nearest training rows of each row of `x`.
    pub fn kneighbors(&self, x: ArrayView2<f64>) -> Result<Neighbours> {
        self.index.kneighbors(x, self.k)
    }
}

impl Regressor for FittedKnnRegressor {
    fn n_features(&self) -> usize {
        self.index.n_features()
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        let nb = self.kneighbors(x)?;
        Ok(nb
            .indices
            .outer_iter()
            .map(|row| row.iter().map(|&i| self.targets[i]).sum::<f64>() / self.k as f64)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::knn::*;
    use crate::classic::{Classifier, FitClassifier, FitRegressor, Regressor};
    use ndarray::array;

    #[test]
    fn vote_ties_go_to_the_smallest_label() {
        // k = 4 neighbours at distances 1, 2, 3, 4 with labels 2, 1, 2, 1: a 2-2 tie -> 1.
        let x = array![[1.0], [2.0], [3.0], [4.0], [100.0]];
        let y = array![2, 1, 2, 1, 0];
        let m = KnnClassifier {
            k: 4,
            metric: Metric::Euclidean,
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_eq!(m.predict(array![[0.0]].view()).unwrap().to_vec(), vec![1]);
        let m = KnnClassifier {
            k: 1,
            metric: Metric::Manhattan,
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_eq!(
            m.predict(array![[99.0], [2.9]].view()).unwrap().to_vec(),
            vec![0, 2]
        );
    }

    #[test]
    fn regressor_averages_neighbour_targets() {
        let x = array![[0.0], [1.0], [2.0], [10.0]];
        let y = array![1.0, 2.0, 6.0, 100.0];
        let m = KnnRegressor {
            k: 3,
            metric: Metric::Euclidean,
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_eq!(m.predict(array![[0.5]].view()).unwrap().to_vec(), vec![3.0]);
    }

    #[test]
    fn fitted_model_round_trips_through_json() {
        let x = array![[0.0, 1.0], [1.0, 0.0]];
        let m = KnnClassifier {
            k: 1,
            metric: Metric::Euclidean,
        }
        .fit(x.view(), array![0, 1].view())
        .unwrap();
        let json = serde_json::to_string(&m).unwrap();
        let back: FittedKnnClassifier = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }
}
