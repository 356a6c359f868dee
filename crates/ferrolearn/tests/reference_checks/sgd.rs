//! The `sgd` family: scikit-learn's `SGDClassifier` and `SGDRegressor` with the case's
//! keyword arguments; ferrolearn's `Sgd` must draw the same shuffles and take the same steps,
//! reaching the same weights, epoch count, scores and probabilities.

use ferrolearn::classic::penalty::Penalty;
use ferrolearn::classic::pipeline::{Choice, LossKind};
use ferrolearn::classic::sgd::{LearningRate, Sgd};
use ferrolearn::classic::{FitClassifier, FitRegressor, Regressor};
use ndarray::{Array1, Array2};
use serde_json::Value;

use crate::case::Case;

/// Checks one sgd case, dispatching on its op.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        "sgd_classifier" => classifier(case),
        "sgd_regressor" => regressor(case),
        other => Err(format!("unknown sgd op `{other}`")),
    }
}

/// The learner the case's keyword arguments describe, over scikit-learn's defaults.
fn learner(case: &Case, base: Sgd) -> Result<Sgd, String> {
    let p = &case.params;
    let num = |key: &str, default: f64| p.get(key).and_then(Value::as_f64).unwrap_or(default);
    let text = |key: &str| p.get(key).and_then(Value::as_str);
    let epsilon = num("epsilon", 0.1);
    let loss = match text("loss") {
        Some(name) => LossKind::parse("loss", name)
            .map_err(|e| e.to_string())?
            .sgd(epsilon),
        None => base.loss,
    };
    let penalty = match p.get("penalty") {
        None => Penalty::L2,
        Some(Value::Null) => Penalty::None,
        Some(v) => match v.as_str() {
            Some("l2") => Penalty::L2,
            Some("l1") => Penalty::L1,
            Some("elasticnet") => Penalty::ElasticNet {
                l1_ratio: num("l1_ratio", 0.15),
            },
            _ => return Err(format!("unknown penalty {v}")),
        },
    };
    let learning_rate = match text("learning_rate") {
        Some(name) => LearningRate::parse("learning_rate", name).map_err(|e| e.to_string())?,
        None => base.learning_rate,
    };
    let tol = match p.get("tol") {
        None => base.tol,
        Some(Value::Null) => None,
        Some(v) => v.as_f64(),
    };
    Ok(Sgd {
        loss,
        penalty,
        alpha: num("alpha", base.alpha),
        fit_intercept: p
            .get("fit_intercept")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        max_iter: num("max_iter", base.max_iter as f64) as usize,
        tol,
        n_iter_no_change: num("n_iter_no_change", 5.0) as usize,
        shuffle: p.get("shuffle").and_then(Value::as_bool).unwrap_or(true),
        seed: num("random_state", 0.0) as u32,
        learning_rate,
        eta0: num("eta0", base.eta0),
        power_t: num("power_t", base.power_t),
        class_weight: case.inputs.get("class_weight").map(|w| w.data.clone()),
    })
}

fn rows(case: &Case) -> Result<Array2<f64>, String> {
    let x = case.input("x")?;
    Array2::from_shape_vec((x.shape[0], x.shape[1]), x.data.clone()).map_err(|e| e.to_string())
}

fn classifier(case: &Case) -> Result<(), String> {
    let x = rows(case)?;
    let y = Array1::from(case.input("y")?.to_usize());
    let sgd = learner(case, Sgd::classifier())?;
    let m = FitClassifier::fit(&sgd, x.view(), y.view()).map_err(|e| e.to_string())?;
    let coef = m.coef();
    let flat_coef: Vec<f64> = coef.iter().copied().collect();
    case.check_output("coef", &flat_coef, &[coef.nrows(), coef.ncols()])?;
    case.check_output("intercept", m.intercept(), &[m.intercept().len()])?;
    case.check_output("n_iter", &[m.n_iter as f64], &[1])?;
    let scores = m.decision_function(x.view()).map_err(|e| e.to_string())?;
    let flat: Vec<f64> = scores.iter().copied().collect();
    case.check_output("decision", &flat, &[scores.nrows(), scores.ncols()])?;
    if case.outputs.get("proba").is_some() {
        let proba = m
            .predict_proba(x.view())
            .map_err(|e| e.to_string())?
            .ok_or("no probabilities for this loss")?;
        let flat: Vec<f64> = proba.iter().copied().collect();
        case.check_output("proba", &flat, &[proba.nrows(), proba.ncols()])?;
    }
    println!(
        "  sgd {}: {} epochs as scikit-learn's SGDClassifier, worst relative error of the \
         weights {:.1e}",
        case.name,
        m.n_iter,
        worst_relative(&flat_coef, &case.output("coef")?.data)
    );
    Ok(())
}

fn regressor(case: &Case) -> Result<(), String> {
    let x = rows(case)?;
    let y = Array1::from(case.input("y")?.data.clone());
    let sgd = learner(case, Sgd::regressor())?;
    let m = FitRegressor::fit(&sgd, x.view(), y.view()).map_err(|e| e.to_string())?;
    case.check_output("coef", &m.coef, &[m.coef.len()])?;
    case.check_output("intercept", &[m.intercept], &[1])?;
    case.check_output("n_iter", &[m.n_iter as f64], &[1])?;
    let predicted = m.predict(x.view()).map_err(|e| e.to_string())?;
    case.check_output("predict", predicted.as_slice().unwrap(), &[predicted.len()])?;
    println!(
        "  sgd {}: {} epochs as scikit-learn's SGDRegressor, worst relative error of the \
         weights {:.1e}",
        case.name,
        m.n_iter,
        worst_relative(&m.coef, &case.output("coef")?.data)
    );
    Ok(())
}

/// The largest `|got - expected| / |expected|` over the nonzero expected values.
fn worst_relative(got: &[f64], expected: &[f64]) -> f64 {
    got.iter()
        .zip(expected)
        .filter(|(_, e)| **e != 0.0)
        .map(|(g, e)| (g - e).abs() / e.abs())
        .fold(0.0, f64::max)
}
