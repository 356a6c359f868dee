//! Linear regression: ordinary least squares and ridge by a direct f64 solve, polynomial
//! features, and the same model trained by gradient descent (`gd.rs`).
//!
//! # Solver
//! With an intercept, X and y are centred (the intercept is then not penalised), the normal
//! equations `(Xc^T Xc + alpha I) w = Xc^T yc` are formed with a parallel blocked symmetric
//! rank-k update in f64 (faer), and solved by Cholesky. When Cholesky fails (a rank-deficient
//! X with `alpha = 0`), the solve falls back to the symmetric eigendecomposition of the Gram
//! matrix with small eigenvalues cut off, which gives the minimum-norm least-squares solution
//! as scikit-learn's `lstsq` does. No matrix is ever inverted explicitly. Finally
//! `b = mean(y) - mean(x) . w`.

mod gd;
mod poly;

pub use gd::{FittedGdRegressor, GdRegressor, GdSchedule};
pub use poly::{FittedPolynomialRegression, PolynomialFeatures, PolynomialRegression};

use std::borrow::Cow;

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::prelude::*;
use faer::{Accum, Side};
use ndarray::{Array1, ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{check_n_features, check_regression_input, FitRegressor, Regressor};
use crate::{Error, Result};

/// Ordinary least squares, `min ||y - X w - b||^2` (scikit-learn's `LinearRegression`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearRegression {
    /// Fit an intercept `b` (default true); otherwise `b = 0`.
    pub fit_intercept: bool,
}

impl Default for LinearRegression {
    fn default() -> Self {
        Self {
            fit_intercept: true,
        }
    }
}

impl FitRegressor for LinearRegression {
    type Fitted = LinearModel;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<LinearModel> {
        fit_linear(x, y, 0.0, self.fit_intercept)
    }
}

/// Ridge regression, `min ||y - X w - b||^2 + alpha ||w||^2` (scikit-learn's `Ridge`).
///
/// A plain sum of squares (no 1/n, no 1/2); the intercept is not penalised.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ridge {
    /// Strength of the L2 penalty, finite and `>= 0` (default 1).
    pub alpha: f64,
    /// Fit an intercept `b` (default true).
    pub fit_intercept: bool,
}

impl Default for Ridge {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            fit_intercept: true,
        }
    }
}

/// [`Ridge`] settings that passed validation; the only way to fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckedRidge {
    alpha: f64,
    fit_intercept: bool,
}

impl Ridge {
    /// Validates the settings: `alpha` must be finite and `>= 0`.
    pub fn check(&self) -> Result<CheckedRidge> {
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::InvalidParameter(format!(
                "alpha must be finite and >= 0, got {}",
                self.alpha
            )));
        }
        Ok(CheckedRidge {
            alpha: self.alpha,
            fit_intercept: self.fit_intercept,
        })
    }
}

impl CheckedRidge {
    /// Fits on rows `x` and targets `y`.
    pub fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<LinearModel> {
        fit_linear(x, y, self.alpha, self.fit_intercept)
    }
}

impl FitRegressor for Ridge {
    type Fitted = LinearModel;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<LinearModel> {
        self.check()?.fit(x, y)
    }
}

/// A fitted linear model `y = x . coef + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    coef: Vec<f64>,
    intercept: f64,
}

impl LinearModel {
    /// A model from its weights and intercept.
    pub fn new(coef: Vec<f64>, intercept: f64) -> Self {
        Self { coef, intercept }
    }

    /// The weights, one per feature.
    pub fn coef(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.coef)
    }

    /// The intercept `b`.
    pub fn intercept(&self) -> f64 {
        self.intercept
    }
}

impl Regressor for LinearModel {
    fn n_features(&self) -> usize {
        self.coef.len()
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        check_n_features(self.coef.len(), x)?;
        Ok(x.dot(&self.coef()) + self.intercept)
    }
}

/// Rows of `x` as one row-major slice, borrowed when `x` is already contiguous.
pub(crate) fn row_major(x: ArrayView2<'_, f64>) -> Cow<'_, [f64]> {
    match x.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(x.iter().copied().collect()),
    }
}

/// Rows per block of the Gram accumulation: a `ROWS x d` centred copy stays in cache.
const GRAM_BLOCK_ROWS: usize = 1024;

/// OLS (`alpha = 0`) or ridge by the normal equations; see the module docs.
fn fit_linear(
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    alpha: f64,
    fit_intercept: bool,
) -> Result<LinearModel> {
    check_regression_input(x, y)?;
    let (n, d) = x.dim();
    let data = row_major(x);
    let y = y.to_vec();
    let (x_mean, y_mean) = if fit_intercept {
        (column_means(&data, n, d), y.iter().sum::<f64>() / n as f64)
    } else {
        (vec![0.0; d], 0.0)
    };
    let (mut gram, rhs) = centred_gram(&data, &y, d, &x_mean, y_mean);
    for j in 0..d {
        gram[(j, j)] += alpha;
    }
    let w = solve_symmetric(gram, rhs);
    let intercept = y_mean - x_mean.iter().zip(&w).map(|(m, w)| m * w).sum::<f64>();
    Ok(LinearModel { coef: w, intercept })
}

