//! The hyperparameters of every pipeline model in one struct ([`Hyper`]), as the CLI's flags
//! give them and a saved run records them: each model reads the fields it uses, and the
//! defaults that depend on the model (`alpha`, `lr`, `batch_size`, `max_iter`, the solver)
//! are resolved where the learner is built.

use serde::{Deserialize, Serialize};

use super::kind::ModelKind;
use super::options::{Choice, Distance, LossKind, PenaltyKind, Scaling, SolverKind};
use crate::classic::linear_solver::Solver;
use crate::classic::penalty::Penalty;
use crate::classic::selection::{ParamSet, ParamValue};
use crate::classic::sgd::{LearningRate, Sgd};
use crate::classic::svm::SvmLoss;
use crate::{Error, Result};

/// Hyperparameters of every pipeline model (each uses some; the others ignore them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    /// knn: number of voting neighbours; kmeans: number of clusters.
    pub k: usize,
    /// kmeans: seedings (k-means++) run, the lowest inertia kept.
    #[serde(default = "one")]
    pub n_init: usize,
    /// knn: distance.
    pub metric: Distance,
    /// ridge, poly: L2 penalty strength (default 1 for ridge, 0 for poly); multisvm:
    /// regularisation strength (default 1e-3); mlp: L2 penalty on the weights (default 1e-4).
    pub alpha: Option<f64>,
    /// poly: highest degree of the polynomial features.
    pub degree: usize,
    /// logistic, softmax, svm: inverse regularisation strength C.
    pub c: f64,
    /// logistic, softmax: penalty on the weights.
    pub penalty: PenaltyKind,
    /// svm: hinge or squared_hinge (default, as `LinearSVC`); sgd: any loss (default hinge),
    /// sgd-regressor: squared_error (default), huber, epsilon_insensitive or
    /// squared_epsilon_insensitive.
    #[serde(default)]
    pub loss: Option<LossKind>,
    /// logistic, softmax: share of L1 in the elastic-net penalty, in [0, 1].
    pub l1_ratio: f64,
    /// linear, ridge: exact (default) or gd; logistic, softmax: lbfgs (default for none/l2),
    /// fista (default for l1/elasticnet) or gd.
    pub solver: Option<SolverKind>,
    /// Step size of gradient descent (solver gd, perceptron, multisvm) or Adam (mlp); default
    /// 0.01 for linear/ridge, 0.1 for logistic/softmax/multisvm, 1 for perceptron, 1e-3 for
    /// mlp; sgd, sgd-regressor: the initial step `eta0` (default 0.01).
    pub lr: Option<f64>,
    /// sgd, sgd-regressor: how the step size moves (default optimal for sgd, invscaling for
    /// sgd-regressor).
    #[serde(default)]
    pub lr_schedule: Option<LearningRate>,
    /// sgd, sgd-regressor: the exponent of the invscaling schedule (default 0.5 for sgd, 0.25
    /// for sgd-regressor).
    #[serde(default)]
    pub power_t: Option<f64>,
    /// sgd, sgd-regressor: the width of the huber and epsilon-insensitive losses.
    #[serde(default = "tenth")]
    pub epsilon: f64,
    /// sgd, sgd-regressor: epochs without improvement by `tol` before stopping.
    #[serde(default = "five")]
    pub n_iter_no_change: usize,
    /// sgd, sgd-regressor: whether to reshuffle the rows every epoch.
    #[serde(default = "yes")]
    pub shuffle: bool,
    /// sgd: a weight per class (by label) on its samples' steps; `None` weighs all 1.
    #[serde(default)]
    pub class_weight: Option<Vec<f64>>,
    /// Passes over the training rows (solver gd, perceptron, multisvm).
    pub epochs: usize,
    /// Rows per gradient step (solver gd, multisvm, mlp); `Some(0)` means all rows. Default
    /// 32 for linear/ridge, 200 for multisvm and mlp, all rows for logistic/softmax; kmeans:
    /// rows per mini-batch (without it, Lloyd on all rows).
    pub batch_size: Option<usize>,
    /// Most iterations of lbfgs / fista (default 100), passes of svm (default 1000), Lloyd
    /// iterations of kmeans (default 300) or its mini-batch passes (default 100), epochs of
    /// mlp (default 200) and of sgd (default 1000).
    pub max_iter: Option<usize>,
    /// Stopping tolerance of lbfgs / fista (largest gradient entry) and svm (default 1e-4,
    /// scikit-learn's `tol`); sgd: the least fall of the epoch objective that counts as an
    /// improvement (default 1e-3; `-inf` never stops early).
    #[serde(default)]
    pub tol: Option<f64>,
    /// mlp: width of each hidden layer.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Feature scaling, fitted on the training rows only.
    pub scale: Scaling,
    /// Whether the linear models (linear, ridge, logistic, softmax, svm, perceptron) learn
    /// an intercept; `false` fixes it at 0 (scikit-learn's `fit_intercept`).
    #[serde(default = "yes")]
    pub fit_intercept: bool,
    /// Seed of every random choice (split, fold shuffle, gradient-descent order).
    pub seed: u64,
}

