"""Writes the MLP reference vectors with scikit-learn:

  mlp.json  (family "mlp")
    mlp_adam_full_batch   MLPClassifier(activation="relu", solver="adam", batch_size=n,
                          shuffle=False, tol=0, n_iter_no_change=max_iter) trained for
                          params.max_iter epochs from the given weights (warm_start: the
                          weights are set after a first fit, then a second fit starts from them
                          with a fresh Adam). Inputs: `x` [n, d], `y` [n] (labels 0..K-1),
                          `w0`, `b0`, `w1`, `b1`, ... the starting weights in ferrolearn's /
                          PyTorch's layout ([out, in]; scikit-learn's coefs_ transposed).
                          Outputs: the trained `w*`, `b*`, `loss_curve` [max_iter] (scikit-learn's
                          loss_curve_, penalty included) and `proba` [n, K] of the trained model.

With one batch holding every row the batch order does not matter, so ferrolearn's
`MlpClassifier::fit_from` must follow the same trajectory (up to float32 rounding).
Same format as the other files (see README.md). Run from this directory:

    python generate_mlp.py
"""
import json
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

GEN = f"sklearn {sklearn.__version__}"
rng = np.random.default_rng(11)


def t(x):
    x = np.asarray(x, dtype=np.float64)
    return {"shape": list(x.shape), "data": [float(v) for v in x.ravel()]}


def ti(x):
    x = np.asarray(x)
    return {"shape": list(x.shape), "data": [int(v) for v in x.ravel()]}


def f32(x):
    """Rounds through float32 so a float32 implementation reads exactly the same inputs."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def case(name, n, d, k, hidden, alpha, lr, max_iter):
    centres = rng.normal(scale=2.0, size=(k, d))
    y = np.arange(n) % k
    x = f32(centres[y] + rng.normal(size=(n, d)))
    widths = [d, *hidden, k]
    w0 = [f32(rng.uniform(-0.5, 0.5, size=(a, b))) for a, b in zip(widths, widths[1:])]
    b0 = [f32(rng.uniform(-0.1, 0.1, size=b)) for b in widths[1:]]
    clf = MLPClassifier(
        hidden_layer_sizes=hidden, activation="relu", solver="adam", alpha=alpha,
        batch_size=n, learning_rate_init=lr, max_iter=1, shuffle=False, tol=0.0,
        n_iter_no_change=max_iter, warm_start=True, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, y)
        clf.coefs_ = [w.copy() for w in w0]
        clf.intercepts_ = [b.copy() for b in b0]
        clf.loss_curve_ = []
        clf.set_params(max_iter=max_iter)
        clf.fit(x, y)
    inputs = {"x": t(x), "y": ti(y)}
    outputs = {}
    for i, (w, b) in enumerate(zip(w0, b0)):
        inputs[f"w{i}"] = t(w.T)
        inputs[f"b{i}"] = t(b)
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        outputs[f"w{i}"] = t(w.T)
        outputs[f"b{i}"] = t(b)
    outputs["loss_curve"] = t(clf.loss_curve_)
    outputs["proba"] = t(clf.predict_proba(x))
    print(f"{name}: loss {clf.loss_curve_[0]:.4f} -> {clf.loss_curve_[-1]:.4f}, "
          f"{len(clf.loss_curve_)} epochs")
    return {
        "name": name, "op": "mlp_adam_full_batch",
        "params": {"hidden": list(hidden), "alpha": alpha, "learning_rate": lr,
                   "max_iter": max_iter, "batch_size": n,
                   "note": "float32 training drifts slowly from the float64 reference"},
        "inputs": inputs, "outputs": outputs, "grads": {}, "upstream": None,
        "tol": {"rtol": 1e-3, "atol": 1e-4},
    }


cases = [
    case("one_hidden_layer", 60, 4, 3, (8,), 1e-3, 0.01, 25),
    case("two_hidden_layers_strong_penalty", 48, 5, 4, (7, 6), 0.5, 0.02, 15),
]
with open("mlp.json", "w") as f:
    json.dump({"family": "mlp", "generator": GEN, "cases": cases}, f)
