//! The named options among a pipeline's hyperparameters (distance, penalty, solver, scaling)
//! and [`Choice`], the name list every such option (and [`super::ModelKind`]) has, so a
//! front end parses and lists them without knowing the variants.

use serde::{Deserialize, Serialize};

use crate::classic::sgd::{LearningRate, Loss};
use crate::classic::svm::SvmLoss;
use crate::{Error, Result};

/// An option chosen by name: the CLI's flag values, the values of a search grid and the
/// names saved runs record.
pub trait Choice: Copy + 'static {
    /// Every variant, in the order names are listed in messages.
    const ALL: &'static [Self];

    /// The variant's name (`l2`, `elasticnet`, `minmax`).
    fn name(self) -> &'static str;

    /// The variant named `text`, ignoring ASCII case.
    fn from_name(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name().eq_ignore_ascii_case(text))
    }

    /// The variant named `text`; errors naming the hyperparameter `param` and every valid
    /// name (`` `metric` cannot be `l3`; expected one of l2, l1 ``).
    fn parse(param: &str, text: &str) -> Result<Self> {
        Self::from_name(text).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|v| v.name()).collect();
            Error::InvalidParameter(format!(
                "`{param}` cannot be `{text}`; expected one of {}",
                names.join(", ")
            ))
        })
    }
}

/// kNN distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Distance {
    /// Euclidean distance.
    L2,
    /// Manhattan distance.
    L1,
}

impl Choice for Distance {
    const ALL: &'static [Distance] = &[Distance::L2, Distance::L1];

    fn name(self) -> &'static str {
        match self {
            Distance::L2 => "l2",
            Distance::L1 => "l1",
        }
    }
}

/// Weight penalty of logistic and softmax regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PenaltyKind {
    /// No penalty.
    None,
    /// 0.5 ||w||^2.
    L2,
    /// ||w||_1 (sparse weights; needs the fista or gd solver).
    L1,
    /// l1_ratio ||w||_1 + 0.5 (1 - l1_ratio) ||w||^2 (needs the fista or gd solver).
    Elasticnet,
}

impl Choice for PenaltyKind {
    const ALL: &'static [PenaltyKind] = &[
        PenaltyKind::None,
        PenaltyKind::L2,
        PenaltyKind::L1,
        PenaltyKind::Elasticnet,
    ];

    fn name(self) -> &'static str {
        match self {
            PenaltyKind::None => "none",
            PenaltyKind::L2 => "l2",
            PenaltyKind::L1 => "l1",
            PenaltyKind::Elasticnet => "elasticnet",
        }
    }
}

/// How a model is optimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SolverKind {
    /// Closed form through QR / Cholesky (linear, ridge).
    Exact,
    /// Quasi-Newton L-BFGS (logistic, softmax; smooth penalties).
    Lbfgs,
    /// Accelerated proximal gradient (logistic, softmax; every penalty).
    Fista,
    /// (Mini-batch) gradient descent with `lr`, `epochs`, `batch_size` (linear, ridge,
    /// logistic, softmax).
    Gd,
}

impl Choice for SolverKind {
    const ALL: &'static [SolverKind] = &[
        SolverKind::Exact,
        SolverKind::Lbfgs,
        SolverKind::Fista,
        SolverKind::Gd,
    ];

    fn name(self) -> &'static str {
        match self {
            SolverKind::Exact => "exact",
            SolverKind::Lbfgs => "lbfgs",
            SolverKind::Fista => "fista",
            SolverKind::Gd => "gd",
        }
    }
}

/// The loss of svm (hinge or squared_hinge) and of the SGD models (all nine), under
/// scikit-learn's names. Saved runs spell it as the variant (`SquaredHinge`), as the svm's
/// own loss was saved before the SGD models existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LossKind {
    /// `max(0, 1 - y p)`.
    Hinge,
    /// `log(1 + exp(-y p))`: logistic regression.
    LogLoss,
    /// Zhang's smoothed hinge (gives probabilities).
    ModifiedHuber,
    /// `max(0, 1 - y p)^2`.
    SquaredHinge,
    /// `max(0, -y p)`: the perceptron.
    Perceptron,
    /// `(p - y)^2 / 2`.
    SquaredError,
    /// Squared within `epsilon`, linear beyond.
    Huber,
    /// `max(0, |y - p| - epsilon)`.
    EpsilonInsensitive,
    /// `max(0, |y - p| - epsilon)^2`.
    SquaredEpsilonInsensitive,
}

