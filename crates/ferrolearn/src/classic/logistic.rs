//! Binary logistic regression (cross-entropy) with none / L2 / L1 / elastic-net penalties.
//!
//! Objective (scikit-learn's): `penalty(w) + C * sum_i log(1 + exp(-t_i (w·x_i + b)))` with
//! `t_i = 2 y_i - 1` in `{-1, +1}`; the intercept `b` is **not** penalised. The loss is
//! evaluated as `softplus(-t z)` (`max(u, 0) + log1p(exp(-|u|))`), which never overflows.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};

use super::linear_input::{check_positive, check_predict_input, check_training_set};
use super::linear_kernels::{matmul, matmul_into};
use super::linear_solver::{select_rows, solve, DataLoss, Solver};
use super::penalty::Penalty;
use super::{Classifier, FitClassifier};
use crate::{Error, Result};

/// `log(1 + exp(u))` without overflow.
pub(crate) fn softplus(u: f64) -> f64 {
    u.max(0.0) + (-u.abs()).exp().ln_1p()
}

/// `1 / (1 + exp(-u))` without overflow.
pub(crate) fn sigmoid(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// Hyperparameters of binary logistic regression (labels 0 and 1; class 1 is "positive").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    /// Inverse regularisation strength: the loss sum is multiplied by `C` (> 0).
    pub c: f64,
    /// The penalty on the weights (the intercept is never penalised).
    pub penalty: Penalty,
    /// How to minimise the objective.
    pub solver: Solver,
    /// Whether to fit an intercept `b` (else `b = 0`).
    pub fit_intercept: bool,
}

impl Default for LogisticRegression {
    /// scikit-learn's defaults: `C = 1`, L2, L-BFGS with 100 iterations and `tol` 1e-4.
    fn default() -> Self {
        LogisticRegression {
            c: 1.0,
            penalty: Penalty::L2,
            solver: Solver::default(),
            fit_intercept: true,
        }
    }
}

impl LogisticRegression {
    /// Checks the hyperparameters (`C must be > 0, got -1`, solver and penalty settings).
    pub fn validate(&self) -> Result<()> {
        check_positive("C", self.c)?;
        self.solver.validate(self.penalty)
    }
}

/// The data term: logistic loss of `t_i (w·x_i + b)`; parameters `[w (D), b]`.
struct BinaryLogLoss<'a> {
    x: ArrayView2<'a, f64>,
    t: Vec<f64>,
    fit_intercept: bool,
}

impl DataLoss for BinaryLogLoss<'_> {
    fn n_samples(&self) -> usize {
        self.x.nrows()
    }
    fn n_params(&self) -> usize {
        self.x.ncols() + usize::from(self.fit_intercept)
    }
    fn n_weights(&self) -> usize {
        self.x.ncols()
    }
    fn loss_grad(&self, params: &[f64], rows: Option<&[usize]>, grad: &mut [f64]) -> f64 {
        let d = self.x.ncols();
        let xs = select_rows(self.x, rows);
        let w = ArrayView2::from_shape((d, 1), &params[..d]).expect("params hold d weights");
        let b = if self.fit_intercept { params[d] } else { 0.0 };
        let mut z = matmul(xs.view(), w);
        let mut loss = 0.0;
        for (k, zi) in z.iter_mut().enumerate() {
            let t = self.t[rows.map_or(k, |r| r[k])];
            let m = t * (*zi + b);
            loss += softplus(-m);
            // d/dz log(1 + exp(-t z)) = -t * sigmoid(-t z)
            *zi = -t * sigmoid(-m);
        }
        let gw = ArrayViewMut2::from_shape((1, d), &mut grad[..d]).expect("grad holds d weights");
        matmul_into(gw, z.t(), xs.view(), false);
        if self.fit_intercept {
            grad[d] = z.sum();
        }
        loss
    }
}

