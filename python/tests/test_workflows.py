"""ferrolearn's estimators inside scikit-learn's own machinery (Pipeline, GridSearchCV,
cross_val_score, clone, pickle), giving scikit-learn's results; errors as Python exceptions
with the library's messages; no copies of suitable inputs; the GIL released while Rust works."""

import pickle
import threading

import numpy as np
import pytest
import sklearn.linear_model
import sklearn.neighbors
import sklearn.preprocessing
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

import ferrolearn
from ferrolearn.sklearn import (
    KMeans,
    KNeighborsClassifier,
    KNeighborsRegressor,
    LinearRegression,
    LinearSVC,
    LogisticRegression,
    MinMaxScaler,
    MLPClassifier,
    Perceptron,
    SGDClassifier,
    SGDRegressor,
    PolynomialFeatures,
    Ridge,
    StandardScaler,
)


def test_grid_search_over_knn_gives_scikit_learns_scores():
    X, y = load_digits(return_X_y=True)
    # Integer pixels tie often, and tied neighbour sets are broken differently by each
    # search; a little noise leaves one right answer.
    X = X + np.random.default_rng(0).uniform(0, 1e-3, X.shape)
    grid = {"n_neighbors": [1, 3, 5], "metric": ["euclidean", "manhattan"]}
    ours = GridSearchCV(KNeighborsClassifier(), grid, cv=3).fit(X, y)
    theirs = GridSearchCV(sklearn.neighbors.KNeighborsClassifier(), grid, cv=3).fit(X, y)
    np.testing.assert_array_equal(
        ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"]
    )
    assert ours.best_params_ == theirs.best_params_
    assert isinstance(ours.best_estimator_, KNeighborsClassifier)


def test_pipeline_of_scaler_and_logistic_regression_matches_scikit_learn():
    X, y = load_breast_cancer(return_X_y=True)
    ours = make_pipeline(StandardScaler(), LogisticRegression(tol=1e-8, max_iter=1000))
    theirs = make_pipeline(
        sklearn.preprocessing.StandardScaler(),
        sklearn.linear_model.LogisticRegression(tol=1e-8, max_iter=1000),
    )
    scores = cross_val_score(ours, X, y, cv=5)
    np.testing.assert_allclose(scores, cross_val_score(theirs, X, y, cv=5), atol=1e-9)
    ours.fit(X, y)
    theirs.fit(X, y)
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-4, atol=1e-5
    )


def test_kmeans_reaches_scikit_learns_inertia_on_iris():
    from sklearn.cluster import KMeans as SkKMeans

    X, _ = load_iris(return_X_y=True)
    ours = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)
    theirs = SkKMeans(n_clusters=3, n_init=10, random_state=0).fit(X)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)


FITTED = [
    (KNeighborsClassifier(n_neighbors=3), "iris"),
    (KNeighborsRegressor(n_neighbors=3), "diabetes"),
    (LinearRegression(), "diabetes"),
    (Ridge(alpha=0.5), "diabetes"),
    (LogisticRegression(), "iris"),
    (LinearSVC(), "iris"),
    (Perceptron(), "iris"),
    (SGDClassifier(loss="log_loss"), "iris"),
    (SGDRegressor(), "diabetes"),
    (MLPClassifier(hidden_layer_sizes=(8,), max_iter=20), "iris"),
    (KMeans(n_clusters=3), "iris"),
    (StandardScaler(), "iris"),
    (MinMaxScaler(), "iris"),
    (PolynomialFeatures(), "iris"),
]


def data(name):
    from sklearn.datasets import load_diabetes

    loader = {"iris": load_iris, "diabetes": load_diabetes}[name]
    return loader(return_X_y=True)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator,name", FITTED, ids=[type(e).__name__ for e, _ in FITTED])
def test_pickle_and_clone_keep_the_model(estimator, name):
    X, y = data(name)
    fitted = clone(estimator).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    out = "transform" if hasattr(fitted, "transform") and not hasattr(fitted, "predict") else "predict"
    np.testing.assert_array_equal(getattr(restored, out)(X), getattr(fitted, out)(X))
    assert clone(fitted).get_params() == estimator.get_params()


def test_library_errors_are_value_errors_with_the_clis_messages():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        KNeighborsClassifier(n_neighbors=0).fit(X, y)
    with pytest.raises(ValueError, match="--solver lbfgs needs --penalty none or l2"):
        LogisticRegression(penalty="l1", solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="C must be > 0, got -1"):
        LinearSVC(C=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="`loss` cannot be `log`; expected one of"):
        LinearSVC(loss="log").fit(X, y)
    with pytest.raises(ValueError, match="weights='distance' is not supported by ferrolearn"):
        KNeighborsClassifier(weights="distance").fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but KNeighborsClassifier is expecting 4"):
        KNeighborsClassifier().fit(X, y).predict(X[:, :3])


def test_native_functions_refuse_bad_arrays_with_type_errors():
    X = np.ones((4, 2))
    with pytest.raises(TypeError, match="X must be a C-contiguous array"):
        ferrolearn._native.fit_standard_scaler(True, True, np.asfortranarray(X))
    with pytest.raises(TypeError, match="class codes must be >= 0, got -1"):
        ferrolearn._native.fit_classifier("knn", {"k": 1}, X, np.array([0, 1, -1, 0]))


def test_suitable_inputs_are_not_copied():
    from ferrolearn._base import check_X

    X = np.ascontiguousarray(load_iris(return_X_y=True)[0])
    assert check_X(StandardScaler(), X, reset=True) is X
    # Other dtypes and layouts are converted once, to C-contiguous float64.
    converted = check_X(StandardScaler(), np.asfortranarray(X.astype(np.float32)), reset=True)
    assert converted.dtype == np.float64 and converted.flags["C_CONTIGUOUS"]


def test_other_python_threads_run_while_rust_predicts():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4000, 64))
    model = KNeighborsClassifier(n_neighbors=3).fit(X, rng.integers(0, 10, 4000))
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        for _ in range(20):
            before = count[0]
            model._fitted.predict_class(X)
            during = count[0] - before
            if during > 1000:
                break
    finally:
        stop.set()
        spinner.join()
    # With the GIL held the spinner could not run at all during the call.
    assert during > 1000, f"the other thread ran only {during} times"
