"""Results equal to scikit-learn's: the classic cases of the reference vectors (made with
scikit-learn, the same tolerances as the Rust reference test), replayed through the Python
estimators on the bundled tabular datasets."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from ferrolearn.sklearn import (
    KNeighborsClassifier,
    LinearRegression,
    LinearSVC,
    LogisticRegression,
    Perceptron,
    PolynomialFeatures,
    Ridge,
    SGDClassifier,
    SGDRegressor,
    StandardScaler,
)

REPO = Path(__file__).resolve().parents[2]
REFERENCE = Path(
    os.environ.get("FERROLEARN_REFERENCE_DIR", REPO / "crates/ferrolearn/tests/reference")
)
DATA = Path(os.environ.get("FERROLEARN_DATA", REPO.parent / "shared/datasets"))

CASES = json.loads((REFERENCE / "classic.json").read_text())["cases"]


def cases(*ops, where=lambda case: True):
    chosen = [c for c in CASES if c["op"] in ops and where(c)]
    assert chosen, f"no reference case of {ops}"
    return pytest.mark.parametrize("case", chosen, ids=[c["name"] for c in chosen])


def tensor(t):
    return np.asarray(t["data"], dtype=np.float64).reshape(t["shape"])


def dataset(case):
    """The case's dataset as (X, y), from the bundled CSV (target in the last column)."""
    path = DATA / "tabular" / Path(case["params"]["dataset_file"]).name
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    return table[:, :-1], table[:, -1]


def expect(case, name, got):
    """`got` within the case's tolerance for output `name` (allclose's rule)."""
    tol = case["params"].get("tol_overrides", {}).get(name, case["tol"])
    np.testing.assert_allclose(
        got, tensor(case["outputs"][name]), rtol=tol["rtol"], atol=tol["atol"],
        err_msg=f"{case['name']}: {name}",
    )


def standardised(case):
    """The case's rows, standardised by our `StandardScaler` (checked against the case)."""
    X, y = dataset(case)
    rows = tensor(case["inputs"]["rows"]).astype(int)
    scaler = StandardScaler().fit(X[rows])
    if "x_mean" in case["outputs"]:
        expect(case, "x_mean", scaler.mean_)
        expect(case, "x_std", scaler.scale_)
    return scaler.transform(X[rows]), y[rows]


@cases("linear_regression", "ridge")
def test_least_squares(case):
    X, y = standardised(case)
    if case["op"] == "ridge":
        model = Ridge(alpha=case["params"]["alpha"]).fit(X, y)
        residual = y - model.predict(X)
        objective = residual @ residual + case["params"]["alpha"] * model.coef_ @ model.coef_
        expect(case, "objective", objective)
    else:
        model = LinearRegression().fit(X, y)
    expect(case, "coef", model.coef_)
    expect(case, "intercept", model.intercept_)


@cases("standard_scaler")
def test_standard_scaler(case):
    X, _ = dataset(case)
    scaler = StandardScaler().fit(X[tensor(case["inputs"]["rows"]).astype(int)])
    expect(case, "mean", scaler.mean_)
    expect(case, "scale", scaler.scale_)


@cases("polynomial_features")
def test_polynomial_features(case):
    x = tensor(case["inputs"]["x"])
    poly = PolynomialFeatures(degree=case["params"]["degree"]).fit(x)
    expect(case, "y", poly.transform(x))
    expect(case, "powers", poly.powers_)


@cases("knn_classifier")
def test_knn(case):
    X, y = dataset(case)
    train = tensor(case["inputs"]["train_rows"]).astype(int)
    test = tensor(case["inputs"]["test_rows"]).astype(int)
    model = KNeighborsClassifier(n_neighbors=case["params"]["k"], metric=case["params"]["metric"])
    pred = model.fit(X[train], y[train]).predict(X[test])
    expect(case, "pred", pred)
    expect(case, "n_correct", np.sum(pred == y[test]))


