//! k-nearest neighbours: brute-force classifier and regressor with L2 or L1 distance.
//!
//! # Conventions (as scikit-learn's `algorithm="brute"`, `weights="uniform"`)
//! * The training rows are stored in `f32`; distances are computed in `f32` and reported in
//!   `f64`. L2 uses `||q||^2 - 2 q.t + ||t||^2` with an `f32` GEMM over blocks of queries and
//!   training rows, so memory stays bounded whatever the data size; L1 uses a vectorised
//!   kernel blocked over training rows for cache reuse. Query blocks run in parallel (rayon).
//! * The k nearest are picked by partial selection (no full sort). **Distance ties are
//!   broken by the lower training index**, so the neighbour list is ordered by
//!   `(distance, index)`.
//! * **Vote ties: among the labels with the most votes the smallest label wins**
//!   (scikit-learn's argmax over sorted classes).
//! * Class probabilities ([`FittedKnnClassifier::predict_proba`], in `knn_proba`) are the
//!   share of the k neighbours in each class.
//! * The regressor predicts the mean target of the k neighbours.
//!
//! [`scores_per_k`] and [`cv_scores_per_k`] choose k on a validation split or by k-fold
//! cross-validation, computing each query's neighbours once for the largest k.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::selection::Fold;
use super::{
    check_finite, check_fit_input, n_classes_of, Classifier, FitClassifier, FitRegressor, Regressor,
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

fn check_k(k: usize, metric: Metric) -> Result<CheckedKnn> {
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
        check_fit_input(x, y.len())?;
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "non-finite target {} at row {i}",
                y[i]
            )));
        }
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

/// The training rows in `f32` and their squared norms: the brute-force search structure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnnIndex {
    metric: Metric,
    n_features: usize,
    /// Row-major `n_train x n_features`.
    train: Vec<f32>,
    /// `||t||^2` of each training row (used by the L2 path).
    norms: Vec<f32>,
}

/// The k nearest training rows of each query, ordered by `(distance, training index)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    /// `[n_queries, k]` training-row indices.
    pub indices: Array2<usize>,
    /// `[n_queries, k]` distances (Euclidean or Manhattan, not squared).
    pub distances: Array2<f64>,
}

