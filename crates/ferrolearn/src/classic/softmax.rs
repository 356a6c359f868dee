//! Softmax (multinomial logistic) regression with none / L2 / L1 / elastic-net penalties.
//!
//! Full parameterisation, as scikit-learn's multinomial `LogisticRegression`: weights `W`
//! `[K, D]` (one row per class) and intercepts `b` `[K]`. Objective:
//! `penalty(W) + C * sum_i -log softmax(W x_i + b)[y_i]`; the intercepts are **not**
//! penalised, so with L2 the optimal `W` is unique (its rows sum to zero) and `b` is unique
//! only up to a constant added to every class. Log-sum-exp subtracts each row's maximum.
//!
//! Scores `X Wᵀ` and the weight gradient `Gᵀ X` are GEMMs (parallel for large inputs); the
//! per-row softmax runs in parallel over rows.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::linear_input::{check_positive, check_training_set};
use super::linear_kernels::{linear_scores, matmul, matmul_into};
use super::linear_solver::{select_rows, solve, DataLoss, Solver};
use super::penalty::Penalty;
use super::{Classifier, FitClassifier};
use crate::Result;

/// Hyperparameters of softmax regression over classes `0..K` (`K = max(y) + 1 >= 2`).
///
/// A class in `0..K` with no training rows is still given weights (pushed towards never
/// being predicted); without a penalty its scores then grow without bound, so keep a penalty
/// when some labels are absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SoftmaxRegression {
    /// Inverse regularisation strength (> 0): the summed loss is multiplied by `C`.
    pub c: f64,
    /// The penalty on `W` (the intercepts are never penalised).
    pub penalty: Penalty,
    /// How to minimise the objective.
    pub solver: Solver,
    /// Whether to fit intercepts `b` (else `b = 0`).
    pub fit_intercept: bool,
}

impl Default for SoftmaxRegression {
    /// scikit-learn's defaults: `C = 1`, L2, L-BFGS with 100 iterations and `tol` 1e-4.
    fn default() -> Self {
        SoftmaxRegression {
            c: 1.0,
            penalty: Penalty::L2,
            solver: Solver::default(),
            fit_intercept: true,
        }
    }
}

impl SoftmaxRegression {
    /// Checks the hyperparameters (`C must be > 0, got 0`, solver and penalty settings).
    pub fn validate(&self) -> Result<()> {
        check_positive("C", self.c)?;
        self.solver.validate(self.penalty)
    }
}

/// Overwrites each row of `scores` (`[N, K]`, logits) with `softmax(row) - onehot(y)` and
/// returns the summed cross-entropy `sum_i logsumexp(s_i) - s_i[y_i]`.
fn softmax_grad_rows(scores: &mut Array2<f64>, labels: &[usize]) -> f64 {
    let k = scores.ncols();
    let data = scores
        .as_slice_mut()
        .expect("scores are a fresh standard-layout array");
    data.par_chunks_mut(k)
        .zip(labels.par_iter())
        .map(|(row, &yi)| {
            let m = row.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let shifted_true = row[yi] - m;
            let mut sum = 0.0;
            for v in row.iter_mut() {
                *v = (*v - m).exp();
                sum += *v;
            }
            for v in row.iter_mut() {
                *v /= sum;
            }
            row[yi] -= 1.0;
            // -log p_y = logsumexp(s) - s_y = log(sum exp(s - m)) - (s_y - m)
            sum.ln() - shifted_true
        })
        .sum()
}

/// The data term; parameters `[W (K·D, row-major), b (K)]`.
struct SoftmaxLoss<'x, 'y> {
    x: ArrayView2<'x, f64>,
    y: ArrayView1<'y, usize>,
    k: usize,
    fit_intercept: bool,
}

impl SoftmaxLoss<'_, '_> {
    fn add_intercepts(&self, scores: &mut Array2<f64>, params: &[f64]) {
        if self.fit_intercept {
            let b = ArrayView1::from(&params[self.k * self.x.ncols()..]);
            *scores += &b;
        }
    }
}

