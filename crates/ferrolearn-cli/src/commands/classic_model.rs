//! The classic models the CLI knows, their hyperparameter flags, and the learner (scaler +
//! model) that `fit`, `cv` and `search` run; what it fits is a [`FittedPipeline`]
//! (`classic_fitted`).

use clap::ValueEnum;
use ferrolearn::classic::knn::{KnnClassifier, Metric};
use ferrolearn::classic::linear::{
    GdRegressor, GdSchedule, LinearRegression, PolynomialRegression, Ridge,
};
use ferrolearn::classic::linear_solver::Solver;
use ferrolearn::classic::logistic::LogisticRegression;
use ferrolearn::classic::mlp::MlpClassifier;
use ferrolearn::classic::multiclass_svm::MulticlassSvm;
use ferrolearn::classic::penalty::Penalty;
use ferrolearn::classic::perceptron::Perceptron;
use ferrolearn::classic::selection::{ParamSet, ParamValue};
use ferrolearn::classic::softmax::SoftmaxRegression;
use ferrolearn::classic::svm::LinearSvm;
use ferrolearn::classic::{FitClassifier, FitRegressor};
use ferrolearn::{Error, Result};
use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

pub use super::classic_fitted::{FittedModel, FittedPipeline};
pub use super::classic_scaler::FittedScaler;

/// The learners `--model` selects.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// k-nearest neighbours classifier (--k, --metric).
    Knn,
    /// Ordinary least squares regression (--solver exact|gd).
    Linear,
    /// Ridge regression, intercept not penalised (--alpha, --solver exact|gd).
    Ridge,
    /// Least squares on polynomial features (--degree, --alpha).
    Poly,
    /// Logistic regression; multinomial (as softmax) for more than two classes, as
    /// scikit-learn's LogisticRegression (--c, --penalty, --l1-ratio, --solver).
    Logistic,
    /// Softmax (multinomial logistic) regression (--c, --penalty, --l1-ratio, --solver).
    Softmax,
    /// Soft-margin linear SVM, one-vs-rest, as LinearSVC (--c, --max-iter).
    Svm,
    /// Multiclass SVM loss (CS231n) by mini-batch gradient descent (--alpha, --lr, --epochs,
    /// --batch-size).
    Multisvm,
    /// Perceptron, one-vs-rest for several classes (--lr, --epochs).
    Perceptron,
    /// Multi-layer perceptron, as MLPClassifier: ReLU hidden layers, softmax cross-entropy,
    /// Adam (--hidden, --alpha, --lr, --batch-size, --max-iter epochs).
    Mlp,
    /// k-means clustering, unsupervised: `fit` only, the target is ignored (--k clusters,
    /// --n-init, --max-iter, --batch-size for mini-batch k-means, fit --elbow).
    Kmeans,
}

impl ModelKind {
    /// Whether the model predicts classes (else real values).
    pub fn is_classifier(self) -> bool {
        !matches!(self, ModelKind::Linear | ModelKind::Ridge | ModelKind::Poly)
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
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
            ModelKind::Mlp => "mlp",
            ModelKind::Kmeans => "kmeans",
        }
    }
}

/// kNN distance.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistanceArg {
    /// Euclidean distance.
    L2,
    /// Manhattan distance.
    L1,
}

/// Weight penalty of logistic and softmax regression.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PenaltyArg {
    /// No penalty.
    None,
    /// 0.5 ||w||^2.
    L2,
    /// ||w||_1 (sparse weights; needs --solver fista or gd).
    L1,
    /// l1_ratio ||w||_1 + 0.5 (1 - l1_ratio) ||w||^2 (needs --solver fista or gd).
    Elasticnet,
}

/// How a model is optimised.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SolverArg {
    /// Closed form through QR / Cholesky (linear, ridge).
    Exact,
    /// Quasi-Newton L-BFGS (logistic, softmax; smooth penalties).
    Lbfgs,
    /// Accelerated proximal gradient (logistic, softmax; every penalty).
    Fista,
    /// (Mini-batch) gradient descent with --lr, --epochs, --batch-size (linear, ridge,
    /// logistic, softmax).
    Gd,
}

