"""Writes the training-trajectory fixtures that `tests/trajectory.rs` replays.

Each case trains a model with PyTorch for a number of steps and records the dataset, the model
(as a ferrolearn model file whose parameter names are PyTorch's `state_dict` names), the
optimizer (as ferrolearn's `OptimizerConfig`), the initial weights (hex of little-endian f32),
the training-set items of every batch, the loss of every step, and the final weights and
batch-norm statistics. The Rust test starts from the same weights, feeds the same batches and
must follow the same path.

Pixels are x / 255 with no normalisation and no augmentation; the items list gives the
batches (batch k is items[k * batch : (k + 1) * batch]). Cases:

- `conv_net_sgd_momentum`, `mlp_adam`, `mlp_batch_norm_adamw`: small nets on MNIST.
- `branching_net`: CIFAR-10; conv + batch norm + GELU stem, a residual block with a
  projection shortcut (1x1 conv + batch norm), a residual block with an option-A shortcut
  (subsampled, zero-padded on channels, asymmetrically), an Inception-style concatenation of
  four branches (1x1 + BN; 1x1 -> GELU -> 3x3; 1x1 -> 5x5; 1x1), global average pooling,
  linear; SGD with Nesterov momentum. GELU, not ReLU: see VARIED below.
- `resnet20`: CIFAR-10; ResNet-20 exactly as in shared/bench/ref/w9_cifar.py (option-A
  shortcuts, 0.27M parameters); SGD lr 0.05 momentum 0.9, uniform weight decay 5e-4; 60 steps.
- `branching_net_relu`: `branching_net` with ReLU and a 2x2 max pool before the global
  average pooling, SGD lr 0.05 with Nesterov momentum.

These two are VARIED cases (see VARIED below): PyTorch itself does not follow its own
recording of them within the test's fixed tolerances, so each also records how far PyTorch's
own re-runs (2 threads; oneDNN off) drift from it, step by step, and the test holds ferrolearn
to that drift.

Run from this directory with PyTorch installed (all cases, or the ones named; `--out DIR`
writes elsewhere, for instance a directory then replayed through FERROLEARN_TRAJECTORY_DIR):

    MNIST_DIR=../../../../data/mnist CIFAR_DIR=/work/shared/datasets/cifar-10 python generate.py
    CIFAR_DIR=... python generate.py resnet20 --out /tmp/cases

Recordings depend on the machine as well as on PyTorch's version (its kernels pick their
summation order by CPU): re-running a VARIED case elsewhere gives another, equally valid path.
"""
import argparse
import gzip
import json
import os
import struct

import numpy as np
import torch

nn, F = torch.nn, torch.nn.functional
MNIST_DIR = os.environ.get("MNIST_DIR", "../../../../data/mnist")
CIFAR_DIR = os.environ.get("CIFAR_DIR", "../../../../../shared/datasets/cifar-10")


def read_idx(name):
    with gzip.open(os.path.join(MNIST_DIR, name), "rb") as f:
        data = f.read()
    ndim = struct.unpack(">I", data[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist():
    """Training images [N, 1, 28, 28] (u8) and labels."""
    images = read_idx("train-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28)
    return images, read_idx("train-labels-idx1-ubyte.gz").astype(np.int64)


def load_cifar():
    """Training images [N, 3, 32, 32] (u8) and labels, batches 1-5 in order (as ferrolearn)."""
    images, labels = [], []
    for i in range(1, 6):
        path = os.path.join(CIFAR_DIR, f"data_batch_{i}.bin.gz")
        raw = np.frombuffer(gzip.open(path, "rb").read(), np.uint8).reshape(-1, 3073)
        images.append(raw[:, 1:].reshape(-1, 3, 32, 32))
        labels.append(raw[:, 0].astype(np.int64))
    return np.concatenate(images), np.concatenate(labels)


DATASETS = {"mnist": load_mnist, "cifar-10": load_cifar}


# ---- MNIST models ----------------------------------------------------------------------------

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


# ---- CIFAR-10 models (branching) -------------------------------------------------------------

def conv_spec(name, cout, kernel, stride=1, padding=0, bias=False):
    return {"type": "conv2d", "name": name, "out_channels": cout, "kernel": kernel,
            "stride": stride, "padding": padding, "bias": bias}


class Block(nn.Module):
    """w9_cifar.py's basic block; `project` swaps its option-A shortcut for 1x1 conv + BN, `act`
    its ReLUs for another activation of torch.nn.functional (`gelu`)."""

    def __init__(self, cin, cout, stride, project=False, act="relu"):
        super().__init__()
        self.act = act
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.b2 = nn.BatchNorm2d(cout)
        self.pad = cout - cin; self.stride = stride
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout)) if project else None)

    def forward(self, x):
        act = getattr(F, self.act)
        out = act(self.b1(self.c1(x)))
        out = self.b2(self.c2(out))
        if self.shortcut is not None:
            sc = self.shortcut(x)
        else:
            sc = x
            if self.stride != 1 or self.pad:
                sc = x[:, :, ::self.stride, ::self.stride]
                sc = F.pad(sc, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return act(out + sc)

    def spec(self):
        cout, stride = self.c1.out_channels, self.stride
        residual = [conv_spec("c1", cout, 3, stride, 1), {"type": "batch_norm", "name": "b1"},
                    {"type": self.act}, conv_spec("c2", cout, 3, 1, 1),
                    {"type": "batch_norm", "name": "b2"}]
        if self.shortcut is not None:
            shortcut = [conv_spec("shortcut.0", cout, 1, stride),
                        {"type": "batch_norm", "name": "shortcut.1"}]
        elif stride != 1 or self.pad:
            shortcut = [{"type": "shortcut_pad", "stride": stride, "out_channels": cout}]
        else:
            shortcut = []
        return {"type": "parallel", "merge": "sum", "activation": self.act,
                "branches": [residual, shortcut]}


ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}


