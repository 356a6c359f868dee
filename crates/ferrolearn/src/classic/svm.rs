//! Soft-margin linear SVM (hinge or squared hinge + L2), binary or one-vs-rest multiclass.
//!
//! Binary objective with labels `t_i = ±1` (class 1 is `+1`):
//! `0.5 ||w||^2 [+ 0.5 w_b^2] + C * sum_i loss(t_i (w·x_i + b))`. Where the intercept sits is
//! a choice ([`SvmIntercept`]), and it changes the problem:
//! - [`SvmIntercept::Penalized`] (default, liblinear/`LinearSVC`): `b = s·w_b` is the weight of
//!   a constant feature `s` (`intercept_scaling`), so `0.5 w_b^2` joins the penalty.
//! - [`SvmIntercept::Free`] (libsvm/`SVC(kernel="linear")`, the textbook SVM): `b` is not
//!   penalised; the dual gains the constraint `Σ α_i t_i = 0`.
//! - [`SvmIntercept::None`]: `b = 0`.
//!
//! Solvers ([`SvmSolver`]; all exact up to their tolerance):
//! - the dual by coordinate descent (Hsieh et al. 2008, liblinear's, with shrinking) for a
//!   penalised or absent intercept, or by SMO (libsvm's) for a free one, whose kernel columns
//!   cost `n·d` each, so it suits small and medium data;
//! - the primal by truncated Newton ([`SvmSolver::Primal`], squared hinge only), which
//!   [`SvmSolver::Auto`] picks when there are more samples than features, as scikit-learn's
//!   `dual="auto"` does.
//!
//! With more than two classes, one binary SVM per class (that class against the rest) is fit,
//! the classes in parallel; the prediction is the class of the highest score.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::linear_input::{check_at_least_one, check_positive, check_training_set};
use super::linear_kernels::{classes_from_scores, linear_scores, RowStore};
use super::svm_dual::{coordinate_descent, smo, BinarySolution};
use super::svm_primal::squared_hinge_newton;
use super::{Classifier, FitClassifier};
use crate::{Error, Result};

/// The per-sample loss of the margin `m = t (w·x + b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SvmLoss {
    /// `max(0, 1 - m)`.
    Hinge,
    /// `max(0, 1 - m)^2`, `LinearSVC`'s default (differentiable).
    #[default]
    SquaredHinge,
}

impl SvmLoss {
    /// The loss of one margin.
    pub fn value(&self, margin: f64) -> f64 {
        let h = (1.0 - margin).max(0.0);
        match self {
            SvmLoss::Hinge => h,
            SvmLoss::SquaredHinge => h * h,
        }
    }
}

/// How the intercept enters the problem (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SvmIntercept {
    /// No intercept (`b = 0`).
    None,
    /// liblinear's: weight of a constant feature `scaling`, penalised with the weights.
    Penalized {
        /// The constant feature's value (`intercept_scaling`, > 0).
        scaling: f64,
    },
    /// Unpenalised (exact SMO solver).
    Free,
}

/// Which problem a [`LinearSvm`] solves numerically (both reach the same optimum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SvmSolver {
    /// scikit-learn's `dual="auto"`: the primal for the squared hinge with more samples than
    /// features, else the dual.
    #[default]
    Auto,
    /// The dual: coordinate descent (penalised or no intercept) or SMO (free intercept).
    Dual,
    /// The primal by truncated Newton (conjugate gradients), all one-vs-rest problems
    /// together; squared hinge only.
    Primal,
}

/// Hyperparameters of the linear SVM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearSvm {
    /// Weight of the loss sum (> 0); larger is a harder margin.
    pub c: f64,
    /// Hinge or squared hinge.
    pub loss: SvmLoss,
    /// Where the intercept sits.
    pub intercept: SvmIntercept,
    /// Stopping tolerance: the dual's projected-gradient spread (coordinate descent), maximal
    /// KKT violation (SMO), or the primal gradient norm relative to its value at zero, times
    /// the smallest class share (primal Newton, as liblinear).
    pub tol: f64,
    /// The most passes over the data (coordinate descent), `max_iter · n` pair updates (SMO),
    /// or Newton steps (primal).
    pub max_iter: usize,
    /// Seed of the coordinate order of dual coordinate descent.
    pub seed: u64,
    /// Primal or dual solver.
    pub solver: SvmSolver,
}

impl Default for LinearSvm {
    /// `LinearSVC`'s defaults: `C = 1`, squared hinge, penalised intercept with scaling 1,
    /// `tol` 1e-4, 1000 iterations.
    fn default() -> Self {
        LinearSvm {
            c: 1.0,
            loss: SvmLoss::SquaredHinge,
            intercept: SvmIntercept::Penalized { scaling: 1.0 },
            tol: 1e-4,
            max_iter: 1000,
            seed: 0,
            solver: SvmSolver::Auto,
        }
    }
}

