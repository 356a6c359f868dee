//! `ferrolearn cv`: k-fold cross-validated scores of a classic model (by default accuracy for
//! classifiers on stratified folds, R^2 for regressors), with their mean and standard
//! deviation.

use std::process::ExitCode;

use ferrolearn::classic::pipeline::{Choice, ModelKind, Pipeline};

use super::classic_cv::{CvData, FoldArgs};
use super::classic_data::DataArgs;
use super::classic_model::{model_parser, HyperArgs};
use super::classic_report::{mean_std, progress};
use super::stdout::print_json;

/// Flags of `ferrolearn cv`.
#[derive(clap::Args)]
pub struct Args {
    /// The model to evaluate.
    #[arg(long, value_parser = model_parser())]
    pub model: ModelKind,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub folds: FoldArgs,
    #[command(flatten)]
    pub hyper: HyperArgs,
    /// Print one JSON object with the scores instead of the text report (no progress bar).
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// Runs the cross-validation and prints the scores.
pub fn run(args: Args, matches: Option<&clap::ArgMatches>) -> anyhow::Result<ExitCode> {
    super::classic_flags::refuse_unused(args.model, matches)?;
    let pipeline = Pipeline {
        kind: args.model,
        hyper: args.hyper.hyper(),
    };
    let cv = CvData::new(args.model, &args.data, &args.folds, pipeline.hyper.seed)?;
    let bar = progress(cv.folds.len(), args.json, "folds");
    let scores = cv.scores(&pipeline, || bar.inc(1))?;
    bar.finish_and_clear();
    let metric = cv.scoring.name();
    if args.json {
        let out = serde_json::json!({
            "model": args.model.name(),
            "data": args.data.describe(),
            "metric": metric,
            "folds": cv.folds.len(),
            "stratified": cv.stratified,
            "scores": scores.scores,
            "mean": scores.mean,
            "std": scores.std,
        });
        print_json("cv", out)?;
    } else {
        println!(
            "{} on {}: {}-fold{} cross-validation, {metric}",
            args.model.name(),
            args.data.describe(),
            cv.folds.len(),
            if cv.stratified { " stratified" } else { "" }
        );
        for (i, s) in scores.scores.iter().enumerate() {
            println!("  fold {:>2}: {s:.4}", i + 1);
        }
        println!("  mean ± std: {}", mean_std(scores.mean, scores.std));
    }
    Ok(ExitCode::SUCCESS)
}
