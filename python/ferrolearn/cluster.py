"""`KMeans`: Lloyd's algorithm with k-means++ seeding, as scikit-learn's, or mini-batch
k-means when `batch_size` is given (scikit-learn's `MiniBatchKMeans`)."""

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ferrolearn import _native
from ferrolearn._base import check_X, seed_of, state


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """k-means clustering: `cluster_centers_`, `labels_`, `inertia_`, `n_iter_`."""

    def __init__(self, n_clusters=8, *, n_init="auto", max_iter=300, random_state=None):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y=None):
        X = check_X(self, X, reset=True)
        params = {
            "k": int(self.n_clusters),
            # scikit-learn's "auto" is one run with k-means++ seeding.
            "n_init": 1 if self.n_init == "auto" else int(self.n_init),
            "max_iter": int(self.max_iter),
            "seed": seed_of(self.random_state),
        }
        self._fitted, self.labels_, self.inertia_, self.n_iter_ = _native.fit_kmeans(params, X)
        s = state(self._fitted)
        self.cluster_centers_ = np.asarray(s["centres"], dtype=np.float64).reshape(
            -1, X.shape[1]
        )
        return self

    def predict(self, X):
        check_is_fitted(self)
        return self._fitted.predict_class(check_X(self, X, reset=False))

    def transform(self, X):
        """Euclidean distances of each row to each centre, `[n, n_clusters]`."""
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        sq = (
            (X * X).sum(axis=1)[:, None]
            - 2.0 * X @ self.cluster_centers_.T
            + (self.cluster_centers_**2).sum(axis=1)[None, :]
        )
        return np.sqrt(np.maximum(sq, 0.0))

    def score(self, X, y=None):
        """Minus the sum of squared distances of the rows of `X` to their nearest centre."""
        return -float((self.transform(X).min(axis=1) ** 2).sum())
