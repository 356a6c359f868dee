//! The `mlp` family: scikit-learn's `MLPClassifier` (ReLU, Adam, one batch of every row)
//! trained from given weights; ferrolearn's `MlpClassifier::fit_from` must reach the same
//! weights, loss curve and probabilities.

use ferrolearn::classic::mlp::{DenseLayer, MlpClassifier, MlpModel};
use ferrolearn::classic::Classifier;
use ndarray::{Array1, Array2};

use crate::case::{widen, Case};

/// Checks one mlp case, dispatching on its op.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        "mlp_adam_full_batch" => full_batch(case),
        other => Err(format!("unknown mlp op `{other}`")),
    }
}

/// The starting layers: inputs `w0`/`b0`, `w1`/`b1`, ...
fn start_layers(case: &Case) -> Result<Vec<DenseLayer>, String> {
    let n_layers = case
        .params
        .get("hidden")
        .and_then(|v| v.as_array())
        .map_or(0, Vec::len)
        + 1;
    (0..n_layers)
        .map(|i| {
            let w = case.input(&format!("w{i}"))?;
            let b = case.input(&format!("b{i}"))?;
            Ok(DenseLayer {
                n_in: w.shape[1],
                n_out: w.shape[0],
                weight: w.to_f32(),
                bias: b.to_f32(),
            })
        })
        .collect()
}

fn full_batch(case: &Case) -> Result<(), String> {
    let x_ref = case.input("x")?;
    let x = Array2::from_shape_vec((x_ref.shape[0], x_ref.shape[1]), x_ref.data.clone())
        .map_err(|e| e.to_string())?;
    let y = Array1::from(case.input("y")?.to_usize());
    let start = MlpModel {
        layers: start_layers(case)?,
        loss_curve: Vec::new(),
        converged: false,
    };
    let max_iter = case.param_f64("max_iter")? as usize;
    let mlp = MlpClassifier {
        alpha: case.param_f64("alpha")?,
        learning_rate: case.param_f64("learning_rate")?,
        batch_size: case.param_f64("batch_size")? as usize,
        max_iter,
        tol: 0.0,
        n_iter_no_change: max_iter,
        ..MlpClassifier::default()
    };
    let fitted = mlp
        .fit_from(&start, x.view(), y.view())
        .map_err(|e| e.to_string())?;
    for (i, layer) in fitted.layers.iter().enumerate() {
        let w = widen(&layer.weight);
        case.check_output(&format!("w{i}"), &w, &[layer.n_out, layer.n_in])?;
        case.check_output(&format!("b{i}"), &widen(&layer.bias), &[layer.n_out])?;
    }
    let curve = &fitted.loss_curve;
    case.check_output("loss_curve", curve, &[curve.len()])?;
    let proba = fitted.predict_proba(x.view()).map_err(|e| e.to_string())?;
    let flat: Vec<f64> = proba.iter().copied().collect();
    case.check_output("proba", &flat, &[proba.nrows(), proba.ncols()])?;
    let predicted = fitted.predict(x.view()).map_err(|e| e.to_string())?;
    println!(
        "  mlp {}: loss {:.4} -> {:.4} over {} epochs, as scikit-learn's; {} of {} rows right",
        case.name,
        curve.first().copied().unwrap_or(f64::NAN),
        curve.last().copied().unwrap_or(f64::NAN),
        curve.len(),
        predicted.iter().zip(&y).filter(|(p, t)| p == t).count(),
        y.len()
    );
    Ok(())
}
