//! Plain stochastic gradient descent on one weight vector, step for step as scikit-learn's
//! `_plain_sgd`: one sample per step in a shuffled order, the L2 shrink kept in a scalar
//! (`w = wscale · v`, so a step costs one pass over the features), the cumulative L1 penalty
//! of Tsuruoka et al., and the stop once the epoch's mean objective has not improved by `tol`
//! for `n_iter_no_change` epochs.

use ndarray::ArrayView2;

use super::seeds::shuffle;
use super::{LearningRate, Sgd};
use crate::classic::penalty::Penalty;
use crate::{Error, Result};

/// The largest derivative magnitude a step uses (larger ones are clipped).
const MAX_DLOSS: f64 = 1e12;

/// The weights `wscale · v` with the norms scikit-learn tracks as it goes (the objective it
/// stops on reads these running values, not fresh ones).
struct WeightVector {
    v: Vec<f64>,
    wscale: f64,
    sq_norm: f64,
    l1_norm: f64,
}

impl WeightVector {
    fn zeros(d: usize) -> Self {
        WeightVector {
            v: vec![0.0; d],
            wscale: 1.0,
            sq_norm: 0.0,
            l1_norm: 0.0,
        }
    }

    /// `w · x`, summed in feature order.
    fn dot(&self, x: &[f64]) -> f64 {
        let mut s = 0.0;
        for (w, x) in self.v.iter().zip(x) {
            s += w * x;
        }
        s * self.wscale
    }

    /// `w += c x`, refreshing both norms.
    fn add(&mut self, x: &[f64], c: f64) {
        let step = c / self.wscale;
        let (mut l2, mut l1) = (0.0, 0.0);
        for (w, x) in self.v.iter_mut().zip(x) {
            *w += x * step;
            l2 += *w * *w;
            l1 += w.abs();
        }
        self.sq_norm = l2 * (self.wscale * self.wscale);
        self.l1_norm = l1 * self.wscale;
    }

    /// `w *= c`, folding the scale into `v` before it underflows.
    fn scale(&mut self, c: f64) {
        self.wscale *= c;
        self.sq_norm *= c * c;
        self.l1_norm *= c.abs();
        if self.wscale < 1e-9 {
            self.reset_wscale();
        }
    }

    fn reset_wscale(&mut self) {
        for w in &mut self.v {
            *w *= self.wscale;
        }
        self.wscale = 1.0;
    }

    /// Clips each weight towards zero by the L1 penalty accumulated so far (`u`) minus what
    /// it has already received (`q`), never across zero.
    fn l1_penalty(&mut self, q: &mut [f64], u: f64) {
        let ws = self.wscale;
        for (w, q) in self.v.iter_mut().zip(q.iter_mut()) {
            let z = *w;
            if ws * z > 0.0 {
                *w = (*w - (u + *q) / ws).max(0.0);
            } else if ws * z < 0.0 {
                *w = (*w + (u - *q) / ws).min(0.0);
            }
            *q += ws * (*w - z);
        }
    }
}

/// What one binary or regression fit gives.
pub(super) struct Outcome {
    /// The weights.
    pub coef: Vec<f64>,
    /// The intercept (0 without `fit_intercept`).
    pub intercept: f64,
    /// Epochs run.
    pub n_iter: usize,
}

/// Fits `p = w·x + b` to targets `y` by SGD, visiting the rows of `x` (standard layout) in
/// the order `shuffle_seed` gives each epoch; the steps of samples with a positive target are
/// weighted by `weights.0`, the others by `weights.1` (class weights).
pub(super) fn plain_sgd(
    sgd: &Sgd,
    x: ArrayView2<f64>,
    y: &[f64],
    weights: (f64, f64),
    shuffle_seed: u32,
) -> Result<Outcome> {
    let loss = sgd.loss;
    let (n, d) = x.dim();
    let data = x
        .as_slice()
        .ok_or_else(|| Error::InvalidData("SGD needs rows in standard layout".into()))?;
    let (l1_ratio, shrink, clip) = match sgd.penalty {
        Penalty::None => (0.0, false, false),
        Penalty::L2 => (0.0, true, false),
        Penalty::L1 => (1.0, false, true),
        Penalty::ElasticNet { l1_ratio } => (l1_ratio, true, true),
    };
    let penalised = sgd.penalty != Penalty::None;
    let alpha = sgd.alpha;
    let mut w = WeightVector::zeros(d);
    let mut q = vec![0.0; if clip { d } else { 0 }];
    let mut u = 0.0;
    let mut intercept = 0.0;
    let mut eta = sgd.eta0;
    // `optimal`: t starts where 1 / (alpha t) equals Bottou's typical step.
    let optimal_init = if sgd.learning_rate == LearningRate::Optimal {
        let typw = (1.0 / alpha.sqrt()).sqrt();
        let eta0 = typw / loss.derivative(1.0, -typw).max(1.0);
        1.0 / (eta0 * alpha)
    } else {
        0.0
    };
    let tol = sgd.tol.unwrap_or(f64::NEG_INFINITY);
    let mut t = 1.0;
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut best = f64::INFINITY;
    let mut no_improvement = 0;
    let mut epochs = 0;
    while epochs < sgd.max_iter {
        epochs += 1;
        let mut objective = 0.0;
        if sgd.shuffle {
            shuffle(&mut order, shuffle_seed);
        }
        for &i in &order {
            let i = i as usize;
            let row = &data[i * d..(i + 1) * d];
            let p = w.dot(row) + intercept;
            match sgd.learning_rate {
                LearningRate::Optimal => eta = 1.0 / (alpha * (optimal_init + t - 1.0)),
                LearningRate::InvScaling => eta = sgd.eta0 / t.powf(sgd.power_t),
                LearningRate::Constant | LearningRate::Adaptive => {}
            }
            objective += loss.value(y[i], p);
            if penalised {
                let norm = w.sq_norm.sqrt();
                objective +=
                    alpha * ((1.0 - l1_ratio) * 0.5 * (norm * norm) + l1_ratio * w.l1_norm);
            }
            let weight = if y[i] > 0.0 { weights.0 } else { weights.1 };
            let update = -eta * loss.derivative(y[i], p).clamp(-MAX_DLOSS, MAX_DLOSS) * weight;
            if shrink {
                w.scale((1.0 - (1.0 - l1_ratio) * eta * alpha).max(0.0));
            }
            if update != 0.0 {
                w.add(row, update);
                if sgd.fit_intercept {
                    intercept += update;
                }
            }
            if clip {
                u += l1_ratio * eta * alpha;
                w.l1_penalty(&mut q, u);
            }
            t += 1.0;
        }
        if !intercept.is_finite() || w.v.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "floating-point overflow at SGD epoch {epochs}; scale the features \
                 (standard or minmax) or lower the learning rate"
            )));
        }
        let mean = objective / n as f64;
        if tol > f64::NEG_INFINITY && mean > best - tol {
            no_improvement += 1;
        } else {
            no_improvement = 0;
        }
        best = best.min(mean);
        if no_improvement >= sgd.n_iter_no_change {
            if sgd.learning_rate == LearningRate::Adaptive && eta > 1e-6 {
                eta /= 5.0;
                no_improvement = 0;
            } else {
                break;
            }
        }
    }
    w.reset_wscale();
    Ok(Outcome {
        coef: w.v,
        intercept,
        n_iter: epochs,
    })
}
