//! Solvers shared by logistic and softmax regression: L-BFGS, FISTA and (mini-batch) gradient
//! descent over a penalised sum of per-sample losses.
//!
//! A model's objective is `penalty(w) + C * sum_i loss_i(θ)`, with `θ = (w, b)` and the
//! penalty on the weights `w` only (intercepts are never penalised). Solvers minimise the same
//! function divided by `C·n`,
//!
//! `F(θ) = (1/n) sum_i loss_i(θ) + penalty(w) / (C·n)`,
//!
//! which has the same minimiser and is what scikit-learn hands to its solvers, so a tolerance
//! means the same thing here as there. Loss curves record `F`.

use ndarray::{ArrayView2, CowArray, Ix2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::lbfgs::{self, LbfgsOptions};
use super::linear_input::{check_at_least_one, check_positive};
use super::penalty::Penalty;
use crate::{Error, Result};

/// How a logistic or softmax model is trained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Solver {
    /// Quasi-Newton [`lbfgs`] with memory 10 and a strong-Wolfe line search;
    /// smooth penalties only (none, L2). Stops when the largest gradient entry of `F` is at most
    /// `tol` (scikit-learn's `tol`) or after `max_iter` iterations.
    Lbfgs {
        /// The most iterations.
        max_iter: usize,
        /// Gradient tolerance on `F` (the objective divided by `C·n`).
        tol: f64,
    },
    /// FISTA: accelerated proximal gradient with backtracking on the step and adaptive restart
    /// (Beck & Teboulle 2009; O'Donoghue & Candès 2015). Handles every penalty; the L1 part
    /// enters through soft thresholding, so weights become exactly zero. Stops when the
    /// gradient-mapping norm `max |θ_k+1 - y_k| · L` is at most `tol`.
    Fista {
        /// The most iterations.
        max_iter: usize,
        /// Tolerance on the largest entry of the gradient mapping.
        tol: f64,
    },
    /// Plain (proximal) gradient descent on `F`: batch when `batch_size` is `None`, otherwise
    /// mini-batches of that size from a seeded shuffle of the rows each epoch. The L1 part of
    /// the penalty is applied by soft thresholding after each step.
    GradientDescent {
        /// The step size.
        learning_rate: f64,
        /// Passes over the data.
        epochs: usize,
        /// Rows per step; `None` uses all rows (batch gradient descent).
        batch_size: Option<usize>,
        /// Seed of the shuffling RNG.
        seed: u64,
    },
}

impl Default for Solver {
    /// L-BFGS with scikit-learn's defaults: 100 iterations, `tol` 1e-4.
    fn default() -> Self {
        Solver::Lbfgs {
            max_iter: 100,
            tol: 1e-4,
        }
    }
}

impl Solver {
    /// Checks the settings and that the solver can handle `penalty`.
    pub fn validate(&self, penalty: Penalty) -> Result<()> {
        penalty.validate()?;
        match *self {
            Solver::Lbfgs { max_iter, tol } | Solver::Fista { max_iter, tol } => {
                check_at_least_one("max_iter", max_iter)?;
                if !(tol >= 0.0 && tol.is_finite()) {
                    return Err(Error::InvalidParameter(format!(
                        "tol must be finite and >= 0, got {tol}"
                    )));
                }
                if matches!(self, Solver::Lbfgs { .. }) && !penalty.is_smooth() {
                    return Err(Error::InvalidParameter(format!(
                        "the lbfgs solver needs a smooth penalty (none or l2), got {penalty}; \
                         use Solver::Fista or Solver::GradientDescent"
                    )));
                }
            }
            Solver::GradientDescent {
                learning_rate,
                epochs,
                batch_size,
                ..
            } => {
                check_positive("learning_rate", learning_rate)?;
                check_at_least_one("epochs", epochs)?;
                if let Some(b) = batch_size {
                    check_at_least_one("batch_size", b)?;
                }
            }
        }
        Ok(())
    }
}

