//! The linear SVM's primal with the squared hinge, solved by a truncated Newton method for all
//! one-vs-rest problems at once.
//!
//! `f(W, b) = sum_r [0.5 ||w_r||^2 + 0.5 p w_b,r^2 + C sum_i max(0, 1 - t_ir (w_r·x_i + b_r))^2]`
//! has a continuous gradient and a generalised Hessian `I + 2C X_Iᵀ X_I` (`I`: the rows with a
//! positive hinge), and is separable over the problems `r`. Each Newton step solves
//! `H s = -∇f` approximately by preconditioned conjugate gradients (stopped by the quadratic
//! model's progress, [`CG_ETA`]), then backtracks on `f` (Armijo). Objective and gradient take
//! two GEMMs over all problems; Hessian-vector products touch only each problem's rows with a
//! positive hinge (sparse rows when the data are mostly zero), problems in parallel. `p` is 1 for liblinear's penalised intercept (`b = s·w_b`) and 0 for a free one.
//!
//! This mirrors scikit-learn's `LinearSVC` default when there are more samples than features
//! (`dual="auto"` picks liblinear's primal Newton solver), including its stopping rule:
//! `||∇f|| <= tol · min(#pos, #neg) / n · ||∇f(0)||`, with the smallest class share over the
//! problems.

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};

use rayon::prelude::*;

use super::linear_kernels::{matmul, matmul_into, RowStore};
use super::svm::SvmIntercept;
use crate::{Error, Result};

/// A solved set of problems: `w` `[R, D]` row-major, `b` `[R]`.
pub(crate) struct PrimalSolution {
    pub w: Vec<f64>,
    pub b: Vec<f64>,
    pub n_iter: usize,
    pub converged: bool,
}

/// The joint objective, parameters `[W (R·D), w_b (R)]` (no `w_b` without an intercept).
struct Problem<'a> {
    x: ArrayView2<'a, f64>,
    /// The same rows for row-at-a-time access (sparse when mostly zero).
    rows: RowStore<'a>,
    /// `t_ir` in `{-1, +1}`, `[N, R]`.
    t: Array2<f64>,
    c: f64,
    scaling: f64,
    penalize_b: f64,
    has_b: bool,
}

