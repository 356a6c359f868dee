//! `ferrolearn cv`: k-fold cross-validated scores of a classic model (accuracy for
//! classifiers, R^2 for regressors), with their mean and standard deviation.

use std::process::ExitCode;

use ferrolearn::classic::selection::{
    cross_val_score_classifier, cross_val_score_regressor, CvScores, Fold, KFold, StratifiedKFold,
};
use ferrolearn::Result;
use ndarray::{Array2, ArrayView1};

use super::classic_data::{encode_classes, DataArgs};
use super::classic_model::{Hyper, ModelKind, Pipeline};
use super::classic_report::{mean_std, progress};

/// Flags of `ferrolearn cv`.
#[derive(clap::Args)]
pub struct Args {
    /// The model to evaluate.
    #[arg(long, value_enum)]
    pub model: ModelKind,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub folds: FoldArgs,
    #[command(flatten)]
    pub hyper: Hyper,
    /// Print one JSON object with the scores instead of the text report (no progress bar).
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// How the rows are split into folds (shared with `search`).
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Cross-validation")]
pub struct FoldArgs {
    /// Number of folds (>= 2).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Keep each class's share in every fold (classifiers only).
    #[arg(long)]
    pub stratified: bool,
    /// Shuffle the rows (with --seed) before making folds; without it folds are contiguous
    /// blocks in file order, as scikit-learn's default.
    #[arg(long)]
    pub shuffle: bool,
}

/// The rows and targets of a cross-validation, with its folds.
pub struct CvData {
    /// Feature rows.
    pub x: Array2<f64>,
    /// Class labels (classifiers).
    pub labels: Vec<usize>,
    /// Real targets (regressors).
    pub y: Vec<f64>,
    /// The folds.
    pub folds: Vec<Fold>,
}

impl CvData {
    /// Loads the rows and makes the folds.
    pub fn new(
        kind: ModelKind,
        data: &DataArgs,
        folds: &FoldArgs,
        seed: u64,
    ) -> anyhow::Result<CvData> {
        let table = data.load()?.train;
        let (labels, y) = if kind.is_classifier() {
            (encode_classes(&table)?.labels, Vec::new())
        } else {
            (Vec::new(), table.numbers()?.to_vec())
        };
        let shuffle = folds.shuffle.then_some(seed);
        let fold_list = if folds.stratified {
            if !kind.is_classifier() {
                anyhow::bail!(
                    "--stratified needs a classifier; --model {} is a regressor",
                    kind.name()
                );
            }
            StratifiedKFold {
                n_splits: folds.folds,
                shuffle,
            }
            .split(&labels)?
        } else {
            KFold {
                n_splits: folds.folds,
                shuffle,
            }
            .split(table.x.nrows())?
        };
        Ok(CvData {
            x: table.x,
            labels,
            y,
            folds: fold_list,
        })
    }

    /// Scores of `pipeline` on each fold; `on_fold` is called after each.
    pub fn scores(&self, pipeline: &Pipeline, mut on_fold: impl FnMut()) -> Result<CvScores> {
        let mut scores = Vec::with_capacity(self.folds.len());
        for fold in &self.folds {
            let one = std::slice::from_ref(fold);
            let s = if pipeline.kind.is_classifier() {
                cross_val_score_classifier(
                    pipeline,
                    self.x.view(),
                    ArrayView1::from(&self.labels),
                    one,
                )
            } else {
                cross_val_score_regressor(pipeline, self.x.view(), ArrayView1::from(&self.y), one)
            };
            scores.extend(s?.scores);
            on_fold();
        }
        Ok(CvScores::new(scores))
    }
}

/// Runs the cross-validation and prints the scores.
pub fn run(args: Args, matches: Option<&clap::ArgMatches>) -> anyhow::Result<ExitCode> {
    super::classic_flags::refuse_unused(args.model, matches)?;
    let cv = CvData::new(args.model, &args.data, &args.folds, args.hyper.seed)?;
    let pipeline = Pipeline {
        kind: args.model,
        hyper: args.hyper.clone(),
    };
    let bar = progress(cv.folds.len(), args.json, "folds");
    let scores = cv.scores(&pipeline, || bar.inc(1))?;
    bar.finish_and_clear();
    let metric = args.model.score_name();
    if args.json {
        let out = serde_json::json!({
            "model": args.model.name(),
            "data": args.data.describe(),
            "metric": metric,
            "folds": cv.folds.len(),
            "stratified": args.folds.stratified,
            "scores": scores.scores,
            "mean": scores.mean,
            "std": scores.std,
        });
        super::stdout::print_json("cv", out)?;
    } else {
        println!(
            "{} on {}: {}-fold{} cross-validation, {metric}",
            args.model.name(),
            args.data.describe(),
            cv.folds.len(),
            if args.folds.stratified {
                " stratified"
            } else {
                ""
            }
        );
        for (i, s) in scores.scores.iter().enumerate() {
            println!("  fold {:>2}: {s:.4}", i + 1);
        }
        println!("  mean ± std: {}", mean_std(scores.mean, scores.std));
    }
    Ok(ExitCode::SUCCESS)
}
