//! Which classic model a pipeline fits: the names `--model` takes and saved runs record.

use serde::{Deserialize, Serialize};

use super::options::Choice;

/// The learners a [`super::Pipeline`] can fit, named as the CLI's `--model` values (and in a
/// saved run's `model` field, kebab-case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// k-nearest neighbours classifier (`k`, `metric`).
    Knn,
    /// Ordinary least squares regression (`solver` exact or gd).
    Linear,
    /// Ridge regression, intercept not penalised (`alpha`, `solver` exact or gd).
    Ridge,
    /// Least squares on polynomial features (`degree`, `alpha`).
    Poly,
    /// Logistic regression; multinomial (as softmax) for more than two classes, as
    /// scikit-learn's `LogisticRegression` (`c`, `penalty`, `l1_ratio`, `solver`).
    Logistic,
    /// Softmax (multinomial logistic) regression (`c`, `penalty`, `l1_ratio`, `solver`).
    Softmax,
    /// Soft-margin linear SVM, one-vs-rest, as `LinearSVC` (`c`, `max_iter`).
    Svm,
    /// Multiclass SVM loss (CS231n) by mini-batch gradient descent (`alpha`, `lr`, `epochs`,
    /// `batch_size`).
    Multisvm,
    /// Perceptron, one-vs-rest for several classes (`lr`, `epochs`).
    Perceptron,
    /// Linear classifier by plain SGD, one-vs-rest, as `SGDClassifier` (`loss`, `penalty`,
    /// `alpha`, `l1_ratio`, `lr_schedule`, `lr` as eta0, `power_t`, `max_iter`, `tol`).
    Sgd,
    /// Linear regressor by plain SGD, as `SGDRegressor` (as sgd, `epsilon` for the huber and
    /// epsilon-insensitive losses).
    SgdRegressor,
    /// Multi-layer perceptron, as `MLPClassifier` (`hidden`, `alpha`, `lr`, `batch_size`,
    /// `max_iter`).
    Mlp,
    /// k-means clustering, unsupervised (`k` clusters, `n_init`, `max_iter`, `batch_size`
    /// for mini-batch k-means).
    Kmeans,
}

impl ModelKind {
    /// Whether the model predicts classes (else real values; k-means' cluster ids count as
    /// classes).
    pub fn is_classifier(self) -> bool {
        !matches!(
            self,
            ModelKind::Linear | ModelKind::Ridge | ModelKind::Poly | ModelKind::SgdRegressor
        )
    }
}

impl Choice for ModelKind {
    const ALL: &'static [ModelKind] = &[
        ModelKind::Knn,
        ModelKind::Linear,
        ModelKind::Ridge,
        ModelKind::Poly,
        ModelKind::Logistic,
        ModelKind::Softmax,
        ModelKind::Svm,
        ModelKind::Multisvm,
        ModelKind::Perceptron,
        ModelKind::Sgd,
        ModelKind::SgdRegressor,
        ModelKind::Mlp,
        ModelKind::Kmeans,
    ];

    fn name(self) -> &'static str {
        match self {
            ModelKind::Knn => "knn",
            ModelKind::Linear => "linear",
            ModelKind::Ridge => "ridge",
            ModelKind::Poly => "poly",
            ModelKind::Logistic => "logistic",
            ModelKind::Softmax => "softmax",
            ModelKind::Svm => "svm",
            ModelKind::Multisvm => "multisvm",
            ModelKind::Perceptron => "perceptron",
            ModelKind::Sgd => "sgd",
            ModelKind::SgdRegressor => "sgd-regressor",
            ModelKind::Mlp => "mlp",
            ModelKind::Kmeans => "kmeans",
        }
    }
}
