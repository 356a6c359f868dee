//! Mini-batch k-means, as scikit-learn's `MiniBatchKMeans`: for large sets (image patches)
//! where a full Lloyd pass per iteration is too slow.
//!
//! # What is implemented (scikit-learn 1.9's algorithm, dense rows, unit weights)
//! * **Init:** `n_init` k-means++ seedings, each on `init_size` rows drawn with replacement;
//!   the one with the lowest inertia on a validation draw of `init_size` rows is kept.
//! * **Steps:** `max_iter * n_rows / batch_size` steps, each on `batch_size` rows drawn with
//!   replacement: assign them to their nearest centres (GEMM), then move each centre `c` with
//!   count `n_c` (rows it has absorbed so far) and `m` new rows summing to `s` to
//!   `(c n_c + s) / (n_c + m)`: a per-centre learning rate `1 / n_c` that shrinks over time.
//! * **Reassignment:** every `10 k` rows seen (or whenever a centre has count 0), centres with
//!   count below `reassignment_ratio * max count` move to random rows of the batch and their
//!   counts become the smallest count of the others.
//! * **Early stopping:** on an exponentially weighted average of the batch inertia
//!   (weight `2 batch_size / (n_rows + 1)`); stops after `max_no_improvement` steps without a
//!   new minimum. scikit-learn's `tol` stop on the centre shift (off by default) is not
//!   implemented.
//! * The labels and inertia are computed over every row at the end. `n_iter` of the result
//!   counts passes over the data, `ceil(steps * batch_size / n_rows)`; `converged` says
//!   whether early stopping (not `max_iter`) ended the steps.
//!
//! The random draws come from a `ChaCha8Rng`, so results are reproducible from the seed but
//! not equal to scikit-learn's (NumPy's generator).

use ndarray::ArrayView2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::check_finite;
use super::kmeans::{check_rows_for_k, FittedKMeans, KMeansModel};
use super::kmeans_assign::{assign, inertia, row_norms};
use super::kmeans_init::plusplus;
use crate::{Error, Result};

/// Mini-batch k-means hyperparameters (scikit-learn's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MiniBatchKMeans {
    /// Number of clusters, `>= 1` and at most the number of rows (default 8).
    pub k: usize,
    /// Rows per step, `>= 1` (default 1024; at most the number of rows).
    pub batch_size: usize,
    /// Most passes over the data, `>= 1` (default 100).
    pub max_iter: usize,
    /// Steps without a new best smoothed batch inertia before stopping; `None` never stops
    /// early (default `Some(10)`).
    pub max_no_improvement: Option<usize>,
    /// Rows drawn for each k-means++ seeding; `None` means `3 * batch_size` (at least `3 k`,
    /// at most the number of rows).
    pub init_size: Option<usize>,
    /// Seedings tried, the best on a validation draw kept, `>= 1` (default 1).
    pub n_init: usize,
    /// Share of the largest count below which a centre is moved to a random row (default
    /// 0.01; 0 never moves centres).
    pub reassignment_ratio: f64,
    /// Seed of every random draw (default 0).
    pub seed: u64,
}

impl Default for MiniBatchKMeans {
    fn default() -> Self {
        Self {
            k: 8,
            batch_size: 1024,
            max_iter: 100,
            max_no_improvement: Some(10),
            init_size: None,
            n_init: 1,
            reassignment_ratio: 0.01,
            seed: 0,
        }
    }
}

/// Early stopping state (scikit-learn's `_mini_batch_convergence`).
struct Convergence {
    ewa: Option<f64>,
    best: Option<f64>,
    no_improvement: usize,
}

impl MiniBatchKMeans {
    fn check(&self, x: ArrayView2<f64>) -> Result<()> {
        check_rows_for_k(x, self.k)?;
        if self.batch_size == 0 || self.max_iter == 0 || self.n_init == 0 {
            return Err(Error::InvalidParameter(format!(
                "mini-batch k-means batch_size, max_iter and n_init must be >= 1, got {}, {} \
                 and {}",
                self.batch_size, self.max_iter, self.n_init
            )));
        }
        if !(0.0..=1.0).contains(&self.reassignment_ratio) {
            return Err(Error::InvalidParameter(format!(
                "reassignment_ratio must be in [0, 1], got {}",
                self.reassignment_ratio
            )));
        }
        check_finite(x)
    }

