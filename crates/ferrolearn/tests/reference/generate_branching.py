"""Writes branching.json: reference vectors for the ops of branching CIFAR networks (GELU,
global average pooling, the option-A ResNet shortcut, padded max/average pooling and channel
concatenation), in the format of README.md. Computed with PyTorch in float64 from inputs that
are exactly representable in float32. Run from this directory:

    python generate_branching.py
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(20261201)
TOL = {"rtol": 1e-4, "atol": 1e-5}


def f32(t):
    return t.float().double()


def tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def distinct(*shape):
    """Distinct values at least 0.8/numel apart in random order (unique max in every window)."""
    n = 1
    for s in shape:
        n *= s
    values = (torch.randperm(n).double() + 0.5) / n * 4.0 - 2.0
    return f32(values.reshape(shape))


def case(name, op, params, inputs, fn):
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    y = fn(**leaves)
    upstream = f32(torch.randn(y.shape, dtype=torch.float64))
    (y * upstream).sum().backward()
    return {
        "name": name, "op": op, "params": params,
        "inputs": {k: tensor(v) for k, v in inputs.items()},
        "outputs": {"y": tensor(y.detach())},
        "grads": {k: tensor(v.grad) for k, v in leaves.items()},
        "upstream": tensor(upstream), "tol": TOL,
    }


def shortcut(x, stride, out_channels):
    """w9_cifar.py's option A: subsample, then zero channels half before, half after."""
    pad = out_channels - x.shape[1]
    x = x[:, :, ::stride, ::stride]
    return F.pad(x, (0, 0, 0, 0, pad // 2, pad - pad // 2))


def main():
    randn = lambda *s: f32(torch.randn(*s, dtype=torch.float64))
    cases = [
        case("gelu", "gelu", {"formula": "x * Phi(x), exact erf form"},
             {"x": randn(3, 4, 5) * 2.5}, lambda x: F.gelu(x)),
        case("global_avg_pool", "global_avg_pool", {"formula": "mean over H, W -> [N, C]"},
             {"x": randn(2, 3, 4, 5)}, lambda x: x.mean(dim=(2, 3))),
        case("global_avg_pool 1x1", "global_avg_pool", {},
             {"x": randn(3, 2, 1, 1)}, lambda x: x.mean(dim=(2, 3))),
        case("shortcut_pad 16->32 stride 2", "shortcut_pad", {"stride": 2, "out_channels": 32},
             {"x": randn(2, 16, 6, 6)}, lambda x: shortcut(x, 2, 32)),
        case("shortcut_pad odd size 3->8", "shortcut_pad", {"stride": 2, "out_channels": 8},
             {"x": randn(1, 3, 5, 7)}, lambda x: shortcut(x, 2, 8)),
        case("max_pool2d 3/1 pad 1", "max_pool2d", {"kernel_size": 3, "stride": 1, "padding": 1},
             {"x": distinct(2, 2, 5, 6)}, lambda x: F.max_pool2d(x, 3, 1, 1)),
        case("max_pool2d 3/2 pad 1", "max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1},
             {"x": distinct(1, 3, 8, 7)}, lambda x: F.max_pool2d(x, 3, 2, 1)),
        case("avg_pool2d 3/1 pad 1", "avg_pool2d", {"kernel_size": 3, "stride": 1, "padding": 1,
                                                    "count_include_pad": True},
             {"x": randn(2, 2, 4, 5)}, lambda x: F.avg_pool2d(x, 3, 1, 1)),
        case("cat channels", "cat_channels", {"dim": 1},
             {"a": randn(2, 3, 4, 4), "b": randn(2, 1, 4, 4), "c": randn(2, 2, 4, 4)},
             lambda a, b, c: torch.cat([a, b, c], dim=1)),
    ]
    out = {"family": "branching", "generator": f"torch {torch.__version__}", "cases": cases}
    with open("branching.json", "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
