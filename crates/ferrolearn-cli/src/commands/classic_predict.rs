//! Predictions of a saved classic model (a directory written by `ferrolearn fit --out`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use ferrolearn::classic::pipeline::{Choice, Metrics, ModelKind};
use ferrolearn::classic::Regressor;
use ferrolearn::data::Classes;
use ndarray::Array2;
use serde_json::Value;

use super::classic_data::{labels_in, read_features};
use super::classic_features::refuse_csv;
use super::classic_report::print_metrics;
use super::classic_saved;
use super::stdout::{print, print_json};

/// Predicts every row of the CSV `data` with the model saved in `run_dir`.
///
/// Writes a CSV with a `prediction` column (the class or the real prediction) and, where
/// scikit-learn gives them, one `proba_<class>` column per class (logistic, softmax, mlp,
/// knn) or the decision scores of the SVMs: one `score` column for a two-class svm
/// (positive means the second class), else one `score_<class>` column per class (svm with
/// more classes, multisvm). To `out`, or to stdout. When the CSV holds the target column the
/// predictions are also scored. With `json`, stdout receives one JSON object instead (with
/// `predictions`, `probabilities` and `decision_scores` when `out` is `None`). Errors name
/// missing or unexpected columns and both feature counts.
pub fn predict_classic(
    run_dir: &Path,
    data: &Path,
    out: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let saved = classic_saved::load(run_dir)?;
    refuse_csv(saved.features.as_ref(), run_dir, data)?;
    let (x, truth) = read_features(data, &saved.feature_names, &saved.target)?;
    let source = data.display().to_string();
    let mut table = csv::Writer::from_writer(Vec::new());
    let mut metrics = None;
    let predictions: Value;
    let (mut probabilities, mut decision_scores) = (Value::Null, Value::Null);
    if let Some(classes) = &saved.classes {
        let (labels, proba) = saved.pipeline.predict_with_proba(x.view())?;
        let labels = labels.to_vec();
        let values = classes
            .of_labels(&labels)
            .context("the model predicted a label it has no class for")?;
        let scores = saved.pipeline.decision_function(x.view())?;
        let names = classes.names();
        let mut header = vec!["prediction".to_string()];
        if proba.is_some() {
            header.extend(names.iter().map(|c| format!("proba_{c}")));
        }
        match &scores {
            Some(s) if s.ncols() == 1 => header.push("score".into()),
            Some(_) => header.extend(names.iter().map(|c| format!("score_{c}"))),
            None => {}
        }
        table.write_record(&header)?;
        for (i, &label) in labels.iter().enumerate() {
            let mut row = vec![names[label].clone()];
            for extra in [&proba, &scores].into_iter().flatten() {
                row.extend(extra.row(i).iter().map(f64::to_string));
            }
            table.write_record(&row)?;
        }
        // Cluster ids are not class labels: a kmeans model is never scored against a target.
        if let Some(y) = truth.as_ref().filter(|_| saved.model != ModelKind::Kmeans) {
            if let Ok(t) = labels_in(y, classes, &source) {
                metrics = Some(Metrics::classification(&t, &labels, classes.len())?);
            }
        }
        predictions = serde_json::to_value(&values)?;
        if let Some(p) = &proba {
            probabilities = rows_json(p);
        }
        if let Some(s) = &scores {
            // scikit-learn's decision_function of two classes is one value per row.
            decision_scores = match s.ncols() {
                1 => serde_json::json!(s.column(0).to_vec()),
                _ => rows_json(s),
            };
        }
    } else {
        let pred = Regressor::predict(&saved.pipeline, x.view())?;
        table.write_record(["prediction"])?;
        for v in &pred {
            table.write_record([v.to_string()])?;
        }
        if let Some(y) = &truth {
            let y = y.numbers().with_context(|| format!("{source}: target"))?;
            metrics = Some(Metrics::regression(y, &pred.to_vec())?);
        }
        predictions = serde_json::json!(pred.to_vec());
    }
    let csv = table
        .into_inner()
        .map_err(|e| anyhow::anyhow!("formatting the predictions: {}", e.error()))?;
    let csv = String::from_utf8(csv)?;
    if let Some(path) = out {
        std::fs::write(path, &csv).with_context(|| format!("writing {}", path.display()))?;
    }
    let classes = saved
        .classes
        .as_ref()
        .map(Classes::names)
        .unwrap_or_default();
    match (json, out) {
        (true, _) => {
            let mut obj = serde_json::json!({
                "model": saved.model.name(),
                "n_rows": x.nrows(),
                "metrics": metrics,
            });
            match out {
                Some(path) => obj["out"] = serde_json::json!(path.display().to_string()),
                None => {
                    obj["predictions"] = predictions;
                    obj["probabilities"] = probabilities;
                    obj["decision_scores"] = decision_scores;
                }
            }
            print_json("predict", obj)?;
        }
        (false, Some(path)) => {
            println!("wrote {} predictions to {}", x.nrows(), path.display());
            if let Some(m) = &metrics {
                print_metrics(m, "scored against the target column", &classes);
            }
        }
        (false, None) => print(&csv)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// One list of numbers per row.
fn rows_json(values: &Array2<f64>) -> Value {
    serde_json::json!(values.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>())
}