impl LinearSvm {
    /// Checks the hyperparameters (`C must be > 0, got 0`, ...).
    pub fn validate(&self) -> Result<()> {
        check_positive("C", self.c)?;
        check_positive("tol", self.tol)?;
        check_at_least_one("max_iter", self.max_iter)?;
        if let SvmIntercept::Penalized { scaling } = self.intercept {
            check_positive("intercept scaling", scaling)?;
        }
        if self.solver == SvmSolver::Primal && self.loss == SvmLoss::Hinge {
            return Err(Error::InvalidParameter(
                "the primal solver needs the squared hinge (the hinge is not differentiable); \
                 use SvmSolver::Dual or Auto"
                    .into(),
            ));
        }
        Ok(())
    }

    fn solve_binary(&self, x: ArrayView2<f64>, rows: &RowStore, t: &[f64]) -> BinarySolution {
        match self.intercept {
            SvmIntercept::None => coordinate_descent(
                rows,
                t,
                self.c,
                self.loss,
                None,
                self.tol,
                self.max_iter,
                self.seed,
            ),
            SvmIntercept::Penalized { scaling } => coordinate_descent(
                rows,
                t,
                self.c,
                self.loss,
                Some(scaling),
                self.tol,
                self.max_iter,
                self.seed,
            ),
            SvmIntercept::Free => smo(
                x,
                t,
                self.c,
                self.loss,
                self.tol,
                self.max_iter.saturating_mul(x.nrows()),
            ),
        }
    }
}

/// A fitted linear SVM: one weight row per binary problem (1 for two classes, `K` for
/// one-vs-rest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearSvmModel {
    n_classes: usize,
    n_features: usize,
    /// `[R, D]` row-major, `R = 1` (binary) or `K`.
    coef: Vec<f64>,
    intercept: Vec<f64>,
    params: LinearSvm,
    n_iter: usize,
    converged: bool,
}

impl FitClassifier for LinearSvm {
    type Fitted = LinearSvmModel;

    /// Fits on labels `0..K`; errors on one class only or bad settings.
    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<LinearSvmModel> {
        self.validate()?;
        let k = check_training_set(x, y)?;
        let x = x.as_standard_layout();
        let problems: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
        let primal = match self.solver {
            SvmSolver::Auto => self.loss == SvmLoss::SquaredHinge && x.nrows() > x.ncols(),
            SvmSolver::Dual => false,
            SvmSolver::Primal => true,
        };
        if primal {
            let sol = squared_hinge_newton(
                x.view(),
                y,
                &problems,
                self.c,
                self.intercept,
                self.tol,
                self.max_iter,
            )?;
            return Ok(LinearSvmModel {
                n_classes: k,
                n_features: x.ncols(),
                coef: sol.w,
                intercept: sol.b,
                params: *self,
                n_iter: sol.n_iter,
                converged: sol.converged,
            });
        }
        let rows = RowStore::new(x.view());
        let solutions: Vec<BinarySolution> = problems
            .par_iter()
            .map(|&class| {
                let t: Vec<f64> = y
                    .iter()
                    .map(|&v| if v == class { 1.0 } else { -1.0 })
                    .collect();
                self.solve_binary(x.view(), &rows, &t)
            })
            .collect();
        let mut coef = Vec::with_capacity(problems.len() * x.ncols());
        for s in &solutions {
            if s.w.iter().any(|v| !v.is_finite()) || !s.b.is_finite() {
                return Err(Error::Training(
                    "linear SVM produced non-finite weights".into(),
                ));
            }
            coef.extend_from_slice(&s.w);
        }
        Ok(LinearSvmModel {
            n_classes: k,
            n_features: x.ncols(),
            coef,
            intercept: solutions.iter().map(|s| s.b).collect(),
            params: *self,
            n_iter: solutions.iter().map(|s| s.n_iter).max().unwrap_or(0),
            converged: solutions.iter().all(|s| s.converged),
        })
    }
}

