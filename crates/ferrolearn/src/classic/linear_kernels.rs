//! Dense `f64` kernels for the linear learners: matrix products through the `gemm` crate, and
//! the dot / axpy of coordinate-wise solvers (dual coordinate descent, perceptron).
//!
//! The learners' hot loops are `X · Wᵀ` (scores) and `Gᵀ · X` (weight gradients); on MNIST these
//! are 60000 x 784 x 10 products, so they go through `gemm`'s blocked, vectorised and (above a
//! size threshold) rayon-parallel kernels rather than loops. Views of any strides are accepted,
//! so transposes are free (`a.t()`).

use gemm::Parallelism;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2};

/// Products with fewer multiply-adds than this run on the calling thread: spawning rayon work
/// costs more than it saves on small problems.
const PARALLEL_MIN_FLOPS: usize = 1 << 20;

/// `dst = a · b`, or `dst += a · b` when `accumulate` is set.
///
/// # Shapes
/// `a [m, k]`, `b [k, n]`, `dst [m, n]`; panics on a mismatch (callers build the shapes).
pub(crate) fn matmul_into(
    mut dst: ArrayViewMut2<f64>,
    a: ArrayView2<f64>,
    b: ArrayView2<f64>,
    accumulate: bool,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(
        k == k2 && dst.dim() == (m, n),
        "matmul: a {:?} · b {:?} into dst {:?}",
        a.dim(),
        b.dim(),
        dst.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    let parallelism = if m * n * k >= PARALLEL_MIN_FLOPS && rayon::current_num_threads() > 1 {
        Parallelism::Rayon(rayon::current_num_threads())
    } else {
        Parallelism::None
    };
    let (dst_rs, dst_cs) = (dst.strides()[0], dst.strides()[1]);
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let (b_rs, b_cs) = (b.strides()[0], b.strides()[1]);
    // SAFETY: the three pointers come from live ndarray views whose shapes were checked above,
    // and each (row stride, column stride) pair is the view's own, so gemm reads and writes
    // only elements inside those views. `dst` is a unique (mutable) borrow, so it cannot alias
    // `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs,
            dst_rs,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `a · b` as a new `[m, n]` array.
pub(crate) fn matmul(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    matmul_into(out.view_mut(), a, b, false);
    out
}

/// The scores `x · coef^T + intercept` (`[N, R]`) of a fitted linear model with
/// `coef` `[R, D]`, after checking that `x` has the `D` features the model was fitted with.
pub(crate) fn linear_scores(
    x: ArrayView2<f64>,
    coef: ArrayView2<f64>,
    intercept: ArrayView1<f64>,
) -> crate::Result<Array2<f64>> {
    super::linear_input::check_predict_input(x, coef.ncols())?;
    let mut s = matmul(x, coef.t());
    s += &intercept;
    Ok(s)
}

/// Classes from one-vs-rest scores: with one score column (two classes) class 1 where it is
/// positive, otherwise the highest score (ties: the smallest label).
pub(crate) fn classes_from_scores(scores: &Array2<f64>) -> Array1<usize> {
    if scores.ncols() == 1 {
        scores.column(0).mapv(|v| usize::from(v > 0.0))
    } else {
        scores.outer_iter().map(super::softmax::argmax).collect()
    }
}

/// `a · b` of two equally long slices, with eight independent accumulators so that the
/// compiler vectorises the loop (a single running sum would force sequential adds).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `y += a * x`.
#[inline]
pub(crate) fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    debug_assert_eq!(x.len(), y.len());
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Training rows for coordinate-wise solvers, which touch one row at a time: stored dense, or
/// as compressed sparse rows when at most a third of the entries are non-zero (MNIST pixels:
/// about a fifth), so that a row's dot product and update cost its non-zeros only.
pub(crate) enum RowStore<'a> {
    /// Row-major dense rows.
    Dense(ArrayView2<'a, f64>),
    /// Compressed sparse rows: row `i` is `indices/values[start[i]..start[i + 1]]`.
    Sparse {
        n_cols: usize,
        start: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f64>,
    },
}

impl<'a> RowStore<'a> {
    /// Chooses the layout for `x` (which must be in standard layout) by its density.
    pub(crate) fn new(x: ArrayView2<'a, f64>) -> Self {
        let nnz = x.iter().filter(|&&v| v != 0.0).count();
        if 3 * nnz > x.len() || x.ncols() > u32::MAX as usize {
            return RowStore::Dense(x);
        }
        let mut start = Vec::with_capacity(x.nrows() + 1);
        let (mut indices, mut values) = (Vec::with_capacity(nnz), Vec::with_capacity(nnz));
        start.push(0);
        for row in x.outer_iter() {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    indices.push(j as u32);
                    values.push(v);
                }
            }
            start.push(indices.len());
        }
        RowStore::Sparse {
            n_cols: x.ncols(),
            start,
            indices,
            values,
        }
    }

    /// The number of rows.
    pub(crate) fn n_rows(&self) -> usize {
        match self {
            RowStore::Dense(x) => x.nrows(),
            RowStore::Sparse { start, .. } => start.len() - 1,
        }
    }

    /// The number of columns (features).
    pub(crate) fn n_cols(&self) -> usize {
        match self {
            RowStore::Dense(x) => x.ncols(),
            RowStore::Sparse { n_cols, .. } => *n_cols,
        }
    }

    /// `w · x_i`.
    #[inline]
    pub(crate) fn dot(&self, i: usize, w: &[f64]) -> f64 {
        match self {
            RowStore::Dense(x) => dot(w, x.row(i).to_slice().expect("standard layout")),
            RowStore::Sparse {
                start,
                indices,
                values,
                ..
            } => {
                let (a, b) = (start[i], start[i + 1]);
                let mut acc = [0.0f64; 4];
                let (ci, cv) = (indices[a..b].chunks_exact(4), values[a..b].chunks_exact(4));
                let (ri, rv) = (ci.remainder(), cv.remainder());
                for (ix, vs) in ci.zip(cv) {
                    for l in 0..4 {
                        acc[l] += w[ix[l] as usize] * vs[l];
                    }
                }
                let tail: f64 = ri.iter().zip(rv).map(|(&j, &v)| w[j as usize] * v).sum();
                (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
            }
        }
    }

    /// `w += a * x_i`.
    #[inline]
    pub(crate) fn axpy(&self, i: usize, a: f64, w: &mut [f64]) {
        match self {
            RowStore::Dense(x) => axpy(a, x.row(i).to_slice().expect("standard layout"), w),
            RowStore::Sparse {
                start,
                indices,
                values,
                ..
            } => {
                let (lo, hi) = (start[i], start[i + 1]);
                for (&j, &v) in indices[lo..hi].iter().zip(&values[lo..hi]) {
                    w[j as usize] += a * v;
                }
            }
        }
    }

    /// `||x_i||^2`.
    pub(crate) fn squared_norm(&self, i: usize) -> f64 {
        match self {
            RowStore::Dense(x) => {
                let r = x.row(i).to_slice().expect("standard layout");
                dot(r, r)
            }
            RowStore::Sparse { start, values, .. } => {
                values[start[i]..start[i + 1]].iter().map(|v| v * v).sum()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn naive(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).map(|p| a[[i, p]] * b[[p, j]]).sum()
        })
    }

    #[test]
    fn matches_naive_product_with_transposed_views() {
        let a = Array2::from_shape_fn((37, 19), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let b = Array2::from_shape_fn((23, 19), |(i, j)| ((i * 5 + j) % 7) as f64 * 0.5);
        let got = matmul(a.view(), b.t());
        let want = naive(a.view(), b.t());
        assert!((&got - &want).iter().all(|d| d.abs() < 1e-12));
    }

    #[test]
    fn dot_and_axpy_match_plain_loops() {
        let a: Vec<f64> = (0..29).map(|i| i as f64 * 0.5 - 3.0).collect();
        let b: Vec<f64> = (0..29).map(|i| (i % 4) as f64).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - want).abs() < 1e-12);
        let mut y = b.clone();
        axpy(2.0, &a, &mut y);
        assert!(y
            .iter()
            .zip(a.iter().zip(&b))
            .all(|(v, (x, z))| *v == z + 2.0 * x));
    }

    #[test]
    fn sparse_and_dense_rows_agree() {
        let x = Array2::from_shape_fn((6, 11), |(i, j)| {
            if (i + j) % 4 == 0 {
                (i * 11 + j) as f64 * 0.25 - 3.0
            } else {
                0.0
            }
        });
        let sparse = RowStore::new(x.view());
        assert!(matches!(sparse, RowStore::Sparse { .. }));
        let dense = RowStore::Dense(x.view());
        let w: Vec<f64> = (0..11).map(|j| j as f64 - 4.5).collect();
        for i in 0..6 {
            assert!((sparse.dot(i, &w) - dense.dot(i, &w)).abs() < 1e-12);
            assert!((sparse.squared_norm(i) - dense.squared_norm(i)).abs() < 1e-12);
            let (mut a, mut b) = (w.clone(), w.clone());
            sparse.axpy(i, 0.5, &mut a);
            dense.axpy(i, 0.5, &mut b);
            assert_eq!(a, b);
        }
        assert!(matches!(
            RowStore::new(Array2::ones((2, 2)).view()),
            RowStore::Dense(_)
        ));
    }

    #[test]
    fn accumulates_into_destination() {
        let a = array![[1.0, 2.0], [3.0, 4.0]];
        let mut dst = array![[1.0, 1.0], [1.0, 1.0]];
        matmul_into(dst.view_mut(), a.view(), a.view(), true);
        assert_eq!(dst, array![[8.0, 11.0], [16.0, 23.0]]);
    }

    #[test]
    fn large_product_runs_in_parallel_and_matches() {
        let a = Array2::from_shape_fn((300, 200), |(i, j)| ((i + 2 * j) % 13) as f64 / 13.0);
        let b = Array2::from_shape_fn((200, 40), |(i, j)| ((3 * i + j) % 5) as f64 - 2.0);
        let got = matmul(a.view(), b.view());
        let want = naive(a.view(), b.view());
        assert!((&got - &want).iter().all(|d| d.abs() < 1e-9));
    }
}