/// Feature scaling, fitted on the training rows only and saved with the model.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScaleArg {
    /// standard for the iteratively trained models (logistic, softmax, svm, multisvm,
    /// perceptron, mlp, --solver gd), none for knn and the closed-form regressions (as
    /// scikit-learn, which never scales unasked).
    Auto,
    /// Zero mean, unit variance per column.
    Standard,
    /// Each column mapped to [0, 1].
    Minmax,
    /// The features as given.
    None,
}

/// Hyperparameter flags shared by `fit`, `cv` and `search` (each names the models it
/// concerns; the others ignore it).
#[derive(clap::Args, Debug, Clone, Serialize, Deserialize)]
#[command(next_help_heading = "Hyperparameters")]
pub struct Hyper {
    /// knn: number of voting neighbours; kmeans: number of clusters.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// kmeans: seedings (k-means++) run, the lowest inertia kept.
    #[arg(long, default_value_t = 1)]
    #[serde(default = "one")]
    pub n_init: usize,
    /// knn: distance.
    #[arg(long, value_enum, default_value_t = DistanceArg::L2)]
    pub metric: DistanceArg,
    /// ridge, poly: L2 penalty strength (default 1 for ridge, 0 for poly); multisvm:
    /// regularisation strength reg (default 1e-3); mlp: L2 penalty on the weights (default
    /// 1e-4).
    #[arg(long, allow_hyphen_values = true)]
    pub alpha: Option<f64>,
    /// poly: highest degree of the polynomial features.
    #[arg(long, default_value_t = 2)]
    pub degree: usize,
    /// logistic, softmax, svm: inverse regularisation strength C.
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub c: f64,
    /// logistic, softmax: penalty on the weights.
    #[arg(long, value_enum, default_value_t = PenaltyArg::L2)]
    pub penalty: PenaltyArg,
    /// logistic, softmax: share of L1 in the elastic-net penalty, in [0, 1].
    #[arg(long, default_value_t = 0.5, allow_hyphen_values = true)]
    pub l1_ratio: f64,
    /// linear, ridge: exact (default) or gd; logistic, softmax: lbfgs (default for none/l2),
    /// fista (default for l1/elasticnet) or gd.
    #[arg(long, value_enum)]
    pub solver: Option<SolverArg>,
    /// Step size of gradient descent (solver gd, perceptron, multisvm) or Adam (mlp); default
    /// 0.01 for linear/ridge, 0.1 for logistic/softmax/multisvm, 1 for perceptron, 1e-3 for
    /// mlp.
    #[arg(long, allow_hyphen_values = true)]
    pub lr: Option<f64>,
    /// Passes over the training rows (solver gd, perceptron, multisvm).
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Rows per gradient step (solver gd, multisvm); 0 means all rows (batch gradient
    /// descent). Default 32 for linear/ridge, 200 for multisvm and mlp, all rows for
    /// logistic/softmax.
    /// kmeans: rows per mini-batch (mini-batch k-means; without it, Lloyd on all rows).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Most iterations of lbfgs / fista (default 100), passes of svm (default 1000), Lloyd
    /// iterations of kmeans (default 300) or its mini-batch passes (default 100), epochs of
    /// mlp (default 200; it stops earlier once 10 epochs fail to lower the loss by 1e-4).
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// mlp: width of each hidden layer, comma-separated (`500` or `512,256`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "100",
        value_name = "WIDTHS"
    )]
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Feature scaling, fitted on the training rows only and saved with the model.
    #[arg(long, value_enum, default_value_t = ScaleArg::Auto)]
    pub scale: ScaleArg,
    /// Seed of every random choice (split, fold shuffle, gradient-descent order).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The names `search` accepts in `--grid` and `--range`.
pub const PARAM_NAMES: &str =
    "k, n_init, metric, alpha, degree, c, penalty, l1_ratio, solver, lr, \
                               epochs, batch_size, max_iter, hidden, scale";

impl Hyper {
    /// A copy with the named parameters of a search candidate set.
    pub fn with_params(&self, params: &ParamSet) -> Result<Hyper> {
        let mut h = self.clone();
        for (name, value) in &params.0 {
            h.set(name, value)?;
        }
        Ok(h)
    }

