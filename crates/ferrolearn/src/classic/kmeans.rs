//! k-means clustering by Lloyd's algorithm, as scikit-learn's `KMeans(algorithm="lloyd")`.
//!
//! # Conventions (scikit-learn 1.9, `sklearn/cluster/_kmeans.py`)
//! * The rows are centred on their column means before fitting (and the centres shifted back
//!   after), for accurate distances; given initial centres are shifted alike.
//! * Initial centres: k-means++ ([`super::kmeans_init`]) or given ones (`init=ndarray`).
//!   `n_init` seedings run one after another from one `ChaCha8Rng`; the run with the lowest
//!   inertia is kept (a later run replaces the best only when its inertia is lower and its
//!   labels are not the same partition).
//! * One iteration assigns every row to its nearest centre (GEMM,
//!   `kmeans_assign`; ties to the lower centre index) and moves each centre to the
//!   mean of its rows. **Empty clusters** take the rows farthest from their current centres
//!   (farthest first), which leave their old clusters.
//! * Stops when the labels do not change (strict convergence), when the squared centre shift
//!   summed over centres is `<= tol * mean(per-feature variance of x)`, or after `max_iter`
//!   iterations; without strict convergence the labels are recomputed from the final centres.
//!   `n_iter` counts the iterations run, `converged` says whether a stopping test (not
//!   `max_iter`) ended them. Inertia is the sum of squared distances of the rows
//!   to their centres.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::kmeans_assign::{
    assign, inertia, row_norms, squared_distance, squared_distances, ClusterSums,
};
use super::kmeans_init::plusplus;
use super::{check_finite, check_n_features, Classifier};
use crate::{Error, Result};

/// How the first centres are chosen.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum KMeansInit {
    /// k-means++ seeding (scikit-learn's default).
    #[default]
    PlusPlus,
    /// These `[k, n_features]` centres (every one of the `n_init` runs starts from them).
    Centres(Array2<f64>),
}

/// k-means hyperparameters (scikit-learn's defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    /// Number of clusters, `>= 1` and at most the number of rows (default 8).
    pub k: usize,
    /// Initial centres (default k-means++).
    pub init: KMeansInit,
    /// Seedings run, the lowest inertia kept, `>= 1` (default 1, scikit-learn's `"auto"` with
    /// k-means++).
    pub n_init: usize,
    /// Most Lloyd iterations per run, `>= 1` (default 300).
    pub max_iter: usize,
    /// Relative tolerance on the centre shift, scaled by the mean feature variance (default
    /// 1e-4).
    pub tol: f64,
    /// Seed of the k-means++ draws (default 0).
    pub seed: u64,
}

impl Default for KMeans {
    fn default() -> Self {
        Self {
            k: 8,
            init: KMeansInit::PlusPlus,
            n_init: 1,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
        }
    }
}

/// Fitted centres: predicts the nearest centre of new rows. This is what a saved k-means
/// model holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansModel {
    n_features: usize,
    /// Row-major `[k, n_features]`.
    centres: Vec<f64>,
}

/// The result of [`KMeans::fit`]: the model plus the training rows' labels, inertia and
/// iteration count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedKMeans {
    /// The centres.
    pub model: KMeansModel,
    /// The cluster of each training row.
    pub labels: Vec<usize>,
    /// Sum of squared distances of the training rows to their centres.
    pub inertia: f64,
    /// Lloyd iterations of the kept run (mini-batch: passes over the data).
    pub n_iter: usize,
    /// Whether the kept run met its stopping test before `max_iter`: the labels settled or
    /// the centre shift fell to the tolerance (mini-batch: the smoothed batch inertia stopped
    /// improving). scikit-learn stops silently either way; the CLI warns when it did not.
    pub converged: bool,
}

/// Errors unless `1 <= k <= x.nrows()` and `x` has a column.
pub(crate) fn check_rows_for_k(x: ArrayView2<f64>, k: usize) -> Result<()> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::InvalidData(format!(
            "k-means needs at least one row and one feature, got {}x{}",
            x.nrows(),
            x.ncols()
        )));
    }
    if k == 0 || k > x.nrows() {
        return Err(Error::InvalidParameter(format!(
            "k (the number of clusters) must be in 1..={} (the number of rows), got {k}",
            x.nrows()
        )));
    }
    Ok(())
}

