//! `ferrolearn fit --model kmeans`: clusters the rows of a CSV (target column ignored when
//! present) or an image dataset's training images, reports inertia, iterations and cluster
//! sizes, and saves the centres (scaler included) so `predict` gives cluster ids; with
//! `--elbow FROM..TO`, prints inertia for every k of the range instead.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use ferrolearn::classic::kmeans::FittedKMeans;
use ferrolearn::classic::pipeline::{Choice, FeatureOrigin, FittedScaler, Pipeline, SavedModel};
use ferrolearn::data::csv::read_csv_features;
use ferrolearn::data::Classes;
use ndarray::{Array2, ArrayView2};

use super::classic_convergence::{kmeans_warning, print_warnings};
use super::classic_data::read_table;
use super::classic_saved;
use super::fit::Args;
use super::stdout::print_json;

/// The rows to cluster and their column names.
struct Rows {
    x: Array2<f64>,
    feature_names: Vec<String>,
    /// What cached features were computed from, for `--features`.
    origin: Option<FeatureOrigin>,
}

/// Fits (or runs the elbow table), reports and saves.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let rows = load(args)?;
    let pipeline = Pipeline {
        kind: args.model,
        hyper: args.hyper.hyper(),
    };
    if let Some(range) = &args.elbow {
        let scaler = FittedScaler::fit(pipeline.scale(), rows.x.view())?;
        let xs = scaler.transform(rows.x.view())?;
        return elbow(args, &pipeline, range, xs.view());
    }
    let start = Instant::now();
    let (fitted_pipeline, fitted) = pipeline.fit_kmeans(rows.x.view())?;
    let seconds = start.elapsed().as_secs_f64();
    let warnings: Vec<String> = kmeans_warning(&pipeline.hyper, &fitted)
        .into_iter()
        .collect();
    print_warnings(&warnings);
    let k = fitted.model.k();
    let saved = SavedModel {
        model: args.model,
        hyperparameters: pipeline.hyper.clone(),
        feature_names: rows.feature_names,
        target: args.data.target.clone(),
        classes: Some(Classes::Integers((0..k as i64).collect())),
        train: None,
        test: None,
        dataset: args.data.dataset.map(|d| d.to_string()),
        features: rows.origin,
        pipeline: fitted_pipeline,
    };
    if let Some(dir) = &args.out {
        classic_saved::save(&saved, dir)?;
    }
    report(args, &rows.x, &fitted, seconds, &warnings)?;
    Ok(ExitCode::SUCCESS)
}

/// The training rows: every column of the CSV but the target (when present), or the dataset's
/// training images.
fn load(args: &Args) -> anyhow::Result<Rows> {
    if args.test.is_some() {
        bail!("--model kmeans clusters the --data rows only; --test does not apply");
    }
    if let Some(path) = args
        .data
        .data
        .as_deref()
        .filter(|_| args.data.dataset.is_none())
    {
        let has_target = csv_has_column(path, &args.data.target)?;
        if has_target {
            let t = read_table(path, &args.data.target)?;
            return Ok(Rows {
                x: t.x,
                feature_names: t.feature_names,
                origin: None,
            });
        }
        let t = read_csv_features(path)?;
        return Ok(Rows {
            x: t.features,
            feature_names: t.feature_names,
            origin: None,
        });
    }
    let loaded = args.data.load()?;
    Ok(Rows {
        x: loaded.train.x,
        feature_names: loaded.train.feature_names,
        origin: loaded.origin,
    })
}

fn csv_has_column(path: &Path, column: &str) -> anyhow::Result<bool> {
    let mut reader = csv::ReaderBuilder::new()
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let header = reader
        .headers()
        .with_context(|| format!("{}: header line", path.display()))?;
    Ok(header.iter().any(|h| h == column))
}

/// `FROM..TO` (inclusive) as the range of k.
fn parse_range(text: &str) -> anyhow::Result<(usize, usize)> {
    let parsed = text
        .split_once("..")
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
    match parsed {
        Some((from, to)) if from >= 1 && from <= to => Ok((from, to)),
        _ => bail!("--elbow expects FROM..TO with 1 <= FROM <= TO (e.g. 2..10), got `{text}`"),
    }
}

/// Inertia for every k of the range: the table to read an elbow from.
fn elbow(
    args: &Args,
    pipeline: &Pipeline,
    range: &str,
    x: ArrayView2<f64>,
) -> anyhow::Result<ExitCode> {
    let (from, to) = parse_range(range)?;
    if args.out.is_some() {
        bail!("--elbow fits one model per k and saves none; drop --out, or fit one --k");
    }
    let mut table = Vec::new();
    for k in from..=to {
        let fitted = pipeline.cluster(k, x).with_context(|| format!("k = {k}"))?;
        table.push((k, fitted.inertia, fitted.n_iter));
    }
    if args.json {
        let rows: Vec<_> = table
            .iter()
            .map(|&(k, inertia, n_iter)| serde_json::json!({"k": k, "inertia": inertia, "n_iter": n_iter}))
            .collect();
        let out = serde_json::json!({
            "model": args.model.name(),
            "data": args.data.describe(),
            "n_train": x.nrows(),
            "n_features": x.ncols(),
            "elbow": rows,
        });
        print_json("fit", out)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "kmeans on {}: {} rows, {} features",
        args.data.describe(),
        x.nrows(),
        x.ncols()
    );
    println!("{:>4}  {:>16}  {:>6}", "k", "inertia", "n_iter");
    for (k, inertia, n_iter) in table {
        println!("{k:>4}  {inertia:>16.6}  {n_iter:>6}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the text report or the JSON object (with the convergence `warnings`, already on
/// stderr).
fn report(
    args: &Args,
    x: &Array2<f64>,
    fitted: &FittedKMeans,
    seconds: f64,
    warnings: &[String],
) -> anyhow::Result<()> {
    let sizes = fitted.sizes();
    if args.json {
        let out = serde_json::json!({
            "model": args.model.name(),
            "data": args.data.describe(),
            "n_train": x.nrows(),
            "n_features": x.ncols(),
            "k": sizes.len(),
            "inertia": fitted.inertia,
            "n_iter": fitted.n_iter,
            "sizes": sizes,
            "fit_seconds": seconds,
            "warnings": warnings,
            "out": args.out.as_deref().map(Path::display).map(|d| d.to_string()),
        });
        return print_json("fit", out);
    }
    println!(
        "kmeans on {}: {} rows, {} features, {} clusters, fitted in {seconds:.2} s",
        args.data.describe(),
        x.nrows(),
        x.ncols(),
        sizes.len()
    );
    let what = if args.hyper.batch_size.is_some() {
        "passes"
    } else {
        "iterations"
    };
    println!(
        "inertia {:.6} after {} {what}",
        fitted.inertia, fitted.n_iter
    );
    let list: Vec<String> = sizes.iter().map(usize::to_string).collect();
    println!("cluster sizes: {}", list.join(" "));
    if let Some(dir) = &args.out {
        println!("model saved to {}", dir.display());
    }
    Ok(())
}
