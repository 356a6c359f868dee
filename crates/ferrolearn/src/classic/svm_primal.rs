//! The linear SVM's primal with the squared hinge, solved by L-BFGS for all one-vs-rest
//! problems at once.
//!
//! `f(W, b) = sum_r [0.5 ||w_r||^2 + 0.5 p w_b,r^2 + C sum_i max(0, 1 - t_ir (w_r·x_i + b_r))^2]`
//! is differentiable (the squared hinge has a continuous derivative) and separable over the
//! problems `r`, so one quasi-Newton run on the sum solves them together while the scores
//! `X Wᵀ` and the gradient `Gᵀ X` are single GEMMs. `p` is 1 for liblinear's penalised
//! intercept (`b = s·w_b`) and 0 for a free one. This is what scikit-learn's `LinearSVC`
//! does by default when there are more samples than features (`dual="auto"`: liblinear's
//! primal Newton solver), and far cheaper there than the dual, whose size grows with the
//! number of samples.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2, Axis};

use super::lbfgs::{self, LbfgsOptions};
use super::linear_kernels::{matmul, matmul_into};
use super::svm::SvmIntercept;
use crate::Result;

/// A solved set of problems: `w` `[R, D]` row-major, `b` `[R]`.
pub(crate) struct PrimalSolution {
    pub w: Vec<f64>,
    pub b: Vec<f64>,
    pub n_iter: usize,
    pub converged: bool,
}

/// Solves the problems whose positive class is `positive[r]` (labels `y`), stopping when the
/// largest gradient entry has fallen by the factor `tol` from its value at zero (a relative
/// test, as liblinear's primal solvers use) or after `max_iter` iterations.
pub(crate) fn squared_hinge_lbfgs(
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
    let t = |i: usize, k: usize| if y[i] == positive[k] { 1.0 } else { -1.0 };
    let scale = 1.0 / (c * n as f64);
    let objective = |p: &[f64], g: &mut [f64]| -> f64 {
        let (w, wb) = p.split_at(r * d);
        let w = ArrayView2::from_shape((r, d), w).expect("params hold R·D weights");
        let mut s = matmul(x, w.t());
        if has_b {
            s += &ArrayView1::from(wb).mapv(|v| v * scaling);
        }
        let mut loss = 0.0;
        for (i, mut row) in s.outer_iter_mut().enumerate() {
            for (k, v) in row.iter_mut().enumerate() {
                let ti = t(i, k);
                let h = (1.0 - ti * *v).max(0.0);
                loss += h * h;
                // d/ds of C h^2, scaled
                *v = -2.0 * c * ti * h * scale;
            }
        }
        let (gw, gb) = g.split_at_mut(r * d);
        let mut gw_view = ArrayViewMut2::from_shape((r, d), gw).expect("grad holds R·D weights");
        matmul_into(gw_view.view_mut(), s.t(), x, false);
        let mut reg = 0.0;
        for (gi, &wi) in gw_view.iter_mut().zip(w.iter()) {
            *gi += wi * scale;
            reg += wi * wi;
        }
        if has_b {
            for ((gbk, &wbk), col) in gb.iter_mut().zip(wb).zip(s.axis_iter(Axis(1))) {
                *gbk = scaling * col.sum() + penalize_b * wbk * scale;
                reg += penalize_b * wbk * wbk;
            }
        }
        (0.5 * reg + c * loss) * scale
    };
    let n_params = r * d + if has_b { r } else { 0 };
    let mut params = vec![0.0; n_params];
    let mut g0 = vec![0.0; n_params];
    let mut obj = objective;
    obj(&params, &mut g0);
    let g0_max = g0.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let opts = LbfgsOptions {
        max_iter,
        gtol: tol * g0_max,
        ..LbfgsOptions::default()
    };
    let report = lbfgs::minimize(obj, &mut params, &opts)?;
    let b = if has_b {
        params[r * d..].iter().map(|v| v * scaling).collect()
    } else {
        vec![0.0; r]
    };
    params.truncate(r * d);
    Ok(PrimalSolution {
        w: params,
        b,
        n_iter: report.n_iter,
        converged: report.converged(),
    })
}
