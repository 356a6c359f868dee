//! The k-means kernels shared by Lloyd ([`super::kmeans`]), mini-batch k-means and k-means++:
//! nearest-centre assignment through GEMM, squared distances to a few rows, and inertia.
//!
//! Rows and centres are `f64`, row-major. Squared distances are `||c||^2 - 2 x.c` (plus
//! `||x||^2` where the value itself is needed), the `x.c` products by a GEMM over chunks of
//! [`CHUNK_ROWS`] rows, as scikit-learn's `lloyd_iter_chunked_dense`. The assignment ranks the
//! centres with an `f32` GEMM (twice the throughput of `f64`) and keeps its choice only where
//! the runner-up is further than the `f32` error can reach; the other rows are ranked again in
//! `f64`, so the labels are those of the `f64` computation. Blocks of [`BLOCK_ROWS`] rows run in
//! parallel (rayon); per-block partial sums are added in block order, so results do not
//! depend on the number of threads.

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

/// `out[r, j] = add[j] - 2 a[r] . b[j]` for the row-major `a` (`[m, d]`) and `b` (`[n, d]`),
/// in `f64` or `f32`.
fn add_neg2_abt<T: 'static + Copy + From<i8>>(
    a: &[T],
    b: &[T],
    d: usize,
    add: &[T],
    out: &mut [T],
) {
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
            T::from(1),
            T::from(-2),
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
    let ranking = Ranking::new(centres, &norms, d);
    let partial: Vec<Option<ClusterSums>> = labels
        .par_chunks_mut(BLOCK_ROWS)
        .zip(x.par_chunks(BLOCK_ROWS * d))
        .map(|(labels, xb)| {
            let mut acc = accumulate.then(|| ClusterSums {
                sums: vec![0.0; k * d],
                counts: vec![0.0; k],
            });
            let mut work = Work::new(k, d);
            for (labels, xc) in labels.chunks_mut(CHUNK_ROWS).zip(xb.chunks(CHUNK_ROWS * d)) {
                ranking.nearest(xc, centres, &norms, labels, &mut work);
                if let Some(acc) = acc.as_mut() {
                    for (&label, row) in labels.iter().zip(xc.chunks_exact(d)) {
                        acc.counts[label] += 1.0;
                        let sum = &mut acc.sums[label * d..(label + 1) * d];
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

/// The centres in `f32` and what bounds the error of distances ranked with them.
struct Ranking {
    centres: Vec<f32>,
    norms: Vec<f32>,
    /// The largest `||c||`.
    max_norm: f64,
    /// `|d32 - d| <= slope * (||x|| * max_norm + max_norm^2)` for every centre's `d`.
    slope: f64,
}

/// The buffers one parallel task reuses across its chunks.
struct Work {
    x32: Vec<f32>,
    x_norms: Vec<f64>,
    tile32: Vec<f32>,
    recheck: Vec<usize>,
    rows64: Vec<f64>,
    tile64: Vec<f64>,
}

impl Work {
    fn new(k: usize, d: usize) -> Self {
        Work {
            x32: vec![0.0; CHUNK_ROWS * d],
            x_norms: Vec::with_capacity(CHUNK_ROWS),
            tile32: vec![0.0; CHUNK_ROWS * k],
            recheck: Vec::with_capacity(CHUNK_ROWS),
            rows64: Vec::with_capacity(CHUNK_ROWS * d),
            tile64: Vec::with_capacity(CHUNK_ROWS * k),
        }
    }
}

impl Ranking {
    fn new(centres: &[f64], norms: &[f64], d: usize) -> Self {
        // Rounding x and c to f32 (2u), the length-d dot product (d u), the norm (u) and the
        // final subtraction (u), each relative to ||x|| ||c|| + ||c||^2; doubled for margin.
        let u = f64::from(f32::EPSILON) / 2.0;
        Ranking {
            centres: centres.iter().map(|&v| v as f32).collect(),
            norms: norms.iter().map(|&v| v as f32).collect(),
            max_norm: norms.iter().fold(0.0f64, |m, &v| m.max(v)).sqrt(),
            slope: 2.0 * 2.0 * (d as f64 + 6.0) * u,
        }
    }

    /// The nearest centre of each row of `xc` (ties to the lower index) into `labels`: the
    /// `f32` ranking where its winner is clear, the `f64` one for the other rows.
    fn nearest(
        &self,
        xc: &[f64],
        centres: &[f64],
        norms: &[f64],
        labels: &mut [usize],
        work: &mut Work,
    ) {
        let (k, d) = (norms.len(), xc.len() / labels.len());
        let x32 = &mut work.x32[..xc.len()];
        // The rows' norms, taken in the pass that converts them.
        work.x_norms.clear();
        for (out, row) in x32.chunks_exact_mut(d).zip(xc.chunks_exact(d)) {
            let mut sq = 0.0;
            for (o, &v) in out.iter_mut().zip(row) {
                *o = v as f32;
                sq += v * v;
            }
            work.x_norms.push(f64::sqrt(sq));
        }
        let tile = &mut work.tile32[..labels.len() * k];
        add_neg2_abt(x32, &self.centres, d, &self.norms, tile);
        work.recheck.clear();
        for (r, (label, dist)) in labels.iter_mut().zip(tile.chunks_exact(k)).enumerate() {
            let (best, gap) = best_and_gap(dist);
            let x_norm = work.x_norms[r];
            let error = self.slope * (x_norm * self.max_norm + self.max_norm * self.max_norm);
            if f64::from(gap) > 2.0 * error {
                *label = best;
            } else {
                work.recheck.push(r);
            }
        }
        if work.recheck.is_empty() {
            return;
        }
        work.rows64.clear();
        for &r in &work.recheck {
            work.rows64.extend_from_slice(&xc[r * d..(r + 1) * d]);
        }
        work.tile64.resize(work.recheck.len() * k, 0.0);
        add_neg2_abt(&work.rows64, centres, d, norms, &mut work.tile64);
        for (&r, dist) in work.recheck.iter().zip(work.tile64.chunks_exact(k)) {
            labels[r] = argmin(dist);
        }
    }
}

/// The index of the smallest value (the first on ties) and how far the next smallest is
/// above it (0 on a tie; infinite with one value): three vectorised passes (minimum, its
/// first index, the minimum of the others) rather than one branchy scan.
fn best_and_gap(values: &[f32]) -> (usize, f32) {
    let low = lane_min(values);
    let best = values.iter().position(|&v| v == low).unwrap_or(0);
    let second = lane_min(&values[..best]).min(lane_min(&values[best + 1..]));
    (best, second - low)
}

/// The smallest value (infinite for none), in eight independent lanes the compiler keeps in
/// one vector register.
fn lane_min(values: &[f32]) -> f32 {
    let mut lanes = [f32::INFINITY; 8];
    let chunks = values.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (m, &v) in lanes.iter_mut().zip(chunk) {
            *m = if v < *m { v } else { *m };
        }
    }
    tail.iter()
        .chain(&lanes)
        .fold(f32::INFINITY, |m, &v| if v < m { v } else { m })
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

    /// Centres in pairs a hair apart (closer than f32 resolves) and rows between them: the
    /// f32 ranking defers those rows to f64, so every label is the f64 computation's.
    #[test]
    fn f32_ranking_gives_the_f64_labels_on_near_ties() {
        let (n, d, k) = (3000, 12, 8);
        let x = data(n, d);
        let mut c = Vec::new();
        for j in 0..k / 2 {
            let base = &x[j * 97 * d..(j * 97 + 1) * d];
            c.extend(base.iter().map(|v| v + 0.3));
            c.extend(
                base.iter()
                    .enumerate()
                    .map(|(i, v)| v + 0.3 + if i == 0 { 1e-7 } else { 0.0 }),
            );
        }
        let mut labels = vec![0; n];
        assign(&x, d, &c, &mut labels, false);
        let norms = row_norms(&c, d);
        let mut tile = vec![0.0; n * k];
        add_neg2_abt(&x, &c, d, &norms, &mut tile);
        let want: Vec<usize> = tile.chunks_exact(k).map(argmin).collect();
        assert_eq!(labels, want);
    }

    #[test]
    fn best_and_gap_finds_the_first_minimum_and_the_runner_up() {
        assert_eq!(best_and_gap(&[3.0]), (0, f32::INFINITY));
        let v: Vec<f32> = (0..37).map(|i| ((i * 11) % 37) as f32).collect();
        assert_eq!(best_and_gap(&v), (0, 1.0));
        let mut tie = vec![5.0; 19];
        tie[9] = 1.0;
        tie[17] = 1.0;
        assert_eq!(best_and_gap(&tie), (9, 0.0));
        tie[17] = 2.5;
        assert_eq!(best_and_gap(&tie), (9, 1.5));
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
