"""`LinearSVC`: the soft-margin linear SVM with scikit-learn's (liblinear's) problem:
squared hinge (or hinge), L2, penalised intercept, one-vs-rest for more than two classes."""

from sklearn.utils.validation import check_is_fitted

from ferrolearn._base import LinearClassifierMixin, PipelineClassifier, check_X, seed_of, state


class LinearSVC(LinearClassifierMixin, PipelineClassifier):
    """Linear support vector classifier."""

    _kind = "svm"

    def __init__(
        self,
        *,
        loss="squared_hinge",
        tol=1e-4,
        C=1.0,
        fit_intercept=True,
        max_iter=1000,
        random_state=None,
    ):
        self.loss = loss
        self.tol = tol
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.random_state = random_state

    def _params(self):
        return {
            "c": float(self.C),
            "loss": self.loss,
            "tol": float(self.tol),
            "max_iter": int(self.max_iter),
            "fit_intercept": int(bool(self.fit_intercept)),
            "seed": seed_of(self.random_state),
        }

    def _read_state(self, X):
        s = state(self._fitted)
        self._set_linear(s["coef"], s["intercept"], X.shape[1])
        self.n_iter_ = int(s["n_iter"])

    def decision_function(self, X):
        check_is_fitted(self)
        X = check_X(self, X, reset=False)
        scores = self._fitted.decision_function(X)
        return scores.ravel() if scores.shape[1] == 1 else scores
