//! k-means++ seeding, as scikit-learn's `_kmeans_plusplus` (greedy variant).
//!
//! The first centre is a row drawn uniformly. Each further centre: draw
//! `n_local_trials = 2 + floor(ln k)` candidate rows, each with probability proportional to its
//! squared distance to the closest centre chosen so far; keep the candidate that gives the
//! lowest potential (sum of those closest squared distances once it is added). The squared
//! distances go through GEMM (`kmeans_assign::squared_distances`).

use ndarray::{Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::check_finite;
use super::kmeans_assign::{row_norms, squared_distances};
use crate::{Error, Result};

/// k-means++ initial centres `[k, d]` for the rows of `x`, drawn with a `ChaCha8Rng` seeded
/// by `seed`.
///
/// # Errors
/// `InvalidParameter` when `k` is 0 or above the number of rows; `InvalidData` on an empty
/// or non-finite `x`.
pub fn kmeans_plusplus(x: ArrayView2<f64>, k: usize, seed: u64) -> Result<Array2<f64>> {
    super::kmeans::check_rows_for_k(x, k)?;
    check_finite(x)?;
    let d = x.ncols();
    let rows = x.as_standard_layout();
    let flat = rows.as_slice().ok_or_else(|| {
        Error::InvalidData("k-means++ needs contiguous rows (internal layout error)".into())
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres = plusplus(flat, d, &row_norms(flat, d), k, &mut rng);
    Array2::from_shape_vec((k, d), centres)
        .map_err(|e| Error::InvalidData(format!("k-means++ centres: {e}")))
}

/// k-means++ on row-major `x` (`[n, d]`, `x_norms` its squared row norms, `1 <= k <= n`):
/// the `[k, d]` centres, row-major.
pub(crate) fn plusplus(
    x: &[f64],
    d: usize,
    x_norms: &[f64],
    k: usize,
    rng: &mut impl Rng,
) -> Vec<f64> {
    let n = x_norms.len();
    let trials = 2 + (k as f64).ln() as usize;
    let first = rng.gen_range(0..n);
    let mut centres = Vec::with_capacity(k * d);
    centres.extend_from_slice(&x[first * d..(first + 1) * d]);
    let mut closest = squared_distances(&x[first * d..(first + 1) * d], x, x_norms, d);
    let mut potential: f64 = closest.iter().sum();
    let mut cumsum = vec![0.0; n];
    let mut candidates = Vec::with_capacity(trials * d);
    for _ in 1..k {
        let mut total = 0.0;
        for (c, v) in cumsum.iter_mut().zip(&closest) {
            total += v;
            *c = total;
        }
        let ids: Vec<usize> = (0..trials)
            .map(|_| {
                let target = rng.gen::<f64>() * potential;
                cumsum.partition_point(|&c| c < target).min(n - 1)
            })
            .collect();
        candidates.clear();
        for &i in &ids {
            candidates.extend_from_slice(&x[i * d..(i + 1) * d]);
        }
        let mut dist = squared_distances(&candidates, x, x_norms, d);
        let mut best: Option<(usize, f64)> = None;
        for (t, row) in dist.chunks_exact_mut(n).enumerate() {
            row.iter_mut()
                .zip(&closest)
                .for_each(|(v, &c)| *v = v.min(c));
            let pot: f64 = row.iter().sum();
            if best.is_none_or(|(_, b)| pot < b) {
                best = Some((t, pot));
            }
        }
        let (t, pot) = best.unwrap_or((0, potential));
        potential = pot;
        closest.copy_from_slice(&dist[t * n..(t + 1) * n]);
        let chosen = ids[t];
        centres.extend_from_slice(&x[chosen * d..(chosen + 1) * d]);
    }
    centres
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn seeds_one_centre_in_each_well_separated_group() {
        // Three tight groups far apart: k-means++ must pick one row from each.
        let x = Array2::from_shape_fn((90, 2), |(i, j)| {
            (i / 30) as f64 * 100.0 + ((i * 13 + j * 7) % 10) as f64 * 0.01
        });
        for seed in 0..5 {
            let c = kmeans_plusplus(x.view(), 3, seed).expect("seeded");
            let mut groups: Vec<usize> = c
                .rows()
                .into_iter()
                .map(|r| (r[0] / 100.0).round() as usize)
                .collect();
            groups.sort_unstable();
            assert_eq!(groups, vec![0, 1, 2], "seed {seed}");
        }
    }

    #[test]
    fn same_seed_same_centres_and_bad_k_is_an_error() {
        let x = Array2::from_shape_fn((50, 3), |(i, j)| ((i * 31 + j * 17) % 23) as f64);
        let a = kmeans_plusplus(x.view(), 4, 7).expect("seeded");
        assert_eq!(a, kmeans_plusplus(x.view(), 4, 7).expect("seeded"));
        assert!(kmeans_plusplus(x.view(), 0, 7).is_err());
        assert!(kmeans_plusplus(x.view(), 51, 7).is_err());
    }
}
