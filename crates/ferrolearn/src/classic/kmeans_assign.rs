//! The k-means kernels shared by Lloyd ([`super::kmeans`]), mini-batch k-means and k-means++:
//! nearest-centre assignment through GEMM, squared distances to a few rows, and inertia.
//!
//! Rows and centres are `f64`, row-major. Squared distances are `||c||^2 - 2 x.c` (plus
//! `||x||^2` where the value itself is needed), the `x.c` products by an `f64` GEMM over chunks
//! of [`CHUNK_ROWS`] rows, as scikit-learn's `lloyd_iter_chunked_dense`. Blocks of
//! [`BLOCK_ROWS`] rows run in parallel (rayon); per-block partial sums are added in block order,
//! so results do not depend on the number of threads.

use rayon::prelude::*;

/// Rows per GEMM call (scikit-learn's `CHUNK_SIZE`).
const CHUNK_ROWS: usize = 256;
/// Rows per parallel task.
const BLOCK_ROWS: usize = CHUNK_ROWS * 16;

/// Per-cluster sums of the rows assigned to each centre and their counts.
pub(crate) struct ClusterSums {
    /// `[k, d]` row-major sums.
    pub sums: Vec<f64>,
    /// Rows per cluster, as `f64` (scikit-learn's `weight_in_clusters`).
    pub counts: Vec<f64>,
}

/// `||c||^2` of each row of the row-major `[k, d]` matrix `c`.
pub(crate) fn row_norms(c: &[f64], d: usize) -> Vec<f64> {
    c.chunks_exact(d)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect()
}

