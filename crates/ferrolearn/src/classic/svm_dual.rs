//! Exact solvers of the binary linear SVM dual: coordinate descent (liblinear's) for a
//! penalised or absent intercept, and SMO (libsvm's) for a free intercept.
//!
//! Primal (labels `t_i = ±1`): `min 0.5 ||w||^2 + C sum_i loss(t_i (w·x_i + b))` with
//! `loss(m) = max(0, 1 - m)` (hinge) or `max(0, 1 - m)^2` (squared hinge). Dual:
//! `min_α 0.5 αᵀ(Q + D)α - Σα` over `0 <= α_i <= U`, `Q_ij = t_i t_j x_i·x_j`, with
//! `U = C, D = 0` for the hinge and `U = ∞, D = I/(2C)` for the squared hinge; then
//! `w = Σ α_i t_i x_i`.

use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::linear_kernels::{axpy, dot, RowStore};
use super::svm::SvmLoss;

/// A solved binary problem.
#[derive(Debug, Clone)]
pub(crate) struct BinarySolution {
    pub w: Vec<f64>,
    pub b: f64,
    /// Outer passes (coordinate descent) or pair updates (SMO).
    pub n_iter: usize,
    pub converged: bool,
}

/// `(U, D_ii)` of the dual for a loss and `C`.
fn dual_box(loss: SvmLoss, c: f64) -> (f64, f64) {
    match loss {
        SvmLoss::Hinge => (c, 0.0),
        SvmLoss::SquaredHinge => (f64::INFINITY, 0.5 / c),
    }
}

/// Dual coordinate descent (Hsieh et al., ICML 2008, Alg. 1 with the shrinking of Sec. 3.2),
/// as liblinear's `solve_l2r_l1l2_svc`.
///
/// With `bias_scaling = Some(s)` the intercept is the weight `w_b` of a constant feature `s`,
/// so `b = s·w_b` and the penalty includes `0.5 w_b^2` (liblinear's convention); with `None`
/// there is no intercept. Coordinates are visited in a fresh seeded random order each pass;
/// stops when the projected-gradient spread `max PG - min PG` over the active set is at most
/// `tol` on the full set, or after `max_iter` passes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn coordinate_descent(
    rows: &RowStore,
    t: &[f64],
    c: f64,
    loss: SvmLoss,
    bias_scaling: Option<f64>,
    tol: f64,
    max_iter: usize,
    seed: u64,
) -> BinarySolution {
    let (n, d) = (rows.n_rows(), rows.n_cols());
    let (upper, diag) = dual_box(loss, c);
    let s = bias_scaling.unwrap_or(0.0);
    let qd: Vec<f64> = (0..n)
        .map(|i| rows.squared_norm(i) + s * s + diag)
        .collect();
    let mut alpha = vec![0.0; n];
    let mut w = vec![0.0; d];
    let mut wb = 0.0;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut active: Vec<usize> = (0..n).collect();
    let (mut pg_max_old, mut pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut iter = 0;
    let mut converged = false;
    while iter < max_iter {
        active.shuffle(&mut rng);
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        let mut k = 0;
        while k < active.len() {
            let i = active[k];
            let g = t[i] * (rows.dot(i, &w) + wb * s) - 1.0 + diag * alpha[i];
            let pg;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active.swap_remove(k);
                    continue;
                }
                pg = g.min(0.0);
            } else if alpha[i] == upper {
                if g < pg_min_old {
                    active.swap_remove(k);
                    continue;
                }
                pg = g.max(0.0);
            } else {
                pg = g;
            }
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / qd[i]).clamp(0.0, upper);
                let step = (alpha[i] - old) * t[i];
                rows.axpy(i, step, &mut w);
                wb += step * s;
            }
            k += 1;
        }
        iter += 1;
        if pg_max - pg_min <= tol {
            if active.len() == n {
                converged = true;
                break;
            }
            // Converged on the shrunk set: check again on every coordinate.
            active = (0..n).collect();
            pg_max_old = f64::INFINITY;
            pg_min_old = f64::NEG_INFINITY;
            continue;
        }
        pg_max_old = if pg_max <= 0.0 { f64::INFINITY } else { pg_max };
        pg_min_old = if pg_min >= 0.0 {
            f64::NEG_INFINITY
        } else {
            pg_min
        };
    }
    BinarySolution {
        w,
        b: wb * s,
        n_iter: iter,
        converged,
    }
}

