//! Evaluation passes: loss, accuracy and predictions of a model on a dataset, batch by
//! batch without a graph, optionally with test-time augmentation.

use std::borrow::Cow;

use super::tta::{tta_logits, Tta};
use crate::autograd::Var;
use crate::data::{Dataset, Loader, Normalizer};
use crate::nn::Module;
use crate::Result;

/// Batch size used for evaluation passes (no gradients, so larger batches are cheap).
pub(crate) const EVAL_BATCH: usize = 1000;

/// Loss and accuracy of a model on a dataset, with each prediction.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Mean cross-entropy (of the averaged logits under test-time augmentation).
    pub loss: f64,
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// Predicted class of each item, in dataset order.
    pub predictions: Vec<usize>,
}

/// Runs `model` over `dataset` in evaluation mode without recording a graph.
pub fn evaluate(
    model: &mut dyn Module,
    dataset: &Dataset,
    normalizer: Option<&Normalizer>,
) -> Result<Evaluation> {
    evaluate_with(model, dataset, normalizer, Tta::None)
}

/// [`evaluate`] with the logits averaged over the views `tta` names (see [`Tta`]).
pub fn evaluate_with(
    model: &mut dyn Module,
    dataset: &Dataset,
    normalizer: Option<&Normalizer>,
    tta: Tta,
) -> Result<Evaluation> {
    let mut loader = Loader::new(dataset, EVAL_BATCH)?;
    if let Some(n) = normalizer {
        loader = loader.normalize(n.clone())?;
    }
    let mut total_loss = 0.0;
    let mut predictions = Vec::with_capacity(dataset.len());
    for batch in loader.epoch(0) {
        let logits = tta_logits(model, &batch.images, tta);
        predictions.extend(logits.argmax_axis(1));
        let loss = Var::constant(logits).cross_entropy_loss(&batch.labels);
        total_loss += loss.item() as f64 * batch.labels.len() as f64;
    }
    let correct = predictions
        .iter()
        .zip(dataset.labels())
        .filter(|(&p, &y)| p == y as usize)
        .count();
    let n = dataset.len().max(1) as f64;
    Ok(Evaluation {
        loss: total_loss / n,
        accuracy: correct as f64 / n,
        predictions,
    })
}

/// The class probabilities `model` gives each item of `dataset` (the softmax of its logits,
/// averaged over the views `tta` names), row-major `[N, n_classes]`: what
/// [`most_confident_mistakes`](crate::viz::most_confident_mistakes) ranks.
pub fn class_probabilities(
    model: &mut dyn Module,
    dataset: &Dataset,
    normalizer: Option<&Normalizer>,
    tta: Tta,
) -> Result<Vec<f32>> {
    let mut loader = Loader::new(dataset, EVAL_BATCH)?;
    if let Some(n) = normalizer {
        loader = loader.normalize(n.clone())?;
    }
    let mut probabilities = Vec::with_capacity(dataset.len() * dataset.num_classes());
    for batch in loader.epoch(0) {
        let logits = tta_logits(model, &batch.images, tta);
        probabilities.extend_from_slice(Var::constant(logits).softmax(1).value().data());
    }
    Ok(probabilities)
}

/// The first `limit` items of `dataset` (all of them, borrowed, when `None` or larger).
pub fn first_items(dataset: &Dataset, limit: Option<usize>) -> Cow<'_, Dataset> {
    match limit {
        Some(n) if n < dataset.len() => Cow::Owned(dataset.subset(&(0..n).collect::<Vec<_>>())),
        _ => Cow::Borrowed(dataset),
    }
}