/// A fitted binary logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    coef: Vec<f64>,
    intercept: f64,
    c: f64,
    penalty: Penalty,
    n_iter: usize,
    converged: bool,
    loss_curve: Vec<f64>,
}

impl FitClassifier for LogisticRegression {
    type Fitted = LogisticModel;

    /// Fits on labels in `{0, 1}`; errors on other labels, one class only, bad settings.
    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<LogisticModel> {
        self.validate()?;
        let n_classes = check_training_set(x, y)?;
        if n_classes != 2 {
            return Err(Error::InvalidData(format!(
                "binary logistic regression needs labels 0 and 1, got label {}; use \
                 SoftmaxRegression for more classes",
                n_classes - 1
            )));
        }
        let data = BinaryLogLoss {
            x,
            t: y.iter().map(|&v| if v == 1 { 1.0 } else { -1.0 }).collect(),
            fit_intercept: self.fit_intercept,
        };
        let out = solve(&data, self.penalty, self.c, &self.solver)?;
        let d = x.ncols();
        Ok(LogisticModel {
            coef: out.params[..d].to_vec(),
            intercept: if self.fit_intercept {
                out.params[d]
            } else {
                0.0
            },
            c: self.c,
            penalty: self.penalty,
            n_iter: out.n_iter,
            converged: out.converged,
            loss_curve: out.loss_curve,
        })
    }
}

impl LogisticModel {
    /// The weights `w` `[D]`.
    pub fn coef(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.coef)
    }

    /// The intercept `b` (0 when fitted without one).
    pub fn intercept(&self) -> f64 {
        self.intercept
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

    /// `w·x_i + b` for each row: the log-odds of class 1.
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        check_predict_input(x, self.coef.len())?;
        let w = ArrayView2::from_shape((self.coef.len(), 1), &self.coef).expect("coef is [D]");
        Ok(matmul(x, w).remove_axis(Axis(1)) + self.intercept)
    }

    /// Probabilities `[N, 2]`: columns P(y = 0) and P(y = 1), as scikit-learn orders them.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let z = self.decision_function(x)?;
        let mut p = Array2::zeros((z.len(), 2));
        for (mut row, &zi) in p.outer_iter_mut().zip(&z) {
            row[1] = sigmoid(zi);
            row[0] = sigmoid(-zi);
        }
        Ok(p)
    }

    /// The training objective `penalty(w) + C * sum_i log(1 + exp(-t_i (w·x_i + b)))` on `(x, y)`.
    pub fn objective(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<f64> {
        let z = self.decision_function(x)?;
        if y.len() != z.len() {
            return Err(Error::InvalidData(format!(
                "x has {} rows but y has {} labels",
                z.len(),
                y.len()
            )));
        }
        let loss: f64 = z
            .iter()
            .zip(&y)
            .map(|(&zi, &yi)| softplus(if yi == 1 { -zi } else { zi }))
            .sum();
        Ok(self.penalty.value(&self.coef) + self.c * loss)
    }
}

impl Classifier for LogisticModel {
    fn n_features(&self) -> usize {
        self.coef.len()
    }

