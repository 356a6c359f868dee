//! `ferrolearn eval` of a classic run on a CSV holding the target column, or on the test
//! split of a feature cache for a run fitted on one (`--features`): per-class
//! precision, recall and F1 with the confusion matrix (text and `confusion.png`) for
//! classifiers; MSE, RMSE, MAE and R^2 for regressors.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use ferrolearn::classic::pipeline::{Choice, ModelKind, SavedModel};
use ferrolearn::classic::{Classifier, Regressor};
use ferrolearn::data::{Classes, Target};
use ferrolearn::metrics::{mean_absolute_error, mean_squared_error, r2_score, ConfusionMatrix};
use ferrolearn::viz::plot_confusion_matrix;
use ndarray::Array2;

use super::classic_data::{align, labels_in, read_table, Table};
use super::classic_features::{check_same, load_features, refuse_csv};
use super::classic_saved;
use super::stdout::print_json;

/// The rows `eval` scores a classic run on.
pub enum EvalInput<'a> {
    /// A CSV with the feature columns and the target column.
    Csv(&'a Path),
    /// The test split of a feature cache (`ferrolearn features --out DIR`).
    Features(&'a Path),
}

/// Evaluates the model saved in `run_dir` on the rows of `input`; errors naming the file when
/// it lacks the target column or a feature column, or holds other features than the fit.
pub fn eval_classic(run_dir: &Path, input: EvalInput, json: bool) -> anyhow::Result<ExitCode> {
    let saved = classic_saved::load(run_dir)?;
    if saved.model == ModelKind::Kmeans {
        anyhow::bail!(
            "{} holds a kmeans model, whose cluster ids are not scored against a target: use \
             `ferrolearn predict` for the cluster of each row",
            run_dir.display()
        );
    }
    let table = match input {
        EvalInput::Csv(path) => {
            refuse_csv(saved.features.as_ref(), run_dir, path)?;
            let table = read_table(path, &saved.target)?;
            Table {
                x: align(&table, &saved.feature_names)?,
                ..table
            }
        }
        EvalInput::Features(dir) => features_test(&saved, run_dir, dir)?,
    };
    let (x, data) = (&table.x, table.source.as_str());
    match &saved.classes {
        Some(classes) => classification(&saved, classes, x, &table.y, run_dir, data, json)?,
        None => regression(&saved, x, &table.y, run_dir, data, json)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The test rows of the feature cache in `dir`, refused unless the run was fitted on the
/// same features.
fn features_test(saved: &SavedModel, run_dir: &Path, dir: &Path) -> anyhow::Result<Table> {
    let Some(fitted_on) = &saved.features else {
        anyhow::bail!(
            "{} was not fitted on cached features: give the CSV to evaluate it on, --data FILE.csv",
            run_dir.display()
        );
    };
    let loaded = load_features(dir, None)?;
    if let Some(origin) = &loaded.origin {
        check_same(fitted_on, origin, run_dir, dir)?;
    }
    loaded
        .test
        .with_context(|| format!("{}: no test split", dir.display()))
}

/// Accuracy, per-class figures and the confusion matrix.
fn classification(
    saved: &SavedModel,
    classes: &Classes,
    x: &Array2<f64>,
    truth: &Target,
    run_dir: &Path,
    data: &str,
    json: bool,
) -> anyhow::Result<()> {
    let truth = labels_in(truth, classes, data)?;
    let pred = Classifier::predict(&saved.pipeline, x.view())?.to_vec();
    let names = classes.names();
    let confusion = ConfusionMatrix::new(&truth, &pred, names.len())?;
    let report = confusion.report();
    let picture = run_dir.join("confusion.png");
    let title = format!("{} on {}", saved.model.name(), data);
    plot_confusion_matrix(&picture, &confusion.rows(), &names, &title)?;
    if json {
        let per_class: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(k, name)| {
                serde_json::json!({
                    "class": name,
                    "precision": report.precision[k],
                    "recall": report.recall[k],
                    "f1": report.f1[k],
                    "support": report.support[k],
                })
            })
            .collect();
        return print_json(
            "eval",
            serde_json::json!({
                "run": run_dir,
                "data": data,
                "rows": truth.len(),
                "accuracy": confusion.accuracy(),
                "macro_f1": report.macro_f1(),
                "classes": per_class,
                "confusion_matrix": confusion.rows(),
                "confusion_png": picture,
            }),
        );
    }
    println!(
        "accuracy {:.2}% on {} rows of {}",
        100.0 * confusion.accuracy(),
        truth.len(),
        data
    );
    super::eval::print_class_report(&names, &report, &confusion, &picture)?;
    Ok(())
}

/// MSE, RMSE, MAE and R^2.
fn regression(
    saved: &SavedModel,
    x: &Array2<f64>,
    truth: &Target,
    run_dir: &Path,
    data: &str,
    json: bool,
) -> anyhow::Result<()> {
    let truth = truth
        .numbers()
        .with_context(|| format!("{}: target", data))?;
    let pred = Regressor::predict(&saved.pipeline, x.view())?.to_vec();
    let mse = mean_squared_error(truth, &pred)?;
    let mae = mean_absolute_error(truth, &pred)?;
    let r2 = r2_score(truth, &pred)?;
    if json {
        return print_json(
            "eval",
            serde_json::json!({
                "run": run_dir,
                "data": data,
                "rows": truth.len(),
                "mse": mse,
                "rmse": mse.sqrt(),
                "mae": mae,
                "r2": r2,
            }),
        );
    }
    println!(
        "{} rows of {}: MSE {mse:.6}  RMSE {:.6}  MAE {mae:.6}  R^2 {r2:.4}",
        truth.len(),
        data,
        mse.sqrt()
    );
    Ok(())
}
