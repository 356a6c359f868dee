//! Cross-validation shared by `cv` and `search`: the fold flags, the rows with their folds,
//! and each fold's score. As scikit-learn's `cv=5`: stratified folds for classifiers, plain
//! k-fold for regressors, scored by `--scoring` (accuracy or R^2 by default).

use anyhow::{bail, Context};
use ferrolearn::classic::pipeline::{Choice, FeatureOrigin, FittedPipeline, ModelKind, Pipeline};
use ferrolearn::classic::scoring::{
    cross_val_scores_classifier, cross_val_scores_regressor, Scoring,
};
use ferrolearn::classic::selection::{CvScores, Fold, KFold, StratifiedKFold};
use ferrolearn::classic::{FitClassifier, FitRegressor};
use ferrolearn::data::Classes;
use ndarray::{Array2, ArrayView1};

use super::classic_data::{encode_classes, DataArgs};

/// How the rows are split into folds and scored.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Cross-validation")]
pub struct FoldArgs {
    /// Number of folds (>= 2).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Keep each class's share in every fold: the default for classifiers, as scikit-learn's
    /// cv=5 (refused for regressors).
    #[arg(long, conflicts_with = "no_stratify")]
    pub stratified: bool,
    /// Plain k-fold for a classifier: contiguous blocks in file order (unless --shuffle),
    /// whatever their classes.
    #[arg(long)]
    pub no_stratify: bool,
    /// Shuffle the rows (with --seed) before making folds; without it folds follow the file
    /// order, as scikit-learn's default.
    #[arg(long)]
    pub shuffle: bool,
    /// The score, greater is better (scikit-learn's scoring names). Classifiers: accuracy
    /// (default), balanced_accuracy, f1_macro, f1_weighted, precision_macro, recall_macro.
    /// Regressors: r2 (default), neg_mean_squared_error, neg_root_mean_squared_error,
    /// neg_mean_absolute_error.
    #[arg(long, value_name = "NAME")]
    pub scoring: Option<String>,
}

impl FoldArgs {
    /// Whether `kind` gets stratified folds; errors on `--stratified` for a regressor.
    fn stratify(&self, kind: ModelKind) -> anyhow::Result<bool> {
        if self.stratified && !kind.is_classifier() {
            bail!(
                "--stratified needs a classifier; --model {} is a regressor",
                kind.name()
            );
        }
        Ok(kind.is_classifier() && !self.no_stratify)
    }

    /// The score `--scoring` names, or the default of `kind`; errors naming the flag when the
    /// name is unknown or the score does not fit the model.
    fn scoring(&self, kind: ModelKind) -> anyhow::Result<Scoring> {
        let classifier = kind.is_classifier();
        let Some(name) = &self.scoring else {
            return Ok(if classifier {
                Scoring::Accuracy
            } else {
                Scoring::R2
            });
        };
        let scoring: Scoring = name.parse().with_context(|| format!("--scoring {name}"))?;
        if scoring.is_for_classifiers() != classifier {
            bail!(
                "--scoring {name} does not apply to --model {} (a {}); use one of {}",
                kind.name(),
                if classifier {
                    "classifier"
                } else {
                    "regressor"
                },
                Scoring::names_for(classifier)
            );
        }
        Ok(scoring)
    }
}

/// The rows and targets of a cross-validation, with its folds and score.
pub struct CvData {
    /// Feature rows.
    pub x: Array2<f64>,
    /// The feature column names, in the order of `x`'s columns.
    pub feature_names: Vec<String>,
    /// Class labels (classifiers).
    pub labels: Vec<usize>,
    /// What the labels stand for (classifiers).
    pub classes: Option<Classes>,
    /// Real targets (regressors).
    pub y: Vec<f64>,
    /// The folds.
    pub folds: Vec<Fold>,
    /// Whether the folds keep each class's share.
    pub stratified: bool,
    /// What each fold is scored by.
    pub scoring: Scoring,
    /// What the rows were computed from, for `--features`.
    pub origin: Option<FeatureOrigin>,
}

impl CvData {
    /// Loads the rows, checks the flags and makes the folds.
    pub fn new(
        kind: ModelKind,
        data: &DataArgs,
        folds: &FoldArgs,
        seed: u64,
    ) -> anyhow::Result<CvData> {
        let stratified = folds.stratify(kind)?;
        let scoring = folds.scoring(kind)?;
        let loaded = data.load()?;
        let (table, origin) = (loaded.train, loaded.origin);
        let (labels, classes, y) = if kind.is_classifier() {
            let l = encode_classes(&table)?;
            (l.labels, Some(l.classes), Vec::new())
        } else {
            (Vec::new(), None, table.numbers()?.to_vec())
        };
        let shuffle = folds.shuffle.then_some(seed);
        let fold_list = if stratified {
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
            feature_names: table.feature_names,
            labels,
            classes,
            y,
            folds: fold_list,
            stratified,
            scoring,
            origin,
        })
    }

    /// Scores of `pipeline` on each fold; `on_fold` is called after each.
    pub fn scores(
        &self,
        pipeline: &Pipeline,
        mut on_fold: impl FnMut(),
    ) -> ferrolearn::Result<CvScores> {
        let mut scores = Vec::with_capacity(self.folds.len());
        for fold in &self.folds {
            let one = std::slice::from_ref(fold);
            let s = if pipeline.kind.is_classifier() {
                let y = ArrayView1::from(&self.labels);
                cross_val_scores_classifier(pipeline, self.x.view(), y, one, self.scoring)
            } else {
                let y = ArrayView1::from(&self.y);
                cross_val_scores_regressor(pipeline, self.x.view(), y, one, self.scoring)
            };
            scores.extend(s?.scores);
            on_fold();
        }
        Ok(CvScores::new(scores))
    }

    /// `pipeline` fitted on every row.
    pub fn fit_all(&self, pipeline: &Pipeline) -> ferrolearn::Result<FittedPipeline> {
        if pipeline.kind.is_classifier() {
            FitClassifier::fit(pipeline, self.x.view(), ArrayView1::from(&self.labels))
        } else {
            FitRegressor::fit(pipeline, self.x.view(), ArrayView1::from(&self.y))
        }
    }
}