impl KMeans {
    /// Validates the settings against `x` (k, n_init, max_iter, tol, the init's shape).
    fn check(&self, x: ArrayView2<f64>) -> Result<()> {
        check_rows_for_k(x, self.k)?;
        if self.n_init == 0 || self.max_iter == 0 {
            return Err(Error::InvalidParameter(format!(
                "k-means n_init and max_iter must be >= 1, got {} and {}",
                self.n_init, self.max_iter
            )));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(Error::InvalidParameter(format!(
                "k-means tol must be finite and >= 0, got {}",
                self.tol
            )));
        }
        if let KMeansInit::Centres(c) = &self.init {
            if c.dim() != (self.k, x.ncols()) {
                return Err(Error::InvalidParameter(format!(
                    "initial centres must be {}x{} (k x features), got {}x{}",
                    self.k,
                    x.ncols(),
                    c.nrows(),
                    c.ncols()
                )));
            }
            check_finite(c.view())?;
        }
        check_finite(x)
    }

    /// Clusters the rows of `x`.
    ///
    /// # Errors
    /// `InvalidParameter` for bad settings (k outside `1..=n_rows`, zero `n_init` or
    /// `max_iter`, negative `tol`, initial centres of the wrong shape); `InvalidData` for an
    /// empty or non-finite `x`.
    pub fn fit(&self, x: ArrayView2<f64>) -> Result<FittedKMeans> {
        self.check(x)?;
        let d = x.ncols();
        let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
        let centred = &x - &mean;
        let flat = centred
            .as_slice()
            .ok_or_else(|| Error::InvalidData("k-means: non-contiguous rows".into()))?;
        let tol = self.tol * x.var_axis(Axis(0), 0.0).mean().unwrap_or(0.0);
        let x_norms = row_norms(flat, d);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut best: Option<FittedKMeans> = None;
        for _ in 0..self.n_init {
            let init = match &self.init {
                KMeansInit::PlusPlus => plusplus(flat, d, &x_norms, self.k, &mut rng),
                KMeansInit::Centres(c) => (c - &mean).iter().copied().collect(),
            };
            let run = lloyd(flat, d, init, self.max_iter, tol);
            let better = best.as_ref().is_none_or(|b| {
                run.inertia < b.inertia && !same_partition(&run.labels, &b.labels, self.k)
            });
            if better {
                best = Some(run);
            }
        }
        let mut fitted = best.ok_or_else(|| Error::InvalidParameter("n_init is 0".into()))?;
        for row in fitted.model.centres.chunks_exact_mut(d) {
            row.iter_mut().zip(&mean).for_each(|(c, m)| *c += m);
        }
        Ok(fitted)
    }
}

/// One Lloyd run from `centres` on centred rows (scikit-learn's `_kmeans_single_lloyd`).
fn lloyd(x: &[f64], d: usize, mut centres: Vec<f64>, max_iter: usize, tol: f64) -> FittedKMeans {
    let n = x.len() / d;
    let mut labels = vec![usize::MAX; n];
    let mut labels_old = labels.clone();
    let (mut strict, mut converged) = (false, false);
    let mut n_iter = 0;
    for i in 0..max_iter {
        n_iter = i + 1;
        let sums = assign(x, d, &centres, &mut labels, true)
            .unwrap_or_else(|| unreachable!("assign accumulates when asked"));
        let new = new_centres(x, d, &centres, &labels, sums);
        let shift: f64 = new
            .chunks_exact(d)
            .zip(centres.chunks_exact(d))
            .map(|(a, b)| squared_distance(a, b))
            .sum();
        centres = new;
        if labels == labels_old {
            (strict, converged) = (true, true);
            break;
        }
        if shift <= tol {
            converged = true;
            break;
        }
        labels_old.copy_from_slice(&labels);
    }
    if !strict {
        assign(x, d, &centres, &mut labels, false);
    }
    FittedKMeans {
        inertia: inertia(x, d, &centres, &labels),
        model: KMeansModel {
            n_features: d,
            centres,
        },
        labels,
        n_iter,
        converged,
    }
}