    /// Clusters the rows of `x` by mini-batches.
    ///
    /// # Errors
    /// `InvalidParameter` for bad settings (k outside `1..=n_rows`, a zero batch size,
    /// `max_iter` or `n_init`, a reassignment ratio outside `[0, 1]`); `InvalidData` for an
    /// empty or non-finite `x`.
    pub fn fit(&self, x: ArrayView2<f64>) -> Result<FittedKMeans> {
        self.check(x)?;
        let (n, d, k) = (x.nrows(), x.ncols(), self.k);
        let rows = x.as_standard_layout();
        let flat = rows
            .as_slice()
            .ok_or_else(|| Error::InvalidData("k-means: non-contiguous rows".into()))?;
        let batch = self.batch_size.min(n);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut centres = self.initial_centres(flat, d, &mut rng);
        let mut counts = vec![0.0; k];
        let mut conv = Convergence {
            ewa: None,
            best: None,
            no_improvement: 0,
        };
        let mut since_reassign = 0;
        let n_steps = (self.max_iter * n / batch).max(1);
        let (mut steps, mut converged) = (0, false);
        let mut rows_buf = vec![0.0; batch * d];
        let mut labels = vec![0; batch];
        for step in 0..n_steps {
            steps = step + 1;
            for dst in rows_buf.chunks_exact_mut(d) {
                let i = rng.gen_range(0..n);
                dst.copy_from_slice(&flat[i * d..(i + 1) * d]);
            }
            since_reassign += batch;
            let reassign = counts.contains(&0.0) || since_reassign >= 10 * k;
            if reassign {
                since_reassign = 0;
            }
            let sums = assign(&rows_buf, d, &centres, &mut labels, true)
                .unwrap_or_else(|| unreachable!("assign accumulates when asked"));
            let batch_inertia = inertia(&rows_buf, d, &centres, &labels);
            for j in 0..k {
                let m = sums.counts[j];
                if m > 0.0 {
                    let total = counts[j] + m;
                    for (c, s) in centres[j * d..(j + 1) * d]
                        .iter_mut()
                        .zip(&sums.sums[j * d..(j + 1) * d])
                    {
                        *c = (*c * counts[j] + s) / total;
                    }
                    counts[j] = total;
                }
            }
            if reassign && self.reassignment_ratio > 0.0 {
                self.reassign(&rows_buf, d, &mut centres, &mut counts, &mut rng);
            }
            if conv.converged(step, batch_inertia / batch as f64, batch, n, self) {
                converged = true;
                break;
            }
        }
        let mut all_labels = vec![0; n];
        assign(flat, d, &centres, &mut all_labels, false);
        Ok(FittedKMeans {
            inertia: inertia(flat, d, &centres, &all_labels),
            model: KMeansModel::from_parts(d, centres),
            labels: all_labels,
            n_iter: (steps * batch).div_ceil(n),
            converged,
        })
    }

    /// The best of `n_init` k-means++ seedings on `init_size` drawn rows, judged on a
    /// validation draw.
    fn initial_centres(&self, x: &[f64], d: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let n = x.len() / d;
        let mut size = self.init_size.unwrap_or(3 * self.batch_size).min(n);
        if size < self.k {
            size = (3 * self.k).min(n);
        }
        let draw = |rng: &mut ChaCha8Rng| -> Vec<f64> {
            let mut out = Vec::with_capacity(size * d);
            for _ in 0..size {
                let i = rng.gen_range(0..n);
                out.extend_from_slice(&x[i * d..(i + 1) * d]);
            }
            out
        };
        let valid = draw(rng);
        let mut valid_labels = vec![0; size];
        let mut best: Option<(f64, Vec<f64>)> = None;
        for _ in 0..self.n_init {
            let sample = draw(rng);
            let centres = plusplus(&sample, d, &row_norms(&sample, d), self.k, rng);
            assign(&valid, d, &centres, &mut valid_labels, false);
            let score = inertia(&valid, d, &centres, &valid_labels);
            if best.as_ref().is_none_or(|(b, _)| score < *b) {
                best = Some((score, centres));
            }
        }
        best.map(|(_, c)| c).unwrap_or_default()
    }