impl KnnIndex {
    /// Builds the index over the rows of `x`; errors when `x` has no rows or no columns, or
    /// holds NaN or infinity.
    pub fn new(x: ArrayView2<f64>, metric: Metric) -> Result<Self> {
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err(Error::InvalidData(format!(
                "a kNN index needs at least one row and one feature, got {}x{}",
                x.nrows(),
                x.ncols()
            )));
        }
        check_finite(x)?;
        let train = to_f32(x);
        let d = x.ncols();
        let norms = train
            .chunks_exact(d)
            .map(|r| r.iter().map(|v| v * v).sum())
            .collect();
        Ok(Self {
            metric,
            n_features: d,
            train,
            norms,
        })
    }

    /// Training rows held.
    pub fn n_train(&self) -> usize {
        self.norms.len()
    }

    /// Features per row.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    fn check_k(&self, k: usize) -> Result<()> {
        if k == 0 {
            return Err(Error::InvalidParameter("k must be >= 1, got 0".into()));
        }
        if k > self.n_train() {
            return Err(Error::InvalidParameter(format!(
                "k = {k} is larger than the training set ({} rows)",
                self.n_train()
            )));
        }
        Ok(())
    }

    /// The `k` nearest training rows of each row of `queries`.
    ///
    /// Errors when `k` is 0 or exceeds the training set, when the feature count differs
    /// from the index (naming both counts), or when a query holds NaN or infinity.
    pub fn kneighbors(&self, queries: ArrayView2<f64>, k: usize) -> Result<Neighbours> {
        self.check_k(k)?;
        super::check_n_features(self.n_features, queries)?;
        check_finite(queries)?;
        let nq = queries.nrows();
        let q = to_f32(queries);
        let mut idx = vec![0usize; nq * k];
        let mut dist = vec![0f32; nq * k];
        if nq > 0 {
            match self.metric {
                Metric::Euclidean => self.search_l2(&q, nq, k, &mut idx, &mut dist),
                Metric::Manhattan => self.search_l1(&q, nq, k, &mut idx, &mut dist),
            }
        }
        let to_array = |v: Vec<_>| Array2::from_shape_vec((nq, k), v);
        let distances = dist.into_iter().map(f64::from).collect();
        match (to_array(idx), Array2::from_shape_vec((nq, k), distances)) {
            (Ok(indices), Ok(distances)) => Ok(Neighbours { indices, distances }),
            _ => Err(Error::InvalidData(
                "neighbour buffer of the wrong size".into(),
            )),
        }
    }

    /// Queries per parallel task: enough tasks for every thread, at most `max`.
    fn query_chunk(nq: usize, max: usize) -> usize {
        nq.div_ceil(rayon::current_num_threads().max(1))
            .clamp(1, max)
    }

    /// L2 search: per query block, `-2 Q T^T` by GEMM into a tile per training block, then
    /// selection on `tile + ||t||^2`; `||q||^2` (the same for every candidate of a query) is
    /// added to the k winners only.
    fn search_l2(&self, q: &[f32], nq: usize, k: usize, idx: &mut [usize], dist: &mut [f32]) {
        let d = self.n_features;
        let n_train = self.n_train();
        let qc = Self::query_chunk(nq, L2_QUERY_BLOCK);
        idx.par_chunks_mut(qc * k)
            .zip(dist.par_chunks_mut(qc * k))
            .zip(q.par_chunks(qc * d))
            .for_each(|((idx, dist), qb)| {
                let rows = qb.len() / d;
                let mut top = TopK::new(rows, k);
                let mut tile = vec![0f32; rows * L2_TRAIN_BLOCK];
                for start in (0..n_train).step_by(L2_TRAIN_BLOCK) {
                    let tb = L2_TRAIN_BLOCK.min(n_train - start);
                    let tile = &mut tile[..rows * tb];
                    let norms = &self.norms[start..start + tb];
                    let t = &self.train[start * d..(start + tb) * d];
                    // SAFETY: `tile` is a row-major rows x tb buffer, `qb` a row-major rows x d
                    // matrix and `t` a row-major tb x d matrix read as its d x tb transpose
                    // (row stride 1, column stride d); all strides and sizes match the
                    // slices, which outlive the call and do not overlap.
                    unsafe {
                        gemm::gemm(
                            rows,
                            tb,
                            d,
                            tile.as_mut_ptr(),
                            1,
                            tb as isize,
                            false,
                            qb.as_ptr(),
                            1,
                            d as isize,
                            t.as_ptr(),
                            d as isize,
                            1,
                            0.0,
                            -2.0,
                            false,
                            false,
                            false,
                            gemm::Parallelism::None,
                        );
                    }
                    for (r, row) in tile.chunks_exact(tb).enumerate() {
                        top.scan(r, row, Some(norms), start);
                    }
                }
                for (r, qrow) in qb.chunks_exact(d).enumerate() {
                    let qn: f32 = qrow.iter().map(|v| v * v).sum();
                    for (o, &v) in dist[r * k..(r + 1) * k].iter_mut().zip(top.dist(r)) {
                        *o = (v + qn).max(0.0).sqrt();
                    }
                    idx[r * k..(r + 1) * k].copy_from_slice(top.idx(r));
                }
            });
    }

    /// L1 search: per query block and cache-sized training block, distances by the
    /// vectorised kernel (four training rows per pass), then selection.
    fn search_l1(&self, q: &[f32], nq: usize, k: usize, idx: &mut [usize], dist: &mut [f32]) {
        let d = self.n_features;
        let n_train = self.n_train();
        let qc = Self::query_chunk(nq, L1_QUERY_BLOCK);
        idx.par_chunks_mut(qc * k)
            .zip(dist.par_chunks_mut(qc * k))
            .zip(q.par_chunks(qc * d))
            .for_each(|((idx, dist), qb)| {
                let rows = qb.len() / d;
                let mut top = TopK::new(rows, k);
                let mut buf = vec![0f32; L1_TRAIN_BLOCK];
                for start in (0..n_train).step_by(L1_TRAIN_BLOCK) {
                    let tb = L1_TRAIN_BLOCK.min(n_train - start);
                    let t = &self.train[start * d..(start + tb) * d];
                    for (r, qrow) in qb.chunks_exact(d).enumerate() {
                        l1_distances(qrow, t, d, &mut buf[..tb]);
                        top.scan(r, &buf[..tb], None, start);
                    }
                }
                for r in 0..rows {
                    dist[r * k..(r + 1) * k].copy_from_slice(top.dist(r));
                    idx[r * k..(r + 1) * k].copy_from_slice(top.idx(r));
                }
            });
    }
}

/// Queries per L2 task (bounds the tile to `L2_QUERY_BLOCK * L2_TRAIN_BLOCK` floats).
const L2_QUERY_BLOCK: usize = 512;
/// Training rows per L2 tile.
const L2_TRAIN_BLOCK: usize = 1024;
/// Queries per L1 task.
const L1_QUERY_BLOCK: usize = 32;
/// Training rows per L1 block (about 400 KB of MNIST rows: stays in L2 cache).
const L1_TRAIN_BLOCK: usize = 128;

