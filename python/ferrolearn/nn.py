"""Networks: train a built-in model or a model description on a named dataset or on
image arrays (`uint8`, or floats holding 8-bit pixels on the 0-255 or 0-1 scale), with a
progress bar, and use the trained run.

    from ferrolearn import nn
    run = nn.train("lenet5", "mnist", epochs=1)
    print(run.test_accuracy)
    run.history                    # per-epoch figures (a DataFrame when pandas is there)
    run.predict(images)            # uint8 [N, H, W] or [N, C, H, W]
    run.save("runs/lenet5-mnist")  # `ferrolearn eval` / `predict` read it too

Every keyword argument of `train` beyond the data and the run directory is an option of
`ferrolearn train`, spelled with underscores (`batch_size=128`, `schedule="warmup-cosine"`).
Options left out take the built-in model's recipe (`resnet20`, `alexnet`, `inception`,
`fastnet`, `airbench` on CIFAR-10) or the CLI's defaults, and an option the run would ignore
is refused, so the same seed and thread count give the CLI's weights bit for bit.
"""

import json
import os
import sys

import numpy as np

from ferrolearn import _native

__all__ = ["train", "resume", "load", "Run", "BUILTIN_MODELS", "DATASETS"]

BUILTIN_MODELS = ("lenet5", "mlp", "resnet20", "alexnet", "inception", "fastnet", "airbench")
DATASETS = ("mnist", "fashion-mnist", "cifar-10")


def _images(X, what):
    """`X` as `uint8` `[N, C, H, W]` (a gray `[N, H, W]` gains its channel axis), converted
    once from other dtypes that hold 8-bit pixels."""
    X = _pixels(np.asarray(X), what)
    if X.ndim == 3:
        X = X[:, None, :, :]
    if X.ndim != 4:
        raise ValueError(
            f"{what} must be [N, H, W] or [N, C, H, W] images, got shape {X.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{what} holds no images")
    return np.ascontiguousarray(X)


def _pixels(X, what):
    """`uint8` pixels from `X`: `uint8` as it is; integers in 0-255; floats on the 0-255
    scale, or on the 0-1 scale of torchvision's `ToTensor` (the largest value at most 1),
    whose values are 8-bit levels (within 1e-3 of one). ferrolearn normalises images
    itself, so values between levels (already normalised or resampled images) are refused
    rather than rounded silently."""
    if X.dtype == np.uint8:
        return X
    if X.dtype.kind in "iu":
        if X.size and (X.min() < 0 or X.max() > 255):
            raise ValueError(
                f"{what} hold integers outside 0-255 ({X.min()} to {X.max()}); images are "
                "8-bit pixels"
            )
        return X.astype(np.uint8)
    if X.dtype.kind != "f":
        raise TypeError(
            f"{what} must hold pixels (uint8 0-255, or floats 0-255 or 0-1); got {X.dtype}"
        )
    if X.size == 0:
        return X.astype(np.uint8)
    low, high = float(np.min(X)), float(np.max(X))
    if not (np.isfinite(low) and np.isfinite(high)) or low < 0 or high > 255:
        raise ValueError(
            f"{what} hold values from {low:g} to {high:g}; images are pixels 0-255 or 0-1 "
            "(ferrolearn normalises them itself: pass them before normalisation)"
        )
    scale = 255.0 if high <= 1.0 else 1.0
    levels = np.asarray(X, dtype=np.float64) * scale
    rounded = np.rint(levels)
    off = float(np.max(np.abs(levels - rounded)))
    if off > 1e-3:
        raise ValueError(
            f"{what} hold values between 8-bit levels (up to {off:.3f} of a level away on "
            f"the 0-255 scale); ferrolearn trains on 8-bit pixels: quantise them first, "
            "e.g. (X * 255).round().astype(np.uint8) for 0-1 images"
        )
    return rounded.astype(np.uint8)


