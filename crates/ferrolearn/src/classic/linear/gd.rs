//! The linear model trained by batch, stochastic or mini-batch gradient descent.

use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::LinearModel;
use crate::classic::{check_fit_input, check_n_features, FitRegressor, Regressor};
use crate::{Error, Result};

/// How many samples each gradient step sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GdSchedule {
    /// One step per epoch on the whole training set.
    Batch,
    /// One step per sample, in a freshly shuffled order each epoch.
    Stochastic,
    /// Steps on consecutive mini-batches of a freshly shuffled order each epoch (the last
    /// batch may be smaller).
    MiniBatch {
        /// Samples per step, `>= 1`.
        batch_size: usize,
    },
}

/// Linear regression by gradient descent on the cost
/// `J(w, b) = 1/(2n) ||y - X w - b||^2 + (weight_decay / 2) ||w||^2`.
///
/// Each step uses the same cost restricted to its batch (the mean over the batch), so all
/// three schedules minimise the same `J`, whose minimiser is [`super::Ridge`] with
/// `alpha = n * weight_decay`. The intercept is not decayed. Features should be on
/// comparable scales (standardise first) for a common learning rate to work.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GdRegressor {
    /// Batch, stochastic or mini-batch steps (default mini-batches of 32).
    pub schedule: GdSchedule,
    /// Step size, finite and `> 0` (default 0.01).
    pub learning_rate: f64,
    /// Passes over the training set, `>= 1` (default 100).
    pub epochs: usize,
    /// L2 weight decay `lambda`, finite and `>= 0` (default 0).
    pub weight_decay: f64,
    /// Learn an intercept (default true).
    pub fit_intercept: bool,
    /// Seed of the shuffling RNG (default 0); runs with the same seed are identical.
    pub seed: u64,
}

impl Default for GdRegressor {
    fn default() -> Self {
        Self {
            schedule: GdSchedule::MiniBatch { batch_size: 32 },
            learning_rate: 0.01,
            epochs: 100,
            weight_decay: 0.0,
            fit_intercept: true,
            seed: 0,
        }
    }
}

/// [`GdRegressor`] settings that passed validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckedGdRegressor(GdRegressor);

impl GdRegressor {
    /// Validates the settings, naming the first bad one.
    pub fn check(&self) -> Result<CheckedGdRegressor> {
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::InvalidParameter(format!(
                "learning rate must be finite and > 0, got {}",
                self.learning_rate
            )));
        }
        if self.epochs == 0 {
            return Err(Error::InvalidParameter("epochs must be >= 1, got 0".into()));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::InvalidParameter(format!(
                "weight decay must be finite and >= 0, got {}",
                self.weight_decay
            )));
        }
        if self.schedule == (GdSchedule::MiniBatch { batch_size: 0 }) {
            return Err(Error::InvalidParameter(
                "batch size must be >= 1, got 0".into(),
            ));
        }
        Ok(CheckedGdRegressor(*self))
    }
}

impl CheckedGdRegressor {
    /// Trains from `w = 0, b = 0`, recording the full training cost after every epoch.
    ///
    /// Errors with [`Error::Training`] when the cost stops being finite (the learning rate is
    /// too large).
    pub fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<FittedGdRegressor> {
        check_fit_input(x, y.len())?;
        let p = self.0;
        let n = x.nrows();
        let batch = match p.schedule {
            GdSchedule::Batch => n,
            GdSchedule::Stochastic => 1,
            GdSchedule::MiniBatch { batch_size } => batch_size.min(n),
        };
        let mut w = Array1::<f64>::zeros(x.ncols());
        let mut b = 0.0;
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        let mut history = Vec::with_capacity(p.epochs + 1);
        history.push(cost(x, y, &w, b, p.weight_decay));
        for epoch in 1..=p.epochs {
            if batch < n {
                order.shuffle(&mut rng);
            }
            for idx in order.chunks(batch) {
                let xb = x.select(Axis(0), idx);
                let yb = y.select(Axis(0), idx);
                // residual r = X_B w + b - y_B; grad_w = X_B^T r / |B| + lambda w
                let r = xb.dot(&w) + b - &yb;
                let m = idx.len() as f64;
                let grad_w = xb.t().dot(&r) / m + &w * p.weight_decay;
                w.scaled_add(-p.learning_rate, &grad_w);
                if p.fit_intercept {
                    b -= p.learning_rate * r.sum() / m;
                }
            }
            let c = cost(x, y, &w, b, p.weight_decay);
            if !c.is_finite() {
                return Err(Error::Training(format!(
                    "gradient descent diverged at epoch {epoch} (cost {c}); lower the learning \
                     rate (now {})",
                    p.learning_rate
                )));
            }
            history.push(c);
        }
        Ok(FittedGdRegressor {
            model: LinearModel::new(w.to_vec(), b),
            history,
        })
    }
}