impl Problem<'_> {
    fn dims(&self) -> (usize, usize) {
        (self.t.ncols(), self.x.ncols())
    }

    /// Scores `X Wᵀ + s w_b`, `[N, R]`.
    fn scores(&self, p: &[f64]) -> Array2<f64> {
        let (r, d) = self.dims();
        let w = ArrayView2::from_shape((r, d), &p[..r * d]).expect("params hold R·D weights");
        let mut s = matmul(self.x, w.t());
        if self.has_b {
            s += &ArrayView1::from(&p[r * d..]).mapv(|v| v * self.scaling);
        }
        s
    }

    /// `out = Zᵀ X` for the weights and `s · colsum(Z)` for the intercepts, plus `reg · p`
    /// (with the intercepts' penalty factor).
    fn backward(&self, z: &Array2<f64>, p: &[f64], reg: f64, out: &mut [f64]) {
        let (r, d) = self.dims();
        let (ow, ob) = out.split_at_mut(r * d);
        let mut ow = ArrayViewMut2::from_shape((r, d), ow).expect("out holds R·D weights");
        matmul_into(ow.view_mut(), z.t(), self.x, false);
        ow.iter_mut()
            .zip(&p[..r * d])
            .for_each(|(o, &v)| *o += reg * v);
        if self.has_b {
            for ((o, col), &v) in ob.iter_mut().zip(z.axis_iter(Axis(1))).zip(&p[r * d..]) {
                *o = self.scaling * col.sum() + self.penalize_b * reg * v;
            }
        }
    }

    /// `f(p)`, its gradient, and the indicator of positive hinges `[N, R]`.
    fn eval(&self, p: &[f64], grad: &mut [f64]) -> (f64, Array2<f64>) {
        let (r, d) = self.dims();
        let mut z = self.scores(p);
        let mut active = Array2::zeros(z.dim());
        let mut loss = 0.0;
        ndarray::Zip::from(&mut z)
            .and(&mut active)
            .and(&self.t)
            .for_each(|zi, a, &ti| {
                let h = (1.0 - ti * *zi).max(0.0);
                loss += h * h;
                *a = if h > 0.0 { 1.0 } else { 0.0 };
                *zi = -2.0 * self.c * ti * h;
            });
        self.backward(&z, p, 1.0, grad);
        let mut reg: f64 = p[..r * d].iter().map(|v| v * v).sum();
        if self.has_b {
            reg += self.penalize_b * p[r * d..].iter().map(|v| v * v).sum::<f64>();
        }
        (0.5 * reg + self.c * loss, active)
    }

    /// `H v` with the generalised Hessian at a point whose positive-hinge rows for problem `r`
    /// are `active_rows[r]`: `v_r + 2C X_Iᵀ (X_I v_r)` per problem, touching only those rows
    /// (and only their non-zeros when sparse), the problems in parallel. This is what makes
    /// the conjugate-gradient steps cheap: few rows violate the margin.
    fn hess_vec(&self, active_rows: &[Vec<usize>], v: &[f64], out: &mut [f64]) {
        let (r, d) = self.dims();
        let parts: Vec<(Vec<f64>, f64)> = (0..r)
            .into_par_iter()
            .map(|k| {
                let vk = &v[k * d..(k + 1) * d];
                let vb = if self.has_b { v[r * d + k] } else { 0.0 };
                let mut ow = vk.to_vec();
                let mut ob = self.penalize_b * vb;
                for &i in &active_rows[k] {
                    let z = 2.0 * self.c * (self.rows.dot(i, vk) + self.scaling * vb);
                    self.rows.axpy(i, z, &mut ow);
                    ob += self.scaling * z;
                }
                (ow, ob)
            })
            .collect();
        for (k, (ow, ob)) in parts.into_iter().enumerate() {
            out[k * d..(k + 1) * d].copy_from_slice(&ow);
            if self.has_b {
                out[r * d + k] = ob;
            }
        }
    }

    /// The Hessian's diagonal, for preconditioning.
    fn hess_diag(&self, active: &Array2<f64>, x_sq: &Array2<f64>) -> Vec<f64> {
        let (r, d) = self.dims();
        let mut out = vec![0.0; r * d + if self.has_b { r } else { 0 }];
        let (ow, ob) = out.split_at_mut(r * d);
        let mut ow = ArrayViewMut2::from_shape((r, d), ow).expect("out holds R·D weights");
        matmul_into(ow.view_mut(), active.t(), x_sq.view(), false);
        ow.mapv_inplace(|o| 1.0 + 2.0 * self.c * o);
        if self.has_b {
            for (o, col) in ob.iter_mut().zip(active.axis_iter(Axis(1))) {
                *o = self.penalize_b + 2.0 * self.c * self.scaling * self.scaling * col.sum();
            }
        }
        out.iter_mut()
            .for_each(|o| *o = (1.0 - PRECOND_MIX) + PRECOND_MIX * *o);
        out
    }
}

/// Conjugate-gradient steps stop once `i · (Q_i - Q_{i-1}) / Q_i <= CG_ETA` (Nash & Sofer's
/// truncated-Newton test on the quadratic model `Q`), as liblinear's Newton solver with 0.5.
const CG_ETA: f64 = 0.5;

/// A cap on conjugate-gradient steps per Newton step.
const MAX_CG: usize = 500;

