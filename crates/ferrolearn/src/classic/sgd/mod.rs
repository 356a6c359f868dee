//! Linear models fitted by plain stochastic gradient descent, as scikit-learn's
//! `SGDClassifier` and `SGDRegressor`: the same losses, penalties, step-size schedules, stop
//! rule and seeds, so a seed gives scikit-learn's coefficients to rounding.
//!
//! A classifier with more than two classes fits one binary model per class (that class
//! against the rest, in parallel) and predicts the highest score.

mod loss;
mod plain;
mod seeds;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use loss::Loss;
use plain::{plain_sgd, Outcome};
use seeds::{RandomState, MAX_INT};

use super::linear_input::{check_positive, check_training_set};
use super::linear_kernels::{classes_from_scores, linear_scores};
use super::penalty::Penalty;
use super::{check_regression_input, Classifier, FitClassifier, FitRegressor, Regressor};
use crate::{Error, Result};

/// How the step size `eta` moves with the step count `t` (from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LearningRate {
    /// `eta = eta0`.
    Constant,
    /// `eta = 1 / (alpha (t0 + t - 1))`, `t0` from Bottou's heuristic (the classifier's
    /// default).
    Optimal,
    /// `eta = eta0 / t^power_t` (the regressor's default).
    InvScaling,
    /// `eta0`, divided by 5 each time `n_iter_no_change` epochs fail to improve by `tol`.
    Adaptive,
}

/// Hyperparameters of SGD, as scikit-learn's (`eta0`, `power_t`, `n_iter_no_change`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sgd {
    /// The loss per sample.
    pub loss: Loss,
    /// The penalty on the weights (never on the intercept).
    pub penalty: Penalty,
    /// Penalty strength (>= 0; > 0 with [`LearningRate::Optimal`]).
    pub alpha: f64,
    /// Whether to learn an intercept.
    pub fit_intercept: bool,
    /// The most epochs (passes over the data).
    pub max_iter: usize,
    /// Stop once the epoch's mean objective has not fallen below the best by `tol` for
    /// `n_iter_no_change` epochs; `None` runs every epoch.
    pub tol: Option<f64>,
    /// Epochs without improvement before stopping (or, adaptive, before dividing `eta`).
    pub n_iter_no_change: usize,
    /// Whether to reshuffle the samples every epoch.
    pub shuffle: bool,
    /// numpy `RandomState` seed of the shuffle, as scikit-learn's `random_state`.
    pub seed: u32,
    /// The step-size schedule.
    pub learning_rate: LearningRate,
    /// The initial step size (> 0; unused by [`LearningRate::Optimal`]).
    pub eta0: f64,
    /// The exponent of [`LearningRate::InvScaling`].
    pub power_t: f64,
    /// Classifier: a weight per class (by label) multiplying its samples' steps, as
    /// scikit-learn's `class_weight`; `None` weighs every class 1.
    pub class_weight: Option<Vec<f64>>,
}

impl Sgd {
    /// `SGDClassifier()`'s defaults: hinge loss, L2 with alpha 1e-4, the optimal schedule.
    pub fn classifier() -> Sgd {
        Sgd {
            loss: Loss::Hinge { threshold: 1.0 },
            penalty: Penalty::L2,
            alpha: 1e-4,
            fit_intercept: true,
            max_iter: 1000,
            tol: Some(1e-3),
            n_iter_no_change: 5,
            shuffle: true,
            seed: 0,
            learning_rate: LearningRate::Optimal,
            eta0: 0.01,
            power_t: 0.5,
            class_weight: None,
        }
    }

