"""Writes the SGD reference vectors with scikit-learn:

  sgd.json  (family "sgd")
    sgd_classifier   SGDClassifier(**params).fit(x, y) on standardised blobs (two or three
                     classes). Inputs: `x` [n, d], `y` [n] (labels 0..K-1) and, where
                     params has class_weight, `class_weight` [K] (its weight per class).
                     Outputs: `coef` [1 or K, d], `intercept` [1 or K], `n_iter` (epochs
                     run), `decision` [n, 1 or K] (decision_function on x) and, for log_loss
                     and modified_huber, `proba` [n, K].
    sgd_regressor    SGDRegressor(**params).fit(x, y) on a noisy linear target. Outputs:
                     `coef` [d], `intercept` [1], `n_iter`, `predict` [n].

`params` are the estimator's keyword arguments (`tol` null for None). ferrolearn's
`classic::sgd::Sgd` draws the same seeds from `random_state` and takes the same steps, so the
results agree to rounding. Same format as the other files (see README.md). Run from this
directory:

    python generate_sgd.py
"""
import json
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.utils.class_weight import compute_class_weight

GEN = f"sklearn {sklearn.__version__}"
rng = np.random.default_rng(23)


def t(x):
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    return {"shape": list(x.shape), "data": [float(v) for v in x.ravel()]}


def ti(x):
    x = np.asarray(x)
    return {"shape": list(x.shape), "data": [int(v) for v in x.ravel()]}


def standardised(x):
    return (x - x.mean(axis=0)) / x.std(axis=0)


def blobs(n, d, k):
    centres = rng.normal(scale=1.5, size=(k, d))
    y = rng.integers(0, k, size=n)
    return standardised(centres[y] + rng.normal(size=(n, d))), y


def line(n, d):
    x = standardised(rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d))
    y = x @ rng.normal(size=d) + 0.7 + 0.3 * rng.normal(size=n)
    return x, y


def fit(estimator, x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(x, y)


def classifier(name, n, d, k, **params):
    x, y = blobs(n, d, k)
    clf = fit(SGDClassifier(**params), x, y)
    inputs = {"x": t(x), "y": ti(y)}
    if "class_weight" in params:
        inputs["class_weight"] = t(compute_class_weight(params["class_weight"],
                                                        classes=np.unique(y), y=y))
    outputs = {
        "coef": t(clf.coef_),
        "intercept": t(clf.intercept_),
        "n_iter": t(clf.n_iter_),
        "decision": t(clf.decision_function(x).reshape(n, -1)),
    }
    if params.get("loss") in ("log_loss", "modified_huber"):
        outputs["proba"] = t(clf.predict_proba(x))
    print(f"{name}: {clf.n_iter_} epochs, train accuracy {clf.score(x, y):.3f}")
    return {
        "name": name, "op": "sgd_classifier", "params": params,
        "inputs": inputs, "outputs": outputs, "grads": {},
        "upstream": None, "tol": {"rtol": 1e-9, "atol": 1e-10},
    }


def regressor(name, n, d, **params):
    x, y = line(n, d)
    reg = fit(SGDRegressor(**params), x, y)
    print(f"{name}: {reg.n_iter_} epochs, train R^2 {reg.score(x, y):.3f}")
    return {
        "name": name, "op": "sgd_regressor", "params": params,
        "inputs": {"x": t(x), "y": t(y)},
        "outputs": {"coef": t(reg.coef_), "intercept": t(reg.intercept_),
                    "n_iter": t(reg.n_iter_), "predict": t(reg.predict(x))},
        "grads": {}, "upstream": None, "tol": {"rtol": 1e-9, "atol": 1e-10},
    }


cases = [
    classifier("hinge_binary_defaults", 80, 4, 2, random_state=0),
    classifier("hinge_three_classes", 90, 5, 3, random_state=42),
    classifier("log_loss_three_classes", 90, 3, 3, loss="log_loss", random_state=1),
    classifier("modified_huber_l1", 70, 6, 2, loss="modified_huber", penalty="l1",
               alpha=1e-3, random_state=7),
    classifier("squared_hinge_elasticnet_constant", 60, 4, 3, loss="squared_hinge",
               penalty="elasticnet", l1_ratio=0.3, learning_rate="constant", eta0=0.01,
               random_state=3),
    classifier("perceptron_no_penalty_invscaling", 60, 3, 2, loss="perceptron",
               penalty=None, learning_rate="invscaling", eta0=0.5, fit_intercept=False,
               random_state=5),
    classifier("log_loss_adaptive_no_shuffle", 50, 4, 2, loss="log_loss",
               learning_rate="adaptive", eta0=0.1, shuffle=False),
    classifier("hinge_no_tol_seven_epochs", 40, 3, 4, tol=None, max_iter=7,
               random_state=2**32 - 1),
    classifier("hinge_balanced_binary", 70, 3, 2, class_weight="balanced", random_state=6),
    classifier("log_loss_balanced_three_classes", 80, 4, 3, loss="log_loss",
               class_weight="balanced", random_state=8),
    regressor("squared_error_defaults", 80, 4, random_state=0),
    regressor("huber_l1", 70, 5, loss="huber", epsilon=0.5, penalty="l1", alpha=1e-3,
              random_state=11),
    regressor("epsilon_insensitive_adaptive", 60, 3, loss="epsilon_insensitive",
              learning_rate="adaptive", eta0=0.05, random_state=4),
    regressor("squared_epsilon_elasticnet", 60, 4, loss="squared_epsilon_insensitive",
              penalty="elasticnet", l1_ratio=0.5, random_state=9),
    regressor("huber_optimal", 60, 4, loss="huber", learning_rate="optimal", alpha=1e-2,
              random_state=10),
    regressor("squared_error_no_tol_no_shuffle", 50, 3, tol=None, max_iter=20,
              shuffle=False, fit_intercept=False),
]
with open("sgd.json", "w") as f:
    json.dump({"family": "sgd", "generator": GEN, "cases": cases}, f)