    /// Sets one parameter by name (`l1_ratio` or `l1-ratio`).
    fn set(&mut self, name: &str, value: &ParamValue) -> Result<()> {
        let set = ParamSet(vec![(name.to_string(), value.clone())]);
        match name.replace('-', "_").as_str() {
            "k" => self.k = set.get_usize(name)?,
            "n_init" => self.n_init = set.get_usize(name)?,
            "metric" => self.metric = choice(name, value)?,
            "alpha" => self.alpha = Some(set.get_f64(name)?),
            "degree" => self.degree = set.get_usize(name)?,
            "c" | "C" => self.c = set.get_f64(name)?,
            "penalty" => self.penalty = choice(name, value)?,
            "l1_ratio" => self.l1_ratio = set.get_f64(name)?,
            "solver" => self.solver = Some(choice(name, value)?),
            "lr" => self.lr = Some(set.get_f64(name)?),
            "epochs" => self.epochs = set.get_usize(name)?,
            "batch_size" => self.batch_size = Some(set.get_usize(name)?),
            "max_iter" => self.max_iter = Some(set.get_usize(name)?),
            "scale" => self.scale = choice(name, value)?,
            "hidden" => self.hidden = hidden_widths(name, value)?,
            _ => {
                return Err(Error::InvalidParameter(format!(
                    "unknown hyperparameter `{name}`; known: {PARAM_NAMES}"
                )))
            }
        }
        Ok(())
    }

    fn lr_or(&self, default: f64) -> f64 {
        self.lr.unwrap_or(default)
    }

    /// `Some(n)` rows per step, `None` for full batch (`--batch-size 0`).
    fn batch_or(&self, default: Option<usize>) -> Option<usize> {
        match self.batch_size {
            Some(0) => None,
            Some(n) => Some(n),
            None => default,
        }
    }

    fn penalty(&self) -> Penalty {
        match self.penalty {
            PenaltyArg::None => Penalty::None,
            PenaltyArg::L2 => Penalty::L2,
            PenaltyArg::L1 => Penalty::L1,
            PenaltyArg::Elasticnet => Penalty::ElasticNet {
                l1_ratio: self.l1_ratio,
            },
        }
    }

    /// The solver of logistic / softmax regression.
    pub(super) fn linear_solver(&self, kind: ModelKind) -> Result<Solver> {
        let smooth = matches!(self.penalty, PenaltyArg::None | PenaltyArg::L2);
        let default = if smooth {
            SolverArg::Lbfgs
        } else {
            SolverArg::Fista
        };
        let max_iter = self.max_iter.unwrap_or(100);
        if self.solver == Some(SolverArg::Lbfgs) && !smooth {
            return Err(Error::InvalidParameter(
                "--solver lbfgs needs --penalty none or l2; use --solver fista or gd".into(),
            ));
        }
        Ok(match self.solver.unwrap_or(default) {
            SolverArg::Lbfgs => Solver::Lbfgs {
                max_iter,
                tol: 1e-4,
            },
            SolverArg::Fista => Solver::Fista {
                max_iter,
                tol: 1e-4,
            },
            SolverArg::Gd => Solver::GradientDescent {
                learning_rate: self.lr_or(0.1),
                epochs: self.epochs,
                batch_size: self.batch_or(None),
                seed: self.seed,
            },
            SolverArg::Exact => return Err(solver_error(SolverArg::Exact, kind)),
        })
    }
}

/// serde's default of `n_init` for models saved before the flag existed.
fn one() -> usize {
    1
}

/// serde's default of `hidden` for runs saved before the MLP existed.
fn default_hidden() -> Vec<usize> {
    vec![100]
}

/// A search value of `hidden`: one width (`500`) or several joined by `x` (`512x256`), as a
/// grid already splits its values on commas.
fn hidden_widths(name: &str, value: &ParamValue) -> Result<Vec<usize>> {
    let text = value.to_string();
    text.split('x')
        .map(|w| w.trim().parse::<usize>().ok().filter(|&w| w > 0))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            Error::InvalidParameter(format!(
                "`{name}` cannot be `{text}`; expected widths >= 1 joined by x, e.g. 512x256"
            ))
        })
}

/// A text value of a search parameter as one of an enum's command-line names.
fn choice<T: ValueEnum>(name: &str, value: &ParamValue) -> Result<T> {
    let text = value.to_string();
    T::from_str(&text, true).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        Error::InvalidParameter(format!(
            "`{name}` cannot be `{text}`; expected one of {}",
            names.join(", ")
        ))
    })
}