    /// Class 1 where `w·x + b > 0`, else 0.
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        Ok(self.decision_function(x)?.mapv(|z| usize::from(z > 0.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            [3.5, 2.5]
        ];
        (x, array![0, 0, 1, 1, 0, 1, 0, 1])
    }

    /// Python (scikit-learn 1.9.1):
    /// ```python
    /// X = [[0,1],[1,.5],[2,2],[3,1.5],[.5,-1],[2.5,0],[1.5,3],[3.5,2.5]]; y = [0,0,1,1,0,1,0,1]
    /// m = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X, y)
    /// print(m.coef_.tolist(), m.intercept_.tolist())
    /// ```
    #[test]
    fn matches_sklearn_on_toy_data() {
        let (x, y) = toy();
        let learner = LogisticRegression {
            solver: Solver::Lbfgs {
                max_iter: 1000,
                tol: 1e-10,
            },
            ..Default::default()
        };
        let m = learner.fit(x.view(), y.view()).unwrap();
        let want_coef = SKLEARN_TOY_COEF;
        for (g, w) in m.coef().iter().zip(want_coef) {
            assert!((g - w).abs() < 1e-6, "coef {:?} vs {want_coef:?}", m.coef());
        }
        assert!(
            (m.intercept() - SKLEARN_TOY_INTERCEPT).abs() < 1e-6,
            "{}",
            m.intercept()
        );
        assert!(m.converged());
        let p = m.predict_proba(x.view()).unwrap();
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
        let pred = m.predict(x.view()).unwrap();
        let z = m.decision_function(x.view()).unwrap();
        for (k, &c) in pred.iter().enumerate() {
            assert_eq!(c == 1, z[k] > 0.0);
            assert_eq!(c == 1, p[[k, 1]] > 0.5);
        }
    }

    const SKLEARN_TOY_COEF: [f64; 2] = [1.3280202056531827, -0.006242558041693312];
    const SKLEARN_TOY_INTERCEPT: f64 = -2.316109832140244;

    #[test]
    fn every_solver_and_penalty_lowers_the_objective() {
        let (x, y) = toy();
        let start = LogisticModel {
            coef: vec![0.0; 2],
            intercept: 0.0,
            c: 1.0,
            penalty: Penalty::L2,
            n_iter: 0,
            converged: false,
            loss_curve: vec![],
        };
        let zero = start.objective(x.view(), y.view()).unwrap();
        let lbfgs = LogisticRegression::default()
            .fit(x.view(), y.view())
            .unwrap();
        let best = lbfgs.objective(x.view(), y.view()).unwrap();
        let gd = LogisticRegression {
            solver: Solver::GradientDescent {
                learning_rate: 0.5,
                epochs: 2000,
                batch_size: None,
                seed: 0,
            },
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert!((gd.objective(x.view(), y.view()).unwrap() - best).abs() < 1e-6 * best);
        assert!(gd.loss_curve().windows(2).all(|w| w[1] <= w[0] + 1e-12));
        for penalty in [
            Penalty::L1,
            Penalty::ElasticNet { l1_ratio: 0.5 },
            Penalty::None,
        ] {
            let m = LogisticRegression {
                penalty,
                solver: Solver::Fista {
                    max_iter: 20000,
                    tol: 1e-9,
                },
                ..Default::default()
            }
            .fit(x.view(), y.view())
            .unwrap();
            assert!(m.objective(x.view(), y.view()).unwrap() < zero, "{penalty}");
        }
    }

    #[test]
    fn errors_are_typed_and_named() {
        let (x, y) = toy();
        let bad_c = LogisticRegression {
            c: -1.0,
            ..Default::default()
        };
        assert_eq!(
            bad_c.fit(x.view(), y.view()).unwrap_err().to_string(),
            "invalid parameter: C must be > 0, got -1"
        );
        let one = Array1::from_elem(8, 1usize);
        assert!(matches!(
            LogisticRegression::default().fit(x.view(), one.view()),
            Err(Error::InvalidData(_))
        ));
        let three = array![0, 1, 2, 0, 1, 2, 0, 1];
        assert!(LogisticRegression::default()
            .fit(x.view(), three.view())
            .is_err());
        let m = LogisticRegression::default()
            .fit(x.view(), y.view())
            .unwrap();
        let err = m.predict(array![[1.0, 2.0, 3.0]].view()).unwrap_err();
        assert!(err
            .to_string()
            .contains("x has 3 features but the model was fitted with 2"));
    }

    #[test]
    fn stable_for_huge_margins() {
        assert_eq!(softplus(-800.0), 0.0);
        assert_eq!(softplus(800.0), 800.0);
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(sigmoid(800.0), 1.0);
    }
}