/// The k smallest `(value, index)` pairs seen so far for each of `rows` queries, each list
/// sorted ascending; a later index never displaces an equal earlier one.
struct TopK {
    k: usize,
    dist: Vec<f32>,
    idx: Vec<usize>,
}

impl TopK {
    fn new(rows: usize, k: usize) -> Self {
        Self {
            k,
            dist: vec![f32::INFINITY; rows * k],
            idx: vec![usize::MAX; rows * k],
        }
    }

    fn dist(&self, r: usize) -> &[f32] {
        &self.dist[r * self.k..(r + 1) * self.k]
    }

    fn idx(&self, r: usize) -> &[usize] {
        &self.idx[r * self.k..(r + 1) * self.k]
    }

    /// Offers `values[j] (+ add[j])` with index `offset + j`, in increasing index order.
    #[inline]
    fn scan(&mut self, r: usize, values: &[f32], add: Option<&[f32]>, offset: usize) {
        match add {
            Some(add) => self.scan_iter(r, values.iter().zip(add).map(|(v, a)| v + a), offset),
            None => self.scan_iter(r, values.iter().copied(), offset),
        }
    }

    #[inline(always)]
    fn scan_iter(&mut self, r: usize, values: impl Iterator<Item = f32>, offset: usize) {
        let k = self.k;
        let dist = &mut self.dist[r * k..(r + 1) * k];
        let idx = &mut self.idx[r * k..(r + 1) * k];
        let mut worst = dist[k - 1];
        for (j, v) in values.enumerate() {
            if v < worst {
                let mut p = k - 1;
                while p > 0 && dist[p - 1] > v {
                    dist[p] = dist[p - 1];
                    idx[p] = idx[p - 1];
                    p -= 1;
                }
                dist[p] = v;
                idx[p] = offset + j;
                worst = dist[k - 1];
            }
        }
    }
}

/// Lanes per accumulator of the L1 kernel (one AVX-512 register of f32).
const LANES: usize = 16;

