//! `ferrolearn fit`: fits a classic model on a CSV, an image dataset or cached image features,
//! reports test figures
//! (training figures with `--train-score`), and saves the model (scaler included) to a
//! directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use ferrolearn::classic::pipeline::{Choice, Metrics, ModelKind, Pipeline, SavedModel};
use ferrolearn::classic::selection::train_test_split;
use ferrolearn::classic::{Classifier, FitClassifier, FitRegressor, Regressor};
use ferrolearn::data::{ClassLabels, Classes};
use ndarray::ArrayView1;

use super::classic_convergence::{fit_warning, print_warnings};
use super::classic_data::{align, encode_classes, labels_in, read_table, DataArgs, Table};
use super::classic_model::{model_parser, HyperArgs};
use super::classic_report::print_metrics;
use super::classic_saved;
use super::stdout::print_json;

/// Flags of `ferrolearn fit`.
#[derive(clap::Args)]
pub struct Args {
    /// The model to fit.
    #[arg(long, value_parser = model_parser())]
    pub model: ModelKind,
    #[command(flatten)]
    pub data: DataArgs,
    /// CSV of test rows with the same columns as --data, instead of splitting --data.
    #[arg(long, value_name = "CSV", conflicts_with_all = ["dataset", "features"])]
    pub test: Option<PathBuf>,
    /// Share of the --data rows held out for testing (stratified for classifiers); 0 trains
    /// on every row. Not used with --test, --dataset or --features (which have their own test
    /// split).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.2)]
    pub test_fraction: f64,
    #[command(flatten)]
    pub hyper: HyperArgs,
    /// Also score the training rows. Off by default, as scikit-learn scores only what it is
    /// asked to: for knn it costs a distance from every training row to every other.
    #[arg(long, help_heading = "Output")]
    pub train_score: bool,
    /// Directory to save the fitted model in (classic.json + classic.safetensors); without it
    /// nothing is saved.
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Print one JSON object with the final figures instead of the text report.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// kmeans: fit every k in FROM..TO (inclusive, e.g. 2..10) and print k against inertia
    /// (the elbow table) instead of fitting one --k; saves nothing.
    #[arg(long, value_name = "FROM..TO")]
    pub elbow: Option<String>,
}

/// Training and test rows with targets ready for the model: labels or real values.
struct Split {
    train: Table,
    test: Option<Table>,
    /// Classes of labels `0..`, for classifiers.
    classes: Option<Classes>,
    train_labels: Vec<usize>,
    test_labels: Vec<usize>,
}

/// Fits, reports and saves.
pub fn run(args: Args, matches: Option<&clap::ArgMatches>) -> anyhow::Result<ExitCode> {
    super::classic_flags::refuse_unused(args.model, matches)?;
    if args.model == ModelKind::Kmeans {
        return super::classic_cluster::run(&args);
    }
    if args.elbow.is_some() {
        anyhow::bail!("--elbow applies only to --model kmeans");
    }
    let loaded = args.data.load()?;
    let origin = loaded.origin;
    let split = split(&args, loaded.train, loaded.test)?;
    let pipeline = Pipeline {
        kind: args.model,
        hyper: args.hyper.hyper(),
    };
    super::classic_memory::refuse_too_big(
        args.model,
        &pipeline.hyper,
        split.train.x.nrows(),
        split.train.x.ncols(),
        split.classes.as_ref().map_or(1, Classes::len),
    )?;
    let start = Instant::now();
    let (fitted, seconds, train_metrics, test_metrics) = if args.model.is_classifier() {
        let n_classes = split.classes.as_ref().map_or(0, Classes::len);
        let fitted = FitClassifier::fit(
            &pipeline,
            split.train.x.view(),
            ArrayView1::from(&split.train_labels),
        )?;
        let seconds = start.elapsed().as_secs_f64();
        let score = |t: &Table, labels: &[usize]| -> anyhow::Result<Metrics> {
            let pred = Classifier::predict(&fitted, t.x.view())?;
            Ok(Metrics::classification(labels, &pred.to_vec(), n_classes)?)
        };
        let train = args
            .train_score
            .then(|| score(&split.train, &split.train_labels))
            .transpose()?;
        let test = match &split.test {
            Some(t) => Some(score(t, &split.test_labels)?),
            None => None,
        };
        (fitted, seconds, train, test)
    } else {
        let fitted = FitRegressor::fit(
            &pipeline,
            split.train.x.view(),
            ArrayView1::from(split.train.numbers()?),
        )?;
        let seconds = start.elapsed().as_secs_f64();
        let score = |t: &Table| -> anyhow::Result<Metrics> {
            let pred = Regressor::predict(&fitted, t.x.view())?;
            Ok(Metrics::regression(t.numbers()?, &pred.to_vec())?)
        };
        let train = args.train_score.then(|| score(&split.train)).transpose()?;
        let test = split.test.as_ref().map(score).transpose()?;
        (fitted, seconds, train, test)
    };
    // Predicting and scoring the test rows (and the training rows with --train-score).
    let score_seconds = start.elapsed().as_secs_f64() - seconds;
    let warnings: Vec<String> = fit_warning(&pipeline, &fitted.model).into_iter().collect();
    print_warnings(&warnings);
    let saved = SavedModel {
        model: args.model,
        hyperparameters: pipeline.hyper.clone(),
        feature_names: split.train.feature_names.clone(),
        target: args.data.target.clone(),
        dataset: args.data.dataset.map(|d| d.to_string()),
        features: origin,
        classes: split.classes.clone(),
        train: train_metrics,
        test: test_metrics,
        pipeline: fitted,
    };
    if let Some(dir) = &args.out {
        classic_saved::save(&saved, dir)?;
    }
    report(&args, &split, &saved, [seconds, score_seconds], &warnings)?;
    Ok(ExitCode::SUCCESS)
}

