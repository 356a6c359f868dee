"""Preprocessing transformers: `StandardScaler`, `MinMaxScaler`, `PolynomialFeatures`."""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ferrolearn import _native
from ferrolearn._base import check_X, state, unsupported


class _Scaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """`transform` and `inverse_transform` of both scalers, by their fitted native scaler."""

    def transform(self, X):
        check_is_fitted(self)
        return self._fitted.transform(check_X(self, X, reset=False))

    def inverse_transform(self, X):
        check_is_fitted(self)
        return self._fitted.transform(check_X(self, X, reset=False), inverse=True)


class StandardScaler(_Scaler):
    """`(x - mean_) / scale_` per column; population standard deviation, and a column of
    zero variance keeps scale 1."""

    def __init__(self, *, copy=True, with_mean=True, with_std=True):
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None):
        X = check_X(self, X, reset=True)
        self._fitted = _native.fit_standard_scaler(bool(self.with_mean), bool(self.with_std), X)
        s = state(self._fitted)
        self.mean_ = np.asarray(s["mean"]) if self.with_mean else None
        self.scale_ = np.asarray(s["scale"]) if self.with_std else None
        self.var_ = _variances(X, self.scale_) if self.with_std else None
        self.n_samples_seen_ = X.shape[0]
        return self


def _variances(X, scale):
    """The columns' population variances: `scale**2`, except where the scale is 1, which a
    column of zero variance also gets (only those columns are recomputed)."""
    var = scale**2
    ones = scale == 1.0
    if ones.any():
        var[ones] = X[:, ones].var(axis=0)
    return var


class MinMaxScaler(_Scaler):
    """Each column mapped linearly onto `feature_range` by its training minimum and
    maximum; a constant column maps to the lower end."""

    def __init__(self, feature_range=(0, 1), *, copy=True, clip=False):
        self.feature_range = feature_range
        self.copy = copy
        self.clip = clip

    def fit(self, X, y=None):
        if self.clip:
            raise unsupported("clip", self.clip, "clip=False")
        X = check_X(self, X, reset=True)
        low, high = (float(v) for v in self.feature_range)
        self._fitted = _native.fit_min_max_scaler(low, high, X)
        self.data_min_ = X.min(axis=0)
        self.data_max_ = X.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        safe_range = np.where(self.data_range_ == 0.0, 1.0, self.data_range_)
        self.scale_ = (high - low) / safe_range
        self.min_ = low - self.data_min_ * self.scale_
        self.n_samples_seen_ = X.shape[0]
        return self


class PolynomialFeatures(TransformerMixin, BaseEstimator):
    """Every monomial of the features up to `degree`, in scikit-learn's column order."""

    def __init__(self, degree=2, *, interaction_only=False, include_bias=True, order="C"):
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias
        self.order = order

    def fit(self, X, y=None):
        if self.interaction_only:
            raise unsupported("interaction_only", self.interaction_only, "interaction_only=False")
        X = check_X(self, X, reset=True)
        _, self.powers_ = _native.polynomial_features(
            int(self.degree), bool(self.include_bias), X[:1]
        )
        self.n_output_features_ = self.powers_.shape[0]
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        out, _ = _native.polynomial_features(int(self.degree), bool(self.include_bias), X)
        return out if self.order == "C" else np.asfortranarray(out)

    def get_feature_names_out(self, input_features=None):
        from sklearn.utils.validation import _check_feature_names_in

        names = _check_feature_names_in(self, input_features)
        out = []
        for row in self.powers_:
            terms = [
                name if p == 1 else f"{name}^{p}" for name, p in zip(names, row) if p > 0
            ]
            out.append(" ".join(terms) if terms else "1")
        return np.asarray(out, dtype=object)