class Inception(nn.Module):
    """Four branches concatenated on channels, then `act`: 1x1 + BN + act; 1x1 -> GELU -> 3x3;
    1x1 -> act -> 5x5; 1x1 in place of GoogLeNet's 3x3 max pool (stride 1, padding 1) -> 1x1:
    near-ties in a max-pool window flip under rounding as ReLU does (see VARIED), and with
    that branch even the GELU net leaves the loss tolerance by step ~25."""

    def __init__(self, cin, w1, w3r, w3, w5r, w5, wp, act="relu"):
        super().__init__()
        layer = ACTIVATIONS[act]
        self.b1 = nn.Sequential(nn.Conv2d(cin, w1, 1, bias=False), nn.BatchNorm2d(w1), layer())
        self.b2 = nn.Sequential(nn.Conv2d(cin, w3r, 1), nn.GELU(), nn.Conv2d(w3r, w3, 3, padding=1))
        self.b3 = nn.Sequential(nn.Conv2d(cin, w5r, 1), layer(), nn.Conv2d(w5r, w5, 5, padding=2))
        self.b4 = nn.Sequential(nn.Conv2d(cin, wp, 1))
        self.widths = (w1, w3r, w3, w5r, w5, wp)
        self.act = act

    def forward(self, x):
        return getattr(F, self.act)(torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1))

    def spec(self):
        w1, w3r, w3, w5r, w5, wp = self.widths
        act = {"type": self.act}
        branches = [
            [conv_spec("b1.0", w1, 1), {"type": "batch_norm", "name": "b1.1"}, act],
            [conv_spec("b2.0", w3r, 1, bias=True), {"type": "gelu"},
             conv_spec("b2.2", w3, 3, padding=1, bias=True)],
            [conv_spec("b3.0", w5r, 1, bias=True), act,
             conv_spec("b3.2", w5, 5, padding=2, bias=True)],
            [conv_spec("b4.0", wp, 1, bias=True)]]
        return {"type": "parallel", "merge": "concat", "activation": self.act,
                "branches": branches}


def head_spec(linear_index):
    """Global average pooling and the classifier. PyTorch spends two modules on the pooling
    (AdaptiveAvgPool2d, Flatten), ferrolearn one, so the linear layer is named by its index."""
    return [{"type": "global_avg_pool"},
            {"type": "linear", "name": str(linear_index), "out_features": 10}]


def branching_net(act, pool):
    """The builder of a net with branches: stem conv 3->16 + BN + act (32x32); projection
    block 16->32 stride 2 (16x16); option-A block 32->47 stride 2 (8x8; 7 zero channels before,
    8 after); Inception 47->48; with `pool`, max pool 2 (4x4); global average pooling; linear
    48->10. About 55k parameters. `act` is every activation but the GELU inside Inception."""

    def build():
        blocks = [Block(16, 32, 2, project=True, act=act), Block(32, 47, 2, act=act),
                  Inception(47, 16, 12, 16, 8, 8, 8, act=act)]
        pooling = [nn.MaxPool2d(2)] if pool else []
        torch_layers = [nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                        ACTIVATIONS[act](), *blocks, *pooling, nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(48, 10)]
        spec = [conv_spec(None, 16, 3, padding=1), {"type": "batch_norm"}, {"type": act},
                *[b.spec() for b in blocks],
                *([{"type": "max_pool2d", "kernel": 2}] if pool else []),
                *head_spec(len(torch_layers) - 1)]
        return nn.Sequential(*torch_layers), spec

    return build


def resnet20():
    """ResNet-20 exactly as w9_cifar.py builds it (same module indices and names)."""
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            layers.append(Block(cin, cout, stride if i == 0 else 1)); cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    spec = [conv_spec(None, 16, 3, padding=1), {"type": "batch_norm"}, {"type": "relu"},
            *[m.spec() for m in layers if isinstance(m, Block)],
            *head_spec(len(layers) - 1)]
    return nn.Sequential(*layers), spec


def sgd(lr, momentum, nesterov=False, weight_decay=0.0):
    return {"name": "sgd", "lr": lr, "momentum": momentum, "nesterov": nesterov,
            "weight_decay": weight_decay}


