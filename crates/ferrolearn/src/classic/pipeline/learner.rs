//! [`Pipeline`]: the learner `fit`, `cv` and `search` run, scaling then the model a
//! [`ModelKind`] and its [`Hyper`] choose, fitted into a [`FittedPipeline`].

use ndarray::{ArrayView1, ArrayView2};

use super::fitted::{FittedModel, FittedPipeline};
use super::hyper::{solver_error, Hyper};
use super::kind::ModelKind;
use super::options::{Choice, Distance, Scaling, SolverKind};
use super::scaler::FittedScaler;
use crate::classic::kmeans::{FittedKMeans, KMeans};
use crate::classic::knn::{KnnClassifier, Metric};
use crate::classic::linear::{
    GdRegressor, GdSchedule, LinearRegression, PolynomialRegression, Ridge,
};
use crate::classic::logistic::LogisticRegression;
use crate::classic::minibatch_kmeans::MiniBatchKMeans;
use crate::classic::mlp::MlpClassifier;
use crate::classic::multiclass_svm::MulticlassSvm;
use crate::classic::perceptron::Perceptron;
use crate::classic::softmax::SoftmaxRegression;
use crate::classic::svm::{LinearSvm, SvmIntercept};
use crate::classic::{FitClassifier, FitRegressor};
use crate::{Error, Result};

/// Scaling then the model of `kind` with `hyper`: a classifier ([`FitClassifier`]) or a
/// regressor ([`FitRegressor`]) by kind, or k-means through [`Pipeline::fit_kmeans`].
///
/// ```
/// use ferrolearn::classic::pipeline::{Hyper, ModelKind, Pipeline};
/// use ferrolearn::classic::{Classifier, FitClassifier};
/// # fn main() -> ferrolearn::Result<()> {
/// let x = ndarray::array![[0.0, 0.1], [0.2, 0.0], [3.0, 3.1], [3.2, 2.9]];
/// let y = ndarray::array![0, 0, 1, 1];
/// let pipeline = Pipeline { kind: ModelKind::Knn, hyper: Hyper { k: 1, ..Hyper::default() } };
/// let fitted = pipeline.fit(x.view(), y.view())?;
/// assert_eq!(fitted.predict(x.view())?, y);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Which model.
    pub kind: ModelKind,
    /// Its hyperparameters.
    pub hyper: Hyper,
}

impl Pipeline {
    /// The scaling [`Scaling::Auto`] stands for with this model and solver: standard for the
    /// iteratively trained models, none for knn, poly, k-means and the exact solvers.
    pub fn scale(&self) -> Scaling {
        let iterative = match self.kind {
            ModelKind::Knn | ModelKind::Poly | ModelKind::Kmeans => false,
            ModelKind::Linear | ModelKind::Ridge => self.hyper.solver == Some(SolverKind::Gd),
            _ => true,
        };
        match self.hyper.scale {
            Scaling::Auto if iterative => Scaling::Standard,
            Scaling::Auto => Scaling::None,
            chosen => chosen,
        }
    }

    /// Scales `x` and clusters its rows into `hyper.k` clusters ([`Pipeline::cluster`]): the
    /// pipeline that predicts cluster ids and the fit's figures (inertia, iterations).
    pub fn fit_kmeans(&self, x: ArrayView2<f64>) -> Result<(FittedPipeline, FittedKMeans)> {
        let scaler = FittedScaler::fit(self.scale(), x)?;
        let fitted = self.cluster(self.hyper.k, scaler.transform(x)?.view())?;
        let model = FittedModel::Kmeans(fitted.model.clone());
        Ok((FittedPipeline { scaler, model }, fitted))
    }

    /// Lloyd k-means with `k` clusters on rows already scaled, or mini-batch k-means when
    /// `batch_size` is given.
    pub fn cluster(&self, k: usize, x: ArrayView2<f64>) -> Result<FittedKMeans> {
        let h = &self.hyper;
        match h.batch_size {
            Some(batch_size) => MiniBatchKMeans {
                k,
                batch_size,
                max_iter: h.max_iter.unwrap_or(100),
                n_init: h.n_init,
                seed: h.seed,
                ..MiniBatchKMeans::default()
            }
            .fit(x),
            None => KMeans {
                k,
                n_init: h.n_init,
                max_iter: h.max_iter.unwrap_or(300),
                seed: h.seed,
                ..KMeans::default()
            }
            .fit(x),
        }
    }

