//! The `classic` family's linear classifiers: logistic (binary, multinomial) and linear SVM
//! cases, fitted on the bundled tabular datasets and judged by objective and coefficients.

use ferrolearn::classic::linear_solver::Solver;
use ferrolearn::classic::logistic::LogisticRegression;
use ferrolearn::classic::penalty::Penalty;
use ferrolearn::classic::softmax::SoftmaxRegression;
use ferrolearn::classic::svm::{LinearSvm, SvmIntercept, SvmLoss, SvmSolver};
use ferrolearn::classic::{Classifier, FitClassifier};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::case::Case;

/// Checks one logistic-regression or linear-SVM case.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        "logistic_regression_binary" => logistic_binary(case),
        "logistic_regression_multinomial" => logistic_multinomial(case),
        "linear_svm_hinge" => linear_svm_hinge(case),
        other => Err(format!("classic_b does not handle op `{other}`")),
    }
}

/// A dataset's feature rows (standardized with the population std of those rows) and labels.
struct Standardized {
    x: Array2<f64>,
    y: Array1<usize>,
    mean: Array1<f64>,
    std: Array1<f64>,
}

fn load_standardized(case: &Case) -> Result<Standardized, String> {
    let name = case
        .params
        .get("dataset")
        .and_then(|v| v.as_str())
        .ok_or("param `dataset` missing")?;
    let (x_all, y_all) = read_csv(name)?;
    let rows = case.input("rows")?.to_usize();
    if let Some(&bad) = rows.iter().find(|&&r| r >= x_all.nrows()) {
        return Err(format!("row {bad} outside {name} ({} rows)", x_all.nrows()));
    }
    let x = x_all.select(Axis(0), &rows);
    let y = Array1::from_iter(rows.iter().map(|&r| y_all[r]));
    let mean = x.mean_axis(Axis(0)).ok_or("no rows")?;
    let std = x.std_axis(Axis(0), 0.0);
    let x = (&x - &mean) / &std;
    Ok(Standardized { x, y, mean, std })
}