    /// `SGDRegressor()`'s defaults: squared error, inverse scaling from 0.01 with power 0.25.
    pub fn regressor() -> Sgd {
        Sgd {
            loss: Loss::SquaredError,
            learning_rate: LearningRate::InvScaling,
            power_t: 0.25,
            ..Sgd::classifier()
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::InvalidParameter(what));
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return bad(format!("alpha must be >= 0, got {}", self.alpha));
        }
        if self.learning_rate == LearningRate::Optimal && self.alpha == 0.0 {
            return bad(
                "alpha must be > 0 with the optimal learning rate, which is 1 / (alpha t)".into(),
            );
        }
        check_positive("eta0", self.eta0)?;
        if !self.power_t.is_finite() {
            return bad(format!("power_t must be finite, got {}", self.power_t));
        }
        if self.max_iter == 0 || self.n_iter_no_change == 0 {
            return bad("max_iter and n_iter_no_change must be >= 1".into());
        }
        if let Some(tol) = self.tol.filter(|t| t.is_nan() || *t < 0.0) {
            return bad(format!("tol must be >= 0, got {tol}"));
        }
        self.penalty.validate()
    }

    /// Fits one binary problem with a shuffle seeded as scikit-learn's `fit_binary` seeds it
    /// from `state` (after the draw its dataset takes).
    fn fit_binary(
        &self,
        x: ArrayView2<f64>,
        y: &[f64],
        weights: (f64, f64),
        mut state: RandomState,
    ) -> Result<Outcome> {
        state.randint(1, MAX_INT);
        let shuffle_seed = state.randint(0, MAX_INT);
        plain_sgd(self, x, y, weights, shuffle_seed)
    }

    /// The weight of each class `0..n_classes`; errors when `class_weight` has another length
    /// or a negative weight.
    fn class_weights(&self, n_classes: usize) -> Result<Vec<f64>> {
        let Some(w) = &self.class_weight else {
            return Ok(vec![1.0; n_classes]);
        };
        if w.len() != n_classes {
            return Err(Error::InvalidParameter(format!(
                "class_weight has {} weights but y has {n_classes} classes",
                w.len()
            )));
        }
        if let Some(bad) = w.iter().find(|v| !(**v >= 0.0 && v.is_finite())) {
            return Err(Error::InvalidParameter(format!(
                "class weights must be finite and >= 0, got {bad}"
            )));
        }
        Ok(w.clone())
    }
}

/// A fitted SGD classifier: one weight row for two classes (positive: the second), one per
/// class otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdClassifierModel {
    n_features: usize,
    /// Weights `[1 or n_classes, n_features]`, row-major.
    coef: Vec<f64>,
    /// Intercepts, one per weight row.
    intercept: Vec<f64>,
    /// The loss it was fitted with.
    pub loss: Loss,
    /// The most epochs any of its binary fits ran.
    pub n_iter: usize,
}

impl SgdClassifierModel {
    /// The weights `[1 or n_classes, n_features]`.
    pub fn coef(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.intercept.len(), self.n_features), &self.coef)
            .expect("rows x features weights")
    }

    /// The intercepts, one per weight row.
    pub fn intercept(&self) -> &[f64] {
        &self.intercept
    }

    /// `X · coefᵀ + intercept`: `[N, 1]` for two classes, `[N, n_classes]` otherwise.
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        linear_scores(x, self.coef(), ArrayView1::from(&self.intercept))
    }

    /// Class probabilities `[N, n_classes]` as scikit-learn's `predict_proba`: the logistic
    /// of each one-vs-rest score (log_loss) or `(clip(score, -1, 1) + 1) / 2`
    /// (modified_huber), normalised over the classes (uniform where all are zero); `None`
    /// for the other losses, which give no probabilities.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>> {
        let link: fn(f64) -> f64 = match self.loss {
            Loss::LogLoss => |s| 1.0 / (1.0 + (-s).exp()),
            Loss::ModifiedHuber => |s| (s.clamp(-1.0, 1.0) + 1.0) / 2.0,
            _ => return Ok(None),
        };
        let mut prob = self.decision_function(x)?.mapv(link);
        if prob.ncols() == 1 {
            let positive = prob.column(0).to_owned();
            return Ok(Some(ndarray::stack![
                Axis(1),
                positive.mapv(|p| 1.0 - p),
                positive
            ]));
        }
        let n_classes = prob.ncols() as f64;
        for mut row in prob.rows_mut() {
            let sum = row.sum();
            if sum == 0.0 {
                row.fill(1.0 / n_classes);
            } else {
                row /= sum;
            }
        }
        Ok(Some(prob))
    }
}

impl Classifier for SgdClassifierModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        Ok(classes_from_scores(&self.decision_function(x)?))
    }
}

impl FitClassifier for Sgd {
    type Fitted = SgdClassifierModel;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<SgdClassifierModel> {
        self.validate()?;
        let n_classes = check_training_set(x, y)?;
        let x = x.as_standard_layout();
        let targets = |class: usize| -> Vec<f64> {
            y.iter().map(|&c| self.loss.target(c == class)).collect()
        };
        let weights = self.class_weights(n_classes)?;
        let outcomes: Vec<Outcome> = if n_classes == 2 {
            let state = RandomState::new(self.seed);
            let pair = (weights[1], weights[0]);
            vec![self.fit_binary(x.view(), &targets(1), pair, state)?]
        } else {
            let mut state = RandomState::new(self.seed);
            let seeds: Vec<u32> = (0..n_classes).map(|_| state.randint(0, MAX_INT)).collect();
            seeds
                .into_par_iter()
                .enumerate()
                .map(|(class, seed)| {
                    let pair = (weights[class], 1.0);
                    self.fit_binary(x.view(), &targets(class), pair, RandomState::new(seed))
                })
                .collect::<Result<_>>()?
        };
        Ok(SgdClassifierModel {
            n_features: x.ncols(),
            coef: outcomes
                .iter()
                .flat_map(|o| o.coef.iter().copied())
                .collect(),
            intercept: outcomes.iter().map(|o| o.intercept).collect(),
            loss: self.loss,
            n_iter: outcomes.iter().map(|o| o.n_iter).max().unwrap_or(0),
        })
    }
}