def _option_value(value):
    """A keyword argument's value as JSON takes it (NumPy scalars and tuples included)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, np.ndarray)):
        return [_option_value(v) for v in value]
    return value


def _model_options(model):
    """The options naming `model`: a built-in name, a model description (a dict, the JSON
    model file's content) or the path of a model file."""
    if isinstance(model, dict):
        return {"model_spec": model}
    if isinstance(model, (str, os.PathLike)) and str(model) in BUILTIN_MODELS:
        return {"model": str(model)}
    if isinstance(model, (str, os.PathLike)) and os.path.isfile(model):
        with open(model, encoding="utf-8") as f:
            return {"model_spec": json.load(f)}
    raise ValueError(
        f"model {model!r} is neither a built-in model ({', '.join(BUILTIN_MODELS)}), "
        "a model description (dict) nor a model file"
    )


class _Bar:
    """The default progress display: a tqdm bar per epoch (which draws itself in Jupyter
    too) when tqdm is installed, else a line on stderr redrawn in a terminal; one line per
    finished epoch either way."""

    def __init__(self):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        self._tqdm = tqdm
        self._bar = None
        self._tty = sys.stderr.isatty()

    def __call__(self, kind, *args):
        if kind == "batch":
            epoch, done, total, loss, accuracy = args
            self._batch(epoch, done, total, loss, accuracy)
        else:
            self._epoch(json.loads(args[0]))

    def _batch(self, epoch, done, total, loss, accuracy):
        text = f"loss {loss:.4f} acc {100 * accuracy:.2f}%"
        if self._tqdm is not None:
            if self._bar is None:
                self._bar = self._tqdm(total=total, desc=f"epoch {epoch}", unit="batch")
            self._bar.n = done
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.refresh()
        elif self._tty:
            sys.stderr.write(f"\repoch {epoch}: {done}/{total} batches, {text}")
            sys.stderr.flush()

    def _epoch(self, record):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._tty:
            sys.stderr.write("\r\x1b[K")
        line = (
            f"epoch {record['epoch']}: train loss {record['train_loss']:.4f} "
            f"acc {100 * record['train_accuracy']:.2f}%"
        )
        if record.get("val_loss") is not None:
            line += f", val loss {record['val_loss']:.4f} acc {100 * record['val_accuracy']:.2f}%"
        sys.stderr.write(f"{line} ({record['seconds']:.1f}s)\n")
        sys.stderr.flush()


def _callback(progress):
    """The native progress callable for `progress`: True (the default display), False or
    None (nothing), or a callable given a dict per update (`kind` "batch" or "epoch")."""
    if progress is True:
        return _Bar()
    if not progress:
        return None
    if not callable(progress):
        raise TypeError(f"progress must be True, False or a callable, got {progress!r}")

    def call(kind, *args):
        if kind == "batch":
            keys = ("epoch", "batches_done", "batches_total", "loss", "accuracy")
            progress({"kind": kind, **dict(zip(keys, args))})
        else:
            progress({"kind": kind, **json.loads(args[0])})

    return call


def train(
    model="lenet5",
    data="mnist",
    y=None,
    *,
    test=None,
    data_dir=None,
    out=None,
    overwrite=False,
    threads=None,
    progress=True,
    **options,
):
    """Trains `model` on `data` and returns the [`Run`], evaluated on the test images.

    model: a built-in model (`BUILTIN_MODELS`), a model description (the JSON model file's
        content as a dict) or a model file's path.
    data: a dataset name (`DATASETS`; found in `data_dir`, `$FERROLEARN_DATA` or the bundled
        data) whose test set is then evaluated at the end, or images `[N, H, W]` /
        `[N, C, H, W]` (`uint8`, or floats holding 8-bit pixels on the 0-255 or 0-1 scale)
        with their labels `y` (any values; `Run.classes_` keeps them).
    test: `(X_test, y_test)` evaluated at the end when `data` is arrays.
    out: a run directory written as `ferrolearn train --out` writes it (checkpoints
        included); refused when it holds another run, unless `overwrite`.
    threads: worker threads (None: one per core). Same seed and thread count, same weights.
    progress: True for a progress bar, False for none, or a callable given a dict per update.
    options: `ferrolearn train`'s options (`epochs`, `batch_size`, `lr`, `optimizer`, ...).
    """
    chosen = {k: _option_value(v) for k, v in options.items() if v is not None}
    for key in ("model", "model_spec"):
        if key in chosen:
            raise TypeError(f"{key} is given by the first argument, not a keyword")
    chosen.update(_model_options(model))
    train_set, test_set, values = _data(data, y, test, data_dir)
    native = _native.train_network(
        json.dumps(chosen),
        train_set,
        out=None if out is None else os.fspath(out),
        overwrite=overwrite,
        threads=threads,
        progress=_callback(progress),
    )
    return _finished(native, values, test_set, threads)


def resume(directory, data=None, y=None, *, test=None, data_dir=None, epochs=None, threads=None, progress=True):
    """Continues the run in `directory` from its last checkpoint (one that `train(out=...)`
    left after Ctrl-C, or `ferrolearn train`'s) on the data it trained on: its named dataset
    is read again when `data` is None; a run trained on arrays needs them (and `test`) again.
    `epochs` beyond the run's extends it. With the same thread count, it ends with the
    weights of the run uninterrupted."""
    directory = os.fspath(directory)
    with open(os.path.join(directory, "config.json"), encoding="utf-8") as f:
        dataset = json.load(f)["dataset"]
    if data is None:
        if dataset not in DATASETS:
            raise TypeError(
                f"the run in {directory} trained on arrays: pass them again, nn.resume(directory, X, y)"
            )
        data = dataset
    train_set, test_set, values = _data(data, y, test, data_dir)
    native = _native.resume_network(
        directory, train_set, epochs=epochs, threads=threads, progress=_callback(progress)
    )
    return _finished(native, values, test_set, threads)


def _data(data, y, test, data_dir):
    """The training images, the test images (or None) and the label values of `data`."""
    if isinstance(data, str):
        if y is not None or test is not None:
            raise TypeError(
                f"a named dataset ({data!r}) brings its labels and test set: y and test are for arrays"
            )
        train_set, test_set = _native.Images.named(data, data_dir)
        return train_set, test_set, None
    if y is None:
        raise TypeError("training on arrays needs their labels: train(model, X, y)")
    train_set, values = _labelled(data, y, None, "X")
    test_set = None
    if test is not None:
        X_test, y_test = test
        test_set, _ = _labelled(X_test, y_test, values, "test images")
    return train_set, test_set, values


def _finished(native, values, test_set, threads):
    """The `Run` of a trained native run, evaluated on `test_set` when there is one."""
    run = Run(native, values)
    if test_set is not None:
        run.test_loss, run.test_accuracy = native.evaluate_final(test_set, threads=threads)
    return run


def _labelled(X, y, values, what, names=None):
    """Images of `X` labelled by `y`, encoded against `values` (the training labels' sorted
    distinct values; found from `y` when None) and named `names` (their strings by
    default), and those values."""
    X = _images(X, what)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"{what}: {len(X)} images need {len(X)} labels, got shape {y.shape}")
    if values is None:
        values = np.unique(y)
        if len(values) > 256:
            raise ValueError(f"{len(values)} classes: a network here takes 1 to 256")
    codes = np.searchsorted(values, y)
    unknown = (codes >= len(values)) | (values[np.minimum(codes, len(values) - 1)] != y)
    if unknown.any():
        label = y[unknown][0]
        label = label.item() if isinstance(label, np.generic) else label
        raise ValueError(f"{what}: label {label!r} is not one of the run's labels")
    names = [str(v) for v in values] if names is None else names
    return _native.Images.from_arrays(X, codes.astype(np.int64), names), values


