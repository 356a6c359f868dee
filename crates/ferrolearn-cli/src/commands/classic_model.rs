//! The classic models' command-line flags: `--model` and the hyperparameter flags of `fit`,
//! `cv` and `search`. Each clap enum here mirrors a library option of
//! [`ferrolearn::classic::pipeline`] (which knows no clap) and maps onto it; [`HyperArgs`]
//! gives the library's [`Hyper`].

use clap::builder::{EnumValueParser, TypedValueParser};
use clap::ValueEnum;
use ferrolearn::classic::pipeline::{
    Distance, Hyper, LossKind, ModelKind, PenaltyKind, Scaling, SolverKind,
};
use ferrolearn::classic::sgd::LearningRate;

/// The learners `--model` selects ([`ModelKind`]).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelArg {
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
    /// Linear classifier by plain SGD, one-vs-rest, as SGDClassifier with the same seed
    /// (--loss, --penalty, --alpha, --l1-ratio, --lr-schedule, --lr as eta0, --max-iter).
    Sgd,
    /// Linear regressor by plain SGD, as SGDRegressor (the flags of sgd).
    SgdRegressor,
    /// Multi-layer perceptron, as MLPClassifier: ReLU hidden layers, softmax cross-entropy,
    /// Adam (--hidden, --alpha, --lr, --batch-size, --max-iter epochs).
    Mlp,
    /// k-means clustering, unsupervised: `fit` only, the target is ignored (--k clusters,
    /// --n-init, --max-iter, --batch-size for mini-batch k-means, fit --elbow).
    Kmeans,
}

impl From<ModelArg> for ModelKind {
    fn from(m: ModelArg) -> ModelKind {
        match m {
            ModelArg::Knn => ModelKind::Knn,
            ModelArg::Linear => ModelKind::Linear,
            ModelArg::Ridge => ModelKind::Ridge,
            ModelArg::Poly => ModelKind::Poly,
            ModelArg::Logistic => ModelKind::Logistic,
            ModelArg::Softmax => ModelKind::Softmax,
            ModelArg::Svm => ModelKind::Svm,
            ModelArg::Multisvm => ModelKind::Multisvm,
            ModelArg::Perceptron => ModelKind::Perceptron,
            ModelArg::Sgd => ModelKind::Sgd,
            ModelArg::SgdRegressor => ModelKind::SgdRegressor,
            ModelArg::Mlp => ModelKind::Mlp,
            ModelArg::Kmeans => ModelKind::Kmeans,
        }
    }
}

/// The parser of `--model`: [`ModelArg`]'s names and help, giving a [`ModelKind`].
pub fn model_parser() -> impl TypedValueParser<Value = ModelKind> {
    EnumValueParser::<ModelArg>::new().map(ModelKind::from)
}

/// kNN distance ([`Distance`]).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistanceArg {
    /// Euclidean distance.
    L2,
    /// Manhattan distance.
    L1,
}

impl From<DistanceArg> for Distance {
    fn from(d: DistanceArg) -> Distance {
        match d {
            DistanceArg::L2 => Distance::L2,
            DistanceArg::L1 => Distance::L1,
        }
    }
}

/// Weight penalty of logistic and softmax regression ([`PenaltyKind`]).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
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

impl From<PenaltyArg> for PenaltyKind {
    fn from(p: PenaltyArg) -> PenaltyKind {
        match p {
            PenaltyArg::None => PenaltyKind::None,
            PenaltyArg::L2 => PenaltyKind::L2,
            PenaltyArg::L1 => PenaltyKind::L1,
            PenaltyArg::Elasticnet => PenaltyKind::Elasticnet,
        }
    }
}

/// The loss of svm and the SGD models ([`LossKind`]), under scikit-learn's names.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossArg {
    /// max(0, 1 - y p) (svm, sgd's default).
    Hinge,
    /// Logistic regression (sgd; gives probabilities).
    #[value(name = "log_loss")]
    LogLoss,
    /// Zhang's smoothed hinge (sgd; gives probabilities).
    #[value(name = "modified_huber")]
    ModifiedHuber,
    /// max(0, 1 - y p)^2 (svm's default, sgd).
    #[value(name = "squared_hinge")]
    SquaredHinge,
    /// max(0, -y p) (sgd).
    Perceptron,
    /// (p - y)^2 / 2 (sgd-regressor's default, sgd).
    #[value(name = "squared_error")]
    SquaredError,
    /// Squared within 0.1 of the target, linear beyond (sgd-regressor, sgd).
    Huber,
    /// max(0, |y - p| - 0.1) (sgd-regressor, sgd).
    #[value(name = "epsilon_insensitive")]
    EpsilonInsensitive,
    /// max(0, |y - p| - 0.1)^2 (sgd-regressor, sgd).
    #[value(name = "squared_epsilon_insensitive")]
    SquaredEpsilonInsensitive,
}

impl From<LossArg> for LossKind {
    fn from(l: LossArg) -> LossKind {
        match l {
            LossArg::Hinge => LossKind::Hinge,
            LossArg::LogLoss => LossKind::LogLoss,
            LossArg::ModifiedHuber => LossKind::ModifiedHuber,
            LossArg::SquaredHinge => LossKind::SquaredHinge,
            LossArg::Perceptron => LossKind::Perceptron,
            LossArg::SquaredError => LossKind::SquaredError,
            LossArg::Huber => LossKind::Huber,
            LossArg::EpsilonInsensitive => LossKind::EpsilonInsensitive,
            LossArg::SquaredEpsilonInsensitive => LossKind::SquaredEpsilonInsensitive,
        }
    }
}