/// The centres after one assignment: empty clusters relocated to the farthest rows, then the
/// means (scikit-learn's `_relocate_empty_clusters_dense` and `_average_centers`).
fn new_centres(x: &[f64], d: usize, old: &[f64], labels: &[usize], s: ClusterSums) -> Vec<f64> {
    let ClusterSums {
        mut sums,
        mut counts,
    } = s;
    let empty: Vec<usize> = (0..counts.len()).filter(|&j| counts[j] == 0.0).collect();
    if !empty.is_empty() {
        let dist: Vec<f64> = x
            .chunks_exact(d)
            .zip(labels)
            .map(|(r, &l)| squared_distance(r, &old[l * d..(l + 1) * d]))
            .collect();
        if dist.iter().any(|&v| v > 0.0) {
            let mut far: Vec<usize> = (0..dist.len()).collect();
            far.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
            for (&new, &i) in empty.iter().zip(&far) {
                let (row, from) = (&x[i * d..(i + 1) * d], labels[i]);
                for (k, &v) in row.iter().enumerate() {
                    sums[from * d + k] -= v;
                    sums[new * d + k] = v;
                }
                counts[new] = 1.0;
                counts[from] -= 1.0;
            }
        }
    }
    let heaviest = (0..counts.len()).fold(0, |b, j| if counts[j] > counts[b] { j } else { b });
    for j in 0..counts.len() {
        if counts[j] > 0.0 {
            let alpha = 1.0 / counts[j];
            sums[j * d..(j + 1) * d]
                .iter_mut()
                .for_each(|v| *v *= alpha);
        }
    }
    for j in 0..counts.len() {
        if counts[j] <= 0.0 {
            let src: Vec<f64> = sums[heaviest * d..(heaviest + 1) * d].to_vec();
            sums[j * d..(j + 1) * d].copy_from_slice(&src);
        }
    }
    sums
}

/// Whether two labelings are the same partition up to renaming the clusters.
fn same_partition(a: &[usize], b: &[usize], k: usize) -> bool {
    let mut map = vec![usize::MAX; k];
    a.iter().zip(b).all(|(&x, &y)| {
        if map[x] == usize::MAX {
            map[x] = y;
        }
        map[x] == y
    })
}

impl KMeansModel {
    /// Builds a model from `[k, n_features]` centres; errors on no centres or non-finite ones.
    pub fn new(centres: ArrayView2<f64>) -> Result<Self> {
        check_rows_for_k(centres, centres.nrows())?;
        check_finite(centres)?;
        Ok(Self {
            n_features: centres.ncols(),
            centres: centres.iter().copied().collect(),
        })
    }

    /// A model from validated row-major `[k, d]` centres.
    pub(crate) fn from_parts(n_features: usize, centres: Vec<f64>) -> Self {
        Self {
            n_features,
            centres,
        }
    }

    /// The number of clusters.
    pub fn k(&self) -> usize {
        self.centres.len() / self.n_features.max(1)
    }

    /// The centres, `[k, n_features]`.
    pub fn centres(&self) -> Array2<f64> {
        Array2::from_shape_vec((self.k(), self.n_features), self.centres.clone())
            .unwrap_or_else(|_| Array2::zeros((0, self.n_features)))
    }

    /// The nearest centre of each row (ties to the lower centre index).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        let rows = self.checked_rows(x)?;
        let mut labels = vec![0; x.nrows()];
        assign(&rows, self.n_features, &self.centres, &mut labels, false);
        Ok(Array1::from(labels))
    }

    /// Euclidean distances `[n, k]` from each row to each centre (scikit-learn's `transform`).
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let rows = self.checked_rows(x)?;
        let d = self.n_features;
        let k = self.k();
        let n = x.nrows();
        let dist = squared_distances(&self.centres, &rows, &row_norms(&rows, d), d);
        Ok(Array2::from_shape_fn((n, k), |(i, j)| {
            dist[j * n + i].sqrt()
        }))
    }

    /// Sum of squared distances of the rows to their nearest centres.
    pub fn inertia(&self, x: ArrayView2<f64>) -> Result<f64> {
        let labels = self.predict(x)?;
        let rows = self.checked_rows(x)?;
        Ok(inertia(
            &rows,
            self.n_features,
            &self.centres,
            labels.as_slice().unwrap_or(&[]),
        ))
    }

    fn checked_rows(&self, x: ArrayView2<f64>) -> Result<Vec<f64>> {
        check_n_features(self.n_features, x)?;
        check_finite(x)?;
        Ok(x.iter().copied().collect())
    }
}

