//! The multiclass SVM of CS231n (Weston-Watkins hinge), trained by (mini-batch) gradient
//! descent.
//!
//! Loss: `(1/N) sum_i sum_{j != y_i} max(0, s_ij - s_iy_i + delta) + reg * ||W||^2` with scores
//! `s_i = W x_i + b`, `W` `[K, D]`; the intercepts `b` are not regularised. In the shared solver's
//! terms this is the L2 penalty `0.5 ||W||^2` with `C = 1 / (2 reg N)`, so the recorded loss
//! curve is exactly this loss. Training starts from zero weights (the labels break the symmetry).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};

use super::linear_input::{check_at_least_one, check_positive, check_training_set};
use super::linear_kernels::{linear_scores, matmul, matmul_into};
use super::linear_solver::{select_rows, solve, DataLoss, Solver};
use super::penalty::Penalty;
use super::softmax::argmax;
use super::{Classifier, FitClassifier};
use crate::{Error, Result};

/// Hyperparameters of the CS231n multiclass SVM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MulticlassSvm {
    /// Regularisation strength `reg` (>= 0) in `reg * ||W||^2`.
    pub reg: f64,
    /// The margin `delta` (> 0); 1 in CS231n (only `delta / reg` matters).
    pub delta: f64,
    /// Step size of gradient descent.
    pub learning_rate: f64,
    /// Passes over the data.
    pub epochs: usize,
    /// Rows per step (`None`: full batch).
    pub batch_size: Option<usize>,
    /// Seed of the per-epoch shuffle.
    pub seed: u64,
}

impl Default for MulticlassSvm {
    /// `reg` 1e-3, `delta` 1, learning rate 0.1, 100 epochs of mini-batches of 200, seed 0.
    fn default() -> Self {
        MulticlassSvm {
            reg: 1e-3,
            delta: 1.0,
            learning_rate: 0.1,
            epochs: 100,
            batch_size: Some(200),
            seed: 0,
        }
    }
}

impl MulticlassSvm {
    /// Checks the hyperparameters (`reg must be >= 0, got -1`, ...).
    pub fn validate(&self) -> Result<()> {
        if !(self.reg >= 0.0 && self.reg.is_finite()) {
            return Err(Error::InvalidParameter(format!(
                "reg must be finite and >= 0, got {}",
                self.reg
            )));
        }
        check_positive("delta", self.delta)?;
        check_positive("learning_rate", self.learning_rate)?;
        check_at_least_one("epochs", self.epochs)?;
        if let Some(b) = self.batch_size {
            check_at_least_one("batch_size", b)?;
        }
        Ok(())
    }
}

/// Summed hinge `sum_i sum_{j != y_i} max(0, s_ij - s_iy_i + delta)`; parameters `[W, b]`.
struct MulticlassHinge<'x, 'y> {
    x: ArrayView2<'x, f64>,
    y: ArrayView1<'y, usize>,
    k: usize,
    delta: f64,
}

/// Overwrites `scores` with d(summed hinge)/d(scores) and returns the summed hinge.
fn hinge_grad_rows(scores: &mut Array2<f64>, labels: &[usize], delta: f64) -> f64 {
    let mut loss = 0.0;
    for (mut row, &yi) in scores.outer_iter_mut().zip(labels) {
        let sy = row[yi];
        let mut active = 0.0;
        for (j, v) in row.iter_mut().enumerate() {
            let margin = *v - sy + delta;
            if j != yi && margin > 0.0 {
                loss += margin;
                active += 1.0;
                *v = 1.0;
            } else {
                *v = 0.0;
            }
        }
        row[yi] = -active;
    }
    loss
}

impl DataLoss for MulticlassHinge<'_, '_> {
    fn n_samples(&self) -> usize {
        self.x.nrows()
    }
    fn n_params(&self) -> usize {
        self.k * (self.x.ncols() + 1)
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
        scores += &ArrayView1::from(&params[k * d..]);
        let loss = hinge_grad_rows(&mut scores, &labels, self.delta);
        let (gw, gb) = grad.split_at_mut(k * d);
        matmul_into(
            ArrayViewMut2::from_shape((k, d), gw).expect("grad holds K·D weights"),
            scores.t(),
            xs.view(),
            false,
        );
        gb.iter_mut()
            .zip(scores.sum_axis(Axis(0)))
            .for_each(|(g, s)| *g = s);
        loss
    }
}

/// A fitted multiclass SVM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticlassSvmModel {
    n_classes: usize,
    n_features: usize,
    coef: Vec<f64>,
    intercept: Vec<f64>,
    loss_curve: Vec<f64>,
}

impl FitClassifier for MulticlassSvm {
    type Fitted = MulticlassSvmModel;