impl Default for Hyper {
    /// The CLI's defaults.
    fn default() -> Self {
        Hyper {
            k: 5,
            n_init: 1,
            metric: Distance::L2,
            alpha: None,
            degree: 2,
            c: 1.0,
            penalty: PenaltyKind::L2,
            loss: None,
            l1_ratio: 0.5,
            solver: None,
            lr: None,
            lr_schedule: None,
            power_t: None,
            epsilon: tenth(),
            n_iter_no_change: five(),
            shuffle: true,
            class_weight: None,
            epochs: 100,
            batch_size: None,
            max_iter: None,
            tol: None,
            hidden: default_hidden(),
            scale: Scaling::Auto,
            fit_intercept: true,
            seed: 0,
        }
    }
}

/// The names [`Hyper::with_params`] accepts (search grids and ranges).
pub const PARAM_NAMES: &str =
    "k, n_init, metric, alpha, degree, c, penalty, loss, l1_ratio, solver, lr, lr_schedule, \
     power_t, epsilon, n_iter_no_change, shuffle, class_weight, epochs, batch_size, max_iter, tol, hidden, \
     scale, fit_intercept, seed";

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
        let text = value.to_string();
        match name.replace('-', "_").as_str() {
            "k" => self.k = set.get_usize(name)?,
            "n_init" => self.n_init = set.get_usize(name)?,
            "metric" => self.metric = Choice::parse(name, &text)?,
            "alpha" => self.alpha = Some(set.get_f64(name)?),
            "degree" => self.degree = set.get_usize(name)?,
            "c" | "C" => self.c = set.get_f64(name)?,
            "penalty" => self.penalty = Choice::parse(name, &text)?,
            "loss" => self.loss = Some(Choice::parse(name, &text)?),
            "l1_ratio" => self.l1_ratio = set.get_f64(name)?,
            "solver" => self.solver = Some(Choice::parse(name, &text)?),
            "lr" => self.lr = Some(set.get_f64(name)?),
            "lr_schedule" => self.lr_schedule = Some(Choice::parse(name, &text)?),
            "power_t" => self.power_t = Some(set.get_f64(name)?),
            "epsilon" => self.epsilon = set.get_f64(name)?,
            "n_iter_no_change" => self.n_iter_no_change = set.get_usize(name)?,
            "shuffle" => self.shuffle = flag(name, value)?,
            "class_weight" => self.class_weight = Some(class_weights(name, value)?),
            "epochs" => self.epochs = set.get_usize(name)?,
            "batch_size" => self.batch_size = Some(set.get_usize(name)?),
            "max_iter" => self.max_iter = Some(set.get_usize(name)?),
            "tol" => self.tol = Some(set.get_f64(name)?),
            "scale" => self.scale = Choice::parse(name, &text)?,
            "hidden" => self.hidden = hidden_widths(name, value)?,
            "fit_intercept" => self.fit_intercept = flag(name, value)?,
            "seed" => self.seed = set.get_usize(name)? as u64,
            _ => {
                return Err(Error::InvalidParameter(format!(
                    "unknown hyperparameter `{name}`; known: {PARAM_NAMES}"
                )))
            }
        }
        Ok(())
    }

    /// `lr`, or the model's `default`.
    pub(super) fn lr_or(&self, default: f64) -> f64 {
        self.lr.unwrap_or(default)
    }

    /// `Some(n)` rows per step, `None` for full batch (`batch_size` 0).
    pub(super) fn batch_or(&self, default: Option<usize>) -> Option<usize> {
        match self.batch_size {
            Some(0) => None,
            Some(n) => Some(n),
            None => default,
        }
    }

    /// The stopping tolerance of lbfgs, fista and svm: `tol`, 1e-4 by default.
    pub(super) fn tol_or_default(&self) -> f64 {
        self.tol.unwrap_or(1e-4)
    }

    /// The penalty of logistic / softmax regression.
    pub(super) fn penalty(&self) -> Penalty {
        match self.penalty {
            PenaltyKind::None => Penalty::None,
            PenaltyKind::L2 => Penalty::L2,
            PenaltyKind::L1 => Penalty::L1,
            PenaltyKind::Elasticnet => Penalty::ElasticNet {
                l1_ratio: self.l1_ratio,
            },
        }
    }

    /// The svm's loss: `loss`, squared hinge by default.
    pub(super) fn svm_loss(&self) -> Result<SvmLoss> {
        self.loss.map_or(Ok(SvmLoss::SquaredHinge), LossKind::svm)
    }

    /// The SGD learner of `kind` (sgd or sgd-regressor), with its scikit-learn defaults for
    /// what is not set.
    pub(super) fn sgd(&self, kind: ModelKind) -> Result<Sgd> {
        let base = if kind == ModelKind::SgdRegressor {
            Sgd::regressor()
        } else {
            Sgd::classifier()
        };
        let seed = u32::try_from(self.seed).map_err(|_| {
            Error::InvalidParameter(format!(
                "--model {} seeds numpy's RandomState as scikit-learn does: the seed must be \
                 below 2^32, got {}",
                kind.name(),
                self.seed
            ))
        })?;
        Ok(Sgd {
            loss: self.loss.map_or(base.loss, |l| l.sgd(self.epsilon)),
            penalty: self.penalty(),
            alpha: self.alpha.unwrap_or(base.alpha),
            fit_intercept: self.fit_intercept,
            max_iter: self.max_iter.unwrap_or(base.max_iter),
            tol: Some(self.tol.unwrap_or(1e-3)).filter(|t| *t > f64::NEG_INFINITY),
            n_iter_no_change: self.n_iter_no_change,
            shuffle: self.shuffle,
            seed,
            learning_rate: self.lr_schedule.unwrap_or(base.learning_rate),
            eta0: self.lr_or(base.eta0),
            power_t: self.power_t.unwrap_or(base.power_t),
            class_weight: self.class_weight.clone(),
        })
    }

    /// The solver of logistic / softmax regression (`kind`, for the message when the solver
    /// does not apply).
    pub fn linear_solver(&self, kind: ModelKind) -> Result<Solver> {
        let smooth = matches!(self.penalty, PenaltyKind::None | PenaltyKind::L2);
        let default = if smooth {
            SolverKind::Lbfgs
        } else {
            SolverKind::Fista
        };
        let max_iter = self.max_iter.unwrap_or(100);
        let tol = self.tol_or_default();
        if self.solver == Some(SolverKind::Lbfgs) && !smooth {
            return Err(Error::InvalidParameter(
                "--solver lbfgs needs --penalty none or l2; use --solver fista or gd".into(),
            ));
        }
        Ok(match self.solver.unwrap_or(default) {
            SolverKind::Lbfgs => Solver::Lbfgs { max_iter, tol },
            SolverKind::Fista => Solver::Fista { max_iter, tol },
            SolverKind::Gd => Solver::GradientDescent {
                learning_rate: self.lr_or(0.1),
                epochs: self.epochs,
                batch_size: self.batch_or(None),
                seed: self.seed,
            },
            SolverKind::Exact => return Err(solver_error(SolverKind::Exact, kind)),
        })
    }
}

