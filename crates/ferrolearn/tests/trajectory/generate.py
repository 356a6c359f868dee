"""Writes the training-trajectory fixtures that `tests/trajectory.rs` replays.

Each case trains a small model on MNIST with PyTorch for a number of steps and records the
initial weights (as hex of little-endian f32), the items of every batch, the loss of every step and the final weights and
batch-norm statistics. The Rust test starts from the same weights, feeds the same batches and
must follow the same path. Run from this directory with PyTorch installed:

    MNIST_DIR=../../../../data/mnist python generate.py
"""
import gzip
import json
import os
import struct

import numpy as np
import torch

nn = torch.nn
MNIST_DIR = os.environ.get("MNIST_DIR", "../../../../data/mnist")


def read_idx(name):
    with gzip.open(os.path.join(MNIST_DIR, name), "rb") as f:
        data = f.read()
    ndim = struct.unpack(">I", data[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def conv_net():
    torch_layers = [
        nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(392, 32), nn.ReLU(), nn.Linear(32, 10)]
    spec = [
        {"type": "conv2d", "out_channels": 4, "kernel": 5, "padding": 2}, {"type": "relu"},
        {"type": "max_pool2d", "kernel": 2},
        {"type": "conv2d", "out_channels": 8, "kernel": 5, "padding": 2}, {"type": "relu"},
        {"type": "max_pool2d", "kernel": 2},
        {"type": "flatten"}, {"type": "linear", "out_features": 32}, {"type": "relu"},
        {"type": "linear", "out_features": 10}]
    return nn.Sequential(*torch_layers), spec


def mlp():
    torch_layers = [nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10)]
    spec = [{"type": "flatten"}, {"type": "linear", "out_features": 32}, {"type": "relu"},
            {"type": "linear", "out_features": 10}]
    return nn.Sequential(*torch_layers), spec


def mlp_batch_norm():
    # No bias before batch norm: its exact gradient is zero, so Adam would follow the sign of
    # rounding noise there, in PyTorch and here alike.
    torch_layers = [nn.Flatten(), nn.Linear(784, 32, bias=False), nn.BatchNorm1d(32),
                    nn.ReLU(), nn.Linear(32, 10)]
    spec = [{"type": "flatten"}, {"type": "linear", "out_features": 32, "bias": False},
            {"type": "batch_norm"}, {"type": "relu"}, {"type": "linear", "out_features": 10}]
    return nn.Sequential(*torch_layers), spec


CASES = [
    # name, model, optimizer (as ferrolearn's OptimizerConfig), batch size, steps
    ("conv_net_sgd_momentum", conv_net, {"name": "sgd", "lr": 0.01, "momentum": 0.9,
                                                "nesterov": False, "weight_decay": 0.0}, 32, 150),
    ("mlp_adam", mlp, {"name": "adam", "lr": 1e-3, "weight_decay": 0.0}, 64, 150),
    ("mlp_batch_norm_adamw", mlp_batch_norm, {"name": "adamw", "lr": 1e-3, "weight_decay": 0.01}, 64, 150),
]


def torch_optimizer(c, params):
    kind = c["name"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=c["lr"], momentum=c["momentum"],
                               nesterov=c["nesterov"], weight_decay=c["weight_decay"])
    if kind == "adam":
        return torch.optim.Adam(params, lr=c["lr"], weight_decay=c["weight_decay"])
    return torch.optim.AdamW(params, lr=c["lr"], weight_decay=c["weight_decay"])


def tensors(model):
    """Each tensor as the hex of its little-endian f32 bytes (exact and compact)."""
    return {k: v.detach().numpy().astype("<f4").tobytes().hex()
            for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def main():
    torch.set_num_threads(1)
    images = read_idx("train-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28)
    labels = read_idx("train-labels-idx1-ubyte.gz")
    x_all = torch.from_numpy(images.astype(np.float32) / 255.0)
    y_all = torch.from_numpy(labels.astype(np.int64))
    for seed, (name, build, optimizer, batch, steps) in enumerate(CASES):
        torch.manual_seed(seed)
        model, spec = build()
        init = tensors(model)
        opt = torch_optimizer(optimizer, model.parameters())
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
        order = order[:batch * steps]
        losses = []
        model.train()
        for s in range(steps):
            idx = order[s * batch:(s + 1) * batch]
            loss = nn.functional.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        case = {"name": name, "torch_version": torch.__version__, "model": {"layers": spec},
                "optimizer": optimizer, "batch_size": batch, "items": order.tolist(),
                "init": init, "losses": losses, "final": tensors(model)}
        with open(f"{name}.json", "w") as f:
            json.dump(case, f, separators=(",", ":"))
        print(name, f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")


if __name__ == "__main__":
    main()