    /// Fits on labels `0..K`; errors on one class only, bad settings, or divergence.
    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<MulticlassSvmModel> {
        self.validate()?;
        let k = check_training_set(x, y)?;
        let d = x.ncols();
        let data = MulticlassHinge {
            x,
            y,
            k,
            delta: self.delta,
        };
        let (penalty, c) = if self.reg > 0.0 {
            (Penalty::L2, 1.0 / (2.0 * self.reg * x.nrows() as f64))
        } else {
            (Penalty::None, 1.0)
        };
        let solver = Solver::GradientDescent {
            learning_rate: self.learning_rate,
            epochs: self.epochs,
            batch_size: self.batch_size,
            seed: self.seed,
        };
        let out = solve(&data, penalty, c, &solver)?;
        Ok(MulticlassSvmModel {
            n_classes: k,
            n_features: d,
            coef: out.params[..k * d].to_vec(),
            intercept: out.params[k * d..].to_vec(),
            loss_curve: out.loss_curve,
        })
    }
}

impl MulticlassSvmModel {
    /// The weights `W` `[K, D]`.
    pub fn coef(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.n_classes, self.n_features), &self.coef)
            .expect("coef is [K, D]")
    }

    /// The intercepts `[K]`.
    pub fn intercept(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.intercept)
    }

    /// The training loss (hinge mean + `reg ||W||^2`) at the start and after each epoch.
    pub fn loss_curve(&self) -> &[f64] {
        &self.loss_curve
    }

    /// Class scores `W x_i + b`, `[N, K]`.
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        linear_scores(x, self.coef(), self.intercept())
    }
}

impl Classifier for MulticlassSvmModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    /// The class of the highest score (ties: the smallest label).
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>> {
        Ok(self
            .decision_function(x)?
            .outer_iter()
            .map(argmax)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// The CS231n worked example: scores [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]],
    /// labels [0, 1, 2] give per-example hinge 2.9, 0, 12.9.
    #[test]
    fn cs231n_worked_example() {
        let mut s = array![[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]];
        let loss = hinge_grad_rows(&mut s, &[0, 1, 2], 1.0);
        assert!((loss / 3.0 - 5.266_666_666_666_667).abs() < 1e-12);
        assert_eq!(
            s,
            array![[-1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, -2.0]]
        );
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x = array![[0.5, -1.0], [2.0, 0.3], [-1.5, 1.0], [0.2, 0.2]];
        let y = array![0usize, 1, 2, 1];
        let data = MulticlassHinge {
            x: x.view(),
            y: y.view(),
            k: 3,
            delta: 1.0,
        };
        let p: Vec<f64> = (0..9).map(|i| 0.37 * i as f64 - 1.1).collect();
        let mut g = vec![0.0; 9];
        data.loss_grad(&p, None, &mut g);
        let mut scratch = vec![0.0; 9];
        for i in 0..9 {
            let (mut up, mut down) = (p.clone(), p.clone());
            up[i] += 1e-6;
            down[i] -= 1e-6;
            let numeric = (data.loss_grad(&up, None, &mut scratch)
                - data.loss_grad(&down, None, &mut scratch))
                / 2e-6;
            assert!(
                (numeric - g[i]).abs() < 1e-5,
                "param {i}: {numeric} vs {}",
                g[i]
            );
        }
    }

    #[test]
    fn learns_separable_blobs_and_checks_input() {
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
        let m = MulticlassSvm {
            batch_size: Some(4),
            epochs: 200,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap();
        assert_eq!(m.predict(x.view()).unwrap(), y);
        assert!(m.loss_curve().last() < m.loss_curve().first());
        // The scores are W x + b, one per class; the highest is the prediction.
        let s = m.decision_function(x.view()).unwrap();
        assert_eq!(s.dim(), (9, 3));
        let by_hand = x.dot(&m.coef().t()) + m.intercept();
        assert!(s.iter().zip(&by_hand).all(|(a, b)| (a - b).abs() < 1e-12));
        let top: Vec<usize> = s.outer_iter().map(argmax).collect();
        assert_eq!(top, y.to_vec());
        // Two classes keep two weight rows, so two scores (no single-column form).
        let two = MulticlassSvm::default()
            .fit(x.slice(ndarray::s![..4, ..]), y.slice(ndarray::s![..4]))
            .unwrap();
        assert_eq!(two.decision_function(x.view()).unwrap().dim(), (9, 2));
        let err = MulticlassSvm {
            reg: -1.0,
            ..Default::default()
        }
        .fit(x.view(), y.view())
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid parameter: reg must be finite and >= 0, got -1"
        );
        assert!(m.predict(array![[1.0]].view()).is_err());
    }
}
