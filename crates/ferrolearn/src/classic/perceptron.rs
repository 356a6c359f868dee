//! The perceptron (Rosenblatt's rule), binary or one-vs-rest multiclass.
//!
//! Binary, labels `t_i = ±1` (class 1 is `+1`): visit the rows in order (or a fresh seeded
//! shuffle each epoch); whenever `t_i (w·x_i + b) <= 0`, set `w += lr·t_i x_i` and
//! `b += lr·t_i`. Training stops after an epoch without mistakes or after `epochs` epochs.
//! With more than two classes one binary perceptron per class (that class against the rest)
//! is trained, in parallel, and the highest score wins, as scikit-learn's `Perceptron` does.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::linear_input::{check_at_least_one, check_positive, check_training_set};
use super::linear_kernels::{axpy, classes_from_scores, dot, linear_scores};
use super::{Classifier, FitClassifier};
use crate::Result;

/// Hyperparameters of the perceptron.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Perceptron {
    /// The step `lr` of each update (> 0); without an intercept it only rescales `w`.
    pub learning_rate: f64,
    /// The most passes over the data.
    pub epochs: usize,
    /// Whether to visit the rows in a fresh seeded random order each epoch.
    pub shuffle: bool,
    /// Seed of the shuffle.
    pub seed: u64,
    /// Whether to learn an intercept `b` (else `b = 0`).
    pub fit_intercept: bool,
}

impl Default for Perceptron {
    /// Step 1, 100 epochs, shuffled with seed 0, with an intercept.
    fn default() -> Self {
        Perceptron {
            learning_rate: 1.0,
            epochs: 100,
            shuffle: true,
            seed: 0,
            fit_intercept: true,
        }
    }
}

impl Perceptron {
    /// Checks the hyperparameters (`learning_rate must be > 0, got 0`, ...).
    pub fn validate(&self) -> Result<()> {
        check_positive("learning_rate", self.learning_rate)?;
        check_at_least_one("epochs", self.epochs)
    }

    /// One binary perceptron; returns `(w, b, mistakes per epoch)`.
    fn train_binary(&self, x: ArrayView2<f64>, t: &[f64]) -> (Vec<f64>, f64, Vec<usize>) {
        let (n, d) = x.dim();
        let mut w = vec![0.0; d];
        let mut b = 0.0;
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut mistakes = Vec::new();
        for _ in 0..self.epochs {
            if self.shuffle {
                order.shuffle(&mut rng);
            }
            let mut wrong = 0;
            for &i in &order {
                let xi = x
                    .row(i)
                    .to_slice()
                    .expect("rows are contiguous (standard layout)");
                if t[i] * (dot(&w, xi) + b) <= 0.0 {
                    axpy(self.learning_rate * t[i], xi, &mut w);
                    if self.fit_intercept {
                        b += self.learning_rate * t[i];
                    }
                    wrong += 1;
                }
            }
            mistakes.push(wrong);
            if wrong == 0 {
                break;
            }
        }
        (w, b, mistakes)
    }
}

/// A fitted perceptron: one weight row per binary problem (1 for two classes, `K` for
/// one-vs-rest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerceptronModel {
    n_classes: usize,
    n_features: usize,
    coef: Vec<f64>,
    intercept: Vec<f64>,
    /// Mistakes per epoch, one list per binary problem.
    mistakes: Vec<Vec<usize>>,
}

impl FitClassifier for Perceptron {
    type Fitted = PerceptronModel;

    /// Fits on labels `0..K`; errors on one class only or bad settings.
    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<PerceptronModel> {
        self.validate()?;
        let k = check_training_set(x, y)?;
        let x = x.as_standard_layout();
        let problems: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
        let fits: Vec<_> = problems
            .par_iter()
            .map(|&class| {
                let t: Vec<f64> = y
                    .iter()
                    .map(|&v| if v == class { 1.0 } else { -1.0 })
                    .collect();
                self.train_binary(x.view(), &t)
            })
            .collect();
        Ok(PerceptronModel {
            n_classes: k,
            n_features: x.ncols(),
            coef: fits
                .iter()
                .flat_map(|(w, _, _)| w.iter().copied())
                .collect(),
            intercept: fits.iter().map(|(_, b, _)| *b).collect(),
            mistakes: fits.into_iter().map(|(_, _, m)| m).collect(),
        })
    }
}

impl PerceptronModel {
    /// The weights `[R, D]`: `R = 1` for two classes (scores of class 1), else one row per class.
    pub fn coef(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.intercept.len(), self.n_features), &self.coef)
            .expect("coef is [R, D]")
    }

    /// The intercepts `[R]`.
    pub fn intercept(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.intercept)
    }

    /// Training mistakes in each epoch, one list per binary problem (the training curve).
    pub fn mistakes(&self) -> &[Vec<usize>] {
        &self.mistakes
    }

    /// Whether every binary problem ended with an epoch without mistakes.
    pub fn converged(&self) -> bool {
        self.mistakes.iter().all(|m| m.last() == Some(&0))
    }

    /// Scores `w_r·x_i + b_r`, `[N, R]` (`R = 1` for two classes: positive means class 1).
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        linear_scores(x, self.coef(), self.intercept())
    }
}

impl Classifier for PerceptronModel {
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
    use crate::Error;
    use ndarray::array;

    #[test]
    fn hand_traced_updates() {
        // No shuffle, lr 1. Epoch 1: row 0 (t=+1) scores 0 -> w=(2,1), b=1; row 1 (t=-1)
        // scores -2+0.5+1 = -0.5, correct; row 2 (t=-1) scores -1+1 = 0 -> w=(2,2), b=0.
        // Epoch 2: scores 6, -1, -2: no mistakes.
        let x = array![[2.0, 1.0], [-1.0, 0.5], [0.0, -1.0]];
        let y = array![1, 0, 0];
        let m = Perceptron {
            shuffle: false,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_eq!(m.coef().row(0).to_vec(), vec![2.0, 2.0]);
        assert_eq!(m.intercept()[0], 0.0);
        assert_eq!(m.mistakes(), &[vec![2, 0]]);
        assert!(m.converged());
        assert_eq!(m.predict(x.view()).unwrap(), y);
    }

    #[test]
    fn one_vs_rest_separates_blobs_and_is_seeded() {
        let x = array![
            [0.0, 0.0],
            [0.3, 0.1],
            [4.0, 0.0],
            [4.2, 0.3],
            [0.0, 4.0],
            [0.2, 4.1],
            [-0.1, 0.2],
            [3.9, -0.2],
            [0.1, 3.8]
        ];
        let y = array![0, 0, 1, 1, 2, 2, 0, 1, 2];
        let a = Perceptron {
            seed: 5,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        let b = Perceptron {
            seed: 5,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.predict(x.view()).unwrap(), y);
        assert_eq!(a.decision_function(x.view()).unwrap().dim(), (9, 3));
    }

    #[test]
    fn errors_are_typed() {
        let x = array![[1.0], [2.0]];
        let err = Perceptron {
            learning_rate: 0.0,
            ..Default::default()
        }
        .fit(x.view(), array![0, 1].view())
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid parameter: learning_rate must be > 0, got 0"
        );
        assert!(matches!(
            Perceptron::default().fit(x.view(), array![1, 1].view()),
            Err(Error::InvalidData(_))
        ));
    }
}