@cases("logistic_regression_binary", "logistic_regression_multinomial")
def test_logistic_regression(case):
    X, y = standardised(case)
    C = case["params"]["C"]
    model = LogisticRegression(
        C=C, tol=case["params"]["tol"], max_iter=case["params"]["max_iter"]
    ).fit(X, y)
    scores = np.atleast_2d(model.decision_function(X).T).T
    if case["op"] == "logistic_regression_binary":
        t = 2 * y - 1
        loss = np.logaddexp(0.0, -t * scores[:, 0]).sum()
        expect(case, "coef", model.coef_.ravel())
        expect(case, "intercept", model.intercept_[0])
    else:
        codes = np.searchsorted(model.classes_, y)
        log_norm = np.logaddexp.reduce(scores, axis=1)
        loss = (log_norm - scores[np.arange(len(y)), codes]).sum()
        expect(case, "coef", model.coef_)
        # The intercepts are unique up to a constant: compare them centred.
        reference = tensor(case["outputs"]["intercept"])
        np.testing.assert_allclose(
            model.intercept_ - model.intercept_.mean(),
            reference - reference.mean(),
            rtol=case["tol"]["rtol"], atol=case["tol"]["atol"],
        )
    objective = 0.5 * np.sum(model.coef_**2) + C * loss
    assert objective <= tensor(case["outputs"]["objective"]) * (1 + 1e-5)
    expect(case, "train_accuracy", model.score(X, y))


# liblinear's problem only: the other case (libsvm's SVC, free intercept) is not LinearSVC's
# and is replayed by the Rust reference test.
@cases("linear_svm_hinge", where=lambda case: case["params"]["intercept_penalized"])
def test_linear_svc(case):
    X, y = standardised(case)
    C = case["params"]["C"]
    model = LinearSVC(loss="hinge", C=C, max_iter=100_000).fit(X, y)
    t = 2 * y - 1
    margins = t * model.decision_function(X)
    objective = 0.5 * (np.sum(model.coef_**2) + model.intercept_[0] ** 2) + C * np.maximum(
        0.0, 1.0 - margins
    ).sum()
    assert objective <= tensor(case["outputs"]["objective"]) * (1 + 1e-4)
    expect(case, "coef", model.coef_.ravel())
    expect(case, "intercept", model.intercept_[0])
    expect(case, "train_accuracy", model.score(X, y))


SGD_CASES = json.loads((REFERENCE / "sgd.json").read_text())["cases"]


@pytest.mark.parametrize("case", SGD_CASES, ids=[c["name"] for c in SGD_CASES])
def test_sgd(case):
    """SGDClassifier / SGDRegressor with the case's keyword arguments: scikit-learn's
    weights, epoch count, scores and probabilities."""
    X, y = tensor(case["inputs"]["x"]), tensor(case["inputs"]["y"])
    if case["op"] == "sgd_classifier":
        model = SGDClassifier(**case["params"]).fit(X, y.astype(int))
        expect(case, "decision", model.decision_function(X).reshape(len(X), -1))
        if "proba" in case["outputs"]:
            expect(case, "proba", model.predict_proba(X))
    else:
        model = SGDRegressor(**case["params"]).fit(X, y)
        expect(case, "predict", model.predict(X))
    expect(case, "coef", model.coef_)
    expect(case, "intercept", model.intercept_)
    assert model.n_iter_ == tensor(case["outputs"]["n_iter"])[0]


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer"])
@pytest.mark.parametrize("estimator", ["hinge", "log_loss", "perceptron"])
def test_sgd_classifiers_on_the_bundled_sets(name, estimator):
    """On the bundled tabular sets, standardised: the same coefficients as scikit-learn's
    SGDClassifier (hinge, log_loss) or Perceptron fitted beside it with the same
    random_state."""
    from sklearn import linear_model as reference_models
    from sklearn.preprocessing import StandardScaler as ReferenceScaler

    table = np.loadtxt(DATA / "tabular" / f"{name}.csv", delimiter=",", skiprows=1)
    X, y = ReferenceScaler().fit_transform(table[:, :-1]), table[:, -1].astype(int)
    if estimator == "perceptron":
        ours = Perceptron(random_state=3).fit(X, y)
        reference = reference_models.Perceptron(random_state=3).fit(X, y)
    else:
        ours = SGDClassifier(loss=estimator, random_state=3).fit(X, y)
        reference = reference_models.SGDClassifier(loss=estimator, random_state=3).fit(X, y)
    np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, reference.intercept_, rtol=1e-9, atol=1e-10)
    assert ours.n_iter_ == reference.n_iter_
    assert (ours.predict(X) == reference.predict(X)).all()