/// Splits off (or reads) the test rows and encodes class labels.
fn split(args: &Args, train: Table, dataset_test: Option<Table>) -> anyhow::Result<Split> {
    let classes = if args.model.is_classifier() {
        Some(encode_classes(&train)?)
    } else {
        train.numbers()?;
        None
    };
    let test = match (&args.test, dataset_test) {
        (Some(path), _) => {
            let t = read_table(path, &args.data.target)?;
            let x = align(&t, &train.feature_names)?;
            Some(Table { x, ..t })
        }
        (None, Some(t)) => Some(t),
        (None, None) if args.test_fraction == 0.0 => None,
        (None, None) => {
            let stratify = classes.as_ref().map(|c| c.labels.as_slice());
            let fold = train_test_split(
                train.x.nrows(),
                args.test_fraction,
                args.hyper.seed,
                stratify,
            )
            .context("--test-fraction")?;
            let (tr, te) = (train.select(&fold.train), train.select(&fold.test));
            return finish(tr, Some(te), classes);
        }
    };
    finish(train, test, classes)
}

/// Labels of both parts under the classes of the whole `--data` set.
fn finish(train: Table, test: Option<Table>, labels: Option<ClassLabels>) -> anyhow::Result<Split> {
    let Some(labels) = labels else {
        return Ok(Split {
            train,
            test,
            classes: None,
            train_labels: Vec::new(),
            test_labels: Vec::new(),
        });
    };
    let train_labels = labels_in(&train.y, &labels.classes, &train.source)?;
    let test_labels = match &test {
        Some(t) => labels_in(&t.y, &labels.classes, &t.source)?,
        None => Vec::new(),
    };
    Ok(Split {
        train,
        test,
        classes: Some(labels.classes),
        train_labels,
        test_labels,
    })
}

/// Prints the text report or the JSON object (with the seconds spent fitting and scoring, and
/// the convergence `warnings`, already on stderr).
fn report(
    args: &Args,
    split: &Split,
    saved: &SavedModel,
    [seconds, score_seconds]: [f64; 2],
    warnings: &[String],
) -> anyhow::Result<()> {
    let n_test = split.test.as_ref().map_or(0, |t| t.x.nrows());
    if args.json {
        let out = serde_json::json!({
            "model": args.model.name(),
            "data": args.data.describe(),
            "n_train": split.train.x.nrows(),
            "n_test": n_test,
            "n_features": split.train.x.ncols(),
            "classes": saved.classes,
            "train": saved.train,
            "test": saved.test,
            "fit_seconds": seconds,
            "score_seconds": score_seconds,
            "warnings": warnings,
            "out": args.out.as_deref().map(Path::display).map(|d| d.to_string()),
        });
        return print_json("fit", out);
    }
    println!(
        "{} on {}: {} training rows, {} test rows, {} features, fitted in {seconds:.2} s",
        args.model.name(),
        args.data.describe(),
        split.train.x.nrows(),
        n_test,
        split.train.x.ncols()
    );
    let classes = saved
        .classes
        .as_ref()
        .map(Classes::names)
        .unwrap_or_default();
    if let Some(train) = &saved.train {
        print_metrics(train, "train", &classes);
    }
    if let Some(test) = &saved.test {
        print_metrics(test, "test", &classes);
    }
    if saved.train.is_none() && saved.test.is_none() {
        println!("no rows scored: give --train-score, or a --test-fraction above 0");
    }
    if let Some(dir) = &args.out {
        println!("model saved to {}", dir.display());
    }
    Ok(())
}