/// A sum of per-sample losses over a parameter vector whose first `n_weights` entries are
/// penalised weights and the rest unpenalised intercepts.
pub(crate) trait DataLoss {
    /// Rows of the training set.
    fn n_samples(&self) -> usize;
    /// Length of the parameter vector.
    fn n_params(&self) -> usize;
    /// Length of the penalised prefix.
    fn n_weights(&self) -> usize;
    /// `sum_i loss_i(params)` over `rows` (all rows when `None`); writes the gradient of that
    /// sum into `grad`.
    fn loss_grad(&self, params: &[f64], rows: Option<&[usize]>, grad: &mut [f64]) -> f64;
}

/// The rows of `x` listed in `rows` (all of `x`, borrowed, when `None`).
pub(crate) fn select_rows<'a>(
    x: ArrayView2<'a, f64>,
    rows: Option<&[usize]>,
) -> CowArray<'a, f64, Ix2> {
    match rows {
        None => CowArray::from(x),
        Some(r) => CowArray::from(x.select(ndarray::Axis(0), r)),
    }
}

/// What a solver returns.
#[derive(Debug, Clone)]
pub(crate) struct SolverOutput {
    /// The fitted parameters (weights then intercepts).
    pub params: Vec<f64>,
    /// Iterations (L-BFGS, FISTA) or epochs (gradient descent) run.
    pub n_iter: usize,
    /// Whether the stopping test was met (gradient descent: always false, it runs its epochs).
    pub converged: bool,
    /// `F` at the start and after each iteration or epoch.
    pub loss_curve: Vec<f64>,
}

