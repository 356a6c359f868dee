"""`MLPClassifier`: ReLU layers trained by Adam on the cross-entropy with an L2 penalty, as
scikit-learn's (its solver "adam", activation "relu")."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ferrolearn._base import PipelineClassifier, check_X, seed_of, state, unsupported


class MLPClassifier(PipelineClassifier):
    """Multi-layer perceptron classifier."""

    _kind = "mlp"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.random_state = random_state

    def _params(self):
        if self.activation != "relu":
            raise unsupported("activation", self.activation, "activation='relu'")
        if self.solver != "adam":
            raise unsupported("solver", self.solver, "solver='adam'")
        sizes = np.atleast_1d(self.hidden_layer_sizes)
        params = {
            "hidden": "x".join(str(int(w)) for w in sizes),
            "alpha": float(self.alpha),
            "lr": float(self.learning_rate_init),
            "max_iter": int(self.max_iter),
            "seed": seed_of(self.random_state),
        }
        if self.batch_size != "auto":
            params["batch_size"] = int(self.batch_size)
        return params

    def _read_state(self, X):
        s = state(self._fitted)
        layers = s["layers"]
        self.coefs_ = [
            np.asarray(l["weight"], dtype=np.float64).reshape(l["n_out"], l["n_in"]).T
            for l in layers
        ]
        self.intercepts_ = [np.asarray(l["bias"], dtype=np.float64) for l in layers]
        self.loss_curve_ = list(s["loss_curve"])
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None
        self.n_iter_ = len(self.loss_curve_)
        self.n_layers_ = len(layers) + 1
        self.n_outputs_ = layers[-1]["n_out"]
        # One softmax output per class, also for two classes (scikit-learn uses one logistic).
        self.out_activation_ = "softmax"

    def predict_proba(self, X):
        check_is_fitted(self)
        return self._fitted.predict_proba(check_X(self, X, reset=False))