/// Minimal CSV reading for these tests: a header line, then numeric cells; the target (an
/// integer class label) is the last column.
fn read_csv(name: &str) -> Result<(Array2<f64>, Vec<usize>), String> {
    let path = format!(
        "{}/../../data/tabular/{name}.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let n_cols = lines
        .next()
        .ok_or(format!("{path}: empty"))?
        .split(',')
        .count();
    let (mut feats, mut labels) = (Vec::new(), Vec::new());
    for (i, line) in lines.enumerate() {
        let cells: Vec<f64> = line
            .split(',')
            .map(|c| c.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{path}: data row {i}: {e}"))?;
        if cells.len() != n_cols {
            return Err(format!(
                "{path}: data row {i} has {} cells, header {n_cols}",
                cells.len()
            ));
        }
        feats.extend_from_slice(&cells[..n_cols - 1]);
        labels.push(cells[n_cols - 1] as usize);
    }
    let x = Array2::from_shape_vec((labels.len(), n_cols - 1), feats).map_err(|e| e.to_string())?;
    Ok((x, labels))
}

fn accuracy(pred: ArrayView1<usize>, y: ArrayView1<usize>) -> f64 {
    pred.iter().zip(y).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
}

/// Checks `got <= expected * (1 + rtol)` (reaching the optimum at least as well) and closeness.
fn check_objective(case: &Case, name: &str, got: f64) -> Result<(), String> {
    let expected = case.output(name)?.scalar();
    let rtol = case.tol_for(name).rtol;
    if got > expected * (1.0 + rtol) {
        return Err(format!(
            "{name}: {got} above the reference optimum {expected} (rtol {rtol})"
        ));
    }
    case.check_output(name, &[got], &[])
}

fn check_stats(case: &Case, data: &Standardized) -> Result<(), String> {
    if case.output("x_mean").is_ok() {
        case.check_output(
            "x_mean",
            data.mean.as_slice().unwrap_or(&[]),
            &[data.mean.len()],
        )?;
        case.check_output(
            "x_std",
            data.std.as_slice().unwrap_or(&[]),
            &[data.std.len()],
        )?;
    }
    Ok(())
}

fn lbfgs_like_sklearn(case: &Case) -> Result<(f64, Solver), String> {
    let c = case.param_f64("C")?;
    let max_iter = case.param_f64("max_iter")? as usize;
    let tol = case.param_f64("tol")?;
    Ok((c, Solver::Lbfgs { max_iter, tol }))
}

fn logistic_binary(case: &Case) -> Result<(), String> {
    let data = load_standardized(case)?;
    check_stats(case, &data)?;
    let (c, solver) = lbfgs_like_sklearn(case)?;
    let learner = LogisticRegression {
        c,
        penalty: Penalty::L2,
        solver,
        fit_intercept: true,
    };
    let model = learner
        .fit(data.x.view(), data.y.view())
        .map_err(|e| e.to_string())?;
    let coef = model.coef().to_vec();
    case.check_output("coef", &coef, &[coef.len()])?;
    case.check_output("intercept", &[model.intercept()], &[])?;
    let objective = model
        .objective(data.x.view(), data.y.view())
        .map_err(|e| e.to_string())?;
    check_objective(case, "objective", objective)?;
    let pred = model.predict(data.x.view()).map_err(|e| e.to_string())?;
    case.check_output(
        "train_accuracy",
        &[accuracy(pred.view(), data.y.view())],
        &[],
    )
}

fn logistic_multinomial(case: &Case) -> Result<(), String> {
    let data = load_standardized(case)?;
    check_stats(case, &data)?;
    let (c, solver) = lbfgs_like_sklearn(case)?;
    let learner = SoftmaxRegression {
        c,
        penalty: Penalty::L2,
        solver,
        fit_intercept: true,
    };
    let model = learner
        .fit(data.x.view(), data.y.view())
        .map_err(|e| e.to_string())?;
    let coef = model.coef();
    case.check_output(
        "coef",
        &coef.iter().copied().collect::<Vec<_>>(),
        coef.shape(),
    )?;
    // b is unique only up to a constant: compare centred intercepts (ours are centred).
    let reference = case.output("intercept")?;
    let mean = reference.data.iter().sum::<f64>() / reference.data.len() as f64;
    let centred = crate::case::RefTensor {
        shape: reference.shape.clone(),
        data: reference.data.iter().map(|v| v - mean).collect(),
    };
    let got = model.intercept().to_vec();
    crate::case::compare(
        "intercept - mean",
        &got,
        &[got.len()],
        &centred,
        case.tol_for("intercept"),
    )?;
    let objective = model
        .objective(data.x.view(), data.y.view())
        .map_err(|e| e.to_string())?;
    check_objective(case, "objective", objective)?;
    let pred = model.predict(data.x.view()).map_err(|e| e.to_string())?;
    case.check_output(
        "train_accuracy",
        &[accuracy(pred.view(), data.y.view())],
        &[],
    )
}

/// `0.5 ||w||^2 + C sum hinge` (b unpenalised) at the given solution.
fn hinge_objective(
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    w: ArrayView1<f64>,
    b: f64,
    c: f64,
) -> f64 {
    let scores = x.dot(&w) + b;
    let hinge: f64 = scores
        .iter()
        .zip(y)
        .map(|(&s, &l)| (1.0 - if l == 1 { s } else { -s }).max(0.0))
        .sum();
    0.5 * w.dot(&w) + c * hinge
}

fn linear_svm_hinge(case: &Case) -> Result<(), String> {
    let data = load_standardized(case)?;
    let c = case.param_f64("C")?;
    let penalized = case
        .params
        .get("intercept_penalized")
        .and_then(|v| v.as_bool())
        .ok_or("param `intercept_penalized` missing")?;
    let learner = LinearSvm {
        c,
        loss: SvmLoss::Hinge,
        intercept: if penalized {
            SvmIntercept::Penalized { scaling: 1.0 }
        } else {
            SvmIntercept::Free
        },
        tol: 1e-8,
        max_iter: 100_000,
        seed: 0,
        solver: SvmSolver::Dual,
    };
    let model = learner
        .fit(data.x.view(), data.y.view())
        .map_err(|e| e.to_string())?;
    if !model.converged() {
        return Err("linear SVM did not converge".into());
    }
    let w = model.coef().row(0).to_owned();
    let b = model.intercept()[0];
    let objective = model
        .objective(data.x.view(), data.y.view())
        .map_err(|e| e.to_string())?;
    check_objective(case, "objective", objective)?;
    if penalized {
        let unpenalized = hinge_objective(data.x.view(), data.y.view(), w.view(), b, c);
        case.check_output("objective_b_unpenalized", &[unpenalized], &[])?;
    }
    case.check_output("coef", w.as_slice().unwrap_or(&[]), &[w.len()])?;
    case.check_output("intercept", &[b], &[])?;
    let pred = model.predict(data.x.view()).map_err(|e| e.to_string())?;
    case.check_output(
        "train_accuracy",
        &[accuracy(pred.view(), data.y.view())],
        &[],
    )
}
