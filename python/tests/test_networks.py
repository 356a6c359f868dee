"""Networks from Python: the CLI's run with the same seed, bit for bit; arrays in any label
values; run directories shared with the CLI; options checked with the CLI's messages;
progress reported, Ctrl-C honoured with a checkpoint, and resume exact."""

import json
import os
import pathlib
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from ferrolearn import nn

ROOT = pathlib.Path(__file__).resolve().parents[2]

# A small CNN: the conv, pooling and linear paths in a few milliseconds per step.
SMALL_CNN = {
    "layers": [
        {"type": "conv2d", "name": "conv", "out_channels": 4, "kernel": 3, "padding": 1},
        {"type": "relu"},
        {"type": "max_pool2d", "kernel": 2},
        {"type": "flatten"},
        {"type": "linear", "name": "fc", "out_features": 3},
    ]
}


def cli():
    """The `ferrolearn` binary: $FERROLEARN_CLI (.ci/run sets it), else one built in
    target/. A missing binary fails the test: the comparison is the point."""
    candidates = [os.environ.get("FERROLEARN_CLI")] + [
        ROOT / "target" / profile / "ferrolearn" for profile in ("debug", "release")
    ]
    for path in candidates:
        if path and pathlib.Path(path).is_file():
            return str(path)
    pytest.fail("no ferrolearn binary: build it (cargo build) or set FERROLEARN_CLI")


def stripes(n, seed):
    """Images of three classes a CNN tells apart: horizontal, vertical or no stripes, with
    noise; labels are strings, to check they come back as given."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(np.array(["horizontal", "plain", "vertical"]), n)
    images = rng.integers(0, 60, (n, 1, 12, 12))
    images[labels == "horizontal", :, ::3, :] += 150
    images[labels == "vertical", :, :, ::3] += 150
    return images.astype(np.uint8), labels


def test_a_network_trained_from_python_equals_the_cli_run_with_the_same_seed(tmp_path):
    flags = dict(epochs=2, limit=1200, val_fraction=0.25, seed=5, test_limit=2000)
    run_cli = tmp_path / "cli"
    argv = [cli(), "--threads", "2", "train", "--model", "lenet5", "--out", str(run_cli), "--json"]
    for key, value in flags.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout)

    run_py = tmp_path / "python"
    run = nn.train("lenet5", "mnist", out=run_py, threads=2, progress=False, **flags)

    assert (run_py / "model.safetensors").read_bytes() == (run_cli / "model.safetensors").read_bytes()
    config = lambda d: json.loads((d / "config.json").read_text())  # noqa: E731
    assert config(run_py) == config(run_cli)
    assert run.test_accuracy == figures["test_accuracy"]
    assert run.test_loss == pytest.approx(figures["test_loss"], rel=1e-12)
    history = run.history
    assert isinstance(history, pd.DataFrame)
    assert list(history["epoch"]) == [1, 2]
    cli_metrics = pd.read_csv(run_cli / "metrics.csv")
    for column in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"):
        np.testing.assert_allclose(history[column], cli_metrics[column], rtol=1e-5)

    # The CLI reads the directory Python wrote, and Python the CLI's.
    done = subprocess.run(
        [cli(), "eval", "--run", str(run_py), "--test-limit", "2000", "--json"],
        capture_output=True, text=True, check=True,
    )
    assert json.loads(done.stdout)["test_accuracy"] == run.test_accuracy
    loaded = nn.load(run_cli)
    X_test, y_test = mnist_test_slice()
    np.testing.assert_array_equal(loaded.predict(X_test), run.predict(X_test))


def mnist_test_slice():
    """The first 500 MNIST test images and labels, through the package's own reader."""
    from ferrolearn import _native

    _, test = _native.Images.named("mnist")
    return test.pixels[:500], test.labels[:500]