/// Column means of a row-major `n x d` matrix, summed in parallel over row blocks.
fn column_means(data: &[f64], n: usize, d: usize) -> Vec<f64> {
    let sums = data
        .par_chunks(GRAM_BLOCK_ROWS * d)
        .fold(
            || vec![0.0; d],
            |mut acc, block| {
                for row in block.chunks_exact(d) {
                    for (a, v) in acc.iter_mut().zip(row) {
                        *a += v;
                    }
                }
                acc
            },
        )
        .reduce(|| vec![0.0; d], add_vecs);
    sums.into_iter().map(|s| s / n as f64).collect()
}

fn add_vecs(mut a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
    a
}

/// `(Xc^T Xc, Xc^T yc)` with `Xc = X - x_mean`, `yc = y - y_mean`.
///
/// Blocks of rows are centred into a small buffer and added with a lower-triangular
/// rank-k update; rayon folds blocks into one accumulator per worker. The full symmetric
/// matrix is returned.
fn centred_gram(
    data: &[f64],
    y: &[f64],
    d: usize,
    x_mean: &[f64],
    y_mean: f64,
) -> (Mat<f64>, Vec<f64>) {
    struct Acc {
        gram: Mat<f64>,
        xty: Vec<f64>,
        buf: Vec<f64>,
    }
    let new_acc = || Acc {
        gram: Mat::zeros(d, d),
        xty: vec![0.0; d],
        buf: Vec::with_capacity(GRAM_BLOCK_ROWS * d),
    };
    let acc = data
        .par_chunks(GRAM_BLOCK_ROWS * d)
        .zip(y.par_chunks(GRAM_BLOCK_ROWS))
        .fold(new_acc, |mut acc, (block, yb)| {
            let rows = yb.len();
            acc.buf.clear();
            for (row, &yi) in block.chunks_exact(d).zip(yb) {
                let yc = yi - y_mean;
                let start = acc.buf.len();
                acc.buf.extend(row.iter().zip(x_mean).map(|(v, m)| v - m));
                for (t, v) in acc.xty.iter_mut().zip(&acc.buf[start..]) {
                    *t += v * yc;
                }
            }
            let a = MatRef::from_row_major_slice(&acc.buf, rows, d);
            triangular::matmul(
                acc.gram.as_mut(),
                BlockStructure::TriangularLower,
                Accum::Add,
                a.transpose(),
                BlockStructure::Rectangular,
                a,
                BlockStructure::Rectangular,
                1.0,
                Par::Seq,
            );
            acc
        })
        .reduce(new_acc, |mut a, b| {
            a.gram += &b.gram;
            a.xty = add_vecs(a.xty, b.xty);
            a
        });
    let mut gram = acc.gram;
    for i in 0..d {
        for j in 0..i {
            gram[(j, i)] = gram[(i, j)];
        }
    }
    (gram, acc.xty)
}

/// Solves `G w = r` for a symmetric positive semi-definite `G`: Cholesky, or, when that
/// fails, the minimum-norm solution through `G`'s eigendecomposition (eigenvalues below
/// `d * eps * max_eigenvalue` treated as zero).
fn solve_symmetric(gram: Mat<f64>, rhs: Vec<f64>) -> Vec<f64> {
    let d = rhs.len();
    let mut b = Mat::from_fn(d, 1, |i, _| rhs[i]);
    let max_diag = (0..d).map(|i| gram[(i, i)]).fold(0.0, f64::max);
    if let Ok(llt) = gram.llt(Side::Lower) {
        // A pivot that is tiny next to the largest diagonal entry means G is numerically
        // singular: Cholesky "succeeds" but the solution would be noise.
        let l = llt.L();
        let min_pivot = (0..d)
            .map(|i| l[(i, i)] * l[(i, i)])
            .fold(f64::INFINITY, f64::min);
        if min_pivot <= max_diag * d as f64 * f64::EPSILON {
            return min_norm_solve(&gram, &rhs);
        }
        llt.solve_in_place(b.as_mut());
        if (0..d).all(|i| b[(i, 0)].is_finite()) {
            return (0..d).map(|i| b[(i, 0)]).collect();
        }
    }
    min_norm_solve(&gram, &rhs)
}