impl LinearSvmModel {
    /// The weights `[R, D]`: `R = 1` for two classes (scores of class 1), else one row per class.
    pub fn coef(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.intercept.len(), self.n_features), &self.coef)
            .expect("coef is [R, D]")
    }

    /// The intercepts `[R]`.
    pub fn intercept(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.intercept)
    }

    /// The number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The most solver iterations any binary problem used (passes, pair updates, or the joint
    /// Newton steps of the primal).
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Whether every binary problem met its tolerance.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Scores `w_r·x_i + b_r`, `[N, R]` (`R = 1` for two classes: positive means class 1).
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        linear_scores(x, self.coef(), self.intercept())
    }

    /// The primal objective summed over the binary problems on `(x, y)`:
    /// `0.5 ||w||^2 + C sum loss`, plus `0.5 (b / scaling)^2` when the intercept is penalised.
    pub fn objective(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<f64> {
        let s = self.decision_function(x)?;
        if y.len() != s.nrows() {
            return Err(Error::InvalidData(format!(
                "x has {} rows but y has {} labels",
                s.nrows(),
                y.len()
            )));
        }
        let mut total = 0.5 * self.coef.iter().map(|v| v * v).sum::<f64>();
        if let SvmIntercept::Penalized { scaling } = self.params.intercept {
            total += 0.5
                * self
                    .intercept
                    .iter()
                    .map(|b| (b / scaling).powi(2))
                    .sum::<f64>();
        }
        let binary = self.intercept.len() == 1;
        for (row, &label) in s.outer_iter().zip(&y) {
            for (r, &score) in row.iter().enumerate() {
                let positive = if binary { label == 1 } else { label == r };
                let t = if positive { 1.0 } else { -1.0 };
                total += self.params.c * self.params.loss.value(t * score);
            }
        }
        Ok(total)
    }
}