impl Choice for LossKind {
    const ALL: &'static [LossKind] = &[
        LossKind::Hinge,
        LossKind::LogLoss,
        LossKind::ModifiedHuber,
        LossKind::SquaredHinge,
        LossKind::Perceptron,
        LossKind::SquaredError,
        LossKind::Huber,
        LossKind::EpsilonInsensitive,
        LossKind::SquaredEpsilonInsensitive,
    ];

    /// scikit-learn's `loss` names.
    fn name(self) -> &'static str {
        match self {
            LossKind::Hinge => "hinge",
            LossKind::LogLoss => "log_loss",
            LossKind::ModifiedHuber => "modified_huber",
            LossKind::SquaredHinge => "squared_hinge",
            LossKind::Perceptron => "perceptron",
            LossKind::SquaredError => "squared_error",
            LossKind::Huber => "huber",
            LossKind::EpsilonInsensitive => "epsilon_insensitive",
            LossKind::SquaredEpsilonInsensitive => "squared_epsilon_insensitive",
        }
    }
}

impl LossKind {
    /// The svm's loss; errors for the losses only the SGD models take.
    pub(super) fn svm(self) -> Result<SvmLoss> {
        match self {
            LossKind::Hinge => Ok(SvmLoss::Hinge),
            LossKind::SquaredHinge => Ok(SvmLoss::SquaredHinge),
            other => Err(Error::InvalidParameter(format!(
                "--model svm takes loss hinge or squared_hinge, not {}",
                other.name()
            ))),
        }
    }

    /// The SGD models' loss, with `epsilon` for the losses that have one.
    pub fn sgd(self, epsilon: f64) -> Loss {
        match self {
            LossKind::Hinge => Loss::Hinge { threshold: 1.0 },
            LossKind::LogLoss => Loss::LogLoss,
            LossKind::ModifiedHuber => Loss::ModifiedHuber,
            LossKind::SquaredHinge => Loss::SquaredHinge,
            LossKind::Perceptron => Loss::Hinge { threshold: 0.0 },
            LossKind::SquaredError => Loss::SquaredError,
            LossKind::Huber => Loss::Huber { epsilon },
            LossKind::EpsilonInsensitive => Loss::EpsilonInsensitive { epsilon },
            LossKind::SquaredEpsilonInsensitive => Loss::SquaredEpsilonInsensitive { epsilon },
        }
    }
}

impl Choice for LearningRate {
    const ALL: &'static [LearningRate] = &[
        LearningRate::Constant,
        LearningRate::Optimal,
        LearningRate::InvScaling,
        LearningRate::Adaptive,
    ];

    /// scikit-learn's `learning_rate` names.
    fn name(self) -> &'static str {
        match self {
            LearningRate::Constant => "constant",
            LearningRate::Optimal => "optimal",
            LearningRate::InvScaling => "invscaling",
            LearningRate::Adaptive => "adaptive",
        }
    }
}

/// Feature scaling, fitted on the training rows only and saved with the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scaling {
    /// Standard for the iteratively trained models (logistic, softmax, svm, multisvm,
    /// perceptron, mlp, the gd solver), none for knn, k-means and the closed-form
    /// regressions (as scikit-learn, which never scales unasked).
    Auto,
    /// Zero mean, unit variance per column.
    Standard,
    /// Each column mapped to [0, 1].
    Minmax,
    /// The features as given.
    None,
}

impl Choice for Scaling {
    const ALL: &'static [Scaling] = &[
        Scaling::Auto,
        Scaling::Standard,
        Scaling::Minmax,
        Scaling::None,
    ];

    fn name(self) -> &'static str {
        match self {
            Scaling::Auto => "auto",
            Scaling::Standard => "standard",
            Scaling::Minmax => "minmax",
            Scaling::None => "none",
        }
    }
}
