"""Writes the reference vectors of data-dependent and structured initialisations with PyTorch:

  init.json  (family "init")
    patch_whitening  airbench94's init_whitening_conv: the eigenvectors of the (uncentred)
                     covariance of every k x k patch, scaled by 1/sqrt(eigenvalue + eps), then
                     their negatives; output `filters` [2d, C, k, k], d = C k^2.
                     Eigenvectors are defined up to sign: compare each filter pair (i, d + i)
                     after flipping both so that filter i's largest-magnitude entry is positive.
    dirac            torch.nn.init.dirac_(w[:Cin]) on a conv weight: output `identity` is
                     w[:min(Cout, Cin)] (the rest keeps its random draw and is not compared).

Same format as the other files (see README.md). Run from this directory:

    python generate_init.py
"""
import json

import torch

GEN = f"torch {torch.__version__}"
torch.manual_seed(10)


def t(x):
    x = torch.as_tensor(x, dtype=torch.float64)
    return {"shape": list(x.shape), "data": [float(v) for v in x.flatten().tolist()]}


def f32(x):
    """Rounds through float32 so a float32 implementation reads exactly the same inputs."""
    return x.to(torch.float32).to(torch.float64)


def whitening(images, k, eps):
    """airbench94's init_whitening_conv, in float64."""
    c = images.shape[1]
    patches = images.unfold(2, k, 1).unfold(3, k, 1).transpose(1, 3).reshape(-1, c, k, k)
    flat = patches.reshape(len(patches), -1)
    cov = flat.T @ flat / len(flat)
    values, vectors = torch.linalg.eigh(cov, UPLO="U")
    scaled = vectors.T.reshape(-1, c, k, k) / torch.sqrt(values.view(-1, 1, 1, 1) + eps)
    return torch.cat((scaled, -scaled))


def correlated(n, c, h, w):
    """Images whose pixels mix their neighbours and the other channels, plus an offset."""
    z = torch.randn(n, c, h + 1, w + 1, dtype=torch.float64)
    x = z[:, :, :h, :w] + 0.7 * z[:, :, 1:, 1:] + 0.4 * z.roll(1, dims=1)[:, :, :h, :w] + 0.2
    return f32(x)


def main():
    cases = []
    for name, (n, c, h, w), k, eps in [
        ("whitening_2x2_rgb", (6, 3, 7, 7), 2, 5e-4),
        ("whitening_3x3_gray", (5, 1, 8, 6), 3, 1e-2),
        ("whitening_2x2_two_channels_small_eps", (4, 2, 5, 5), 2, 1e-6),
    ]:
        images = correlated(n, c, h, w)
        cases.append({
            "name": name, "op": "patch_whitening",
            "params": {"kernel": k, "eps": eps, "sign": "filter i and d+i flipped so filter i's "
                                                         "largest-magnitude entry is positive"},
            "inputs": {"images": t(images)},
            "outputs": {"filters": t(whitening(images, k, eps))},
            "grads": {}, "upstream": None, "tol": {"rtol": 1e-4, "atol": 1e-5},
        })
    for shape in [(5, 3, 3, 3), (4, 4, 1, 1), (2, 3, 5, 5)]:
        w = torch.empty(shape, dtype=torch.float64)
        torch.nn.init.kaiming_uniform_(w, a=5 ** 0.5)
        torch.nn.init.dirac_(w[: shape[1]])
        cases.append({
            "name": f"dirac_{'x'.join(map(str, shape))}", "op": "dirac",
            "params": {"shape": list(shape)}, "inputs": {},
            "outputs": {"identity": t(w[: min(shape[0], shape[1])])},
            "grads": {}, "upstream": None, "tol": {"rtol": 0.0, "atol": 0.0},
        })
    with open("init.json", "w") as f:
        json.dump({"family": "init", "generator": GEN, "cases": cases}, f, separators=(",", ":"))
    print(f"init.json: {len(cases)} cases")


if __name__ == "__main__":
    main()
