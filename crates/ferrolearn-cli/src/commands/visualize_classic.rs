//! `ferrolearn visualize` of a classic run fitted on an image dataset: the templates of a
//! linear model, the most confident mistakes of a probabilistic one, or the centres of a
//! k-means model.

use std::path::Path;

use anyhow::{bail, Context};
use ferrolearn::classic::pipeline::{Choice, FittedModel, FittedScaler};
use ferrolearn::data::{load, DatasetName, TrainTest};
use ferrolearn::viz::{most_confident_mistakes, plot_centroids, plot_linear_templates};
use ndarray::{concatenate, Array2, ArrayView2, Axis};
use serde_json::json;

use super::classic_data::{image_table, labels_in};
use super::classic_saved;
use super::visualize::{draw_mistakes, Args, Drawn, What};

/// Draws `--what` for the classic run in `run` into `picture`.
pub fn draw(args: &Args, run: &Path, picture: &Path) -> anyhow::Result<Drawn> {
    let saved = classic_saved::load(run)?;
    let weights = class_weights(&saved.pipeline.model);
    let probabilistic = matches!(
        saved.pipeline.model,
        FittedModel::Logistic(_) | FittedModel::Softmax(_)
    );
    let centres = match &saved.pipeline.model {
        FittedModel::Kmeans(m) => Some(m.centres()),
        _ => None,
    };
    let dataset = match &saved.dataset {
        Some(name) => Some(name.parse::<DatasetName>()?),
        None => None,
    };
    let refuse = |reason: &str| {
        let mut applicable = Vec::new();
        if dataset.is_some() && weights.is_some() {
            applicable.push("templates");
        }
        if dataset.is_some() && probabilistic {
            applicable.push("errors");
        }
        if dataset.is_some() && centres.is_some() {
            applicable.push("centroids");
        }
        let applicable = match &applicable[..] {
            [] => "no --what applies to it".to_string(),
            names => format!("--what {} applies to it", names.join(" or ")),
        };
        anyhow::anyhow!(
            "--what {} does not apply to {} (a classic {} model: {reason}); {applicable}",
            args.what.name(),
            run.display(),
            saved.model.name()
        )
    };
    let Some(dataset) = dataset else {
        return Err(refuse(
            "fitted on a CSV, not on an image dataset (--dataset)",
        ));
    };
    let ([channels, height, width], _) = dataset.item_shape_and_classes();
    let classes = saved
        .classes
        .as_ref()
        .context("the saved classifier has no classes")?;
    match args.what {
        What::Filters => Err(refuse("filters belong to convolutional networks")),
        What::Templates => {
            let Some(weights) = weights else {
                return Err(refuse("templates are the weights of a linear model"));
            };
            let sets = load(dataset, args.data_dir.as_deref())?;
            let names = dataset_names(&sets, &classes.names())?;
            let flat: Vec<f32> = weights.iter().map(|&w| w as f32).collect();
            if weights.ncols() != channels * height * width {
                bail!(
                    "the model has {} features per class, not the {channels} x {height} x {width} pixels of {dataset}",
                    weights.ncols()
                );
            }
            let shape = (channels, height, width);
            plot_linear_templates(picture, &flat, weights.nrows(), shape, &names)?;
            Ok(Drawn {
                description: format!(
                    "{} class templates of {} on {dataset}",
                    names.len(),
                    saved.model.name()
                ),
                details: json!({ "classes": names }),
            })
        }
        What::Centroids => {
            let Some(centres) = centres else {
                return Err(refuse("centroids are the centres of a k-means model"));
            };
            // Back to the pixel values (in [0, 1]) the images were given as.
            let centres = match &saved.pipeline.scaler {
                FittedScaler::None => centres,
                FittedScaler::Standard(s) => s.inverse_transform(centres.view())?,
                FittedScaler::MinMax(s) => s.inverse_transform(centres.view())?,
            };
            if centres.ncols() != channels * height * width {
                bail!(
                    "the k-means centres have {} values, not the {channels} x {height} x {width} pixels of {dataset}",
                    centres.ncols()
                );
            }
            let k = centres.nrows();
            let flat: Vec<f32> = centres.iter().map(|&v| v as f32).collect();
            let title = format!("{k} k-means centres of {dataset} training images");
            plot_centroids(picture, &flat, [k, channels, height, width], &title)?;
            Ok(Drawn {
                description: format!("{k} k-means centres on {dataset}"),
                details: json!({ "k": k, "shape": [channels, height, width] }),
            })
        }
        What::Errors => {
            if !probabilistic {
                return Err(refuse(
                    "ranking mistakes needs class probabilities (logistic, softmax)",
                ));
            }
            let sets = load(dataset, args.data_dir.as_deref())?;
            let names = dataset_names(&sets, &classes.names())?;
            let n = args
                .test_limit
                .map_or(sets.test.len(), |n| n.min(sets.test.len()));
            let table = image_table(&sets.test, n, dataset)?;
            let labels = labels_in(&table.y, classes, &table.source)?;
            let probabilities = saved
                .pipeline
                .predict_proba(table.x.view())?
                .context("the model gives no class probabilities")?;
            let flat: Vec<f32> = probabilities.iter().map(|&p| p as f32).collect();
            let found = most_confident_mistakes(&flat, names.len(), &labels, usize::MAX)?;
            let item = channels * height * width;
            let images = &sets.test.images()[..n * item];
            let title = format!("{} on the {dataset} test set", saved.model.name());
            let shape = (channels, height, width);
            draw_mistakes(picture, images, shape, &found, &names, &title, args.top)
        }
    }
}

/// The weights `[n_classes, n_features]` of a linear classifier, one row per class: a
/// binary model's single row `w` (scores of class 1) becomes `[-w, w]`, the equivalent
/// two-class weights; `None` for the models that are not linear classifiers.
fn class_weights(model: &FittedModel) -> Option<Array2<f64>> {
    let rows: ArrayView2<f64> = match model {
        FittedModel::Softmax(m) => m.coef(),
        FittedModel::Svm(m) => m.coef(),
        FittedModel::Multisvm(m) => m.coef(),
        FittedModel::Perceptron(m) => m.coef(),
        FittedModel::Logistic(m) => m.coef().insert_axis(Axis(0)),
        _ => return None,
    };
    if rows.nrows() == 1 {
        let negated = rows.mapv(|w| -w);
        return concatenate(Axis(0), &[negated.view(), rows]).ok();
    }
    Some(rows.to_owned())
}

/// The dataset's name of each of the model's classes (its integer labels).
fn dataset_names(sets: &TrainTest, classes: &[String]) -> anyhow::Result<Vec<String>> {
    let names = sets.test.class_names();
    classes
        .iter()
        .map(|c| {
            c.parse::<usize>()
                .ok()
                .and_then(|k| names.get(k).cloned())
                .with_context(|| format!("class `{c}` is not a label of the dataset"))
        })
        .collect()
}
