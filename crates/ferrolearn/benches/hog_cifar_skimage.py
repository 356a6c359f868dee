"""scikit-image's side of the HOG comparison: `skimage.feature.hog` looped over all 60,000
CIFAR-10 images (training then test) in one process, data loading included, to time as a
whole process beside

    ferrolearn features --dataset cifar-10 --kind hog --out DIR

Both use scikit-image's defaults (9 orientations, 8x8 pixels per cell, 3x3 cells per block,
L2-Hys), the colour image with each pixel's gradient taken from its strongest channel
(`channel_axis=-1`), on the 0..255 values.

Usage: python3 hog_cifar_skimage.py [CIFAR_DIR]   (default: $FERROLEARN_DATA/cifar-10)
Prints the feature matrix's shape and the time spent in `hog`.
"""
import gzip
import os
import sys
import time

import numpy as np
from skimage.feature import hog

FILES = [f"data_batch_{i}.bin.gz" for i in range(1, 6)] + ["test_batch.bin.gz"]


def load(d):
    """All 60,000 images as [N, 32, 32, 3] uint8 (records: 1 label byte + 3072 CHW bytes)."""
    parts = []
    for name in FILES:
        raw = np.frombuffer(gzip.open(os.path.join(d, name), "rb").read(), np.uint8)
        parts.append(raw.reshape(-1, 3073)[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return np.concatenate(parts)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ["FERROLEARN_DATA"], "cifar-10")
    images = load(d)
    start = time.perf_counter()
    features = np.stack([hog(img, channel_axis=-1) for img in images]).astype(np.float32)
    print(features.shape, f"hog {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
