//! `ferrolearn search`: grid or random search over hyperparameters, each candidate scored by
//! k-fold cross-validation (as `cv`), results sorted best first; with `--refit --out DIR`,
//! the best candidate fitted on every row and saved as a run for `predict` and `eval`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use ferrolearn::classic::pipeline::{Choice, Hyper, ModelKind, Pipeline, SavedModel, PARAM_NAMES};
use ferrolearn::classic::selection::{
    search, ParamDistribution, ParamGrid, ParamSet, ParamValue, RandomSearch, SearchResults,
};

use super::classic_cv::{CvData, FoldArgs};
use super::classic_data::DataArgs;
use super::classic_model::{model_parser, HyperArgs};
use super::classic_report::{mean_std, progress};
use super::classic_saved;

/// Flags of `ferrolearn search`.
#[derive(clap::Args)]
pub struct Args {
    /// The model whose hyperparameters are searched.
    #[arg(long, value_parser = model_parser())]
    pub model: ModelKind,
    #[command(flatten)]
    pub data: DataArgs,
    /// A parameter and the values to try, `NAME=V1,V2,...` (repeat for several parameters;
    /// every combination is tried). Names: k, metric, alpha, degree, c, penalty, l1_ratio,
    /// solver, lr, epochs, batch_size, max_iter, hidden (widths joined by x: 256,512x256),
    /// scale. With --random, the values are drawn from instead.
    #[arg(long, value_name = "NAME=V1,V2,...")]
    pub grid: Vec<String>,
    /// Random search: try N candidates drawn from --range (and --grid) instead of the grid.
    #[arg(long, value_name = "N")]
    pub random: Option<usize>,
    /// A range to draw a parameter from in a random search: `NAME=log:LOW:HIGH`
    /// (log-uniform), `NAME=uniform:LOW:HIGH` or `NAME=int:LOW:HIGH` (inclusive integers).
    #[arg(long, value_name = "NAME=KIND:LOW:HIGH", requires = "random")]
    pub range: Vec<String>,
    #[command(flatten)]
    pub folds: FoldArgs,
    /// Fixed hyperparameters of every candidate (the searched ones override them).
    #[command(flatten)]
    pub hyper: HyperArgs,
    /// Fit the best candidate on every row and save it in --out, as scikit-learn's
    /// refit=True.
    #[arg(long, requires = "out", help_heading = "Output")]
    pub refit: bool,
    /// Directory to save the refitted best model in (classic.json + classic.safetensors), a
    /// run that `predict` and `eval` load; needs --refit.
    #[arg(long, value_name = "DIR", requires = "refit", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Print one JSON object with every candidate's scores instead of the table (no
    /// progress bar).
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// Runs the search, saves the best candidate refitted on every row when asked, and prints
/// the results.
pub fn run(args: Args, matches: Option<&clap::ArgMatches>) -> anyhow::Result<ExitCode> {
    super::classic_flags::refuse_unused(args.model, matches)?;
    let hyper = args.hyper.hyper();
    let candidates = candidates(&args)?;
    for c in &candidates {
        hyper.with_params(c)?;
    }
    let cv = CvData::new(args.model, &args.data, &args.folds, hyper.seed)?;
    let bar = progress(candidates.len(), args.json, "candidates");
    let mut current = String::new();
    let results = search(
        &candidates,
        |params| {
            current = params.to_string();
            let pipeline = Pipeline {
                kind: args.model,
                hyper: hyper.with_params(params)?,
            };
            cv.scores(&pipeline, || {})
        },
        |done, _| bar.set_position(done as u64),
    );
    bar.finish_and_clear();
    let results = results.with_context(|| format!("candidate {current}"))?;
    if let (Some(dir), Some(best)) = (&args.out, results.best()) {
        refit(&args, &hyper, &cv, &best.params, dir)?;
    }
    print_results(&args, &results, &cv)?;
    Ok(ExitCode::SUCCESS)
}

/// Fits the candidate `params` on every row and saves it in `dir`.
fn refit(
    args: &Args,
    hyper: &Hyper,
    cv: &CvData,
    params: &ParamSet,
    dir: &Path,
) -> anyhow::Result<()> {
    let pipeline = Pipeline {
        kind: args.model,
        hyper: hyper.with_params(params)?,
    };
    let fitted = cv
        .fit_all(&pipeline)
        .with_context(|| format!("refitting {params} on every row"))?;
    let saved = SavedModel {
        model: args.model,
        hyperparameters: pipeline.hyper,
        feature_names: cv.feature_names.clone(),
        target: args.data.target.clone(),
        dataset: args.data.dataset.map(|d| d.to_string()),
        features: cv.origin.clone(),
        classes: cv.classes.clone(),
        train: None,
        test: None,
        pipeline: fitted,
    };
    classic_saved::save(&saved, dir)
}

/// The grid's combinations, or the random search's draws.
fn candidates(args: &Args) -> anyhow::Result<Vec<ParamSet>> {
    if let Some(n_iter) = args.random {
        let mut params = Vec::new();
        for spec in &args.grid {
            let (name, values) = split_spec(spec, "--grid")?;
            let values = values.split(',').map(ParamValue::parse).collect();
            params.push((name, ParamDistribution::Choice(values)));
        }
        for spec in &args.range {
            let (name, range) = split_spec(spec, "--range")?;
            params.push((name, parse_range(spec, &range)?));
        }
        if params.is_empty() {
            bail!("--random needs at least one --range or --grid to draw from");
        }
        return Ok(RandomSearch {
            params,
            n_iter,
            seed: args.hyper.seed,
        }
        .candidates()?);
    }
    if args.grid.is_empty() {
        bail!("give at least one --grid NAME=V1,V2,... (or --random N with --range)");
    }
    let mut grid = ParamGrid::new();
    for spec in &args.grid {
        grid = grid
            .with_spec(spec)
            .with_context(|| format!("--grid {spec}"))?;
    }
    Ok(grid.candidates())
}

/// `name=rest` split at the first `=`, with the name checked against the known ones.
fn split_spec(spec: &str, flag: &str) -> anyhow::Result<(String, String)> {
    let (name, rest) = spec
        .split_once('=')
        .with_context(|| format!("{flag} {spec}: expected NAME=..."))?;
    let name = name.trim().replace('-', "_");
    if !PARAM_NAMES.split(", ").any(|n| n.trim() == name) && name != "C" {
        bail!("{flag} {spec}: unknown hyperparameter `{name}`; known: {PARAM_NAMES}");
    }
    Ok((name, rest.trim().to_string()))
}

/// `log:LOW:HIGH`, `uniform:LOW:HIGH` or `int:LOW:HIGH`.
fn parse_range(spec: &str, range: &str) -> anyhow::Result<ParamDistribution> {
    let parts: Vec<&str> = range.split(':').map(str::trim).collect();
    let [kind, low, high] = parts.as_slice() else {
        bail!("--range {spec}: expected NAME=KIND:LOW:HIGH with KIND log, uniform or int");
    };
    let real = |s: &str| {
        s.parse::<f64>()
            .with_context(|| format!("--range {spec}: `{s}` is not a number"))
    };
    let int = |s: &str| {
        s.parse::<i64>()
            .with_context(|| format!("--range {spec}: `{s}` is not an integer"))
    };
    Ok(match *kind {
        "log" => ParamDistribution::LogUniform {
            low: real(low)?,
            high: real(high)?,
        },
        "uniform" => ParamDistribution::Uniform {
            low: real(low)?,
            high: real(high)?,
        },
        "int" => ParamDistribution::IntUniform {
            low: int(low)?,
            high: int(high)?,
        },
        other => bail!("--range {spec}: unknown kind `{other}`; expected log, uniform or int"),
    })
}

/// A parameter value as plain JSON (number or string).
fn json_value(v: &ParamValue) -> serde_json::Value {
    match v {
        ParamValue::Int(i) => serde_json::json!(i),
        ParamValue::Float(f) => serde_json::json!(f),
        ParamValue::Text(t) => serde_json::json!(t),
    }
}

fn print_results(args: &Args, results: &SearchResults, cv: &CvData) -> anyhow::Result<()> {
    let metric = cv.scoring.name();
    let n_folds = cv.folds.len();
    if args.json {
        let rows: Vec<serde_json::Value> = results
            .rows
            .iter()
            .map(|r| {
                let params: serde_json::Map<String, serde_json::Value> = r
                    .params
                    .0
                    .iter()
                    .map(|(n, v)| (n.clone(), json_value(v)))
                    .collect();
                serde_json::json!({
                    "params": params,
                    "mean": r.cv.mean,
                    "std": r.cv.std,
                    "scores": r.cv.scores,
                })
            })
            .collect();
        let out = serde_json::json!({
            "model": args.model.name(),
            "data": args.data.describe(),
            "metric": metric,
            "folds": n_folds,
            "stratified": cv.stratified,
            "kind": if args.random.is_some() { "random" } else { "grid" },
            "best": rows.first(),
            "refit": args.out.as_ref().map(|dir| serde_json::json!({
                "out": dir.display().to_string(),
                "params": rows.first().map(|r| &r["params"]),
                "n_rows": cv.x.nrows(),
            })),
            "rows": rows,
        });
        return super::stdout::print_json("search", out);
    }
    println!(
        "{} on {}: {} candidates, {n_folds}-fold cross-validated {metric}, best first",
        args.model.name(),
        args.data.describe(),
        results.rows.len()
    );
    let shown: Vec<String> = results.rows.iter().map(|r| r.params.to_string()).collect();
    let width = shown.iter().map(String::len).max().unwrap_or(6).max(6);
    println!(
        "  {:>4}  {:<width$}  {metric} (mean ± std)",
        "rank", "params"
    );
    for (i, (row, params)) in results.rows.iter().zip(&shown).enumerate() {
        println!(
            "  {:>4}  {params:<width$}  {}",
            i + 1,
            mean_std(row.cv.mean, row.cv.std)
        );
    }
    if let Some(dir) = &args.out {
        println!(
            "best candidate refitted on all {} rows and saved to {}",
            cv.x.nrows(),
            dir.display()
        );
    }
    Ok(())
}