/// SMO with second-order working-set selection (Fan, Chen & Lin, JMLR 2005; libsvm's solver)
/// on the dual with the equality constraint `Σ α_i t_i = 0` that a free, unpenalised
/// intercept adds. Kernel columns are computed on the fly (`x·x_i`, two products of cost
/// `n·d` per step), so this suits small and medium data. Stops when the maximal KKT violation
/// `m(α) - M(α)` is at most `tol`, or after `max_steps` pair updates. The intercept is libsvm's
/// `-ρ` (the mean of `-t_i G_i` over free `α_i`, or the midpoint of the feasible interval).
pub(crate) fn smo(
    x: ArrayView2<f64>,
    t: &[f64],
    c: f64,
    loss: SvmLoss,
    tol: f64,
    max_steps: usize,
) -> BinarySolution {
    let (n, d) = x.dim();
    let (upper, diag) = dual_box(loss, c);
    let row = |i: usize| {
        x.row(i)
            .to_slice()
            .expect("rows are contiguous (standard layout)")
    };
    let kernel_column = |i: usize, out: &mut [f64]| {
        let xi = row(i);
        out.iter_mut()
            .enumerate()
            .for_each(|(k, o)| *o = dot(row(k), xi));
    };
    let kd: Vec<f64> = (0..n).map(|i| dot(row(i), row(i))).collect();
    let mut alpha = vec![0.0; n];
    // G = (Q + D) α - e
    let mut grad = vec![-1.0; n];
    let (mut ki, mut kj) = (vec![0.0; n], vec![0.0; n]);
    let in_up = |a: f64, ti: f64| (ti > 0.0 && a < upper) || (ti < 0.0 && a > 0.0);
    let in_low = |a: f64, ti: f64| (ti > 0.0 && a > 0.0) || (ti < 0.0 && a < upper);
    let mut steps = 0;
    let mut converged = false;
    while steps < max_steps {
        // i: the most violating index in I_up.
        let mut gmax = f64::NEG_INFINITY;
        let mut i_sel = None;
        for k in 0..n {
            if in_up(alpha[k], t[k]) && -t[k] * grad[k] >= gmax {
                gmax = -t[k] * grad[k];
                i_sel = Some(k);
            }
        }
        let Some(i) = i_sel else {
            converged = true;
            break;
        };
        kernel_column(i, &mut ki);
        // j: the largest second-order decrease among violating indices in I_low.
        let mut gmax2 = f64::NEG_INFINITY;
        let mut best = f64::INFINITY;
        let mut j_sel = None;
        for k in 0..n {
            if !in_low(alpha[k], t[k]) {
                continue;
            }
            gmax2 = gmax2.max(t[k] * grad[k]);
            let b = gmax + t[k] * grad[k];
            if b > 0.0 {
                let a = (kd[i] + diag + kd[k] + diag - 2.0 * ki[k]).max(1e-12);
                let score = -(b * b) / a;
                if score <= best {
                    best = score;
                    j_sel = Some(k);
                }
            }
        }
        if gmax + gmax2 <= tol {
            converged = true;
            break;
        }
        let Some(j) = j_sel else {
            converged = true;
            break;
        };
        kernel_column(j, &mut kj);
        let (old_i, old_j) = (alpha[i], alpha[j]);
        let quad = (kd[i] + kd[j] + 2.0 * diag - 2.0 * ki[j]).max(1e-12);
        // Move along t_i Δα_i = -t_j Δα_j, the direction that keeps Σ α t fixed.
        if t[i] != t[j] {
            let delta = (-grad[i] - grad[j]) / quad;
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 && alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = diff;
            } else if diff <= 0.0 && alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = -diff;
            }
            if diff > 0.0 && alpha[i] > upper {
                alpha[i] = upper;
                alpha[j] = upper - diff;
            } else if diff <= 0.0 && alpha[j] > upper {
                alpha[j] = upper;
                alpha[i] = upper + diff;
            }
        } else {
            let delta = (grad[i] - grad[j]) / quad;
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if sum > upper && alpha[i] > upper {
                alpha[i] = upper;
                alpha[j] = sum - upper;
            } else if sum <= upper && alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = sum;
            }
            if sum > upper && alpha[j] > upper {
                alpha[j] = upper;
                alpha[i] = sum - upper;
            } else if sum <= upper && alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = sum;
            }
        }
        let (di, dj) = (alpha[i] - old_i, alpha[j] - old_j);
        for k in 0..n {
            // (Q + D)_{k i} Δα_i + (Q + D)_{k j} Δα_j
            grad[k] += t[k] * (t[i] * ki[k] * di + t[j] * kj[k] * dj);
        }
        grad[i] += diag * di;
        grad[j] += diag * dj;
        steps += 1;
    }
    let mut w = vec![0.0; d];
    for k in 0..n {
        if alpha[k] != 0.0 {
            axpy(alpha[k] * t[k], row(k), &mut w);
        }
    }
    // ρ as libsvm's calculate_rho; b = -ρ.
    let (mut ub, mut lb) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut sum_free, mut n_free) = (0.0, 0usize);
    for k in 0..n {
        let yg = t[k] * grad[k];
        if alpha[k] >= upper {
            if t[k] < 0.0 {
                ub = ub.min(yg);
            } else {
                lb = lb.max(yg);
            }
        } else if alpha[k] <= 0.0 {
            if t[k] > 0.0 {
                ub = ub.min(yg);
            } else {
                lb = lb.max(yg);
            }
        } else {
            n_free += 1;
            sum_free += yg;
        }
    }
    let rho = if n_free > 0 {
        sum_free / n_free as f64
    } else {
        0.5 * (ub + lb)
    };
    BinarySolution {
        w,
        b: -rho,
        n_iter: steps,
        converged,
    }
}
