//! Limited-memory BFGS: a quasi-Newton minimiser for smooth objectives.
//!
//! Each iteration builds a search direction from the last `memory` steps and gradient changes
//! by the two-loop recursion (Nocedal & Wright, *Numerical Optimization*, Alg. 7.4), scaled by
//! `s·y / y·y`, and picks the step length by a line search satisfying the strong Wolfe
//! conditions (Alg. 3.5 with a safeguarded cubic-interpolation zoom, Alg. 3.6).
//!
//! It stops, like SciPy's L-BFGS-B as scikit-learn calls it, when the largest gradient entry is
//! at most `gtol` or the relative decrease `(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1)` is at
//! most `ftol`.

use std::collections::VecDeque;

use crate::{Error, Result};

/// Settings of [`minimize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsOptions {
    /// How many past (step, gradient change) pairs form the Hessian approximation.
    pub memory: usize,
    /// The most iterations (accepted steps).
    pub max_iter: usize,
    /// Stop when `max_i |grad_i| <= gtol`.
    pub gtol: f64,
    /// Stop when the relative decrease of `f` in one step is at most `ftol`.
    pub ftol: f64,
    /// The most objective evaluations in one line search.
    pub max_line_search: usize,
}

impl Default for LbfgsOptions {
    /// Memory 10, 100 iterations, `gtol` 1e-4 and `ftol` 64 machine epsilons (scikit-learn's
    /// settings for its `lbfgs` solver), 50 evaluations per line search.
    fn default() -> Self {
        LbfgsOptions {
            memory: 10,
            max_iter: 100,
            gtol: 1e-4,
            ftol: 64.0 * f64::EPSILON,
            max_line_search: 50,
        }
    }
}

/// Why [`minimize`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// The gradient's largest entry fell to `gtol`.
    Gradient,
    /// The relative decrease of one step fell to `ftol`.
    Decrease,
    /// `max_iter` steps were taken.
    MaxIter,
    /// No step length satisfying the Wolfe conditions was found (usually rounding near the
    /// optimum); the best point seen is kept.
    LineSearch,
}

/// The outcome of [`minimize`]; the minimiser itself is left in the caller's `x`.
#[derive(Debug, Clone, PartialEq)]
pub struct LbfgsReport {
    /// The objective at the returned point.
    pub f: f64,
    /// The objective at the start and after each accepted step (`n_iter + 1` values).
    pub f_history: Vec<f64>,
    /// Accepted steps taken.
    pub n_iter: usize,
    /// Objective (and gradient) evaluations.
    pub n_evals: usize,
    /// Why it stopped.
    pub termination: Termination,
}

impl LbfgsReport {
    /// Whether a convergence test (gradient or decrease) was met.
    pub fn converged(&self) -> bool {
        matches!(
            self.termination,
            Termination::Gradient | Termination::Decrease
        )
    }
}

const C1: f64 = 1e-4;
const C2: f64 = 0.9;