/// The share of the Hessian's diagonal in the preconditioner `(1 - a) I + a diag(H)`
/// (Hsia, Chiang & Lin 2018: a pure diagonal preconditioner can hurt; 1% is robust).
const PRECOND_MIX: f64 = 0.01;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Solves the problems whose positive class is `positive[r]` (labels `y`); stops by the rule in
/// the module docs or after `max_iter` Newton steps.
pub(crate) fn squared_hinge_newton(
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    positive: &[usize],
    c: f64,
    intercept: SvmIntercept,
    tol: f64,
    max_iter: usize,
) -> Result<PrimalSolution> {
    let (n, d) = x.dim();
    let r = positive.len();
    let (scaling, penalize_b, has_b) = match intercept {
        SvmIntercept::None => (0.0, 0.0, false),
        SvmIntercept::Penalized { scaling } => (scaling, 1.0, true),
        SvmIntercept::Free => (1.0, 0.0, true),
    };
    let t = Array2::from_shape_fn(
        (n, r),
        |(i, k)| if y[i] == positive[k] { 1.0 } else { -1.0 },
    );
    let min_share = t
        .axis_iter(Axis(1))
        .map(|col| {
            let pos = col.iter().filter(|&&v| v > 0.0).count();
            pos.min(n - pos).max(1)
        })
        .min()
        .unwrap_or(1) as f64
        / n as f64;
    let x_std = x.as_standard_layout();
    let problem = Problem {
        x: x_std.view(),
        rows: RowStore::new(x_std.view()),
        t,
        c,
        scaling,
        penalize_b,
        has_b,
    };
    let x_sq = x.mapv(|v| v * v);
    let n_params = r * d + if has_b { r } else { 0 };
    let mut p = vec![0.0; n_params];
    let mut g = vec![0.0; n_params];
    let (mut f, mut active) = problem.eval(&p, &mut g);
    let g0 = dot(&g, &g).sqrt();
    let (mut s, mut res, mut z, mut dir, mut hd) = (
        vec![0.0; n_params],
        vec![0.0; n_params],
        vec![0.0; n_params],
        vec![0.0; n_params],
        vec![0.0; n_params],
    );
    let (mut trial, mut g_trial) = (vec![0.0; n_params], vec![0.0; n_params]);
    let mut n_iter = 0;
    let mut converged = false;
    while n_iter < max_iter {
        let gnorm = dot(&g, &g).sqrt();
        if gnorm <= tol * min_share * g0 {
            converged = true;
            break;
        }
        // Preconditioned CG on H s = -g, stopped by the quadratic model's relative progress.
        let m = problem.hess_diag(&active, &x_sq);
        let active_rows: Vec<Vec<usize>> = active
            .axis_iter(Axis(1))
            .map(|col| (0..n).filter(|&i| col[i] > 0.0).collect())
            .collect();
        s.iter_mut().for_each(|v| *v = 0.0);
        res.iter_mut().zip(&g).for_each(|(ri, gi)| *ri = -gi);
        z.iter_mut()
            .zip(res.iter().zip(&m))
            .for_each(|(zi, (ri, mi))| *zi = ri / mi);
        dir.copy_from_slice(&z);
        let mut rz = dot(&res, &z);
        let mut q_prev = 0.0;
        for cg_iter in 1..=n_params.min(MAX_CG) {
            problem.hess_vec(&active_rows, &dir, &mut hd);
            let alpha = rz / dot(&dir, &hd);
            for k in 0..n_params {
                s[k] += alpha * dir[k];
                res[k] -= alpha * hd[k];
                z[k] = res[k] / m[k];
            }
            // Q(s) = g·s + 0.5 sᵀHs = 0.5 (g·s - r·s), since r = -g - Hs.
            let q = 0.5 * (dot(&g, &s) - dot(&res, &s));
            if q < 0.0 && cg_iter as f64 * (q - q_prev) / q <= CG_ETA {
                break;
            }
            q_prev = q;
            let rz_new = dot(&res, &z);
            let beta = rz_new / rz;
            rz = rz_new;
            dir.iter_mut()
                .zip(&z)
                .for_each(|(di, zi)| *di = zi + beta * *di);
        }
        // Armijo backtracking along the Newton direction.
        let slope = dot(&g, &s);
        let mut step = 1.0;
        let accepted = loop {
            trial
                .iter_mut()
                .zip(p.iter().zip(&s))
                .for_each(|(ti, (pi, si))| *ti = pi + step * si);
            let (f_trial, act) = problem.eval(&trial, &mut g_trial);
            if f_trial <= f + 0.01 * step * slope {
                break Some((f_trial, act));
            }
            step *= 0.5;
            if step < 1e-10 {
                break None;
            }
        };
        n_iter += 1;
        let Some((f_new, act)) = accepted else {
            break;
        };
        if !f_new.is_finite() {
            return Err(Error::Training(
                "linear SVM primal objective is not finite".into(),
            ));
        }
        p.copy_from_slice(&trial);
        g.copy_from_slice(&g_trial);
        // A step that no longer lowers f beyond rounding ends the run (tol below precision).
        let stalled = f - f_new <= 1e-15 * f.abs();
        f = f_new;
        active = act;
        if stalled {
            break;
        }
    }
    let b = if has_b {
        p[r * d..].iter().map(|v| v * scaling).collect()
    } else {
        vec![0.0; r]
    };
    p.truncate(r * d);
    Ok(PrimalSolution {
        w: p,
        b,
        n_iter,
        converged,
    })
}
