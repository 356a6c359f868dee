//! Class probabilities of a fitted kNN classifier, as scikit-learn's
//! `KNeighborsClassifier(weights="uniform").predict_proba`: the share of the k neighbours
//! that belong to each class.

use ndarray::{Array1, Array2, ArrayView2};

use super::fitted::FittedKnnClassifier;
use crate::Result;

impl FittedKnnClassifier {
    /// Probabilities `[N, n_classes]`: column `c` of row `i` is the number of the k nearest
    /// training rows of `x[i]` labelled `c`, divided by k. Each row sums to 1, and its
    /// largest entry (the smallest label on ties) is the class `predict` votes for.
    ///
    /// # Errors
    /// As `predict`: a feature count other than the fit's, or a non-finite value.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let neighbours = self.kneighbors(x)?;
        let labels = self.labels();
        let mut proba = Array2::zeros((x.nrows(), self.n_classes()));
        for (mut row, near) in proba.outer_iter_mut().zip(neighbours.indices.outer_iter()) {
            for &i in near {
                row[labels[i]] += 1.0;
            }
        }
        proba /= self.k() as f64;
        Ok(proba)
    }

    /// `predict` and `predict_proba` from one neighbour search: each row's class is the
    /// first largest of its probabilities, which is the vote's rule (the smallest label on
    /// ties), so the classes are `predict`'s.
    ///
    /// # Errors
    /// As [`Self::predict_proba`].
    pub fn predict_with_proba(&self, x: ArrayView2<f64>) -> Result<(Array1<usize>, Array2<f64>)> {
        let proba = self.predict_proba(x)?;
        let labels = proba
            .outer_iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold(0, |best, (c, &p)| if p > row[best] { c } else { best })
            })
            .collect();
        Ok((labels, proba))
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{array, Array2, ArrayView1};

    use crate::classic::knn::{KnnClassifier, Metric};
    use crate::classic::{Classifier, FitClassifier};

    /// Ten training rows of three classes and five queries, with no distance tie at the k-th
    /// neighbour (under either metric), where the order of equal distances would decide.
    fn toy() -> (Array2<f64>, Vec<usize>, Array2<f64>) {
        let x = array![
            [0.1, 0.2],
            [0.9, 1.1],
            [2.1, 1.9],
            [3.2, 3.05],
            [0.4, 2.7],
            [2.6, 0.3],
            [1.45, 1.6],
            [3.9, 0.8],
            [0.05, 3.6],
            [2.95, 2.2]
        ];
        let q = array![[0.5, 0.45], [2.0, 2.0], [3.0, 1.0], [1.0, 3.0], [1.6, 0.9]];
        (x, vec![0, 0, 1, 2, 1, 2, 0, 2, 1, 1], q)
    }

    /// Python (scikit-learn 1.9.1), with the toy X, y and queries Q above:
    /// ```python
    /// KNeighborsClassifier(n_neighbors=3, metric="euclidean").fit(X, y).predict_proba(Q)
    /// KNeighborsClassifier(n_neighbors=4, metric="manhattan").fit(X, y).predict_proba(Q)
    /// ```
    #[test]
    fn probabilities_match_scikit_learn_and_agree_with_predict() {
        let (x, y, q) = toy();
        let (third, half, quarter) = (1.0 / 3.0, 0.5, 0.25);
        let cases = [
            (
                3,
                Metric::Euclidean,
                [
                    [1.0, 0.0, 0.0],
                    [third, 2.0 * third, 0.0],
                    [0.0, third, 2.0 * third],
                    [third, 2.0 * third, 0.0],
                    [2.0 * third, third, 0.0],
                ],
            ),
            (
                4,
                Metric::Manhattan,
                [
                    [0.75, 0.0, quarter],
                    [half, half, 0.0],
                    [0.0, half, half],
                    [half, half, 0.0],
                    [half, quarter, quarter],
                ],
            ),
        ];
        for (k, metric, want) in cases {
            let m = KnnClassifier { k, metric }
                .fit(x.view(), ArrayView1::from(&y))
                .unwrap();
            let p = m.predict_proba(q.view()).unwrap();
            assert_eq!(p.dim(), (5, 3));
            for (got, w) in p.iter().zip(want.iter().flatten()) {
                assert!((got - w).abs() < 1e-12, "k = {k}: {p} vs {want:?}");
            }
            // Each row sums to 1 and its first largest share is the vote (a 2-2 tie at k = 4
            // goes to the smaller label in both).
            let pred = m.predict(q.view()).unwrap();
            for (row, &label) in p.outer_iter().zip(&pred) {
                assert!((row.sum() - 1.0).abs() < 1e-12);
                let best = row.iter().copied().fold(f64::MIN, f64::max);
                assert_eq!(row.iter().position(|&v| v == best), Some(label));
            }
            // One search gives both, the same.
            let (labels, both) = m.predict_with_proba(q.view()).unwrap();
            assert_eq!(labels, pred);
            assert_eq!(both, p);
        }
        let m = KnnClassifier::default()
            .fit(x.view(), ArrayView1::from(&y))
            .unwrap();
        let err = m.predict_proba(array![[1.0, 2.0, 3.0]].view()).unwrap_err();
        assert!(err.to_string().contains("fitted with 2 features"), "{err}");
    }
}
