"""Writes the reference vectors of the hand-crafted image features with scikit-image and numpy:

  features.json  (family "features")
    hog              skimage.feature.hog on one real image (input `image`, u8 values [C, H, W]):
                     params orientations, pixels_per_cell [rows, cols], cells_per_block
                     [rows, cols], block_norm (L1, L1-sqrt, L2, L2-Hys), transform_sqrt and
                     channels:
                       "strongest"  colour image, hog(image_hwc, channel_axis=-1): each pixel's
                                    gradient from the channel of largest gradient magnitude;
                       "grey"       hog(grey) where grey = 0.2125 R + 0.7154 G + 0.0721 B in
                                    float64, summed left to right (skimage's rgb2gray weights on
                                    the 0..255 values); a one-channel image is used as it is.
                     Output `features` [d], skimage's order (block row, block col, cell row in
                     block, cell col in block, orientation).
    color_histogram  params space ("hsv" or "rgb") and bins; input `images` [N, C, H, W] u8,
                     output `histograms` [N, d]:
                       hsv  CS231n's color_histogram_hsv: hue of matplotlib's rgb_to_hsv(im / 255)
                            times 255, np.histogram over edges np.linspace(0, 255, bins + 1) with
                            density=True, times the bin widths: each bin's fraction of the pixels.
                       rgb  per channel, np.histogram(channel, bins, range=(0, 256)) / pixels,
                            channels one after another (bin k holds values in
                            [256 k / bins, 256 (k + 1) / bins)).

Images are real: CIFAR-10 test images (colour and grey) and MNIST test images, read from
$FERROLEARN_DATA (or /work/shared/datasets). Outputs are rounded to 10 significant digits to keep
the file small; the tolerance is 1e-4 absolute per component. Run from this directory:

    python generate_features.py
"""
import gzip
import json
import os

import numpy as np
import skimage
from skimage.feature import hog

DATA = os.environ.get("FERROLEARN_DATA", "/work/shared/datasets")
GEN = f"scikit-image {skimage.__version__} / numpy {np.__version__}"
GREY_WEIGHTS = np.array([0.2125, 0.7154, 0.0721])
NORMS = ["L1", "L1-sqrt", "L2", "L2-Hys"]
# (name, orientations, pixels_per_cell, cells_per_block, transform_sqrt)
SETTINGS = [
    ("o9_c8_b2", 9, (8, 8), (2, 2), False),
    ("o12_c4_b3", 12, (4, 4), (3, 3), False),
    ("o9_c8_b3_sqrt", 9, (8, 8), (3, 3), True),
    ("o6_c7x5_b2_odd", 6, (7, 5), (2, 2), False),
]


def cifar_test_images(n):
    with gzip.open(os.path.join(DATA, "cifar-10", "test_batch.bin.gz")) as f:
        raw = np.frombuffer(f.read((1 + 3072) * n), dtype=np.uint8)
    return raw.reshape(n, 1 + 3072)[:, 1:].reshape(n, 3, 32, 32)


def mnist_test_images(n):
    with gzip.open(os.path.join(DATA, "mnist", "t10k-images-idx3-ubyte.gz")) as f:
        raw = np.frombuffer(f.read(16 + 784 * n), dtype=np.uint8)
    return raw[16:].reshape(n, 1, 28, 28)


def t(x, digits=None):
    x = np.asarray(x)
    data = x.ravel().tolist()
    if digits is not None:
        data = [float(f"{v:.{digits}g}") for v in data]
    return {"shape": list(x.shape), "data": data}


def hog_of(image_chw, channels, orientations, ppc, cpb, norm, sqrt):
    hwc = np.transpose(image_chw, (1, 2, 0))
    kw = dict(orientations=orientations, pixels_per_cell=ppc, cells_per_block=cpb,
              block_norm=norm, transform_sqrt=sqrt, feature_vector=True)
    if hwc.shape[2] == 1:
        return hog(hwc[:, :, 0], **kw)
    if channels == "grey":
        x = hwc.astype(np.float64)
        # Elementwise, left to right (a BLAS `@` may fuse multiply-adds and round differently).
        grey = x[:, :, 0] * GREY_WEIGHTS[0] + x[:, :, 1] * GREY_WEIGHTS[1] + x[:, :, 2] * GREY_WEIGHTS[2]
        return hog(grey, **kw)
    return hog(hwc, channel_axis=-1, **kw)


