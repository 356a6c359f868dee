"""scikit-learn's side of the k-means comparison (`benches/kmeans_patches.rs` is ours): Lloyd
k-means, k = 200, on 100,000 6x6x3 patches of the CIFAR-10 training images, 10 iterations
from the same initial centres, data loading included.

Patch i (of N = 100,000) comes from image `h % 50000` at row `(h // 50000) % 27` and column
`(h // 1350000) % 27`, where `h = (i * 2654435761) % 2**32` (Knuth's multiplicative hash: the
patches are spread over the set as random ones would be, and both sides draw the same ones).
A patch is its 3x6x6 pixels in CHW order, scaled to [0, 1]; the initial centres are the first
200 patches; `tol=0`, so both sides run all 10 iterations unless the labels stop changing.

Usage: python3 kmeans_patches_sklearn.py [CIFAR_DIR]   (default: $FERROLEARN_DATA/cifar-10)
`KMEANS_ITERS=N` runs N iterations instead of 10 (on both sides: to compare the inertia after
fewer iterations, before near-ties assigned differently have spread).
Prints one JSON object: inertia, iterations and the seconds spent in `fit`.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
from sklearn.cluster import KMeans

N, K, SIDE = 100_000, 200, 6
ITERS = int(os.environ.get("KMEANS_ITERS", "10"))


def load(d):
    """The 50,000 training images as [N, 3, 32, 32] uint8."""
    parts = []
    for i in range(1, 6):
        raw = np.frombuffer(gzip.open(os.path.join(d, f"data_batch_{i}.bin.gz"), "rb").read(), np.uint8)
        parts.append(raw.reshape(-1, 3073)[:, 1:].reshape(-1, 3, 32, 32))
    return np.concatenate(parts)


def patches(images):
    h = (np.arange(N, dtype=np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)
    img, rows, cols = (a.astype(np.int64) for a in (h % 50000, (h // 50000) % 27, (h // 1350000) % 27))
    r = rows[:, None] + np.arange(SIDE)
    c = cols[:, None] + np.arange(SIDE)
    out = images[img[:, None, None, None], np.arange(3)[None, :, None, None],
                 r[:, None, :, None], c[:, None, None, :]]
    return out.reshape(N, -1).astype(np.float64) / 255.0


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ["FERROLEARN_DATA"], "cifar-10")
    x = patches(load(d))
    start = time.perf_counter()
    km = KMeans(K, init=x[:K], n_init=1, max_iter=ITERS, tol=0.0, algorithm="lloyd").fit(x)
    seconds = time.perf_counter() - start
    print(json.dumps({"inertia": km.inertia_, "n_iter": km.n_iter_, "fit_seconds": seconds}))


if __name__ == "__main__":
    main()