/// A fitted SGD regressor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdRegressorModel {
    /// Weights, one per feature.
    pub coef: Vec<f64>,
    /// The intercept.
    pub intercept: f64,
    /// Epochs run.
    pub n_iter: usize,
}

impl Regressor for SgdRegressorModel {
    fn n_features(&self) -> usize {
        self.coef.len()
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        let coef = ArrayView1::from(&self.coef).insert_axis(Axis(0));
        let intercept = [self.intercept];
        Ok(linear_scores(x, coef, ArrayView1::from(&intercept))?
            .column(0)
            .to_owned())
    }
}

impl FitRegressor for Sgd {
    type Fitted = SgdRegressorModel;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<SgdRegressorModel> {
        self.validate()?;
        if self.loss.is_classification() {
            return Err(Error::InvalidParameter(format!(
                "loss {} is a classification loss; a regressor takes squared_error, huber, \
                 epsilon_insensitive or squared_epsilon_insensitive",
                self.loss.name()
            )));
        }
        check_regression_input(x, y)?;
        let x = x.as_standard_layout();
        // scikit-learn's regressor draws the shuffle seed before its dataset's.
        let shuffle_seed = RandomState::new(self.seed).randint(0, MAX_INT);
        let y: Vec<f64> = y.to_vec();
        let o = plain_sgd(self, x.view(), &y, (1.0, 1.0), shuffle_seed)?;
        Ok(SgdRegressorModel {
            coef: o.coef,
            intercept: o.intercept,
            n_iter: o.n_iter,
        })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    fn blobs() -> (Array2<f64>, Array1<usize>) {
        let x = array![
            [0.0, 0.2],
            [0.3, -0.1],
            [-0.2, 0.1],
            [3.0, 3.1],
            [3.2, 2.8],
            [2.9, 3.3],
            [0.1, 3.0],
            [-0.3, 3.2],
            [0.2, 2.7]
        ];
        (x, array![0, 0, 0, 1, 1, 1, 2, 2, 2])
    }

    #[test]
    fn separates_three_blobs_with_every_classification_loss() {
        let (x, y) = blobs();
        for loss in [
            Loss::Hinge { threshold: 1.0 },
            Loss::Hinge { threshold: 0.0 },
            Loss::SquaredHinge,
            Loss::LogLoss,
            Loss::ModifiedHuber,
        ] {
            let sgd = Sgd {
                loss,
                ..Sgd::classifier()
            };
            let m = FitClassifier::fit(&sgd, x.view(), y.view()).unwrap();
            assert_eq!(m.predict(x.view()).unwrap(), y, "{loss:?}");
            assert_eq!(m.coef().dim(), (3, 2));
        }
    }

    #[test]
    fn fits_a_line_and_stops_on_tol() {
        let x = Array2::from_shape_fn((40, 1), |(i, _)| i as f64 / 10.0 - 2.0);
        let y = x.column(0).mapv(|v| 2.0 * v + 1.0);
        let sgd = Sgd {
            penalty: Penalty::None,
            learning_rate: LearningRate::Constant,
            ..Sgd::regressor()
        };
        let m = FitRegressor::fit(&sgd, x.view(), y.view()).unwrap();
        assert!(
            (m.coef[0] - 2.0).abs() < 1e-2 && (m.intercept - 1.0).abs() < 1e-2,
            "{m:?}"
        );
        assert!(m.n_iter < sgd.max_iter);
    }

    #[test]
    fn refuses_bad_settings() {
        let (x, y) = blobs();
        let no_alpha = Sgd {
            alpha: 0.0,
            ..Sgd::classifier()
        };
        let err = FitClassifier::fit(&no_alpha, x.view(), y.view()).unwrap_err();
        assert!(err.to_string().contains("optimal"), "{err}");
        let hinge = Sgd::classifier();
        let err = FitRegressor::fit(&hinge, x.view(), y.mapv(|v| v as f64).view()).unwrap_err();
        assert!(err.to_string().contains("classification loss"), "{err}");
        let huge = Sgd {
            learning_rate: LearningRate::Constant,
            eta0: 1e300,
            penalty: Penalty::None,
            ..Sgd::regressor()
        };
        let err =
            FitRegressor::fit(&huge, x.view(), y.mapv(|v| v as f64 * 1e10).view()).unwrap_err();
        assert!(err.to_string().contains("overflow"), "{err}");
    }
}
