"""Every scikit-learn-compatible estimator in one namespace:
`from ferrolearn.sklearn import KNeighborsClassifier` in place of scikit-learn's."""

from ferrolearn.cluster import KMeans
from ferrolearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Perceptron,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from ferrolearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from ferrolearn.neural_network import MLPClassifier
from ferrolearn.preprocessing import MinMaxScaler, PolynomialFeatures, StandardScaler
from ferrolearn.svm import LinearSVC

__all__ = [
    "KMeans",
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "LinearRegression",
    "LinearSVC",
    "LogisticRegression",
    "MLPClassifier",
    "MinMaxScaler",
    "Perceptron",
    "PolynomialFeatures",
    "Ridge",
    "SGDClassifier",
    "SGDRegressor",
    "StandardScaler",
]
