//! Refuses a classic fit the machine cannot hold, before fitting: the library's estimate
//! ([`ferrolearn::classic::memory`]) for the chosen model and its hyperparameters.

use ferrolearn::classic::memory::{available_memory, check_classic_memory, LearnerShape};
use ferrolearn::classic::pipeline::{Choice, Hyper, ModelKind};

/// The shape of `kind` with `hyper` for the estimate, with `features` inputs and `classes`
/// classes.
fn learner_shape(kind: ModelKind, hyper: &Hyper, features: usize, classes: usize) -> LearnerShape {
    match kind {
        ModelKind::Knn => LearnerShape::Knn,
        ModelKind::Linear | ModelKind::Ridge => LearnerShape::Linear,
        ModelKind::Poly => LearnerShape::Polynomial {
            degree: hyper.degree,
        },
        ModelKind::Logistic | ModelKind::Softmax => LearnerShape::Logistic { classes },
        ModelKind::Svm => LearnerShape::LinearSvm { classes },
        ModelKind::Multisvm | ModelKind::Perceptron | ModelKind::Sgd => {
            LearnerShape::MulticlassLinear { classes }
        }
        ModelKind::SgdRegressor => LearnerShape::MulticlassLinear { classes: 1 },
        ModelKind::Kmeans => LearnerShape::KMeans { clusters: hyper.k },
        ModelKind::Mlp => {
            let widths: Vec<usize> = std::iter::once(features)
                .chain(hyper.hidden.iter().copied())
                .chain(std::iter::once(classes))
                .collect();
            let parameters = widths
                .windows(2)
                .map(|w| w[0].saturating_add(1).saturating_mul(w[1]))
                .fold(0usize, usize::saturating_add);
            LearnerShape::Mlp { parameters }
        }
    }
}

/// Refuses fitting `kind` on `rows` x `features` when the estimate exceeds the memory the
/// system says is available (nothing is checked where it does not say).
pub fn refuse_too_big(
    kind: ModelKind,
    hyper: &Hyper,
    rows: usize,
    features: usize,
    classes: usize,
) -> anyhow::Result<()> {
    if let Some(available) = available_memory() {
        check_classic_memory(
            kind.name(),
            learner_shape(kind, hyper, features, classes),
            rows,
            features,
            rayon::current_num_threads(),
            available,
        )?;
    }
    Ok(())
}