    /// Moves centres with a count below `reassignment_ratio * max count` to random batch
    /// rows (at most half a batch of them, the smallest counts first).
    fn reassign(
        &self,
        batch: &[f64],
        d: usize,
        centres: &mut [f64],
        counts: &mut [f64],
        rng: &mut ChaCha8Rng,
    ) {
        let max = counts.iter().copied().fold(0.0, f64::max);
        let mut low: Vec<usize> = (0..counts.len())
            .filter(|&j| counts[j] < self.reassignment_ratio * max)
            .collect();
        let rows = batch.len() / d;
        let cap = rows / 2;
        if low.len() > cap {
            low.sort_by(|&a, &b| counts[a].total_cmp(&counts[b]).then(a.cmp(&b)));
            low.truncate(cap);
        }
        if low.is_empty() {
            return;
        }
        let floor = (0..counts.len())
            .filter(|j| !low.contains(j))
            .map(|j| counts[j])
            .fold(f64::INFINITY, f64::min);
        let picks = rand::seq::index::sample(rng, rows, low.len());
        for (&j, i) in low.iter().zip(picks.iter()) {
            centres[j * d..(j + 1) * d].copy_from_slice(&batch[i * d..(i + 1) * d]);
            counts[j] = if floor.is_finite() { floor } else { 0.0 };
        }
    }
}

impl Convergence {
    /// Updates the smoothed batch inertia after step `step` (0-based); whether to stop.
    fn converged(
        &mut self,
        step: usize,
        batch_inertia: f64,
        batch: usize,
        n: usize,
        p: &MiniBatchKMeans,
    ) -> bool {
        if step == 0 {
            return false;
        }
        let alpha = (batch as f64 * 2.0 / (n as f64 + 1.0)).min(1.0);
        let ewa = match self.ewa {
            None => batch_inertia,
            Some(e) => e * (1.0 - alpha) + batch_inertia * alpha,
        };
        self.ewa = Some(ewa);
        if self.best.is_none_or(|b| ewa < b) {
            self.no_improvement = 0;
            self.best = Some(ewa);
        } else {
            self.no_improvement += 1;
        }
        p.max_no_improvement
            .is_some_and(|limit| self.no_improvement >= limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::kmeans::KMeans;
    use ndarray::Array2;

    /// Four tight groups of 500 rows in 3-d.
    fn groups() -> Array2<f64> {
        Array2::from_shape_fn((2000, 3), |(i, j)| {
            let g = (i % 4) as f64;
            let corner = if j == (i % 4).min(2) { 20.0 } else { 0.0 } + g * 3.0;
            corner + ((i * 37 + j * 11) % 17) as f64 / 17.0
        })
    }

    #[test]
    fn finds_the_groups_about_as_well_as_lloyd() {
        let x = groups();
        let mb = MiniBatchKMeans {
            k: 4,
            batch_size: 100,
            ..MiniBatchKMeans::default()
        }
        .fit(x.view())
        .expect("fitted");
        let full = KMeans {
            k: 4,
            ..KMeans::default()
        }
        .fit(x.view())
        .expect("fitted");
        assert_eq!(mb.sizes(), vec![500; 4]);
        assert!(
            mb.inertia <= full.inertia * 1.05,
            "{} vs {}",
            mb.inertia,
            full.inertia
        );
        assert!(mb.n_iter >= 1 && mb.n_iter <= 100);
        assert!(
            mb.converged,
            "early stopping ended the run after {} passes",
            mb.n_iter
        );
        // Two steps of 1000 rows cannot see 10 steps without improvement.
        let cut = MiniBatchKMeans {
            k: 4,
            batch_size: 1000,
            max_iter: 1,
            ..MiniBatchKMeans::default()
        }
        .fit(x.view())
        .expect("fitted");
        assert_eq!((cut.n_iter, cut.converged), (1, false));
    }

    #[test]
    fn bad_settings_are_errors() {
        let x = groups();
        let bad = MiniBatchKMeans {
            k: 4,
            batch_size: 0,
            ..MiniBatchKMeans::default()
        };
        assert!(bad
            .fit(x.view())
            .unwrap_err()
            .to_string()
            .contains("batch_size"));
        let bad = MiniBatchKMeans {
            k: 4,
            reassignment_ratio: 2.0,
            ..MiniBatchKMeans::default()
        };
        assert!(bad.fit(x.view()).is_err());
    }
}
