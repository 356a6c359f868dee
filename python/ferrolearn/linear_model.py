"""Linear models: `LinearRegression`, `Ridge`, `LogisticRegression` and `Perceptron`, with
scikit-learn's names, defaults and attributes, fitted by ferrolearn's solvers."""

import numpy as np

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


class Perceptron(LinearClassifierMixin, PipelineClassifier):
    """The perceptron rule, one-vs-rest for more than two classes; stops after an epoch
    without mistakes or after `max_iter` epochs."""

    _kind = "perceptron"

    def __init__(self, *, fit_intercept=True, max_iter=1000, shuffle=True, eta0=1.0, random_state=0):
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.eta0 = eta0
        self.random_state = random_state

    def _params(self):
        if not self.shuffle:
            raise unsupported("shuffle", self.shuffle, "shuffle=True")
        return {
            "lr": float(self.eta0),
            "epochs": int(self.max_iter),
            "fit_intercept": int(bool(self.fit_intercept)),
            "seed": seed_of(self.random_state),
        }

    def _read_state(self, X):
        s = state(self._fitted)
        self._set_linear(s["coef"], s["intercept"], X.shape[1])
        self.n_iter_ = max(len(m) for m in s["mistakes"])