/// `out[r, j] = add[j] - 2 a[r] . b[j]` for the row-major `a` (`[m, d]`) and `b` (`[n, d]`).
fn add_neg2_abt(a: &[f64], b: &[f64], d: usize, add: &[f64], out: &mut [f64]) {
    let (m, n) = (a.len() / d, b.len() / d);
    for row in out.chunks_exact_mut(n) {
        row.copy_from_slice(add);
    }
    // SAFETY: `out` is a row-major m x n buffer, `a` a row-major m x d matrix and `b` a
    // row-major n x d matrix read as its d x n transpose (row stride 1, column stride d); all
    // strides and sizes match the slices, which outlive the call and do not overlap.
    unsafe {
        gemm::gemm(
            m,
            n,
            d,
            out.as_mut_ptr(),
            1,
            n as isize,
            true,
            a.as_ptr(),
            1,
            d as isize,
            b.as_ptr(),
            d as isize,
            1,
            1.0,
            -2.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Assigns each row of `x` (`[n, d]`) to its nearest centre (ties to the lower centre index)
/// into `labels`; with `accumulate`, also returns the per-cluster sums and counts.
pub(crate) fn assign(
    x: &[f64],
    d: usize,
    centres: &[f64],
    labels: &mut [usize],
    accumulate: bool,
) -> Option<ClusterSums> {
    let k = centres.len() / d;
    let norms = row_norms(centres, d);
    let partial: Vec<Option<ClusterSums>> = labels
        .par_chunks_mut(BLOCK_ROWS)
        .zip(x.par_chunks(BLOCK_ROWS * d))
        .map(|(labels, xb)| {
            let mut acc = accumulate.then(|| ClusterSums {
                sums: vec![0.0; k * d],
                counts: vec![0.0; k],
            });
            let mut tile = vec![0.0; CHUNK_ROWS * k];
            for (labels, xc) in labels.chunks_mut(CHUNK_ROWS).zip(xb.chunks(CHUNK_ROWS * d)) {
                let tile = &mut tile[..labels.len() * k];
                add_neg2_abt(xc, centres, d, &norms, tile);
                for ((label, dist), row) in labels
                    .iter_mut()
                    .zip(tile.chunks_exact(k))
                    .zip(xc.chunks_exact(d))
                {
                    *label = argmin(dist);
                    if let Some(acc) = acc.as_mut() {
                        acc.counts[*label] += 1.0;
                        let sum = &mut acc.sums[*label * d..(*label + 1) * d];
                        sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                    }
                }
            }
            acc
        })
        .collect();
    accumulate.then(|| {
        let mut total = ClusterSums {
            sums: vec![0.0; k * d],
            counts: vec![0.0; k],
        };
        for p in partial.into_iter().flatten() {
            total
                .sums
                .iter_mut()
                .zip(&p.sums)
                .for_each(|(t, v)| *t += v);
            total
                .counts
                .iter_mut()
                .zip(&p.counts)
                .for_each(|(t, v)| *t += v);
        }
        total
    })
}

/// The index of the smallest value; the first one on ties.
fn argmin(values: &[f64]) -> usize {
    let mut best = 0;
    for (j, &v) in values.iter().enumerate().skip(1) {
        if v < values[best] {
            best = j;
        }
    }
    best
}

/// Squared distances `[t, n]` from each of the `t` rows of `from` to each row of `x`, as
/// `||f||^2 - 2 f.x + ||x||^2` clipped at 0 (`x_norms` are the rows' `||x||^2`).
pub(crate) fn squared_distances(from: &[f64], x: &[f64], x_norms: &[f64], d: usize) -> Vec<f64> {
    let n = x_norms.len();
    let t = from.len() / d;
    let mut out = vec![0.0; t * n];
    let from_norms = row_norms(from, d);
    out.par_chunks_mut(BLOCK_ROWS * t)
        .zip(x.par_chunks(BLOCK_ROWS * d))
        .zip(x_norms.par_chunks(BLOCK_ROWS))
        .for_each(|((out, xb), norms)| {
            // `out` holds this block as [rows, t]; transposed into [t, n] below.
            add_neg2_abt(xb, from, d, &from_norms, out);
            for (row, &xn) in out.chunks_exact_mut(t).zip(norms) {
                row.iter_mut().for_each(|v| *v = (*v + xn).max(0.0));
            }
        });
    // Blocks were filled as [n, t]; return [t, n].
    let mut transposed = vec![0.0; t * n];
    for (r, row) in out.chunks_exact(t).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            transposed[c * n + r] = v;
        }
    }
    transposed
}

/// `sum_i ||x_i - c_{labels[i]}||^2`, each term computed directly (not through GEMM).
pub(crate) fn inertia(x: &[f64], d: usize, centres: &[f64], labels: &[usize]) -> f64 {
    let partial: Vec<f64> = x
        .par_chunks(BLOCK_ROWS * d)
        .zip(labels.par_chunks(BLOCK_ROWS))
        .map(|(xb, lb)| {
            xb.chunks_exact(d)
                .zip(lb)
                .map(|(row, &l)| squared_distance(row, &centres[l * d..(l + 1) * d]))
                .sum()
        })
        .collect();
    partial.iter().sum()
}

/// `||a - b||^2`.
pub(crate) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, d: usize) -> Vec<f64> {
        (0..n * d)
            .map(|i| ((i * 7919) % 101) as f64 / 10.0 - 5.0)
            .collect()
    }

    #[test]
    fn gemm_assignment_matches_direct_distances() {
        let (n, d, k) = (5000, 7, 9);
        let x = data(n, d);
        let c: Vec<f64> = x[3 * d..(3 + k) * d].iter().map(|v| v + 0.25).collect();
        let mut labels = vec![0; n];
        let sums = assign(&x, d, &c, &mut labels, true).expect("accumulated");
        for (i, row) in x.chunks_exact(d).enumerate() {
            let dist: Vec<f64> = c
                .chunks_exact(d)
                .map(|cr| squared_distance(row, cr))
                .collect();
            let best = dist[labels[i]];
            assert!(dist.iter().all(|&v| v >= best - 1e-9), "row {i}");
        }
        assert_eq!(sums.counts.iter().sum::<f64>(), n as f64);
        let direct: f64 = x
            .chunks_exact(d)
            .zip(&labels)
            .map(|(r, &l)| squared_distance(r, &c[l * d..(l + 1) * d]))
            .sum();
        assert!((inertia(&x, d, &c, &labels) - direct).abs() <= 1e-9 * direct);
    }

    #[test]
    fn squared_distances_match_direct_ones() {
        let (n, d) = (4100, 5);
        let x = data(n, d);
        let from = x[10 * d..12 * d].to_vec();
        let got = squared_distances(&from, &x, &row_norms(&x, d), d);
        for t in 0..2 {
            for (i, row) in x.chunks_exact(d).enumerate() {
                let want = squared_distance(&from[t * d..(t + 1) * d], row);
                assert!((got[t * n + i] - want).abs() <= 1e-9 * (1.0 + want));
            }
        }
    }
}