CASES = [
    # name, dataset, model, optimizer (as ferrolearn's OptimizerConfig), batch size, steps.
    # A case's seed (weights and items) is its index here: append new cases at the end.
    ("conv_net_sgd_momentum", "mnist", conv_net, sgd(0.01, 0.9), 32, 150),
    ("mlp_adam", "mnist", mlp, {"name": "adam", "lr": 1e-3, "weight_decay": 0.0}, 64, 150),
    ("mlp_batch_norm_adamw", "mnist", mlp_batch_norm,
     {"name": "adamw", "lr": 1e-3, "weight_decay": 0.01}, 64, 150),
    ("branching_net", "cifar-10", branching_net("gelu", pool=False),
     sgd(0.02, 0.9, nesterov=True), 32, 100),
    ("resnet20", "cifar-10", resnet20, sgd(0.05, 0.9, weight_decay=5e-4), 32, 60),
    ("branching_net_relu", "cifar-10", branching_net("relu", pool=True),
     sgd(0.05, 0.9, nesterov=True), 32, 100),
]
# Cases that no f32 implementation but PyTorch's own, on the same machine with the same threads,
# follows within the test's fixed tolerances. Batch norm followed by ReLU puts many
# pre-activations within rounding distance of zero; a different summation order flips a few of
# them each step, and one flip changes some weight gradients by ~1e-2 of their size, so runs
# drift apart exponentially (measured on ResNet-20: PyTorch with 2 threads instead of 1 leaves
# the 1e-5 loss tolerance at step 4 and differs by 1e-2 at step 7; with oneDNN off, at step 1).
# GELU has no such kink: `branching_net` (GELU, no max pooling) is followed to ~1e-6. For these
# cases PyTorch re-runs each recording under VARIANTS and stores each variant's per-step losses
# and, per final tensor, its largest difference from the recording relative to that tensor's
# largest entry: the test's tolerance at a step is then the largest drift of any variant up to
# that step (never less than the fixed tolerance), and likewise for the final tensors.
VARIED = {"resnet20", "branching_net_relu"}
# (label, threads, oneDNN enabled) of the re-runs; the recording itself uses 1 thread, oneDNN on.
VARIANTS = [("2 threads", 2, True), ("oneDNN off", 1, False)]


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


def strip_none(layers):
    """Drops `"name": None` (an unnamed layer) from a spec, branches included."""
    out = []
    for layer in layers:
        layer = {k: v for k, v in layer.items() if v is not None}
        if "branches" in layer:
            layer["branches"] = [strip_none(b) for b in layer["branches"]]
        out.append(layer)
    return out


def record(seed, name, dataset, build, optimizer, batch, steps, data):
    images, labels = data
    torch.manual_seed(seed)
    model, spec = build()
    init = tensors(model)
    opt = torch_optimizer(optimizer, model.parameters())
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    order = order[:batch * steps].numpy()
    losses = []
    model.train()
    for s in range(steps):
        idx = order[s * batch:(s + 1) * batch]
        x = torch.from_numpy(images[idx].astype(np.float32) / 255.0)
        loss = F.cross_entropy(model(x), torch.from_numpy(labels[idx]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    params = sum(p.numel() for p in model.parameters())
    print(name, f"{params} parameters, loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    return {"name": name, "torch_version": torch.__version__, "dataset": dataset,
            "model": {"layers": strip_none(spec)}, "optimizer": optimizer, "batch_size": batch,
            "items": order.tolist(), "init": init, "losses": losses, "final": tensors(model)}


def rerun(case, variant, args):
    """The case recorded again (`record(*args)`) under `variant` (label, threads, oneDNN on):
    its per-step losses and, per final tensor, its largest difference from the case's relative
    to the case's largest entry (as the test measures ours)."""
    label, threads, onednn = variant
    torch.set_num_threads(threads)
    with torch.backends.mkldnn.flags(enabled=onednn):
        again = record(*args)
    torch.set_num_threads(1)
    final_rel = {}
    for k, want in case["final"].items():
        a = np.frombuffer(bytes.fromhex(want), "<f4")
        b = np.frombuffer(bytes.fromhex(again["final"][k]), "<f4")
        final_rel[k] = float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-6))
    return {"name": label, "losses": again["losses"], "final_rel": final_rel}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    ap.add_argument("--out", default=".", help="directory to write the JSON files into")
    args = ap.parse_args()
    known = [c[0] for c in CASES]
    unknown = set(args.cases) - set(known)
    if unknown:
        ap.error(f"unknown case(s) {sorted(unknown)}; known: {known}")
    torch.set_num_threads(1)
    data = {}
    for seed, (name, dataset, *rest) in enumerate(CASES):
        if args.cases and name not in args.cases:
            continue
        if dataset not in data:
            data[dataset] = DATASETS[dataset]()
        case = record(seed, name, dataset, *rest, data[dataset])
        if name in VARIED:
            case["variants"] = [rerun(case, variant, (seed, name, dataset, *rest, data[dataset]))
                                for variant in VARIANTS]
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, f"{name}.json"), "w") as f:
            json.dump(case, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