/// How the SGD models' step size moves ([`LearningRate`]).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LrScheduleArg {
    /// eta = --lr.
    Constant,
    /// eta = 1 / (alpha (t0 + t)) (sgd's default).
    Optimal,
    /// eta = --lr / t^power_t (sgd-regressor's default).
    Invscaling,
    /// --lr, divided by 5 whenever 5 epochs fail to improve.
    Adaptive,
}

impl From<LrScheduleArg> for LearningRate {
    fn from(s: LrScheduleArg) -> LearningRate {
        match s {
            LrScheduleArg::Constant => LearningRate::Constant,
            LrScheduleArg::Optimal => LearningRate::Optimal,
            LrScheduleArg::Invscaling => LearningRate::InvScaling,
            LrScheduleArg::Adaptive => LearningRate::Adaptive,
        }
    }
}

/// How a model is optimised ([`SolverKind`]).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
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

impl From<SolverArg> for SolverKind {
    fn from(s: SolverArg) -> SolverKind {
        match s {
            SolverArg::Exact => SolverKind::Exact,
            SolverArg::Lbfgs => SolverKind::Lbfgs,
            SolverArg::Fista => SolverKind::Fista,
            SolverArg::Gd => SolverKind::Gd,
        }
    }
}

/// Feature scaling, fitted on the training rows only and saved with the model ([`Scaling`]).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
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

impl From<ScaleArg> for Scaling {
    fn from(s: ScaleArg) -> Scaling {
        match s {
            ScaleArg::Auto => Scaling::Auto,
            ScaleArg::Standard => Scaling::Standard,
            ScaleArg::Minmax => Scaling::Minmax,
            ScaleArg::None => Scaling::None,
        }
    }
}

/// Hyperparameter flags shared by `fit`, `cv` and `search` (each names the models it
/// concerns; the others ignore it), read into the library's [`Hyper`] by [`Self::hyper`].
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Hyperparameters")]
pub struct HyperArgs {
    /// knn: number of voting neighbours; kmeans: number of clusters.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// kmeans: seedings (k-means++) run, the lowest inertia kept.
    #[arg(long, default_value_t = 1)]
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
    /// logistic, softmax, sgd: penalty on the weights.
    #[arg(long, value_enum, default_value_t = PenaltyArg::L2)]
    pub penalty: PenaltyArg,
    /// svm: hinge or squared_hinge (default); sgd: any (default hinge); sgd-regressor:
    /// squared_error (default), huber, epsilon_insensitive, squared_epsilon_insensitive.
    #[arg(long, value_enum)]
    pub loss: Option<LossArg>,
    /// logistic, softmax, sgd: share of L1 in the elastic-net penalty, in [0, 1].
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
    /// sgd, sgd-regressor: how the step size moves (default optimal for sgd, invscaling for
    /// sgd-regressor).
    #[arg(long, value_enum)]
    pub lr_schedule: Option<LrScheduleArg>,
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
    pub hidden: Vec<usize>,
    /// Feature scaling, fitted on the training rows only and saved with the model.
    #[arg(long, value_enum, default_value_t = ScaleArg::Auto)]
    pub scale: ScaleArg,
    /// Seed of every random choice (split, fold shuffle, gradient-descent order).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl HyperArgs {
    /// The flags as the library's hyperparameters.
    pub fn hyper(&self) -> Hyper {
        Hyper {
            k: self.k,
            n_init: self.n_init,
            metric: self.metric.into(),
            alpha: self.alpha,
            degree: self.degree,
            c: self.c,
            penalty: self.penalty.into(),
            loss: self.loss.map(LossKind::from),
            l1_ratio: self.l1_ratio,
            solver: self.solver.map(SolverKind::from),
            lr: self.lr,
            lr_schedule: self.lr_schedule.map(LearningRate::from),
            epochs: self.epochs,
            batch_size: self.batch_size,
            max_iter: self.max_iter,
            hidden: self.hidden.clone(),
            scale: self.scale.into(),
            seed: self.seed,
            ..Hyper::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use ferrolearn::classic::pipeline::Choice;

    use super::*;

    /// Every clap value maps to the library option of the same name, in the same order (the
    /// order search's messages list them in).
    fn same_names<A: ValueEnum + Copy, L: Choice + From<A>>() {
        let flags: Vec<String> = A::value_variants()
            .iter()
            .map(|v| v.to_possible_value().unwrap().get_name().to_string())
            .collect();
        let mapped: Vec<&str> = A::value_variants()
            .iter()
            .map(|&v| L::from(v).name())
            .collect();
        let library: Vec<&str> = L::ALL.iter().map(|v| v.name()).collect();
        assert_eq!(flags, mapped);
        assert_eq!(flags, library);
    }

    #[test]
    fn clap_enums_mirror_the_library_options() {
        same_names::<ModelArg, ModelKind>();
        same_names::<DistanceArg, Distance>();
        same_names::<PenaltyArg, PenaltyKind>();
        same_names::<SolverArg, SolverKind>();
        same_names::<LossArg, LossKind>();
        same_names::<LrScheduleArg, LearningRate>();
        same_names::<ScaleArg, Scaling>();
    }

    /// The flags' defaults are the library's.
    #[test]
    fn default_flags_give_the_library_defaults() {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            hyper: HyperArgs,
        }
        let flags = <Flags as clap::Parser>::parse_from(["fit"]);
        assert_eq!(flags.hyper.hyper(), Hyper::default());
    }
}