/// Minimises `f` from the starting point in `x`, leaving the minimiser in `x`.
///
/// `f(x, grad)` returns the objective at `x` and writes its gradient into `grad`. Errors when
/// the objective or gradient is not finite at the start (or becomes so), or the options are
/// out of range.
pub fn minimize<F>(mut f: F, x: &mut [f64], opts: &LbfgsOptions) -> Result<LbfgsReport>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    if opts.memory == 0 {
        return Err(Error::InvalidParameter(
            "L-BFGS memory must be >= 1, got 0".into(),
        ));
    }
    // NaN tolerances fail these tests too.
    if opts.gtol.is_nan() || opts.ftol.is_nan() || opts.gtol < 0.0 || opts.ftol < 0.0 {
        return Err(Error::InvalidParameter(format!(
            "L-BFGS tolerances must be >= 0, got gtol {} and ftol {}",
            opts.gtol, opts.ftol
        )));
    }
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut fx = f(x, &mut g);
    let mut n_evals = 1;
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Err(Error::Training(format!(
            "objective or gradient is not finite at the starting point (f = {fx})"
        )));
    }
    let mut history: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::with_capacity(opts.memory);
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alpha_buf = vec![0.0; opts.memory];
    let mut n_iter = 0;
    let mut f_history = vec![fx];
    let termination = loop {
        if max_abs(&g) <= opts.gtol {
            break Termination::Gradient;
        }
        if n_iter >= opts.max_iter {
            break Termination::MaxIter;
        }
        two_loop(&g, &history, &mut d, &mut alpha_buf);
        let mut dg = dot(&d, &g);
        if dg.is_nan() || dg >= 0.0 {
            // The approximation lost positive definiteness (rounding): restart from -g.
            history.clear();
            d.iter_mut().zip(&g).for_each(|(di, gi)| *di = -gi);
            dg = -dot(&g, &g);
        }
        let step0 = if history.is_empty() {
            (1.0 / norm(&d)).min(1.0)
        } else {
            1.0
        };
        let mut phi = |a: f64, xn: &mut [f64], gn: &mut [f64]| {
            for ((xi, &x0), &di) in xn.iter_mut().zip(x.iter()).zip(&d) {
                *xi = x0 + a * di;
            }
            n_evals += 1;
            let v = f(xn, gn);
            (v, dot(gn, &d))
        };
        let found = line_search(
            &mut phi,
            fx,
            dg,
            step0,
            opts.max_line_search,
            &mut x_new,
            &mut g_new,
        );
        let Some(step) = found else {
            break Termination::LineSearch;
        };
        let f_new = step.f;
        if !f_new.is_finite() || g_new.iter().any(|v| !v.is_finite()) {
            return Err(Error::Training(format!(
                "objective became non-finite after {n_iter} iterations"
            )));
        }
        let s: Vec<f64> = x_new.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 * dot(&y, &y) {
            if history.len() == opts.memory {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        let f_old = fx;
        fx = f_new;
        f_history.push(fx);
        n_iter += 1;
        if (f_old - fx) / f_old.abs().max(fx.abs()).max(1.0) <= opts.ftol {
            break Termination::Decrease;
        }
    };
    Ok(LbfgsReport {
        f: fx,
        f_history,
        n_iter,
        n_evals,
        termination,
    })
}

/// `d = -H g` by the two-loop recursion over `history` (oldest first).
fn two_loop(
    g: &[f64],
    history: &VecDeque<(Vec<f64>, Vec<f64>, f64)>,
    d: &mut [f64],
    alpha: &mut [f64],
) {
    d.iter_mut().zip(g).for_each(|(di, gi)| *di = -gi);
    for (i, (s, y, rho)) in history.iter().enumerate().rev() {
        let a = rho * dot(s, d);
        alpha[i] = a;
        axpy(-a, y, d);
    }
    if let Some((s, y, _)) = history.back() {
        let gamma = dot(s, y) / dot(y, y);
        d.iter_mut().for_each(|v| *v *= gamma);
    }
    for (i, (s, y, rho)) in history.iter().enumerate() {
        let b = rho * dot(y, d);
        axpy(alpha[i] - b, s, d);
    }
}

/// One evaluated point of the line: step, objective, directional derivative.
#[derive(Debug, Clone, Copy)]
struct LinePoint {
    a: f64,
    f: f64,
    d: f64,
}

/// Strong Wolfe line search along the direction baked into `phi` (N&W Alg. 3.5). On success
/// `x_out`/`g_out` hold the accepted point and its gradient.
fn line_search<P>(
    phi: &mut P,
    f0: f64,
    d0: f64,
    step0: f64,
    max_evals: usize,
    x_out: &mut [f64],
    g_out: &mut [f64],
) -> Option<LinePoint>
where
    P: FnMut(f64, &mut [f64], &mut [f64]) -> (f64, f64),
{
    let origin = LinePoint {
        a: 0.0,
        f: f0,
        d: d0,
    };
    let mut prev = origin;
    let mut a = step0;
    let mut evals = 0;
    // The best sufficient-decrease point is kept as a fallback if the search runs out.
    let mut best: Option<(LinePoint, Vec<f64>, Vec<f64>)> = None;
    let mut remember =
        |p: LinePoint, x: &[f64], g: &[f64], best: &mut Option<(LinePoint, Vec<f64>, Vec<f64>)>| {
            if p.f.is_finite() && p.f < f0 && best.as_ref().is_none_or(|(b, _, _)| p.f < b.f) {
                *best = Some((p, x.to_vec(), g.to_vec()));
            }
        };
    while evals < max_evals {
        let (f, d) = phi(a, x_out, g_out);
        evals += 1;
        let cur = LinePoint { a, f, d };
        if !f.is_finite() {
            // Overshot into overflow: shrink towards the last good step.
            a = prev.a + 0.1 * (a - prev.a);
            continue;
        }
        if f > f0 + C1 * a * d0 || (evals > 1 && f >= prev.f) {
            return zoom(
                phi,
                f0,
                d0,
                prev,
                cur,
                max_evals - evals,
                x_out,
                g_out,
                &mut remember,
                &mut best,
            )
            .or_else(|| restore(best, x_out, g_out));
        }
        if d.abs() <= -C2 * d0 {
            return Some(cur);
        }
        remember(cur, x_out, g_out, &mut best);
        if d >= 0.0 {
            return zoom(
                phi,
                f0,
                d0,
                cur,
                prev,
                max_evals - evals,
                x_out,
                g_out,
                &mut remember,
                &mut best,
            )
            .or_else(|| restore(best, x_out, g_out));
        }
        prev = cur;
        a *= 2.0;
    }
    restore(best, x_out, g_out)
}

/// Copies a remembered fallback point into the outputs.
fn restore(
    best: Option<(LinePoint, Vec<f64>, Vec<f64>)>,
    x_out: &mut [f64],
    g_out: &mut [f64],
) -> Option<LinePoint> {
    best.map(|(p, x, g)| {
        x_out.copy_from_slice(&x);
        g_out.copy_from_slice(&g);
        p
    })
}

/// The zoom phase (N&W Alg. 3.6): `lo` satisfies sufficient decrease and has the lower `f`;
/// the minimiser lies between `lo` and `hi`.
#[allow(clippy::too_many_arguments)]
fn zoom<P, R>(
    phi: &mut P,
    f0: f64,
    d0: f64,
    mut lo: LinePoint,
    mut hi: LinePoint,
    max_evals: usize,
    x_out: &mut [f64],
    g_out: &mut [f64],
    remember: &mut R,
    best: &mut Option<(LinePoint, Vec<f64>, Vec<f64>)>,
) -> Option<LinePoint>
where
    P: FnMut(f64, &mut [f64], &mut [f64]) -> (f64, f64),
    R: FnMut(LinePoint, &[f64], &[f64], &mut Option<(LinePoint, Vec<f64>, Vec<f64>)>),
{
    for _ in 0..max_evals {
        let width = hi.a - lo.a;
        if width.abs() <= 1e-16 * lo.a.abs().max(1e-300) {
            return None;
        }
        let a = cubic_minimizer(lo, hi)
            .filter(|&a| {
                let t = (a - lo.a) / width;
                (0.1..=0.9).contains(&t)
            })
            .unwrap_or(lo.a + 0.5 * width);
        let (f, d) = phi(a, x_out, g_out);
        let cur = LinePoint { a, f, d };
        if !f.is_finite() || f > f0 + C1 * a * d0 || f >= lo.f {
            hi = cur;
        } else {
            if d.abs() <= -C2 * d0 {
                return Some(cur);
            }
            remember(cur, x_out, g_out, best);
            if d * (hi.a - lo.a) >= 0.0 {
                hi = lo;
            }
            lo = cur;
        }
    }
    None
}

/// The minimiser of the cubic through two points with their slopes, if it exists.
fn cubic_minimizer(p: LinePoint, q: LinePoint) -> Option<f64> {
    let d1 = p.d + q.d - 3.0 * (p.f - q.f) / (p.a - q.a);
    let disc = d1 * d1 - p.d * q.d;
    if disc.is_nan() || disc < 0.0 {
        return None;
    }
    let d2 = (q.a - p.a).signum() * disc.sqrt();
    let a = q.a - (q.a - p.a) * (q.d + d2 - d1) / (q.d - p.d + 2.0 * d2);
    a.is_finite().then_some(a)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
        let mut f = 0.0;
        g.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..x.len() - 1 {
            let (a, b) = (x[i], x[i + 1]);
            f += 100.0 * (b - a * a).powi(2) + (1.0 - a).powi(2);
            g[i] += -400.0 * a * (b - a * a) - 2.0 * (1.0 - a);
            g[i + 1] += 200.0 * (b - a * a);
        }
        f
    }

    #[test]
    fn minimises_rosenbrock() {
        let mut x = vec![-1.2, 1.0, -1.2, 1.0, 0.5];
        let opts = LbfgsOptions {
            max_iter: 500,
            gtol: 1e-9,
            ftol: 0.0,
            ..LbfgsOptions::default()
        };
        let rep = minimize(rosenbrock, &mut x, &opts).unwrap();
        assert!(rep.f < 1e-14, "{rep:?}");
        assert!(x.iter().all(|v| (v - 1.0).abs() < 1e-6), "{x:?}");
    }

    #[test]
    fn ill_conditioned_quadratic_reaches_gradient_tolerance() {
        let scales: Vec<f64> = (0..50).map(|i| 10f64.powf(i as f64 / 12.0)).collect();
        let quad = |x: &[f64], g: &mut [f64]| {
            let mut f = 0.0;
            for i in 0..x.len() {
                g[i] = scales[i] * (x[i] - 1.0);
                f += 0.5 * scales[i] * (x[i] - 1.0).powi(2);
            }
            f
        };
        let mut x = vec![0.0; 50];
        // Condition number 1.2e4 with memory 10: linear convergence, ~1000 iterations.
        let opts = LbfgsOptions {
            max_iter: 5000,
            gtol: 1e-8,
            ftol: 0.0,
            ..LbfgsOptions::default()
        };
        let rep = minimize(quad, &mut x, &opts).unwrap();
        assert_eq!(rep.termination, Termination::Gradient);
        assert!(x.iter().all(|v| (v - 1.0).abs() < 1e-7));
    }

    #[test]
    fn stops_at_max_iter_and_rejects_bad_options() {
        let mut x = vec![-1.2, 1.0];
        let opts = LbfgsOptions {
            max_iter: 3,
            gtol: 0.0,
            ftol: 0.0,
            ..LbfgsOptions::default()
        };
        let rep = minimize(rosenbrock, &mut x, &opts).unwrap();
        assert_eq!((rep.n_iter, rep.termination), (3, Termination::MaxIter));
        let bad = LbfgsOptions {
            memory: 0,
            ..LbfgsOptions::default()
        };
        assert!(matches!(
            minimize(rosenbrock, &mut x, &bad),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn non_finite_start_is_a_training_error() {
        let mut x = vec![0.0];
        let res = minimize(
            |_, g| {
                g[0] = 0.0;
                f64::NAN
            },
            &mut x,
            &LbfgsOptions::default(),
        );
        assert!(matches!(res, Err(Error::Training(_))));
    }
}