impl Classifier for LinearSvmModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    /// Binary: class 1 where the score is > 0. One-vs-rest: the highest score (ties: smallest).
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        Ok(classes_from_scores(&self.decision_function(x)?))
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
            [3.5, 2.5],
            [-1.0, 2.0]
        ];
        (x, array![0, 0, 1, 1, 0, 1, 0, 1, 1])
    }

    fn assert_close(model: &LinearSvmModel, coef: &[f64], intercept: &[f64]) {
        for (g, w) in model.coef().iter().zip(coef) {
            assert!((g - w).abs() < 1e-6, "coef {:?} vs {coef:?}", model.coef());
        }
        for (g, w) in model.intercept().iter().zip(intercept) {
            assert!(
                (g - w).abs() < 1e-6,
                "intercept {:?} vs {intercept:?}",
                model.intercept()
            );
        }
    }

    /// Python (scikit-learn 1.9.1), with the toy X, y above:
    /// ```python
    /// LinearSVC(loss='hinge', C=1.0, tol=1e-10, max_iter=100000).fit(X, y)  # coef_, intercept_
    /// LinearSVC(C=1.0, tol=1e-10, max_iter=100000).fit(X, y)
    /// SVC(kernel='linear', C=1.0, tol=1e-10).fit(X, y)
    /// ```
    #[test]
    fn binary_matches_liblinear_and_libsvm() {
        let (x, y) = toy();
        let tight = LinearSvm {
            tol: 1e-10,
            max_iter: 100_000,
            ..Default::default()
        };
        let hinge = LinearSvm {
            loss: SvmLoss::Hinge,
            ..tight
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_close(
            &hinge,
            &[0.5555555555555556, 0.38888888888888884],
            &[-0.8888888888888892],
        );
        let squared = tight.fit(x.view(), y.view()).unwrap();
        assert_close(
            &squared,
            &[0.2678345320923669, 0.1545550667693547],
            &[-0.4483402300050913],
        );
        let free = LinearSvm {
            loss: SvmLoss::Hinge,
            intercept: SvmIntercept::Free,
            ..tight
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_close(
            &free,
            &[0.8235294117647056, 0.20588235294117663],
            &[-1.2058823529411766],
        );
        assert!(free.converged() && hinge.converged());
        // The free-intercept optimum is lower on its own objective than the penalised one's b.
        let pred = free.predict(x.view()).unwrap();
        let z = free.decision_function(x.view()).unwrap();
        for (k, &p) in pred.iter().enumerate() {
            assert_eq!(p == 1, z[[k, 0]] > 0.0);
        }
    }

    /// `LinearSVC(C=0.5, tol=1e-10, max_iter=100000).fit(X, [0,0,1,2,0,1,2,2,1])`.
    #[test]
    fn one_vs_rest_matches_liblinear() {
        let (x, _) = toy();
        let y = array![0, 0, 1, 2, 0, 1, 2, 2, 1];
        let m = LinearSvm {
            c: 0.5,
            tol: 1e-10,
            max_iter: 100_000,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_close(
            &m,
            &[
                -0.26007677543186175,
                -0.4577735124760076,
                -0.11197612560010381,
                0.031400025950434673,
                0.27377355776147316,
                0.33563516040857433,
            ],
            &[
                0.47840690978886746,
                -0.19054106656286493,
                -1.0686232196806216,
            ],
        );
        assert_eq!(m.decision_function(x.view()).unwrap().dim(), (9, 3));
    }

    /// The scores `predict --run` writes, as scikit-learn's (1.9.1) `decision_function` on
    /// the toy X (rounded to 10 decimals): one column for two classes, one per class for the
    /// one-vs-rest problem.
    /// ```python
    /// LinearSVC(C=1.0, tol=1e-10, max_iter=100000).fit(X, y).decision_function(X)
    /// LinearSVC(C=0.5, tol=1e-10, max_iter=100000).fit(X, [0,0,1,2,0,1,2,2,1]).decision_function(X)
    /// ```
    #[test]
    fn decision_scores_match_liblinear() {
        let (x, y) = toy();
        let tight = LinearSvm {
            tol: 1e-10,
            max_iter: 100_000,
            ..Default::default()
        };
        let binary = [
            -0.2937851632,
            -0.1032281645,
            0.3964389677,
            0.5869959664,
            -0.4689780307,
            0.2212461002,
            0.4170767684,
            0.8754682992,
            -0.4070646286,
        ];
        let z = tight
            .fit(x.view(), y.view())
            .unwrap()
            .decision_function(x.view())
            .unwrap();
        assert_eq!(z.dim(), (9, 1));
        for (got, want) in z.iter().zip(binary) {
            assert!((got - want).abs() < 1e-6, "{z} vs {binary:?}");
        }
        let ovr = [
            [0.0206333973, -0.1591410406, -0.7329880593],
            [-0.0105566219, -0.2868171792, -0.6270320817],
            [-0.9572936660, -0.3516932659, 0.1501942167],
            [-0.9884836852, -0.4793694044, 0.2561501942],
            [0.8061420345, -0.2779291553, -1.2673716012],
            [-0.1717850288, -0.4704813806, -0.3841893253],
            [-1.2850287908, -0.2643051771, 0.3489425982],
            [-1.5762955854, -0.5039574413, 0.7286721335],
            [-0.1770633397, -0.0157648891, -0.6711264566],
        ];
        let m = LinearSvm { c: 0.5, ..tight }
            .fit(x.view(), array![0, 0, 1, 2, 0, 1, 2, 2, 1].view())
            .unwrap();
        let z = m.decision_function(x.view()).unwrap();
        for (got, want) in z.iter().zip(ovr.iter().flatten()) {
            assert!((got - want).abs() < 1e-6, "{z} vs {ovr:?}");
        }
    }

    #[test]
    fn primal_and_dual_reach_the_same_optimum() {
        let (x, _) = toy();
        let y = array![0, 0, 1, 2, 0, 1, 2, 2, 1];
        for intercept in [
            SvmIntercept::Penalized { scaling: 1.0 },
            SvmIntercept::Free,
            SvmIntercept::None,
        ] {
            let base = LinearSvm {
                c: 0.5,
                tol: 1e-10,
                max_iter: 100_000,
                intercept,
                ..Default::default()
            };
            let dual = LinearSvm {
                solver: SvmSolver::Dual,
                ..base
            }
            .fit(x.view(), y.view())
            .unwrap();
            let primal = LinearSvm {
                solver: SvmSolver::Primal,
                ..base
            }
            .fit(x.view(), y.view())
            .unwrap();
            for (a, b) in dual.coef().iter().zip(primal.coef()) {
                assert!(
                    (a - b).abs() < 1e-5,
                    "{intercept:?}: {:?} vs {:?}",
                    dual.coef(),
                    primal.coef()
                );
            }
            for (a, b) in dual.intercept().iter().zip(primal.intercept()) {
                assert!((a - b).abs() < 1e-5, "{intercept:?}: {a} vs {b}");
            }
        }
        let hinge_primal = LinearSvm {
            loss: SvmLoss::Hinge,
            solver: SvmSolver::Primal,
            ..Default::default()
        };
        assert!(matches!(
            hinge_primal.validate(),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn squared_hinge_with_free_intercept_is_optimal() {
        // SMO on the squared hinge (U = ∞): perturbing the solution never lowers the objective.
        let (x, y) = toy();
        let m = LinearSvm {
            intercept: SvmIntercept::Free,
            tol: 1e-10,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        let best = m.objective(x.view(), y.view()).unwrap();
        for (idx, h) in [(0, 1e-4), (1, -1e-4), (2, 1e-4), (2, -1e-4)] {
            let mut moved = m.clone();
            if idx < 2 {
                moved.coef[idx] += h;
            } else {
                moved.intercept[0] += h;
            }
            assert!(moved.objective(x.view(), y.view()).unwrap() > best);
        }
    }

    #[test]
    fn errors_are_typed() {
        let (x, y) = toy();
        let err = LinearSvm {
            c: 0.0,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap_err();
        assert_eq!(err.to_string(), "invalid parameter: C must be > 0, got 0");
        let one = Array1::zeros(9);
        assert!(matches!(
            LinearSvm::default().fit(x.view(), one.view()),
            Err(Error::InvalidData(_))
        ));
        let m = LinearSvm::default().fit(x.view(), y.view()).unwrap();
        let err = m.predict(array![[1.0, 2.0, 3.0]].view()).unwrap_err();
        assert!(err
            .to_string()
            .contains("x has 3 features but the model was fitted with 2"));
    }
}