    /// Fits the classifier of `kind` on rows already scaled.
    fn fit_classifier(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<FittedModel> {
        let h = &self.hyper;
        let n_classes = y.iter().max().map_or(0, |m| m + 1);
        Ok(match self.kind {
            ModelKind::Knn => FittedModel::Knn(
                KnnClassifier {
                    k: h.k,
                    metric: match h.metric {
                        Distance::L2 => Metric::Euclidean,
                        Distance::L1 => Metric::Manhattan,
                    },
                }
                .fit(x, y)?,
            ),
            ModelKind::Logistic if n_classes <= 2 => FittedModel::Logistic(
                LogisticRegression {
                    c: h.c,
                    penalty: h.penalty(),
                    solver: h.linear_solver(self.kind)?,
                    fit_intercept: h.fit_intercept,
                }
                .fit(x, y)?,
            ),
            ModelKind::Logistic | ModelKind::Softmax => FittedModel::Softmax(
                SoftmaxRegression {
                    c: h.c,
                    penalty: h.penalty(),
                    solver: h.linear_solver(self.kind)?,
                    fit_intercept: h.fit_intercept,
                }
                .fit(x, y)?,
            ),
            ModelKind::Svm => FittedModel::Svm(
                LinearSvm {
                    c: h.c,
                    loss: h.svm_loss()?,
                    tol: h.tol_or_default(),
                    max_iter: h.max_iter.unwrap_or(1000),
                    seed: h.seed,
                    intercept: if h.fit_intercept {
                        LinearSvm::default().intercept
                    } else {
                        SvmIntercept::None
                    },
                    ..LinearSvm::default()
                }
                .fit(x, y)?,
            ),
            ModelKind::Multisvm => FittedModel::Multisvm(
                MulticlassSvm {
                    reg: h.alpha.unwrap_or(1e-3),
                    learning_rate: h.lr_or(0.1),
                    epochs: h.epochs,
                    batch_size: h.batch_or(Some(200)),
                    seed: h.seed,
                    ..MulticlassSvm::default()
                }
                .fit(x, y)?,
            ),
            ModelKind::Perceptron => FittedModel::Perceptron(
                Perceptron {
                    learning_rate: h.lr_or(1.0),
                    epochs: h.epochs,
                    seed: h.seed,
                    fit_intercept: h.fit_intercept,
                    ..Perceptron::default()
                }
                .fit(x, y)?,
            ),
            ModelKind::Sgd => FittedModel::Sgd(FitClassifier::fit(&h.sgd(self.kind)?, x, y)?),
            ModelKind::Mlp => FittedModel::Mlp(
                MlpClassifier {
                    hidden: h.hidden.clone(),
                    alpha: h.alpha.unwrap_or(1e-4),
                    learning_rate: h.lr_or(1e-3),
                    batch_size: h.batch_or(Some(200)).unwrap_or(x.nrows()),
                    max_iter: h.max_iter.unwrap_or(200),
                    seed: h.seed,
                    ..MlpClassifier::default()
                }
                .fit(x, y)?,
            ),
            ModelKind::Kmeans => return Err(clustering_error()),
            ModelKind::Linear | ModelKind::Ridge | ModelKind::Poly | ModelKind::SgdRegressor => {
                return Err(Error::InvalidParameter(format!(
                    "--model {} is a regressor, not a classifier",
                    self.kind.name()
                )))
            }
        })
    }

    /// Fits the regressor of `kind` on rows already scaled.
    fn fit_regressor(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<FittedModel> {
        let h = &self.hyper;
        let alpha = match self.kind {
            ModelKind::Ridge => h.alpha.unwrap_or(1.0),
            _ => h.alpha.unwrap_or(0.0),
        };
        Ok(match (self.kind, h.solver) {
            (ModelKind::Linear, None | Some(SolverKind::Exact)) => FittedModel::Linear(
                LinearRegression {
                    fit_intercept: h.fit_intercept,
                }
                .fit(x, y)?,
            ),
            (ModelKind::Ridge, None | Some(SolverKind::Exact)) => FittedModel::Linear(
                Ridge {
                    alpha,
                    fit_intercept: h.fit_intercept,
                }
                .fit(x, y)?,
            ),
            (ModelKind::Linear | ModelKind::Ridge, Some(SolverKind::Gd)) => {
                let schedule = match h.batch_or(Some(32)) {
                    Some(batch_size) => GdSchedule::MiniBatch { batch_size },
                    None => GdSchedule::Batch,
                };
                FittedModel::LinearGd(
                    GdRegressor {
                        schedule,
                        learning_rate: h.lr_or(0.01),
                        epochs: h.epochs,
                        // The GD cost is ridge's divided by n: alpha = n * weight_decay.
                        weight_decay: alpha / x.nrows().max(1) as f64,
                        fit_intercept: h.fit_intercept,
                        seed: h.seed,
                    }
                    .fit(x, y)?,
                )
            }
            (ModelKind::Poly, None | Some(SolverKind::Exact)) => FittedModel::Poly(
                PolynomialRegression {
                    degree: h.degree,
                    alpha,
                }
                .fit(x, y)?,
            ),
            (ModelKind::SgdRegressor, _) => {
                FittedModel::SgdRegressor(FitRegressor::fit(&h.sgd(self.kind)?, x, y)?)
            }
            (ModelKind::Linear | ModelKind::Ridge | ModelKind::Poly, Some(s)) => {
                return Err(solver_error(s, self.kind))
            }
            (ModelKind::Kmeans, _) => return Err(clustering_error()),
            (kind, _) => {
                return Err(Error::InvalidParameter(format!(
                    "--model {} is a classifier, not a regressor",
                    kind.name()
                )))
            }
        })
    }
}

/// What fitting k-means against a target (`cv`, `search`) gives.
fn clustering_error() -> Error {
    Error::InvalidParameter(
        "--model kmeans is unsupervised clustering: fit it with `ferrolearn fit --model kmeans` \
         (cross-validation and search score predictions against a target)"
            .into(),
    )
}

impl FitClassifier for Pipeline {
    type Fitted = FittedPipeline;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<FittedPipeline> {
        let scaler = FittedScaler::fit(self.scale(), x)?;
        let xs = scaler.transform(x)?;
        let model = self.fit_classifier(xs.view(), y)?;
        Ok(FittedPipeline { scaler, model })
    }
}

impl FitRegressor for Pipeline {
    type Fitted = FittedPipeline;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<FittedPipeline> {
        let scaler = FittedScaler::fit(self.scale(), x)?;
        let xs = scaler.transform(x)?;
        let model = self.fit_regressor(xs.view(), y)?;
        Ok(FittedPipeline { scaler, model })
    }
}