/// `1/(2n) ||y - X w - b||^2 + (lambda/2) ||w||^2`.
fn cost(x: ArrayView2<f64>, y: ArrayView1<f64>, w: &Array1<f64>, b: f64, lambda: f64) -> f64 {
    let r = x.dot(w) + b - y;
    r.dot(&r) / (2.0 * x.nrows() as f64) + 0.5 * lambda * w.dot(w)
}

impl FitRegressor for GdRegressor {
    type Fitted = FittedGdRegressor;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<FittedGdRegressor> {
        self.check()?.fit(x, y)
    }
}

/// A linear model trained by [`GdRegressor`], with its training curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedGdRegressor {
    model: LinearModel,
    history: Vec<f64>,
}

impl FittedGdRegressor {
    /// The learned weights and intercept.
    pub fn linear_model(&self) -> &LinearModel {
        &self.model
    }

    /// The training cost `J` at the start (`[0]`) and after each epoch (`[e]`), length
    /// `epochs + 1`.
    pub fn history(&self) -> &[f64] {
        &self.history
    }
}

impl Regressor for FittedGdRegressor {
    fn n_features(&self) -> usize {
        self.model.n_features()
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        check_n_features(self.model.n_features(), x)?;
        self.model.predict(x)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{array, Array2};

    use super::super::Ridge;
    use super::*;

    fn data() -> (Array2<f64>, Array1<f64>) {
        let x = Array2::from_shape_fn((40, 2), |(i, j)| {
            ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0
                + if j == 1 { (i % 3) as f64 * 0.3 } else { 0.0 }
        });
        let y = x.dot(&array![2.0, -1.0]) + 0.5 + x.column(0).mapv(|v| 0.1 * v * v);
        (x, y)
    }

    #[test]
    fn batch_gd_reaches_the_ridge_optimum() {
        let (x, y) = data();
        let lambda = 0.05;
        let gd = GdRegressor {
            schedule: GdSchedule::Batch,
            learning_rate: 0.5,
            epochs: 3000,
            weight_decay: lambda,
            ..GdRegressor::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        let ridge = Ridge {
            alpha: lambda * x.nrows() as f64,
            fit_intercept: true,
        }
        .fit(x.view(), y.view())
        .unwrap();
        let m = gd.linear_model();
        for (a, b) in m.coef().iter().zip(ridge.coef()) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        assert!((m.intercept() - ridge.intercept()).abs() < 1e-6);
        let h = gd.history();
        assert_eq!(h.len(), 3001);
        assert!(
            h.windows(2).all(|p| p[1] <= p[0] + 1e-15),
            "batch GD cost must not rise"
        );
    }

    #[test]
    fn sgd_and_minibatch_lower_the_cost_and_are_seeded() {
        let (x, y) = data();
        for schedule in [
            GdSchedule::Stochastic,
            GdSchedule::MiniBatch { batch_size: 8 },
        ] {
            let gd = GdRegressor {
                schedule,
                learning_rate: 0.05,
                epochs: 50,
                ..GdRegressor::default()
            };
            let a = gd.fit(x.view(), y.view()).unwrap();
            let b = gd.fit(x.view(), y.view()).unwrap();
            assert_eq!(a, b, "same seed, same run");
            let h = a.history();
            assert!(h[50] < 0.02 * h[0], "{schedule:?}: {} -> {}", h[0], h[50]);
            let other = GdRegressor { seed: 1, ..gd }
                .fit(x.view(), y.view())
                .unwrap();
            assert_ne!(a.history(), other.history());
        }
    }

    #[test]
    fn bad_settings_and_divergence_are_errors() {
        let (x, y) = data();
        let bad = GdRegressor {
            learning_rate: 0.0,
            ..GdRegressor::default()
        };
        assert!(bad
            .check()
            .unwrap_err()
            .to_string()
            .contains("learning rate"));
        let bad = GdRegressor {
            schedule: GdSchedule::MiniBatch { batch_size: 0 },
            ..GdRegressor::default()
        };
        assert!(bad.check().is_err());
        let diverging = GdRegressor {
            schedule: GdSchedule::Batch,
            learning_rate: 1e3,
            epochs: 500,
            ..GdRegressor::default()
        };
        let err = diverging.fit(x.view(), y.view()).unwrap_err();
        assert!(matches!(err, Error::Training(_)), "{err}");
    }
}
