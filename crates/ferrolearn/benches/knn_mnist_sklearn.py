"""scikit-learn's side of the kNN comparison: `KNeighborsClassifier(3).fit(X).score(X_test)` on
MNIST, data loading included, to time as a whole process beside
`ferrolearn fit --model knn --dataset mnist --k 3` (which also loads, fits and scores the test
set, and does not score the training set unless asked with `--train-score`).

Usage: python3 knn_mnist_sklearn.py [MNIST_DIR]   (default: $FERROLEARN_DATA/mnist)
Prints the test accuracy. Pixels are float32 / 255, as ferrolearn reads them.
"""
import gzip
import os
import sys

import numpy as np
from sklearn.neighbors import KNeighborsClassifier


def idx(path):
    raw = gzip.open(path, "rb").read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ["FERROLEARN_DATA"], "mnist")
    x = idx(os.path.join(d, "train-images-idx3-ubyte.gz")).reshape(60000, -1).astype(np.float32) / 255
    y = idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))
    xt = idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).reshape(10000, -1).astype(np.float32) / 255
    yt = idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
    print(KNeighborsClassifier(3).fit(x, y).score(xt, yt))


if __name__ == "__main__":
    main()