def load(directory):
    """The run in `directory` (written by `ferrolearn train` or `Run.save`)."""
    return Run(_native.NetworkRun.load(os.fspath(directory)), None)


class Run:
    """A trained network and its run: history, predictions, evaluation and its directory.

    `classes_` holds the label of each output (the values of `y` for a run trained on
    arrays, else the class indices 0..K-1 with `class_names` beside them).
    """

    def __init__(self, native, values):
        self._native = native
        config = json.loads(native.config_json())
        self.config = config
        self.class_names = list(config["class_names"])
        self.classes_ = values if values is not None else np.arange(len(self.class_names))
        self.test_loss = None
        self.test_accuracy = None

    @property
    def history(self):
        """The per-epoch figures (`metrics.csv`'s columns): a pandas DataFrame when pandas
        is installed, else a list of dicts."""
        rows = json.loads(self._native.history_json())
        try:
            import pandas as pd
        except ImportError:
            return rows
        columns = ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"]
        return pd.DataFrame(rows, columns=columns)

    @property
    def directory(self):
        """The run directory (None for a run trained without `out` and not saved)."""
        return self._native.dir

    @property
    def steps(self):
        """Optimizer steps taken."""
        return self._native.steps_done

    @property
    def stopped(self):
        """Why training ended: completed, early_stopped, time_budget, interrupted (or loaded)."""
        return self._native.stopped

    def _input(self, X):
        X = _images(X, "X")
        zeros = np.zeros(len(X), dtype=np.int64)
        return _native.Images.from_arrays(X, zeros, self.class_names)

    def predict_proba(self, X, tta=None, threads=None):
        """Class probabilities `float32` `[N, classes]` of images, with the run's
        test-time augmentation unless `tta` names another (none, flip, flip-translate)."""
        return self._native.predict_proba(self._input(X), tta=tta, threads=threads)

    def predict(self, X, tta=None, threads=None):
        """The most probable class (a value of `classes_`) of each image."""
        return self.classes_[np.argmax(self.predict_proba(X, tta, threads), axis=1)]

    def evaluate(self, X, y, tta=None, threads=None):
        """`{"loss", "accuracy"}` of the images `X` labelled `y` (values of `classes_`)."""
        images, _ = _labelled(X, y, np.asarray(self.classes_), "X", self.class_names)
        loss, accuracy = self._native.evaluate(images, tta=tta, threads=threads)
        return {"loss": loss, "accuracy": accuracy}

    def save(self, directory):
        """Writes the run into `directory` as `ferrolearn train` does (resumable, and read
        by `ferrolearn eval` and `predict`)."""
        self._native.save(os.fspath(directory))

    def __repr__(self):
        figures = f", test accuracy {100 * self.test_accuracy:.2f}%" if self.test_accuracy is not None else ""
        return f"<ferrolearn.nn.Run {self.config['model_name']} on {self.config['dataset']}, {self.steps} steps{figures}>\n{self._native.summary()}"
