"""LeNet-5 on MNIST called from Python: the reference recipe of bench/ref/w3_lenet.py (SGD
lr 0.01 momentum 0.9, batch 64, all 60,000 training images, pixels / 255), trained with
`ferrolearn.nn.train` or with PyTorch in this same process.

Compare the epoch seconds of `--library ferrolearn` with `ferrolearn train --model lenet5
--val-fraction 0 --epochs E --json` (its `seconds_per_epoch`) to see what calling through
Python costs, and with `--library torch` for the ratio against PyTorch called from the same
kind of process. Both use 2 threads unless --threads says otherwise.

Usage: python benches/lenet_mnist.py [--library ferrolearn|torch] [--epochs E] [--threads N]
Prints one JSON object: seconds of each epoch and the test accuracy.
"""

import argparse
import json
import time


def ferrolearn_run(epochs, threads):
    from ferrolearn import nn

    run = nn.train("lenet5", "mnist", epochs=epochs, val_fraction=0, threads=threads, progress=False)
    history = run.history  # a DataFrame with pandas, else a list of dicts
    seconds = history["seconds"] if hasattr(history, "columns") else [r["seconds"] for r in history]
    return [float(s) for s in seconds], run.test_accuracy


def torch_run(epochs, threads):
    import numpy as np
    import torch
    from ferrolearn import _native

    torch.set_num_threads(threads)
    train, test = _native.Images.named("mnist")

    def tensors(images):
        x = torch.from_numpy(images.pixels.astype(np.float32) / 255.0)
        return x, torch.from_numpy(images.labels)

    xtr, ytr = tensors(train)
    xte, yte = tensors(test)
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2450, 500), nn.ReLU(), nn.Linear(500, 10),
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(xtr), 64):
            idx = perm[i : i + 64]
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        correct = sum(
            (model(xte[i : i + 1000]).argmax(1) == yte[i : i + 1000]).sum().item()
            for i in range(0, len(xte), 1000)
        )
    return seconds, correct / len(xte)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", choices=["ferrolearn", "torch"], default="ferrolearn")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    train = ferrolearn_run if args.library == "ferrolearn" else torch_run
    seconds, accuracy = train(args.epochs, args.threads)
    print(
        json.dumps(
            {
                "library": args.library,
                "epoch_seconds": seconds,
                "test_accuracy": accuracy,
            }
        )
    )


if __name__ == "__main__":
    main()