def rgb_to_hsv(arr):
    """matplotlib.colors.rgb_to_hsv (float64 input in [0, 1], last axis RGB)."""
    out = np.zeros_like(arr)
    arr_max = arr.max(-1)
    ipos = arr_max > 0
    delta = np.ptp(arr, -1)
    s = np.zeros_like(delta)
    s[ipos] = delta[ipos] / arr_max[ipos]
    ipos = delta > 0
    idx = (arr[..., 0] == arr_max) & ipos
    out[idx, 0] = (arr[idx, 1] - arr[idx, 2]) / delta[idx]
    idx = (arr[..., 1] == arr_max) & ipos
    out[idx, 0] = 2. + (arr[idx, 2] - arr[idx, 0]) / delta[idx]
    idx = (arr[..., 2] == arr_max) & ipos
    out[idx, 0] = 4. + (arr[idx, 0] - arr[idx, 1]) / delta[idx]
    out[..., 0] = (out[..., 0] / 6.0) % 1.0
    out[..., 1] = s
    out[..., 2] = arr_max
    return out


def color_histogram_hsv(image_chw, nbin, xmin=0, xmax=255):
    """CS231n's color_histogram_hsv on the image as float64 [H, W, 3]."""
    im = np.transpose(image_chw, (1, 2, 0)).astype(np.float64)
    bins = np.linspace(xmin, xmax, nbin + 1)
    hsv = rgb_to_hsv(im / xmax) * xmax
    imhist, bin_edges = np.histogram(hsv[:, :, 0], bins=bins, density=True)
    return imhist * np.diff(bin_edges)


def color_histogram_rgb(image_chw, nbin):
    pixels = image_chw.shape[1] * image_chw.shape[2]
    return np.concatenate([np.histogram(ch, bins=nbin, range=(0, 256))[0] / pixels
                           for ch in image_chw])


def main():
    cifar = cifar_test_images(24)
    mnist = mnist_test_images(12)
    cases = []
    sources = [("cifar_colour", cifar, "strongest"), ("cifar_grey", cifar, "grey"),
               ("mnist", mnist, "grey")]
    k = 0
    for setting, orientations, ppc, cpb, sqrt in SETTINGS:
        for norm in NORMS:
            for source, images, channels in sources:
                image = images[k % len(images)]
                k += 1
                feats = hog_of(image, channels, orientations, ppc, cpb, norm, sqrt)
                cases.append({
                    "name": f"hog_{source}_{setting}_{norm}", "op": "hog",
                    "params": {"orientations": orientations, "pixels_per_cell": list(ppc),
                               "cells_per_block": list(cpb), "block_norm": norm,
                               "transform_sqrt": sqrt, "channels": channels},
                    "inputs": {"image": t(image)},
                    "outputs": {"features": t(feats, 10)},
                    "grads": {}, "upstream": None, "tol": {"rtol": 0.0, "atol": 1e-4},
                })
    for name, images, space, bins in [
        ("color_hsv_10_cifar", cifar[:4], "hsv", 10),
        ("color_hsv_7_cifar", cifar[4:8], "hsv", 7),
        ("color_hsv_32_cifar", cifar[8:10], "hsv", 32),
        ("color_rgb_16_cifar", cifar[10:13], "rgb", 16),
        ("color_rgb_10_mnist", mnist[:3], "rgb", 10),
    ]:
        fn = color_histogram_hsv if space == "hsv" else color_histogram_rgb
        hist = np.stack([fn(im, bins) for im in images])
        cases.append({
            "name": name, "op": "color_histogram",
            "params": {"space": space, "bins": bins},
            "inputs": {"images": t(images)},
            "outputs": {"histograms": t(hist, 10)},
            "grads": {}, "upstream": None, "tol": {"rtol": 0.0, "atol": 1e-4},
        })
    with open("features.json", "w") as f:
        json.dump({"family": "features", "generator": GEN, "cases": cases}, f,
                  separators=(",", ":"))
    print(f"features.json: {len(cases)} cases, {os.path.getsize('features.json')} bytes")


if __name__ == "__main__":
    main()