/// What `cv`, `search` (and any supervised use) say of `--model kmeans`.
fn clustering_error() -> Error {
    Error::InvalidParameter(
        "--model kmeans is unsupervised clustering: fit it with `ferrolearn fit --model kmeans` \
         (cross-validation and search score predictions against a target)"
            .into(),
    )
}

fn solver_error(solver: SolverArg, kind: ModelKind) -> Error {
    let name = solver
        .to_possible_value()
        .map_or(String::new(), |p| p.get_name().to_string());
    Error::InvalidParameter(format!(
        "--solver {name} does not apply to --model {}",
        kind.name()
    ))
}

/// The learner `fit`, `cv` and `search` run: scaling, then the model of `kind`.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Which model.
    pub kind: ModelKind,
    /// Its hyperparameters.
    pub hyper: Hyper,
}

impl Pipeline {
    /// Scales `x` and fits a classifier.
    fn fit_classifier(&self, x: ArrayView2<f64>, y: ArrayView1<usize>) -> Result<FittedModel> {
        let h = &self.hyper;
        let n_classes = y.iter().max().map_or(0, |m| m + 1);
        Ok(match self.kind {
            ModelKind::Knn => FittedModel::Knn(
                KnnClassifier {
                    k: h.k,
                    metric: match h.metric {
                        DistanceArg::L2 => Metric::Euclidean,
                        DistanceArg::L1 => Metric::Manhattan,
                    },
                }
                .fit(x, y)?,
            ),
            ModelKind::Logistic if n_classes <= 2 => FittedModel::Logistic(
                LogisticRegression {
                    c: h.c,
                    penalty: h.penalty(),
                    solver: h.linear_solver(self.kind)?,
                    fit_intercept: true,
                }
                .fit(x, y)?,
            ),
            ModelKind::Logistic | ModelKind::Softmax => FittedModel::Softmax(
                SoftmaxRegression {
                    c: h.c,
                    penalty: h.penalty(),
                    solver: h.linear_solver(self.kind)?,
                    fit_intercept: true,
                }
                .fit(x, y)?,
            ),
            ModelKind::Svm => FittedModel::Svm(
                LinearSvm {
                    c: h.c,
                    max_iter: h.max_iter.unwrap_or(1000),
                    seed: h.seed,
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
                    ..Perceptron::default()
                }
                .fit(x, y)?,
            ),
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
            ModelKind::Linear | ModelKind::Ridge | ModelKind::Poly => {
                return Err(Error::InvalidParameter(format!(
                    "--model {} is a regressor, not a classifier",
                    self.kind.name()
                )))
            }
        })
    }

    /// Scales `x` and fits a regressor.
    fn fit_regressor(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<FittedModel> {
        let h = &self.hyper;
        let alpha = match self.kind {
            ModelKind::Ridge => h.alpha.unwrap_or(1.0),
            _ => h.alpha.unwrap_or(0.0),
        };
        Ok(match (self.kind, h.solver) {
            (ModelKind::Linear, None | Some(SolverArg::Exact)) => {
                FittedModel::Linear(LinearRegression::default().fit(x, y)?)
            }
            (ModelKind::Ridge, None | Some(SolverArg::Exact)) => FittedModel::Linear(
                Ridge {
                    alpha,
                    fit_intercept: true,
                }
                .fit(x, y)?,
            ),
            (ModelKind::Linear | ModelKind::Ridge, Some(SolverArg::Gd)) => {
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
                        fit_intercept: true,
                        seed: h.seed,
                    }
                    .fit(x, y)?,
                )
            }
            (ModelKind::Poly, None | Some(SolverArg::Exact)) => FittedModel::Poly(
                PolynomialRegression {
                    degree: h.degree,
                    alpha,
                }
                .fit(x, y)?,
            ),
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

impl Pipeline {
    /// The scaling `--scale auto` stands for with this model and solver.
    pub(super) fn scale(&self) -> ScaleArg {
        let iterative = match self.kind {
            ModelKind::Knn | ModelKind::Poly | ModelKind::Kmeans => false,
            ModelKind::Linear | ModelKind::Ridge => self.hyper.solver == Some(SolverArg::Gd),
            _ => true,
        };
        match self.hyper.scale {
            ScaleArg::Auto if iterative => ScaleArg::Standard,
            ScaleArg::Auto => ScaleArg::None,
            chosen => chosen,
        }
    }
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
