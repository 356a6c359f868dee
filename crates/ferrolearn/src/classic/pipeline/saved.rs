//! A fitted run as `ferrolearn fit --out DIR` saves it ([`SavedModel`]: the model kind, its
//! hyperparameters, the feature columns, classes, figures and the fitted pipeline), in the
//! two files of [`crate::classic::persist`] (`classic.json` + `classic.safetensors`); one
//! call loads it back.
//!
//! ```no_run
//! use ferrolearn::classic::pipeline::SavedModel;
//! use ferrolearn::classic::Classifier;
//! # fn main() -> ferrolearn::Result<()> {
//! let run = SavedModel::load("runs/knn".as_ref())?;
//! let x = ndarray::Array2::<f64>::zeros((1, run.feature_names.len()));
//! let labels = run.pipeline.predict(x.view())?;
//! # Ok(()) }
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fitted::FittedPipeline;
use super::hyper::Hyper;
use super::kind::ModelKind;
use super::scores::Metrics;
use crate::classic::persist;
use crate::data::Classes;
use crate::Result;

/// Everything a saved classic run holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    /// Which model.
    pub model: ModelKind,
    /// The hyperparameters it was fitted with.
    pub hyperparameters: Hyper,
    /// The feature columns, in the order the model expects them.
    pub feature_names: Vec<String>,
    /// The target column's name.
    pub target: String,
    /// The image dataset it was fitted on (`--dataset`), if any: `visualize` reads its image
    /// shape, class names and test images from it. Absent for CSV input and older runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// The cached features it was fitted on (`--features`): dataset, kinds and checksums.
    /// `predict` and `eval` then take the same features, not a CSV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<FeatureOrigin>,
    /// For classifiers, the class (integer or name) of each label.
    pub classes: Option<Classes>,
    /// Figures on the training rows, when asked for (`fit --train-score`).
    pub train: Option<Metrics>,
    /// Figures on the test rows, when there were any.
    pub test: Option<Metrics>,
    /// The scaler and the fitted model.
    pub pipeline: FittedPipeline,
}

/// What a model was fitted on when its rows came from a feature cache
/// ([`crate::features::FeatureSet`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureOrigin {
    /// The dataset the features describe (`cifar-10`).
    pub dataset: String,
    /// The canonical text of the feature kinds, with every setting (`hog(...),color(...)`).
    pub kinds: String,
    /// The checksum recorded in the cache's training file.
    pub train_checksum: String,
    /// The checksum recorded in the cache's test file.
    pub test_checksum: String,
}

impl SavedModel {
    /// Whether `dir` holds a saved run (its [`persist::JSON_FILE`] exists).
    pub fn is_saved(dir: &Path) -> bool {
        persist::is_saved_model(dir)
    }

    /// Writes the run into `dir` (created if needed), each file atomically.
    ///
    /// # Errors
    /// `Io` naming the file that could not be written.
    pub fn save(&self, dir: &Path) -> Result<()> {
        persist::save(dir, self)
    }

    /// Reads the run saved in `dir`.
    ///
    /// # Errors
    /// `Io` when a file is missing or unreadable; `Format` naming the file when it is not a
    /// saved run or its two files do not belong together.
    pub fn load(dir: &Path) -> Result<SavedModel> {
        persist::load(dir)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};

    use super::*;
    use crate::classic::pipeline::{Pipeline, Scaling};
    use crate::classic::{Classifier, FitClassifier, FitRegressor, Regressor};

    /// Three noisy clusters of four features.
    fn rows() -> (Array2<f64>, Array1<usize>) {
        let x = Array2::from_shape_fn((60, 4), |(i, j)| {
            (i as f64 * 0.37 + j as f64 * 1.1).sin() + 2.5 * (i % 3) as f64 * (j % 2) as f64
        });
        (x, (0..60).map(|i| i % 3).collect())
    }

    fn saved(kind: ModelKind, hyper: Hyper, pipeline: FittedPipeline) -> SavedModel {
        SavedModel {
            model: kind,
            hyperparameters: hyper,
            feature_names: (0..4).map(|j| format!("f{j}")).collect(),
            target: "target".into(),
            dataset: None,
            features: None,
            classes: None,
            train: None,
            test: None,
            pipeline,
        }
    }

    #[test]
    fn a_fitted_pipeline_saved_and_loaded_predicts_identically() {
        let (x, y) = rows();
        let dir = std::env::temp_dir().join(format!("ferrolearn-saved-{}", std::process::id()));
        for kind in [
            ModelKind::Softmax,
            ModelKind::Knn,
            ModelKind::Svm,
            ModelKind::Mlp,
        ] {
            let hyper = Hyper {
                scale: Scaling::Minmax,
                hidden: vec![8],
                max_iter: Some(20),
                ..Hyper::default()
            };
            let pipeline = Pipeline {
                kind,
                hyper: hyper.clone(),
            };
            let fitted = FitClassifier::fit(&pipeline, x.view(), y.view()).unwrap();
            saved(kind, hyper.clone(), fitted.clone())
                .save(&dir)
                .unwrap();
            assert!(SavedModel::is_saved(&dir));
            let back = SavedModel::load(&dir).unwrap();
            assert_eq!((back.model, &back.hyperparameters), (kind, &hyper));
            let (labels, proba) = back.pipeline.predict_with_proba(x.view()).unwrap();
            assert_eq!(
                labels,
                Classifier::predict(&fitted, x.view()).unwrap(),
                "{kind:?}"
            );
            assert_eq!(proba, fitted.predict_proba(x.view()).unwrap(), "{kind:?}");
            assert_eq!(
                back.pipeline.decision_function(x.view()).unwrap(),
                fitted.decision_function(x.view()).unwrap()
            );
        }
        let target = x.column(0).to_owned() * 2.0 + 1.0;
        let pipeline = Pipeline {
            kind: ModelKind::Ridge,
            hyper: Hyper::default(),
        };
        let fitted = FitRegressor::fit(&pipeline, x.view(), target.view()).unwrap();
        saved(ModelKind::Ridge, Hyper::default(), fitted.clone())
            .save(&dir)
            .unwrap();
        let back = SavedModel::load(&dir).unwrap();
        let bits = |v: Array1<f64>| v.mapv(f64::to_bits);
        assert_eq!(
            bits(Regressor::predict(&back.pipeline, x.view()).unwrap()),
            bits(Regressor::predict(&fitted, x.view()).unwrap())
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
