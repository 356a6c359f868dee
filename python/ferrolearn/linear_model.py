"""Linear models: `LinearRegression`, `Ridge`, `LogisticRegression`, `Perceptron`,
`SGDClassifier` and `SGDRegressor`, with scikit-learn's names, defaults and attributes,
fitted by ferrolearn's solvers."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if

from ferrolearn._base import (
    LinearClassifierMixin,
    PipelineClassifier,
    PipelineRegressor,
    check_X,
    seed_of,
    state,
    unsupported,
)
from sklearn.utils.validation import check_is_fitted


class _LinearRegressor(PipelineRegressor):
    def _read_state(self, X):
        s = state(self._fitted)
        self.coef_ = np.asarray(s["coef"], dtype=np.float64)
        self.intercept_ = float(s["intercept"])


class LinearRegression(_LinearRegressor):
    """Ordinary least squares, solved exactly."""

    _kind = "linear"

    def __init__(self, *, fit_intercept=True, copy_X=True, n_jobs=None, positive=False):
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.n_jobs = n_jobs
        self.positive = positive

    def _params(self):
        if self.positive:
            raise unsupported("positive", self.positive, "positive=False")
        return {"fit_intercept": int(bool(self.fit_intercept))}


class Ridge(_LinearRegressor):
    """Least squares with an L2 penalty `alpha` on the weights (not on the intercept)."""

    _kind = "ridge"

    def __init__(self, alpha=1.0, *, fit_intercept=True, copy_X=True):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X

    def _params(self):
        return {"alpha": float(self.alpha), "fit_intercept": int(bool(self.fit_intercept))}


class LogisticRegression(LinearClassifierMixin, PipelineClassifier):
    """Logistic regression: binary, or multinomial (softmax) for more than two classes, as
    scikit-learn; L-BFGS for the smooth penalties, FISTA for L1 and elastic net."""

    _kind = "logistic"

    def __init__(
        self,
        penalty="l2",
        *,
        tol=1e-4,
        C=1.0,
        fit_intercept=True,
        max_iter=100,
        solver="lbfgs",
        l1_ratio=None,
        random_state=None,
    ):
        self.penalty = penalty
        self.tol = tol
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.solver = solver
        self.l1_ratio = l1_ratio
        self.random_state = random_state

    def _params(self):
        solver = {"saga": "fista"}.get(self.solver, self.solver)
        return {
            "c": float(self.C),
            "penalty": "none" if self.penalty is None else self.penalty,
            "l1_ratio": 0.5 if self.l1_ratio is None else float(self.l1_ratio),
            "solver": solver,
            "max_iter": int(self.max_iter),
            "tol": float(self.tol),
            "fit_intercept": int(bool(self.fit_intercept)),
            "seed": seed_of(self.random_state),
        }

    def _read_state(self, X):
        s = state(self._fitted)
        self._set_linear(s["coef"], s["intercept"], X.shape[1])
        self.n_iter_ = np.array([s["n_iter"]], dtype=np.int32)

    def predict_proba(self, X):
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        return self._fitted.predict_proba(X)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


class _SGD:
    """The parameters `SGDClassifier` and `SGDRegressor` share, mapped onto the library's
    plain SGD (scikit-learn's `_plain_sgd`, step for step, with its seeds)."""

    def _sgd_params(self):
        for name, default in (("early_stopping", False), ("average", False), ("warm_start", False)):
            if getattr(self, name) != default:
                raise unsupported(name, getattr(self, name), f"{name}={default}")
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        return {
            "loss": self.loss,
            "penalty": "none" if self.penalty is None else self.penalty,
            "alpha": float(self.alpha),
            "l1_ratio": 0.0 if self.l1_ratio is None else float(self.l1_ratio),
            "fit_intercept": int(bool(self.fit_intercept)),
            "max_iter": int(self.max_iter),
            "tol": float("-inf") if self.tol is None else float(self.tol),
            "shuffle": int(bool(self.shuffle)),
            "epsilon": float(self.epsilon),
            "seed": seed_of(self.random_state),
            "lr_schedule": self.learning_rate,
            "lr": float(self.eta0),
            "power_t": float(self.power_t),
            "n_iter_no_change": int(self.n_iter_no_change),
        }

    def _read_sgd_state(self, X):
        s = state(self._fitted)
        self.n_iter_ = int(s["n_iter"])
        self.t_ = float(self.n_iter_ * X.shape[0] + 1)
        if self.tol is not None and self.n_iter_ == self.max_iter:
            warnings.warn(
                "Maximum number of iteration reached before convergence. Consider "
                "increasing max_iter to improve the fit.",
                ConvergenceWarning,
            )
        return s


class SGDClassifier(_SGD, LinearClassifierMixin, PipelineClassifier):
    """A linear classifier by plain stochastic gradient descent, one-vs-rest for more than
    two classes: scikit-learn's losses, penalties, step-size schedules, stop rule and
    seeds, so `random_state` gives scikit-learn's coefficients to rounding."""

    _kind = "sgd"

    def __init__(
        self,
        loss="hinge",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        n_jobs=None,
        random_state=None,
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.5,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        average=False,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average

    def _params(self):
        return self._sgd_params()

    def _params_for(self, y):
        params = self._sgd_params()
        if self.class_weight is not None:
            weights = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
            params["class_weight"] = ",".join(repr(float(w)) for w in weights)
        return params

    def _read_state(self, X):
        s = self._read_sgd_state(X)
        self._set_linear(s["coef"], s["intercept"], X.shape[1])

    def _check_proba(self):
        if self.loss not in ("log_loss", "modified_huber"):
            raise AttributeError(
                f"probability estimates are not available for loss={self.loss!r}"
            )
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Probabilities from the one-vs-rest scores (log_loss: the logistic; modified_huber:
        the clipped score), normalised over the classes, as scikit-learn."""
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        return self._fitted.predict_proba(X)

    @available_if(_check_proba)
    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


class SGDRegressor(_SGD, PipelineRegressor):
    """A linear regressor by plain stochastic gradient descent, as scikit-learn's
    `SGDRegressor` (same losses, schedules, stop rule and seeds)."""

    _kind = "sgd-regressor"

    def __init__(
        self,
        loss="squared_error",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        random_state=None,
        learning_rate="invscaling",
        eta0=0.01,
        power_t=0.25,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        warm_start=False,
        average=False,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.average = average

    def _params(self):
        return self._sgd_params()

    def _read_state(self, X):
        s = self._read_sgd_state(X)
        self.coef_ = np.asarray(s["coef"], dtype=np.float64)
        self.intercept_ = np.atleast_1d(np.asarray(s["intercept"], dtype=np.float64))


class Perceptron(SGDClassifier):
    """The perceptron as scikit-learn defines it: SGD with the perceptron loss, a constant
    step `eta0` and no penalty by default, one-vs-rest for more than two classes; the same
    `random_state` gives scikit-learn's weights."""

    def __init__(
        self,
        *,
        penalty=None,
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        eta0=1.0,
        n_jobs=None,
        random_state=0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.eta0 = eta0
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start

    # What the perceptron fixes (class attributes, not parameters, as in scikit-learn).
    loss = "perceptron"
    learning_rate = "constant"
    power_t = 0.5
    epsilon = 0.1
    average = False
