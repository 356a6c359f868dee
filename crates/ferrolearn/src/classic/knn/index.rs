//! Brute-force neighbour search ([`KnnIndex`]): the training rows in `f32`, L2 distances
//! through `||q||^2 - 2 q.t + ||t||^2` and an `f32` GEMM over blocks, L1 through the
//! vectorised kernels of `distance`, the k nearest kept by `TopK`; query blocks in parallel.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::distance::l1_distances;
use super::learner::Metric;
use super::topk::TopK;
use crate::classic::check_finite;
use crate::{Error, Result};

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

    pub(super) fn check_k(&self, k: usize) -> Result<()> {
        if k == 0 {
            return Err(Error::InvalidParameter("k must be >= 1, got 0".into()));
        }
        if k > self.n_train() {
            return Err(Error::InvalidParameter(format!(
                "k = {k} is larger than the training set (n_samples = {})",
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
        crate::classic::check_n_features(self.n_features, queries)?;
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

/// Row-major `f32` copy of `x`.
fn to_f32(x: ArrayView2<f64>) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ArrayView1};

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
}