impl DataLoss for SoftmaxLoss<'_, '_> {
    fn n_samples(&self) -> usize {
        self.x.nrows()
    }
    fn n_params(&self) -> usize {
        self.k * self.x.ncols() + if self.fit_intercept { self.k } else { 0 }
    }
    fn n_weights(&self) -> usize {
        self.k * self.x.ncols()
    }
    fn loss_grad(&self, params: &[f64], rows: Option<&[usize]>, grad: &mut [f64]) -> f64 {
        let (k, d) = (self.k, self.x.ncols());
        let xs = select_rows(self.x, rows);
        let labels: Vec<usize> = match rows {
            None => self.y.to_vec(),
            Some(r) => r.iter().map(|&i| self.y[i]).collect(),
        };
        let w = ArrayView2::from_shape((k, d), &params[..k * d]).expect("params hold K·D weights");
        let mut scores = matmul(xs.view(), w.t());
        self.add_intercepts(&mut scores, params);
        let loss = softmax_grad_rows(&mut scores, &labels);
        let (gw, gb) = grad.split_at_mut(k * d);
        let gw = ArrayViewMut2::from_shape((k, d), gw).expect("grad holds K·D weights");
        matmul_into(gw, scores.t(), xs.view(), false);
        if self.fit_intercept {
            gb.iter_mut()
                .zip(scores.sum_axis(Axis(0)))
                .for_each(|(g, s)| *g = s);
        }
        loss
    }
}

/// A fitted softmax regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftmaxModel {
    n_classes: usize,
    n_features: usize,
    /// `W` row-major `[K, D]`.
    coef: Vec<f64>,
    intercept: Vec<f64>,
    c: f64,
    penalty: Penalty,
    n_iter: usize,
    converged: bool,
    loss_curve: Vec<f64>,
}

impl FitClassifier for SoftmaxRegression {
    type Fitted = SoftmaxModel;

    /// Fits on labels in `0..K`; errors on one class only or bad settings.
    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<SoftmaxModel> {
        self.validate()?;
        let k = check_training_set(x, y)?;
        let d = x.ncols();
        let data = SoftmaxLoss {
            x,
            y,
            k,
            fit_intercept: self.fit_intercept,
        };
        let out = solve(&data, self.penalty, self.c, &self.solver)?;
        let intercept = if self.fit_intercept {
            // Any constant shift of b leaves the objective unchanged: report the centred one.
            let b = &out.params[k * d..];
            let mean = b.iter().sum::<f64>() / k as f64;
            b.iter().map(|v| v - mean).collect()
        } else {
            vec![0.0; k]
        };
        Ok(SoftmaxModel {
            n_classes: k,
            n_features: d,
            coef: out.params[..k * d].to_vec(),
            intercept,
            c: self.c,
            penalty: self.penalty,
            n_iter: out.n_iter,
            converged: out.converged,
            loss_curve: out.loss_curve,
        })
    }
}

impl SoftmaxModel {
    /// The number of classes `K`.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The weights `W` `[K, D]`.
    pub fn coef(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.n_classes, self.n_features), &self.coef)
            .expect("coef is [K, D]")
    }

    /// The intercepts `b` `[K]`, centred to sum to zero (they are unique only up to a constant).
    pub fn intercept(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.intercept)
    }

    /// Iterations (or epochs) the solver ran.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Whether the solver met its stopping test (gradient descent runs its epochs: false).
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// The solver's objective divided by `C·n` at the start and after each iteration/epoch.
    pub fn loss_curve(&self) -> &[f64] {
        &self.loss_curve
    }

    /// Class scores (logits) `W x_i + b`, `[N, K]`.
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        linear_scores(x, self.coef(), self.intercept())
    }

    /// Class probabilities `softmax(W x_i + b)`, `[N, K]`; each row sums to 1.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let mut s = self.decision_function(x)?;
        for mut row in s.outer_iter_mut() {
            let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            row.mapv_inplace(|v| (v - m).exp());
            let sum = row.sum();
            row /= sum;
        }
        Ok(s)
    }

    /// The training objective `penalty(W) + C * sum_i -log softmax(W x_i + b)[y_i]` on `(x, y)`.
    pub fn objective(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<f64> {
        let mut s = self.decision_function(x)?;
        let labels: Vec<usize> = y.to_vec();
        if labels.len() != s.nrows() || labels.iter().any(|&l| l >= self.n_classes) {
            return Err(crate::Error::InvalidData(format!(
                "objective needs {} labels in 0..{}, got {} labels",
                s.nrows(),
                self.n_classes,
                labels.len()
            )));
        }
        let loss = softmax_grad_rows(&mut s, &labels);
        Ok(self.penalty.value(&self.coef) + self.c * loss)
    }
}

