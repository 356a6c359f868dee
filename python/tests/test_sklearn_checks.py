"""scikit-learn's own estimator checks over every ferrolearn estimator: every check
passes, none is listed as an expected failure."""

from sklearn.utils.estimator_checks import parametrize_with_checks

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
    PolynomialFeatures,
    Ridge,
    SGDClassifier,
    SGDRegressor,
    StandardScaler,
)

ESTIMATORS = [
    KNeighborsClassifier(),
    KNeighborsRegressor(),
    LinearRegression(),
    Ridge(),
    LogisticRegression(),
    LinearSVC(),
    Perceptron(),
    MLPClassifier(max_iter=50),
    SGDClassifier(),
    SGDRegressor(),
    KMeans(n_clusters=3),
    StandardScaler(),
    MinMaxScaler(),
    PolynomialFeatures(),
    # Non-default options take other paths through the library.
    KNeighborsClassifier(n_neighbors=3, metric="manhattan"),
    LogisticRegression(penalty="l1", solver="saga"),
    LinearSVC(loss="hinge", fit_intercept=False),
    Ridge(alpha=10.0, fit_intercept=False),
    SGDClassifier(loss="log_loss", penalty="elasticnet", learning_rate="adaptive", eta0=0.1),
    SGDRegressor(loss="huber", penalty="l1", epsilon=1.0, learning_rate="adaptive"),
    StandardScaler(with_mean=False),
    PolynomialFeatures(degree=3, include_bias=False),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
