"""Writes the reference vectors of the bag of visual words encoding with scikit-learn and numpy:

  bovw.json  (family "bovw")
    bovw_encode  the word histograms of a few real images given a vocabulary.
                 inputs  `images` [N, C, H, W] u8 values, `words` [K, C * patch * patch]
                         float64 centres (each a channel-major [C, patch, patch] patch);
                 params  patch, stride, patch_norm ("standard" or "none"), hist_norm ("l1",
                         "l2" or "none");
                 output  `histograms` [N, K].
                 Dense patches: sklearn.feature_extraction.image.extract_patches_2d on the
                 [H, W, C] image (every position, row by row), keeping the top-left corners
                 at rows and columns 0, stride, 2 stride, ...; each patch flattened channel-major
                 as float64 of the 0..255 values. patch_norm "standard": (p - mean(p)) /
                 sqrt(var(p) + 10), mean and (population) variance over all the patch's values.
                 Nearest word: sklearn.metrics.pairwise_distances_argmin (Euclidean; checked
                 against exact differences, and no patch has two words within 1e-9 relative of
                 its nearest distance, so the assignment is not a matter of rounding). Histogram:
                 np.bincount, then divided by its sum (l1), by its Euclidean norm (l2), or left
                 as counts (none).

The words are given, not learned by the code under test: sklearn.cluster.KMeans(K, n_init=1,
random_state=0) on 4,000 random normalised patches of the first 100 CIFAR-10 (or MNIST)
training images. The encoded images are CIFAR-10 and MNIST test images, read from
$FERROLEARN_DATA (or /work/shared/datasets). Histograms are written in full float64; our f32
values must agree within 1e-6. Run from this directory:

    python generate_bovw.py
"""
import gzip
import json
import os

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.feature_extraction.image import extract_patches_2d
from sklearn.metrics import pairwise_distances_argmin

DATA = os.environ.get("FERROLEARN_DATA", "/work/shared/datasets")
GEN = f"scikit-learn {sklearn.__version__} / numpy {np.__version__}"
EPS = 10.0
# (name, source, patch, stride, patch_norm, hist_norm, words, images)
CASES = [
    ("cifar_p6_s1_standard_l1", "cifar", 6, 1, "standard", "l1", 20, 3),
    ("cifar_p5_s2_none_l2", "cifar", 5, 2, "none", "l2", 12, 3),
    ("cifar_p8_s3_standard_counts", "cifar", 8, 3, "standard", "none", 32, 2),
    ("mnist_p4_s2_standard_l1", "mnist", 4, 2, "standard", "l1", 10, 3),
    ("mnist_p7_s1_none_l1", "mnist", 7, 1, "none", "l1", 8, 2),
]


def cifar_images(name, n):
    with gzip.open(os.path.join(DATA, "cifar-10", name)) as f:
        raw = np.frombuffer(f.read((1 + 3072) * n), dtype=np.uint8)
    return raw.reshape(n, 1 + 3072)[:, 1:].reshape(n, 3, 32, 32)


def mnist_images(name, n):
    with gzip.open(os.path.join(DATA, "mnist", name)) as f:
        raw = np.frombuffer(f.read(16 + 784 * n), dtype=np.uint8)
    return raw[16:].reshape(n, 1, 28, 28)


def t(x):
    x = np.asarray(x)
    return {"shape": list(x.shape), "data": x.ravel().tolist()}


def normalise(patches, patch_norm):
    if patch_norm == "none":
        return patches
    mean = patches.mean(axis=1, keepdims=True)
    var = patches.var(axis=1, keepdims=True)
    return (patches - mean) / np.sqrt(var + EPS)


def dense_patches(image_chw, patch, stride, patch_norm):
    """Rows [n_patches, C * patch * patch], channel-major, in row-by-row position order."""
    c, h, w = image_chw.shape
    hwc = np.transpose(image_chw, (1, 2, 0)).astype(np.float64)
    all_patches = extract_patches_2d(hwc, (patch, patch))  # [positions, p, p, C]
    grid = all_patches.reshape(h - patch + 1, w - patch + 1, patch, patch, c)
    kept = grid[::stride, ::stride]
    rows = np.transpose(kept, (0, 1, 4, 2, 3)).reshape(-1, c * patch * patch)
    return normalise(rows, patch_norm)


def words_for(train, patch, patch_norm, k, rng):
    """K-means centres of 4,000 random normalised patches of the training images."""
    n, c, h, w = train.shape
    rows = []
    for _ in range(4000):
        i, y, x = rng.integers(n), rng.integers(h - patch + 1), rng.integers(w - patch + 1)
        rows.append(train[i, :, y:y + patch, x:x + patch].astype(np.float64).ravel())
    patches = normalise(np.array(rows), patch_norm)
    return KMeans(n_clusters=k, n_init=1, random_state=0).fit(patches).cluster_centers_


def encode(image, words, patch, stride, patch_norm, hist_norm):
    rows = dense_patches(image, patch, stride, patch_norm)
    nearest = pairwise_distances_argmin(rows, words)
    exact = ((rows[:, None, :] - words[None, :, :]) ** 2).sum(axis=2)
    assert (nearest == exact.argmin(axis=1)).all()
    ordered = np.sort(exact, axis=1)
    gap = (ordered[:, 1] - ordered[:, 0]) / np.maximum(ordered[:, 0], 1.0)
    assert gap.min() > 1e-9, f"near tie: {gap.min()}"
    counts = np.bincount(nearest, minlength=len(words)).astype(np.float64)
    if hist_norm == "l1":
        return counts / counts.sum()
    if hist_norm == "l2":
        return counts / np.sqrt((counts ** 2).sum())
    return counts


def main():
    rng = np.random.default_rng(0)
    sources = {
        "cifar": (cifar_images("data_batch_1.bin.gz", 100), cifar_images("test_batch.bin.gz", 8)),
        "mnist": (mnist_images("train-images-idx3-ubyte.gz", 100),
                  mnist_images("t10k-images-idx3-ubyte.gz", 8)),
    }
    cases = []
    first = 0
    for name, source, patch, stride, patch_norm, hist_norm, k, n in CASES:
        train, test = sources[source]
        words = words_for(train, patch, patch_norm, k, rng)
        images = test[first % 6:first % 6 + n]
        first += n
        hist = np.stack([encode(im, words, patch, stride, patch_norm, hist_norm) for im in images])
        cases.append({
            "name": f"bovw_{name}", "op": "bovw_encode",
            "params": {"patch": patch, "stride": stride, "patch_norm": patch_norm,
                       "hist_norm": hist_norm},
            "inputs": {"images": t(images), "words": t(words)},
            "outputs": {"histograms": t(hist)},
            "grads": {}, "upstream": None, "tol": {"rtol": 0.0, "atol": 1e-6},
        })
    with open("bovw.json", "w") as f:
        json.dump({"family": "bovw", "generator": GEN, "cases": cases}, f,
                  separators=(",", ":"))
    print(f"bovw.json: {len(cases)} cases, {os.path.getsize('bovw.json')} bytes")


if __name__ == "__main__":
    main()