/// The refusal of a solver `kind` has none of.
pub(super) fn solver_error(solver: SolverKind, kind: ModelKind) -> Error {
    Error::InvalidParameter(format!(
        "--solver {} does not apply to --model {}",
        solver.name(),
        kind.name()
    ))
}

/// A yes/no value: `1`/`0` or `true`/`false`.
fn flag(name: &str, value: &ParamValue) -> Result<bool> {
    match value.to_string().to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        text => Err(Error::InvalidParameter(format!(
            "`{name}` cannot be `{text}`; expected true or false"
        ))),
    }
}

/// serde's default of `fit_intercept` for models saved before it existed.
fn yes() -> bool {
    true
}

/// serde's default of `epsilon` for models saved before the SGD models existed.
fn tenth() -> f64 {
    0.1
}

/// serde's default of `n_iter_no_change` for models saved before the SGD models existed.
fn five() -> usize {
    5
}

/// serde's default of `n_init` for models saved before the flag existed.
fn one() -> usize {
    1
}

/// The default of `hidden` (also for runs saved before the MLP existed).
fn default_hidden() -> Vec<usize> {
    vec![100]
}

/// The value of `class_weight`: one weight per class, in label order, joined by commas or
/// spaces (`1,0.5,2`).
fn class_weights(name: &str, value: &ParamValue) -> Result<Vec<f64>> {
    let text = value.to_string();
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse::<f64>().ok())
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            Error::InvalidParameter(format!(
                "`{name}` cannot be `{text}`; expected one weight per class, e.g. 1,0.5,2"
            ))
        })
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