def test_training_on_arrays_learns_and_gives_back_the_labels_it_was_given(tmp_path):
    X, y = stripes(600, 0)
    X_test, y_test = stripes(200, 1)
    run = nn.train(
        SMALL_CNN, X, y, test=(X_test, y_test), epochs=4, batch_size=32, lr=0.05,
        val_fraction=0, progress=False,
    )
    assert run.test_accuracy > 0.95, run.test_accuracy
    assert list(run.classes_) == ["horizontal", "plain", "vertical"]
    predicted = run.predict(X_test)
    assert np.mean(predicted == y_test) == pytest.approx(run.test_accuracy)
    proba = run.predict_proba(X_test)
    assert proba.shape == (200, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert run.evaluate(X_test, y_test)["accuracy"] == run.test_accuracy
    # Gray images without a channel axis are taken as [N, 1, H, W].
    np.testing.assert_array_equal(run.predict(X_test[:, 0]), predicted)
    # Floats holding the same pixels, on the 0-255 or ToTensor's 0-1 scale, are the same
    # images: the same probabilities, and training on them gives the same weights.
    np.testing.assert_array_equal(run.predict_proba(X_test.astype(np.float32) / 255), proba)
    np.testing.assert_array_equal(run.predict_proba(X_test.astype(np.float64)), proba)
    floats = nn.train(
        SMALL_CNN, X.astype(np.float32) / 255, y, test=(X_test, y_test), epochs=4,
        batch_size=32, lr=0.05, val_fraction=0, progress=False,
    )
    np.testing.assert_array_equal(floats.predict_proba(X_test), proba)

    run.save(tmp_path / "saved")
    again = nn.load(tmp_path / "saved")
    np.testing.assert_array_equal(again.predict_proba(X_test), proba)
    assert again.config == run.config
    assert again.history.equals(run.history)
    assert run.stopped == "completed" and again.stopped == "loaded"
    # The CLI reads the directory but has no test split for it, and says so.
    done = subprocess.run([cli(), "eval", "--run", str(tmp_path / "saved")], capture_output=True, text=True)
    assert done.returncode != 0
    assert "trained on image arrays from Python" in done.stderr, done.stderr


def test_options_and_inputs_are_checked_with_the_clis_messages(tmp_path):
    X, y = stripes(60, 0)

    def refused(error, match, *args, **kwargs):
        with pytest.raises(error, match=match):
            nn.train(*args, progress=False, **kwargs)

    refused(
        ValueError, "momentum has no effect: only SGD has momentum, not optimizer='adam'",
        SMALL_CNN, X, y, optimizer="adam", momentum=0.5,
    )
    refused(
        ValueError, "depth has no effect: it is the depth of model='resnet20', not of a model description",
        SMALL_CNN, X, y, depth=32,
    )
    refused(ValueError, "unknown field `momentm`", SMALL_CNN, X, y, momentm=0.5)
    refused(ValueError, "lr must be", SMALL_CNN, X, y, lr=-1.0)
    refused(ValueError, "limit must be >= 1, got 0", SMALL_CNN, X, y, limit=0)
    refused(ValueError, "between 8-bit levels", SMALL_CNN, X.astype(np.float32) / 255 + 1e-2, y)
    refused(ValueError, "pass them before normalisation", SMALL_CNN, X.astype(np.float32) - 128, y)
    refused(ValueError, "integers outside 0-255", SMALL_CNN, X.astype(np.int64) * 2, y)
    refused(TypeError, "must hold pixels", SMALL_CNN, X.astype(bool), y)
    refused(ValueError, r"\[N, H, W\] or \[N, C, H, W\]", SMALL_CNN, X[:, 0, 0], y)
    refused(ValueError, "neither a built-in model", "lenet7", X, y)
    refused(ValueError, "60 images need 60 labels", SMALL_CNN, X, y[:10])
    refused(ValueError, "threads must be >= 1", SMALL_CNN, X, y, threads=0)
    (tmp_path / "notes.txt").write_text("mine")
    refused(ValueError, "not a ferrolearn run", SMALL_CNN, X, y, out=tmp_path, overwrite=True)

    run = nn.train(SMALL_CNN, X, y, epochs=1, val_fraction=0, progress=False)
    with pytest.raises(ValueError, match=r"images are \[1, 8, 8\] \(C, H, W\) but the run was trained on \[1, 12, 12\]"):
        run.predict(np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="label 'diagonal' is not one of the run's labels"):
        run.evaluate(X[:2], np.array(["plain", "diagonal"]))


def test_progress_is_reported_and_an_interrupt_leaves_a_resumable_checkpoint(tmp_path, capsys):
    X, y = stripes(640, 0)
    nn.train(SMALL_CNN, X, y, epochs=1, batch_size=64, val_fraction=0)
    assert re.search(r"epoch 1: train loss \d\.\d{4} acc \d+\.\d\d% \(\d+\.\ds\)", capsys.readouterr().err)
    updates = []
    run = nn.train(
        SMALL_CNN, X, y, epochs=2, batch_size=64, val_fraction=0, progress=updates.append
    )
    epochs = [u for u in updates if u["kind"] == "epoch"]
    batches = [u for u in updates if u["kind"] == "batch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert [e["train_loss"] for e in epochs] == list(run.history["train_loss"])
    # The last batch of every epoch is always reported.
    assert {(b["epoch"], b["batches_done"]) for b in batches} >= {(1, 10), (2, 10)}

    def interrupt(update):
        if update["kind"] == "epoch":
            raise KeyboardInterrupt

    out = tmp_path / "run"
    settings = dict(epochs=3, batch_size=64, val_fraction=0, threads=2)
    with pytest.raises(KeyboardInterrupt, match=f"checkpoint saved in {out}: nn.resume continues it"):
        nn.train(SMALL_CNN, X, y, out=out, progress=interrupt, **settings)
    stopped = nn.load(out)
    assert stopped.steps == 10, "stopped after the first epoch's checkpoint"
    assert len(stopped.history) == 1

    # Resumed, it ends with the weights of the run uninterrupted, and can be extended.
    with pytest.raises(TypeError, match="trained on arrays: pass them again"):
        nn.resume(out)
    resumed = nn.resume(out, X, y, threads=2, progress=False)
    assert resumed.steps == 30 and resumed.stopped == "completed"
    whole = tmp_path / "whole"
    nn.train(SMALL_CNN, X, y, out=whole, progress=False, **settings)
    assert (out / "model.safetensors").read_bytes() == (whole / "model.safetensors").read_bytes()
    assert nn.resume(out, X, y, epochs=4, threads=2, progress=False).steps == 40
    with pytest.raises(ValueError, match="epochs=2 is fewer than the 4 epochs of the run"):
        nn.resume(out, X, y, epochs=2, progress=False)
    with pytest.raises(ValueError, match=r"trained on \[1, 12, 12\] images"):
        nn.resume(out, X[:, :, :8, :8], y, progress=False)
