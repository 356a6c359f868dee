"""The classic MNIST workloads called from Python: kNN (k = 3) and logistic regression
(standardised pixels, L-BFGS, 100 iterations), fitted on the 60,000 training images and
scored on the 10,000 test images, with ferrolearn's estimators or scikit-learn's.

Time it as a whole process beside the same workload through the command line
(`ferrolearn fit --model knn --dataset mnist --k 3`, `ferrolearn fit --model logistic
--dataset mnist`), which also loads, fits and scores the test set, to see what calling
through Python costs; and beside `--library sklearn` for the ratio against scikit-learn
called from the same kind of process.

Usage: python benches/classic_mnist.py --model knn|logistic [--library ferrolearn|sklearn]
       [--mnist DIR]   (default: $FERROLEARN_DATA/mnist)
Prints one JSON object: the test accuracy and the seconds of fit and score.
"""

import argparse
import gzip
import json
import os
import time

import numpy as np
from sklearn.pipeline import make_pipeline


def idx(path):
    raw = gzip.open(path, "rb").read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(directory):
    """Pixels as float64 / 255 (as ferrolearn's classic commands read them) and labels."""

    def images(name):
        raw = idx(os.path.join(directory, name))
        return raw.reshape(len(raw), -1).astype(np.float64) / 255.0

    def labels(name):
        return idx(os.path.join(directory, name)).astype(np.int64)

    return (
        images("train-images-idx3-ubyte.gz"),
        labels("train-labels-idx1-ubyte.gz"),
        images("t10k-images-idx3-ubyte.gz"),
        labels("t10k-labels-idx1-ubyte.gz"),
    )


def estimator(library, model):
    if library == "ferrolearn":
        from ferrolearn.sklearn import KNeighborsClassifier, LogisticRegression, StandardScaler
    else:
        from sklearn.linear_model import LogisticRegression
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.preprocessing import StandardScaler
    if model == "knn":
        return KNeighborsClassifier(n_neighbors=3)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=100))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["knn", "logistic"], required=True)
    parser.add_argument("--library", choices=["ferrolearn", "sklearn"], default="ferrolearn")
    parser.add_argument("--mnist", default=os.path.join(os.environ.get("FERROLEARN_DATA", "data"), "mnist"))
    args = parser.parse_args()
    x, y, xt, yt = mnist(args.mnist)
    model = estimator(args.library, args.model)
    start = time.perf_counter()
    model.fit(x, y)
    fitted = time.perf_counter()
    accuracy = model.score(xt, yt)
    scored = time.perf_counter()
    print(
        json.dumps(
            {
                "library": args.library,
                "model": args.model,
                "test_accuracy": accuracy,
                "fit_seconds": fitted - start,
                "score_seconds": scored - fitted,
            }
        )
    )


if __name__ == "__main__":
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    main()