impl Classifier for SoftmaxModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    /// The class with the highest score (ties: the smallest label).
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        let s = self.decision_function(x)?;
        Ok(s.outer_iter().map(argmax).collect())
    }
}

/// Index of the largest entry (first on ties).
pub(crate) fn argmax(row: ArrayView1<f64>) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use ndarray::array;

    fn toy() -> (Array2<f64>, Array1<usize>) {
        let x = array![
            [0.0, 1.0],
            [1.0, 0.5],
            [2.0, 2.0],
            [3.0, 1.5],
            [0.5, -1.0],
            [2.5, 0.0],
            [1.5, 3.0],
            [3.5, 2.5],
            [-1.0, 2.0]
        ];
        (x, array![0, 0, 1, 2, 0, 1, 2, 2, 1])
    }

    /// Python (scikit-learn 1.9.1):
    /// ```python
    /// X = [[0,1],[1,.5],[2,2],[3,1.5],[.5,-1],[2.5,0],[1.5,3],[3.5,2.5],[-1,2]]
    /// y = [0,0,1,2,0,1,2,2,1]
    /// m = LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(X, y)
    /// print(m.coef_.tolist(), (m.intercept_ - m.intercept_.mean()).tolist())
    /// ```
    #[test]
    fn matches_sklearn_multinomial() {
        let (x, y) = toy();
        let m = SoftmaxRegression {
            c: 0.5,
            solver: Solver::Lbfgs {
                max_iter: 1000,
                tol: 1e-10,
            },
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        for (g, w) in m.coef().iter().zip(SKLEARN_COEF.iter().flatten()) {
            assert!((g - w).abs() < 1e-6, "{:?}", m.coef());
        }
        for (g, w) in m.intercept().iter().zip(SKLEARN_INTERCEPT) {
            assert!((g - w).abs() < 1e-6, "{:?}", m.intercept());
        }
        let p = m.predict_proba(x.view()).unwrap();
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
        let pred = m.predict(x.view()).unwrap();
        for (k, row) in p.outer_iter().enumerate() {
            assert_eq!(pred[k], argmax(row));
        }
    }

    const SKLEARN_COEF: [[f64; 2]; 3] = [
        [-0.4097894387519032, -0.5815967839483694],
        [-0.10576474852904381, 0.02226594833106909],
        [0.5155541872809468, 0.5593308356173007],
    ];
    const SKLEARN_INTERCEPT: [f64; 3] =
        [1.2484955662991768, 0.38583366263319263, -1.6343292289323696];

    #[test]
    fn minibatch_gradient_descent_approaches_the_optimum() {
        let (x, y) = toy();
        let exact = SoftmaxRegression::default()
            .fit(x.view(), y.view())
            .unwrap();
        let best = exact.objective(x.view(), y.view()).unwrap();
        let sgd = SoftmaxRegression {
            solver: Solver::GradientDescent {
                learning_rate: 0.1,
                epochs: 300,
                batch_size: Some(3),
                seed: 3,
            },
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        let got = sgd.objective(x.view(), y.view()).unwrap();
        assert!(got >= best - 1e-9 && got < best * 1.05, "{got} vs {best}");
        assert!(sgd.loss_curve().last() < sgd.loss_curve().first());
    }

    #[test]
    fn l1_gives_sparse_weights() {
        let (x, y) = toy();
        let m = SoftmaxRegression {
            c: 0.05,
            penalty: Penalty::L1,
            solver: Solver::Fista {
                max_iter: 5000,
                tol: 1e-8,
            },
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert!(m.coef().iter().any(|&v| v == 0.0), "{:?}", m.coef());
    }

    #[test]
    fn huge_logits_stay_finite_and_errors_are_typed() {
        let (x, y) = toy();
        let mut m = SoftmaxRegression::default()
            .fit(x.view(), y.view())
            .unwrap();
        m.coef.iter_mut().for_each(|v| *v *= 1e4);
        let p = m.predict_proba(x.view()).unwrap();
        assert!(p.iter().all(|v| v.is_finite()));
        assert!(m.objective(x.view(), y.view()).unwrap().is_finite());
        let err = m.predict(array![[1.0]].view()).unwrap_err();
        assert!(err
            .to_string()
            .contains("x has 1 features but the model was fitted with 2"));
        let bad = SoftmaxRegression {
            c: 0.0,
            ..Default::default()
        };
        assert!(matches!(
            bad.fit(x.view(), y.view()),
            Err(Error::InvalidParameter(_))
        ));
    }
}
