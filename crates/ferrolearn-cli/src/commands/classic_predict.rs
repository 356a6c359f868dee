//! Predictions of a saved classic model (a directory written by `ferrolearn fit --out`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use ferrolearn::classic::{persist, Classifier, Regressor};

use super::classic_data::{labels_in, read_features};
use super::classic_report::Metrics;
use super::fit::SavedModel;

/// Predicts every row of the CSV `data` with the model saved in `run_dir`.
///
/// Writes a CSV with a `prediction` column (the class value or the real prediction) and,
/// for logistic and softmax models, one `proba_<class>` column per class: to `out`, or to
/// stdout. When the CSV holds the target column the predictions are also scored. With
/// `json`, stdout receives one JSON object instead (with the predictions when `out` is
/// `None`). Errors name missing or unexpected columns and both feature counts.
pub fn predict_classic(
    run_dir: &Path,
    data: &Path,
    out: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !persist::is_saved_model(run_dir) {
        anyhow::bail!(
            "{} does not hold a classic model (no {}); write one with `ferrolearn fit --out`",
            run_dir.display(),
            persist::JSON_FILE
        );
    }
    let saved: SavedModel = persist::load(run_dir)
        .with_context(|| format!("loading the model in {}", run_dir.display()))?;
    let (x, truth) = read_features(data, &saved.feature_names, &saved.target)?;
    let mut csv = String::new();
    let mut metrics = None;
    let predictions: serde_json::Value;
    let mut probabilities = None;
    if let Some(classes) = &saved.classes {
        let labels = Classifier::predict(&saved.pipeline, x.view())?;
        let values = labels
            .iter()
            .map(|&l| {
                classes
                    .get(l)
                    .copied()
                    .with_context(|| format!("the model predicted unknown label {l}"))
            })
            .collect::<anyhow::Result<Vec<i64>>>()?;
        let proba = saved.pipeline.predict_proba(x.view())?;
        csv.push_str("prediction");
        if proba.is_some() {
            for c in classes {
                let _ = write!(csv, ",proba_{c}");
            }
        }
        csv.push('\n');
        for (i, v) in values.iter().enumerate() {
            let _ = write!(csv, "{v}");
            if let Some(p) = &proba {
                for q in p.row(i) {
                    let _ = write!(csv, ",{q}");
                }
            }
            csv.push('\n');
        }
        if let Some(y) = &truth {
            let source = data.display().to_string();
            if let Ok(t) = labels_in(y, classes, &source) {
                metrics = Some(Metrics::classification(
                    &t,
                    &labels.to_vec(),
                    classes.len(),
                )?);
            }
        }
        predictions = serde_json::json!(values);
        probabilities = proba.map(|p| p.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
    } else {
        let pred = Regressor::predict(&saved.pipeline, x.view())?;
        csv.push_str("prediction\n");
        for v in &pred {
            let _ = writeln!(csv, "{v}");
        }
        if let Some(y) = &truth {
            metrics = Some(Metrics::regression(y, &pred.to_vec())?);
        }
        predictions = serde_json::json!(pred.to_vec());
    }
    if let Some(path) = out {
        std::fs::write(path, &csv).with_context(|| format!("writing {}", path.display()))?;
    }
    let classes = saved.classes.as_deref().unwrap_or_default();
    match (json, out) {
        (true, _) => {
            let mut obj = serde_json::json!({
                "command": "predict",
                "model": saved.model.name(),
                "n_rows": x.nrows(),
                "metrics": metrics,
            });
            match out {
                Some(path) => obj["out"] = serde_json::json!(path.display().to_string()),
                None => {
                    obj["predictions"] = predictions;
                    obj["probabilities"] = serde_json::json!(probabilities);
                }
            }
            println!("{obj}");
        }
        (false, Some(path)) => {
            println!("wrote {} predictions to {}", x.nrows(), path.display());
            if let Some(m) = &metrics {
                m.print("scored against the target column", classes);
            }
        }
        (false, None) => {
            // A closed pipe (`| head`) is the reader's choice, not an error.
            match std::io::stdout().lock().write_all(csv.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(e).context("writing the predictions to stdout")
                }
                _ => {}
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
