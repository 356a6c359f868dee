"""k-nearest neighbours: `KNeighborsClassifier` and `KNeighborsRegressor`, scikit-learn's
names and defaults over ferrolearn's exact brute-force search (Euclidean or Manhattan)."""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ferrolearn import _native
from ferrolearn._base import PipelineClassifier, check_X, check_X_y, unsupported

_EUCLIDEAN = {"euclidean", "l2"}
_MANHATTAN = {"manhattan", "cityblock", "l1"}


def _distance(metric, p):
    """The library's distance name for scikit-learn's `metric` and `p`."""
    if metric == "minkowski":
        if p == 2:
            return "l2"
        if p == 1:
            return "l1"
        raise unsupported("p", p, "p=1 or p=2")
    if metric in _EUCLIDEAN:
        return "l2"
    if metric in _MANHATTAN:
        return "l1"
    raise unsupported("metric", metric, "'minkowski' (p=1 or 2), 'euclidean' or 'manhattan'")


def _check_weights(weights):
    if weights != "uniform":
        raise unsupported("weights", weights, "weights='uniform'")


class _Neighbours:
    """What both kNN estimators share: scikit-learn's parameters, the fitted attributes of
    the search, and `kneighbors`."""

    def __init__(
        self,
        n_neighbors=5,
        *,
        weights="uniform",
        algorithm="auto",
        leaf_size=30,
        p=2,
        metric="minkowski",
        metric_params=None,
        n_jobs=None,
    ):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs

    def _remember(self, X, metric):
        """The training rows (for `kneighbors()`) and the attributes scikit-learn sets."""
        self._fit_X = X
        self.n_samples_fit_ = X.shape[0]
        self.effective_metric_ = "euclidean" if metric == "l2" else "manhattan"

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """The nearest training rows of each row of `X`: distances and indices, ordered by
        distance then training index. With `X=None`, the training rows' own neighbours,
        each row excluded from its own list (as scikit-learn)."""
        check_is_fitted(self)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        if X is None:
            dist, ind = self._fitted.kneighbors(self._fit_X, k + 1)
            keep = ind != np.arange(len(ind))[:, None]
            # A row is its own first neighbour unless a duplicate ties it; drop one entry.
            keep[keep.all(axis=1), -1] = False
            dist = dist[keep].reshape(len(ind), k)
            ind = ind[keep].reshape(len(ind), k)
        else:
            X = check_X(self, X, reset=False)
            dist, ind = self._fitted.kneighbors(X, k)
        return (dist, ind) if return_distance else ind


class KNeighborsClassifier(_Neighbours, PipelineClassifier):
    """Classifier by majority vote of the `n_neighbors` nearest training rows (ties go to
    the smallest class index, as scikit-learn)."""

    _kind = "knn"

    def _params(self):
        _check_weights(self.weights)
        return {"k": self.n_neighbors, "metric": _distance(self.metric, self.p)}

    def _read_state(self, X):
        self._remember(X, _distance(self.metric, self.p))

    def predict_proba(self, X):
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        proba = self._fitted.predict_proba(X)
        # The library's classes are 0..max(code); every class of classes_ occurs in y.
        return proba[:, : len(self.classes_)]


class KNeighborsRegressor(_Neighbours, RegressorMixin, BaseEstimator):
    """Regressor predicting the mean target of the `n_neighbors` nearest training rows."""

    def fit(self, X, y):
        _check_weights(self.weights)
        X, y = check_X_y(self, X, y, y_numeric=True)
        y = np.ascontiguousarray(y, dtype=np.float64)
        metric = _distance(self.metric, self.p)
        self._fitted = _native.fit_knn_regressor(int(self.n_neighbors), metric, X, y)
        self._remember(X, metric)
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        return self._fitted.predict_value(X)