/// `out[j] = sum_i |q[i] - t[j*d + i]|` for the rows of `t`, using the widest SIMD the CPU
/// offers (checked at run time).
fn l1_distances(q: &[f32], t: &[f32], d: usize, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            unsafe { l1_distances_avx512(q, t, d, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { l1_distances_avx2(q, t, d, out) };
            return;
        }
    }
    l1_distances_portable(q, t, d, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn l1_distances_avx512(q: &[f32], t: &[f32], d: usize, out: &mut [f32]) {
    l1_distances_portable(q, t, d, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn l1_distances_avx2(q: &[f32], t: &[f32], d: usize, out: &mut [f32]) {
    l1_distances_portable(q, t, d, out);
}

/// The L1 kernel, written so the compiler vectorises it: four training rows per pass share
/// each load of the query, and every row keeps `LANES` independent partial sums.
#[inline(always)]
fn l1_distances_portable(q: &[f32], t: &[f32], d: usize, out: &mut [f32]) {
    let mut rows = t.chunks_exact(d);
    let mut outs = out.chunks_exact_mut(4);
    for o in &mut outs {
        let (Some(t0), Some(t1), Some(t2), Some(t3)) =
            (rows.next(), rows.next(), rows.next(), rows.next())
        else {
            break;
        };
        o.copy_from_slice(&l1_four(q, [t0, t1, t2, t3]));
    }
    for (o, row) in outs.into_remainder().iter_mut().zip(rows) {
        *o = l1_one(q, row);
    }
}

/// `sum |q - t_r|` for four rows at once.
#[inline(always)]
fn l1_four(q: &[f32], t: [&[f32]; 4]) -> [f32; 4] {
    let (qc, qt) = q.as_chunks::<LANES>();
    let (c0, t0) = t[0].as_chunks::<LANES>();
    let (c1, t1) = t[1].as_chunks::<LANES>();
    let (c2, t2) = t[2].as_chunks::<LANES>();
    let (c3, t3) = t[3].as_chunks::<LANES>();
    let (mut a0, mut a1, mut a2, mut a3) =
        ([0f32; LANES], [0f32; LANES], [0f32; LANES], [0f32; LANES]);
    for ((((x, y0), y1), y2), y3) in qc.iter().zip(c0).zip(c1).zip(c2).zip(c3) {
        for l in 0..LANES {
            a0[l] += (x[l] - y0[l]).abs();
            a1[l] += (x[l] - y1[l]).abs();
            a2[l] += (x[l] - y2[l]).abs();
            a3[l] += (x[l] - y3[l]).abs();
        }
    }
    [
        a0.iter().sum::<f32>() + tail_l1(qt, t0),
        a1.iter().sum::<f32>() + tail_l1(qt, t1),
        a2.iter().sum::<f32>() + tail_l1(qt, t2),
        a3.iter().sum::<f32>() + tail_l1(qt, t3),
    ]
}

/// `sum |q - t|` for one row (same summation order as [`l1_four`]).
#[inline(always)]
fn l1_one(q: &[f32], t: &[f32]) -> f32 {
    let (qc, qt) = q.as_chunks::<LANES>();
    let (c0, t0) = t.as_chunks::<LANES>();
    let mut a0 = [0f32; LANES];
    for (x, y0) in qc.iter().zip(c0) {
        for l in 0..LANES {
            a0[l] += (x[l] - y0[l]).abs();
        }
    }
    a0.iter().sum::<f32>() + tail_l1(qt, t0)
}

#[inline(always)]
fn tail_l1(q: &[f32], t: &[f32]) -> f32 {
    q.iter().zip(t).map(|(a, b)| (a - b).abs()).sum()
}

/// Row-major `f32` copy of `x`.
fn to_f32(x: ArrayView2<f64>) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

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

/// A fitted [`KnnClassifier`]: the training rows, their labels and k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedKnnClassifier {
    k: usize,
    n_classes: usize,
    labels: Vec<usize>,
    index: KnnIndex,
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
    fn vote_rows(&self, indices: ArrayView2<usize>, k: usize) -> Array1<usize> {
        let mut counts = vec![0; self.n_classes];
        indices
            .outer_iter()
            .map(|row| vote(row.iter().take(k).map(|&i| self.labels[i]), &mut counts))
            .collect()
    }
}

impl Classifier for FittedKnnClassifier {
    fn n_features(&self) -> usize {
        self.index.n_features
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        let nb = self.kneighbors(x)?;
        Ok(self.vote_rows(nb.indices.view(), self.k))
    }
}

/// A fitted [`KnnRegressor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedKnnRegressor {
    k: usize,
    targets: Vec<f64>,
    index: KnnIndex,
}

impl FittedKnnRegressor {
    /// The k nearest training rows of each row of `x`.
    pub fn kneighbors(&self, x: ArrayView2<f64>) -> Result<Neighbours> {
        self.index.kneighbors(x, self.k)
    }
}

impl Regressor for FittedKnnRegressor {
    fn n_features(&self) -> usize {
        self.index.n_features
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
        let (mean, std) = super::selection::mean_std(&scores);
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
/// [`super::selection::KFold`] and [`super::selection::StratifiedKFold`]).
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
    use ndarray::{array, Array2};

    use super::*;
    use crate::classic::selection::KFold;

    /// Direct O(n d) distances with a full stable sort: the definition the fast paths must
    /// reproduce (ties by lower index).
    fn naive(
        train: &Array2<f64>,
        q: ArrayView1<f64>,
        k: usize,
        metric: Metric,
    ) -> Vec<(f64, usize)> {
        let mut all: Vec<(f64, usize)> = train
            .outer_iter()
            .enumerate()
            .map(|(i, t)| {
                let d = match metric {
                    Metric::Euclidean => t
                        .iter()
                        .zip(q)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                        .sqrt(),
                    Metric::Manhattan => t.iter().zip(q).map(|(a, b)| (a - b).abs()).sum(),
                };
                (d, i)
            })
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        all.truncate(k);
        all
    }

    /// Small-integer data (exact in f32) with many equal distances.
    fn grid_data(n: usize, d: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, d), |(i, j)| ((i * 31 + j * 17 + seed * 7) % 5) as f64)
    }

    #[test]
    fn neighbours_match_a_naive_search_including_ties() {
        // 2100 training rows span several L2 and L1 blocks; d = 37 exercises the kernel tail.
        let train = grid_data(2100, 37, 0);
        let queries = grid_data(45, 37, 3);
        for metric in [Metric::Euclidean, Metric::Manhattan] {
            let index = KnnIndex::new(train.view(), metric).unwrap();
            let nb = index.kneighbors(queries.view(), 7).unwrap();
            for (r, q) in queries.outer_iter().enumerate() {
                let want = naive(&train, q, 7, metric);
                let got_idx: Vec<usize> = nb.indices.row(r).to_vec();
                let want_idx: Vec<usize> = want.iter().map(|w| w.1).collect();
                assert_eq!(got_idx, want_idx, "{metric:?} query {r}");
                for (g, w) in nb.distances.row(r).iter().zip(&want) {
                    assert!((g - w.0).abs() < 1e-4, "{metric:?} {g} vs {}", w.0);
                }
            }
        }
    }

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
                .contains("k = 3 is larger than the training set (2 rows)"),
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