/// Minimises `F` (module docs) for `loss`, `penalty` and `c`, starting from zero.
pub(crate) fn solve(
    loss: &impl DataLoss,
    penalty: Penalty,
    c: f64,
    solver: &Solver,
) -> Result<SolverOutput> {
    let n = loss.n_samples() as f64;
    let pen_scale = 1.0 / (c * n);
    let nw = loss.n_weights();
    // F's smooth part: mean loss + smooth penalty / (C n).
    let smooth = |p: &[f64], rows: Option<&[usize]>, g: &mut [f64]| -> f64 {
        let m = rows.map_or(n, |r| r.len() as f64);
        let sum = loss.loss_grad(p, rows, g);
        g.iter_mut().for_each(|v| *v /= m);
        sum / m + penalty.add_smooth(&p[..nw], pen_scale, &mut g[..nw])
    };
    let nonsmooth =
        |p: &[f64]| pen_scale * penalty.l1_weight() * p[..nw].iter().map(|v| v.abs()).sum::<f64>();
    let mut params = vec![0.0; loss.n_params()];
    match *solver {
        Solver::Lbfgs { max_iter, tol } => {
            let opts = LbfgsOptions {
                max_iter,
                gtol: tol,
                ..LbfgsOptions::default()
            };
            let report = lbfgs::minimize(|p, g| smooth(p, None, g), &mut params, &opts)?;
            Ok(SolverOutput {
                params,
                n_iter: report.n_iter,
                converged: report.converged(),
                loss_curve: report.f_history,
            })
        }
        Solver::Fista { max_iter, tol } => {
            let np = params.len();
            let mut y = params.clone();
            let mut gy = vec![0.0; np];
            let mut g_trial = vec![0.0; np];
            let mut trial = vec![0.0; np];
            let mut t = 1.0f64;
            let mut lip = 1.0f64;
            let mut f_cur = smooth(&params, None, &mut gy) + nonsmooth(&params);
            let mut curve = vec![f_cur];
            let mut converged = false;
            let mut n_iter = 0;
            while n_iter < max_iter {
                let fy = smooth(&y, None, &mut gy);
                let f_trial = loop {
                    for ((tr, &yi), &gi) in trial.iter_mut().zip(&y).zip(&gy) {
                        *tr = yi - gi / lip;
                    }
                    penalty.prox_l1(&mut trial[..nw], pen_scale / lip);
                    let ft = smooth(&trial, None, &mut g_trial);
                    let (mut lin, mut sq, mut curv) = (0.0, 0.0, 0.0);
                    for (((&tr, &yi), &gi), &gt) in trial.iter().zip(&y).zip(&gy).zip(&g_trial) {
                        lin += gi * (tr - yi);
                        sq += (tr - yi) * (tr - yi);
                        curv += (gt - gi) * (tr - yi);
                    }
                    if !ft.is_finite() && lip > 1e300 {
                        return Err(Error::Training("FISTA step size underflowed".into()));
                    }
                    // Accept the step 1/L when the curvature along it is at most L (measured by
                    // gradients, which stay accurate near the optimum where differences of f
                    // drown in rounding) and f obeys the descent lemma up to rounding.
                    let descent = ft <= fy + lin + 0.5 * lip * sq + 1e-12 * fy.abs();
                    if ft.is_finite() && descent && curv <= lip * sq {
                        break ft;
                    }
                    lip *= 2.0;
                };
                let mapping = trial
                    .iter()
                    .zip(&y)
                    .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
                    * lip;
                let f_new = f_trial + nonsmooth(&trial);
                n_iter += 1;
                if f_new > f_cur {
                    // Adaptive restart: momentum pushed uphill, so drop it.
                    t = 1.0;
                    y.copy_from_slice(&params);
                    curve.push(f_cur);
                } else {
                    let t_next = 0.5 * (1.0 + (1.0 + 4.0 * t * t).sqrt());
                    let beta = (t - 1.0) / t_next;
                    for ((yi, &xn), &xo) in y.iter_mut().zip(&trial).zip(&params) {
                        *yi = xn + beta * (xn - xo);
                    }
                    params.copy_from_slice(&trial);
                    t = t_next;
                    f_cur = f_new;
                    curve.push(f_cur);
                }
                if mapping <= tol {
                    converged = true;
                    break;
                }
                // Let the step grow again if the local curvature allows.
                lip /= 1.5;
            }
            Ok(SolverOutput {
                params,
                n_iter,
                converged,
                loss_curve: curve,
            })
        }
        Solver::GradientDescent {
            learning_rate,
            epochs,
            batch_size,
            seed,
        } => {
            let n_rows = loss.n_samples();
            let batch = batch_size.unwrap_or(n_rows).min(n_rows);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut order: Vec<usize> = (0..n_rows).collect();
            let mut grad = vec![0.0; params.len()];
            let full = |p: &[f64], g: &mut [f64]| smooth(p, None, g) + nonsmooth(p);
            let mut curve = vec![full(&params, &mut grad)];
            for epoch in 0..epochs {
                if batch < n_rows {
                    order.shuffle(&mut rng);
                }
                for chunk in order.chunks(batch) {
                    let rows = (batch < n_rows).then_some(chunk);
                    smooth(&params, rows, &mut grad);
                    for (p, g) in params.iter_mut().zip(&grad) {
                        *p -= learning_rate * g;
                    }
                    penalty.prox_l1(&mut params[..nw], learning_rate * pen_scale);
                }
                let f = full(&params, &mut grad);
                if !f.is_finite() {
                    return Err(Error::Training(format!(
                        "gradient descent diverged in epoch {epoch} (objective {f}); \
                         lower the learning rate (got {learning_rate})"
                    )));
                }
                curve.push(f);
            }
            Ok(SolverOutput {
                params,
                n_iter: epochs,
                converged: false,
                loss_curve: curve,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Least squares `0.5 (a_i θ_0 + θ_1 - y_i)^2` in one weight and one intercept.
    struct Line {
        a: Vec<f64>,
        y: Vec<f64>,
    }

    impl DataLoss for Line {
        fn n_samples(&self) -> usize {
            self.a.len()
        }
        fn n_params(&self) -> usize {
            2
        }
        fn n_weights(&self) -> usize {
            1
        }
        fn loss_grad(&self, p: &[f64], rows: Option<&[usize]>, g: &mut [f64]) -> f64 {
            let all: Vec<usize> = (0..self.a.len()).collect();
            g.iter_mut().for_each(|v| *v = 0.0);
            let mut f = 0.0;
            for &i in rows.unwrap_or(&all) {
                let r = self.a[i] * p[0] + p[1] - self.y[i];
                f += 0.5 * r * r;
                g[0] += r * self.a[i];
                g[1] += r;
            }
            f
        }
    }

    fn line() -> Line {
        Line {
            a: vec![-2.0, -1.0, 0.0, 1.0, 2.0],
            y: vec![-3.0, -1.0, 1.0, 3.0, 5.0],
        }
    }

    /// Ridge in closed form with centred a: w = sum a y / (sum a^2 + 1/C) (the L2 penalty
    /// 0.5 w^2 against C * 0.5 sum r^2), b = mean(y).
    #[test]
    fn all_solvers_reach_the_ridge_optimum() {
        let data = line();
        let c = 0.1;
        let w_star = 20.0 / (10.0 + 1.0 / c);
        let solvers = [
            Solver::Lbfgs {
                max_iter: 100,
                tol: 1e-12,
            },
            Solver::Fista {
                max_iter: 5000,
                tol: 1e-12,
            },
            Solver::GradientDescent {
                learning_rate: 0.2,
                epochs: 500,
                batch_size: None,
                seed: 0,
            },
        ];
        for s in solvers {
            let out = solve(&data, Penalty::L2, c, &s).unwrap();
            assert!(
                (out.params[0] - w_star).abs() < 1e-8,
                "{s:?}: {:?}",
                out.params
            );
            assert!(
                (out.params[1] - 1.0).abs() < 1e-8,
                "{s:?}: {:?}",
                out.params
            );
            assert!(out.loss_curve.last() < out.loss_curve.first());
        }
    }

    /// Lasso in one centred variable: w = soft(sum a y, 1/C) / sum a^2.
    #[test]
    fn l1_solutions_are_soft_thresholded() {
        let data = line();
        let c = 0.1;
        let w_star = (20.0 - 1.0 / c) / 10.0;
        let out = solve(
            &data,
            Penalty::L1,
            c,
            &Solver::Fista {
                max_iter: 5000,
                tol: 1e-12,
            },
        )
        .unwrap();
        assert!((out.params[0] - w_star).abs() < 1e-8, "{:?}", out.params);
        assert!(out.converged);
        // A strong penalty sets the weight exactly to zero.
        let zero = solve(
            &data,
            Penalty::L1,
            0.01,
            &Solver::Fista {
                max_iter: 5000,
                tol: 1e-12,
            },
        )
        .unwrap();
        assert_eq!(zero.params[0], 0.0);
        let sgd = Solver::GradientDescent {
            learning_rate: 0.05,
            epochs: 3000,
            batch_size: None,
            seed: 1,
        };
        let gd = solve(&data, Penalty::L1, c, &sgd).unwrap();
        assert!((gd.params[0] - w_star).abs() < 1e-6, "{:?}", gd.params);
    }

    #[test]
    fn minibatch_is_seeded_and_lbfgs_rejects_l1() {
        let data = line();
        let s = Solver::GradientDescent {
            learning_rate: 0.05,
            epochs: 50,
            batch_size: Some(2),
            seed: 7,
        };
        let a = solve(&data, Penalty::L2, 1.0, &s).unwrap();
        let b = solve(&data, Penalty::L2, 1.0, &s).unwrap();
        assert_eq!(a.params, b.params);
        assert_eq!(a.loss_curve.len(), 51);
        let err = Solver::default().validate(Penalty::L1).unwrap_err();
        assert!(err.to_string().contains("needs a smooth penalty"), "{err}");
        let bad = Solver::GradientDescent {
            learning_rate: -1.0,
            epochs: 1,
            batch_size: None,
            seed: 0,
        };
        assert_eq!(
            bad.validate(Penalty::L2).unwrap_err().to_string(),
            "invalid parameter: learning_rate must be > 0, got -1"
        );
    }

    #[test]
    fn divergence_is_a_training_error() {
        let s = Solver::GradientDescent {
            learning_rate: 1e3,
            epochs: 200,
            batch_size: None,
            seed: 0,
        };
        assert!(matches!(
            solve(&line(), Penalty::None, 1.0, &s),
            Err(Error::Training(_))
        ));
    }
}
