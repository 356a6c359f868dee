"""PyTorch (oneDNN, 2 threads) timings of every convolution and batch-norm shape of ResNet-20
(batch 128) and fastnet (batch 512), layer by layer, to compare side by side with
`cargo bench --bench cifar_layers` run in the same sitting.

Usage: python3 cifar_layers.py [FILTER] [--runs R]
  FILTER  only the rows whose name contains it (e.g. `fastnet`, `r20`, `bn`)

Each row times, median of R runs after 2 warm-ups: `fwd` the forward alone (no_grad) and `f+b`
forward + backward (input gradient too, except for a first layer whose input is data). GFLOP/s
counts `2 N C_out H' W' C_in kH kW` per forward and 3x (2x without input gradient) for f+b.
Batch-norm rows (training mode, then ReLU) give only times.
"""
import argparse
import statistics
import time

import torch

torch.set_num_threads(2)
F = torch.nn.functional

# name, N, C_in, H, C_out, k, stride, pad, bias, input gradient wanted
CONVS = [
    ("r20.conv 3->16 32x32", 128, 3, 32, 16, 3, 1, 1, False, False),
    ("r20.conv 16->16 32x32", 128, 16, 32, 16, 3, 1, 1, False, True),
    ("r20.conv 16->32 s2 32x32", 128, 16, 32, 32, 3, 2, 1, False, True),
    ("r20.conv 32->32 16x16", 128, 32, 16, 32, 3, 1, 1, False, True),
    ("r20.conv 32->64 s2 16x16", 128, 32, 16, 64, 3, 2, 1, False, True),
    ("r20.conv 64->64 8x8", 128, 64, 8, 64, 3, 1, 1, False, True),
    ("fastnet.conv 3->24 k2 32x32", 512, 3, 32, 24, 2, 1, 0, True, False),
    ("fastnet.conv 24->64 31x31", 512, 24, 31, 64, 3, 1, 1, False, True),
    ("fastnet.conv 64->64 15x15", 512, 64, 15, 64, 3, 1, 1, False, True),
    ("fastnet.conv 64->256 15x15", 512, 64, 15, 256, 3, 1, 1, False, True),
    ("fastnet.conv 256->256 7x7", 512, 256, 7, 256, 3, 1, 1, False, True),
    ("fastnet.conv 256->256 3x3", 512, 256, 3, 256, 3, 1, 1, False, True),
]

# name, shape (batch norm in training mode followed by ReLU, as the Rust bench does)
BNS = [
    ("r20.bn+relu [128,16,32,32]", (128, 16, 32, 32)),
    ("r20.bn+relu [128,32,16,16]", (128, 32, 16, 16)),
    ("r20.bn+relu [128,64,8,8]", (128, 64, 8, 8)),
    ("fastnet.bn+relu [512,64,15,15]", (512, 64, 15, 15)),
    ("fastnet.bn+relu [512,256,7,7]", (512, 256, 7, 7)),
]


def timed(fn, runs):
    for _ in range(2):
        fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("filter", nargs="?", default="")
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    torch.manual_seed(0)
    print(f"{'layer':<32} {'fwd ms':>8} {'GFLOP/s':>8} {'f+b ms':>8} {'GFLOP/s':>8}")
    for name, n, cin, h, cout, k, s, p, bias, gin in CONVS:
        if a.filter not in name:
            continue
        conv = torch.nn.Conv2d(cin, cout, k, s, p, bias=bias)
        x = torch.randn(n, cin, h, h)
        with torch.no_grad():
            gy = torch.randn_like(conv(x))
        flops = 2.0 * gy.numel() * cin * k * k
        xg = x.clone().requires_grad_(gin)

        def fwd():
            with torch.no_grad():
                conv(x)

        def fb():
            conv.zero_grad(set_to_none=True)
            xg.grad = None
            conv(xg).backward(gy)

        tf, tb = timed(fwd, a.runs), timed(fb, a.runs)
        mult = 3 if gin else 2
        print(f"{name:<32} {tf * 1e3:8.2f} {flops / tf / 1e9:8.1f} {tb * 1e3:8.2f} "
              f"{mult * flops / tb / 1e9:8.1f}", flush=True)
    for name, shape in BNS:
        if a.filter not in name:
            continue
        bn = torch.nn.BatchNorm2d(shape[1])
        x = torch.randn(*shape)
        xg = x.clone().requires_grad_(True)
        gy = torch.randn(*shape)

        def fwd():
            with torch.no_grad():
                F.relu(bn(x))

        def fb():
            bn.zero_grad(set_to_none=True)
            xg.grad = None
            F.relu(bn(xg)).backward(gy)

        tf, tb = timed(fwd, a.runs), timed(fb, a.runs)
        print(f"{name:<32} {tf * 1e3:8.2f} {'':>8} {tb * 1e3:8.2f}", flush=True)


if __name__ == "__main__":
    main()