impl Classifier for KMeansModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    /// The nearest centre of each row: cluster ids in `0..k`.
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        KMeansModel::predict(self, x)
    }
}

impl FittedKMeans {
    /// The number of training rows in each cluster.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.model.k()];
        self.labels.iter().for_each(|&l| sizes[l] += 1);
        sizes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn two_groups() -> Array2<f64> {
        array![
            [0.0, 0.0],
            [0.0, 1.0],
            [1.0, 0.0],
            [10.0, 10.0],
            [10.0, 11.0],
            [11.0, 10.0]
        ]
    }

    #[test]
    fn separates_two_groups_and_predicts_nearest_centres() {
        let x = two_groups();
        let fitted = KMeans {
            k: 2,
            n_init: 3,
            ..KMeans::default()
        }
        .fit(x.view())
        .expect("fitted");
        assert_eq!(fitted.sizes(), vec![3, 3]);
        assert_eq!(fitted.labels[0], fitted.labels[2]);
        assert_ne!(fitted.labels[0], fitted.labels[3]);
        // Each group's centre is its corner + (1/3, 1/3): 2 groups x (2/9 + 5/9 + 5/9) = 8/3.
        assert!(
            (fitted.inertia - 8.0 / 3.0).abs() < 1e-9,
            "{}",
            fitted.inertia
        );
        let pred = fitted
            .model
            .predict(array![[0.2, 0.2], [9.0, 9.0]].view())
            .expect("ok");
        assert_eq!(pred[0], fitted.labels[0]);
        assert_eq!(pred[1], fitted.labels[3]);
        let dist = fitted.model.transform(x.view()).expect("ok");
        let c = fitted.model.centres();
        let want = squared_distance(&[0.0, 1.0], c.row(1).as_slice().expect("row")).sqrt();
        assert!((dist[[1, 1]] - want).abs() < 1e-12);
        assert!((fitted.model.inertia(x.view()).expect("ok") - fitted.inertia).abs() < 1e-9);
    }

    #[test]
    fn converged_says_whether_a_stopping_test_ended_the_iterations() {
        // Both centres start in the first group: one Lloyd step moves them far.
        let fit = |max_iter| {
            KMeans {
                k: 2,
                init: KMeansInit::Centres(array![[0.0, 0.0], [0.0, 1.0]]),
                max_iter,
                ..KMeans::default()
            }
            .fit(two_groups().view())
            .expect("fitted")
        };
        let cut = fit(1);
        assert_eq!((cut.n_iter, cut.converged), (1, false));
        let settled = fit(300);
        assert!(settled.converged && settled.n_iter < 300, "{settled:?}");
    }

    #[test]
    fn bad_settings_and_inputs_are_errors_naming_the_problem() {
        let x = two_groups();
        let fit = |km: KMeans| km.fit(x.view()).expect_err("refused").to_string();
        assert!(fit(KMeans {
            k: 0,
            ..KMeans::default()
        })
        .contains("got 0"));
        assert!(fit(KMeans {
            k: 7,
            ..KMeans::default()
        })
        .contains("1..=6"));
        assert!(fit(KMeans {
            k: 2,
            max_iter: 0,
            ..KMeans::default()
        })
        .contains("max_iter"));
        assert!(fit(KMeans {
            k: 2,
            tol: -1.0,
            ..KMeans::default()
        })
        .contains("tol"));
        let init = KMeansInit::Centres(Array2::zeros((2, 3)));
        assert!(fit(KMeans {
            k: 2,
            init,
            ..KMeans::default()
        })
        .contains("2x2"));
        let nan = array![[0.0, f64::NAN], [1.0, 1.0]];
        assert!(KMeans {
            k: 1,
            ..KMeans::default()
        }
        .fit(nan.view())
        .is_err());
        let model = KMeans {
            k: 2,
            ..KMeans::default()
        }
        .fit(x.view())
        .expect("fitted")
        .model;
        assert!(model.predict(Array2::zeros((1, 3)).view()).is_err());
    }

    #[test]
    fn saved_model_round_trips_through_json() {
        let fitted = KMeans {
            k: 2,
            ..KMeans::default()
        }
        .fit(two_groups().view())
        .expect("fit");
        let text = serde_json::to_string(&fitted.model).expect("serialize");
        let back: KMeansModel = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, fitted.model);
    }
}
