"""What the scikit-learn-compatible estimators share: input validation (scikit-learn's own,
so messages and conversions are the ones its users know), label encoding, and the fitted
native object (`_fitted`) that predicts."""

import json

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ferrolearn import _native


def check_X(estimator, X, reset):
    """`X` as C-contiguous float64 (converted once, not copied when it already is)."""
    return validate_data(estimator, X, reset=reset, dtype=np.float64, order="C")


def check_X_y(estimator, X, y, y_numeric=False):
    """`X` as for `check_X`, `y` as a 1-D array of the same length."""
    return validate_data(
        estimator, X, y, dtype=np.float64, order="C", y_numeric=y_numeric
    )


def seed_of(random_state):
    """The library's seed from scikit-learn's `random_state` (None means 0: ferrolearn is
    deterministic by default)."""
    if random_state is None:
        return 0
    if isinstance(random_state, (int, np.integer)):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}")
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def state(fitted):
    """The fitted model's state: the `fitted` tree of a pipeline model, as the library
    serialises it (the attributes such as `coef_` are read from it)."""
    tree = json.loads(fitted.state_json())
    if tree["type"] == "pipeline":
        return tree["fitted"]["model"]["fitted"]
    return tree["fitted"]


def unsupported(name, value, supported):
    """The error for a scikit-learn parameter value ferrolearn does not implement."""
    return ValueError(
        f"{name}={value!r} is not supported by ferrolearn; use {supported}"
    )


class PipelineClassifier(ClassifierMixin, BaseEstimator):
    """A classifier fitted by the library's classic pipeline (`ferrolearn fit --model
    KIND`): labels of any type are encoded as `classes_` indices."""

    _kind = None

    def _params(self):
        """The hyperparameters under the library's names (`ferrolearn fit` flags)."""
        raise NotImplementedError

    def _params_for(self, y):
        """The hyperparameters of a fit on labels `y` (only class weights look at them)."""
        return self._params()

    def fit(self, X, y):
        X, y = check_X_y(self, X, y)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        self._fitted = _native.fit_classifier(
            self._kind, self._params_for(y), X, codes.astype(np.int64)
        )
        self._read_state(X)
        return self

    def _read_state(self, X):
        """Sets the fitted attributes (`coef_`, `n_iter_`, ...) of the model."""

    def predict(self, X):
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        return self.classes_[self._fitted.predict_class(X)]


class PipelineRegressor(RegressorMixin, BaseEstimator):
    """A regressor fitted by the library's classic pipeline."""

    _kind = None

    def _params(self):
        raise NotImplementedError

    def fit(self, X, y):
        X, y = check_X_y(self, X, y, y_numeric=True)
        y = np.ascontiguousarray(y, dtype=np.float64)
        self._fitted = _native.fit_regressor(self._kind, self._params(), X, y)
        self._read_state(X)
        return self

    def _read_state(self, X):
        """Sets the fitted attributes."""

    def predict(self, X):
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        return self._fitted.predict_value(X)


class LinearClassifierMixin:
    """`decision_function` and the `coef_` / `intercept_` layout of scikit-learn's linear
    classifiers: one row for two classes, one per class otherwise."""

    def decision_function(self, X):
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def _set_linear(self, coef, intercept, n_features):
        self.coef_ = np.asarray(coef, dtype=np.float64).reshape(-1, n_features)
        self.intercept_ = np.atleast_1d(np.asarray(intercept, dtype=np.float64))