/// `w = U diag(1/s) U^T r` over the eigenpairs of `G` with `s` above the cut-off.
fn min_norm_solve(gram: &Mat<f64>, rhs: &[f64]) -> Vec<f64> {
    let d = rhs.len();
    let Ok(eig) = gram.self_adjoint_eigen(Side::Lower) else {
        return vec![0.0; d];
    };
    let s = eig.S().column_vector();
    let u = eig.U();
    let s_max = (0..d).map(|i| s[i].abs()).fold(0.0, f64::max);
    let cutoff = s_max * d as f64 * f64::EPSILON;
    let mut w = vec![0.0; d];
    for k in 0..d {
        if s[k] <= cutoff {
            continue;
        }
        let proj: f64 = (0..d).map(|i| u[(i, k)] * rhs[i]).sum::<f64>() / s[k];
        for (i, wi) in w.iter_mut().enumerate() {
            *wi += u[(i, k)] * proj;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use ndarray::{array, Array2};

    use super::*;

    // import numpy as np; from sklearn.linear_model import LinearRegression, Ridge
    // X = np.array([[1, 2], [2, 1], [3, 5], [4, 3], [5, 6.]]); y = np.array([3, 4, 9, 8, 12.])
    // LinearRegression().fit(X, y): coef_ [1.28333333 0.91666667], intercept_ 0.23333333333333428
    // Ridge(alpha=2).fit(X, y):     coef_ [1.04601227 0.94478528], intercept_ 0.8496932515337416
    #[test]
    fn ols_and_ridge_match_sklearn() {
        let x = array![[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [4.0, 3.0], [5.0, 6.0]];
        let y = array![3.0, 4.0, 9.0, 8.0, 12.0];
        let ols = LinearRegression::default().fit(x.view(), y.view()).unwrap();
        assert!((ols.coef()[0] - 1.2833333333333333).abs() < 1e-9);
        assert!((ols.coef()[1] - 0.9166666666666667).abs() < 1e-9);
        assert!((ols.intercept() - 0.23333333333333428).abs() < 1e-9);
        let ridge = Ridge {
            alpha: 2.0,
            ..Ridge::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert!((ridge.coef()[0] - 1.0460122699386503).abs() < 1e-9);
        assert!((ridge.coef()[1] - 0.9447852760736196).abs() < 1e-9);
        assert!((ridge.intercept() - 0.8496932515337416).abs() < 1e-9);
        let pred = ols.predict(x.view()).unwrap();
        assert_eq!(pred.len(), 5);
        assert!(ols.predict(array![[1.0]].view()).is_err());
    }

    // Rank-deficient: the second column is twice the first. lstsq gives the minimum-norm w.
    // np.linalg.lstsq(Xc, yc) with Xc centred: w = [0.2, 0.4], b = 0 for y = x0 exactly.
    #[test]
    fn rank_deficient_gives_min_norm_solution() {
        let x = array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0]];
        let y = array![1.0, 2.0, 3.0, 4.0];
        let m = LinearRegression::default().fit(x.view(), y.view()).unwrap();
        assert!((m.coef()[0] - 0.2).abs() < 1e-8, "{:?}", m.coef());
        assert!((m.coef()[1] - 0.4).abs() < 1e-8, "{:?}", m.coef());
        assert!(m.intercept().abs() < 1e-8);
    }

    #[test]
    fn blocked_gram_matches_direct_fit_on_many_rows() {
        // 2500 rows spans several blocks; noise-free data recovers the weights exactly.
        let n = 2500;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| {
            ((i * (j + 3)) % 17) as f64 - 8.0 + j as f64 * 0.5
        });
        let y = x.dot(&array![1.5, -2.0, 0.25]) + 4.0;
        let m = LinearRegression::default().fit(x.view(), y.view()).unwrap();
        for (got, want) in m.coef().iter().zip([1.5, -2.0, 0.25]) {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
        assert!((m.intercept() - 4.0).abs() < 1e-8);
        let no_b = LinearRegression {
            fit_intercept: false,
        }
        .fit(x.view(), (&y - 4.0).view())
        .unwrap();
        assert_eq!(no_b.intercept(), 0.0);
        assert!((no_b.coef()[0] - 1.5).abs() < 1e-9);
    }

    #[test]
    fn invalid_input_is_rejected() {
        let x = array![[1.0], [2.0]];
        assert!(Ridge {
            alpha: -1.0,
            ..Ridge::default()
        }
        .fit(x.view(), array![1.0, 2.0].view())
        .unwrap_err()
        .to_string()
        .contains("alpha must be finite and >= 0, got -1"));
        assert!(LinearRegression::default()
            .fit(x.view(), array![1.0].view())
            .is_err());
        assert!(LinearRegression::default()
            .fit(x.view(), array![1.0, f64::NAN].view())
            .is_err());
    }
}
