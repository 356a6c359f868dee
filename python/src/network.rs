//! Networks from Python: image sets ([`Images`]: a named dataset or `uint8` arrays), training
//! a built-in model or a model description with the library's options and recipes
//! (`train::TrainOptions`, the keyword arguments of `ferrolearn.nn.train`), and the trained
//! run ([`NetworkRun`]): predictions, evaluation, history, and run directories the CLI
//! also reads.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn};
use numpy::{PyUntypedArrayMethods, ToPyArray};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use ferrolearn::data::{load, Dataset, DatasetName, ARRAYS};
use ferrolearn::train::memory::check_run_fits;
use ferrolearn::train::{
    prepare_run_dir, split_train, BatchProgress, EpochRecord, Spelling, StopReason, TrainObserver,
    TrainOptions, Trainer, Tta,
};

use crate::errors::{run, to_py};

/// Images with labels, held by the library (`u8` pixels, `[C, H, W]` per item).
#[pyclass(module = "ferrolearn._native", frozen)]
pub struct Images {
    set: Dataset,
    /// The dataset's name (`mnist`, ...), or `arrays` for images handed over from NumPy.
    name: String,
}

#[pymethods]
impl Images {
    /// The training and test images of a named dataset (`mnist`, `fashion-mnist`,
    /// `cifar-10`), found in `data_dir`, `$FERROLEARN_DATA` or the bundled data.
    #[staticmethod]
    #[pyo3(signature = (name, data_dir=None))]
    fn named(py: Python<'_>, name: &str, data_dir: Option<PathBuf>) -> PyResult<(Images, Images)> {
        let dataset: DatasetName = name.parse().map_err(to_py)?;
        let sets = py.detach(|| run(|| load(dataset, data_dir.as_deref())))?;
        let named = |set| Images {
            set,
            name: dataset.as_str().into(),
        };
        Ok((named(sets.train), named(sets.test)))
    }

    /// Images from `pixels` (`uint8`, `[N, C, H, W]`) and `labels` (`int64` in
    /// `0..len(class_names)`).
    #[staticmethod]
    fn from_arrays(
        pixels: PyReadonlyArrayDyn<'_, u8>,
        labels: PyReadonlyArray1<'_, i64>,
        class_names: Vec<String>,
    ) -> PyResult<Images> {
        let shape = pixels.shape();
        let [_, c, h, w] = shape else {
            return Err(PyValueError::new_err(format!(
                "images must be [N, C, H, W], got {} dimensions",
                shape.len()
            )));
        };
        let item_shape = [*c, *h, *w];
        let labels = labels
            .as_array()
            .iter()
            .map(|&l| {
                u8::try_from(l)
                    .map_err(|_| PyValueError::new_err(format!("label {l} is not in 0..256")))
            })
            .collect::<PyResult<Vec<u8>>>()?;
        let pixels = pixels.as_array().iter().copied().collect();
        let set = Dataset::new(pixels, item_shape, labels, class_names).map_err(to_py)?;
        Ok(Images {
            set,
            name: ARRAYS.into(),
        })
    }

    fn __len__(&self) -> usize {
        self.set.len()
    }

    /// `[C, H, W]` of every item.
    #[getter]
    fn item_shape(&self) -> [usize; 3] {
        self.set.item_shape()
    }

    #[getter]
    fn class_names(&self) -> Vec<String> {
        self.set.class_names().to_vec()
    }

    /// The labels, as `int64`.
    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        PyArray1::from_vec(py, self.set.labels().iter().map(|&l| l as i64).collect())
    }

    /// The pixels, `uint8` `[N, C, H, W]` (a copy).
    #[getter]
    fn pixels<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, numpy::PyArray4<u8>>> {
        let [c, h, w] = self.set.item_shape();
        self.set
            .images()
            .to_pyarray(py)
            .reshape([self.set.len(), c, h, w])
    }
}

/// Receives the trainer's progress and hands it to a Python callable (at most every 0.1 s,
/// and at the end of every epoch), checking for Ctrl-C meanwhile: a `KeyboardInterrupt`
/// or an exception raised by the callable sets the stop flag, so the trainer checkpoints
/// after the current step and returns.
struct PyProgress {
    callback: Option<Py<PyAny>>,
    last: Instant,
    stop: Arc<AtomicBool>,
    error: Option<PyErr>,
}

impl PyProgress {
    /// Checks for Ctrl-C and hands the callable (if any) to `call`, unless an earlier call
    /// failed; a failure is kept and stops training.
    fn call(&mut self, call: impl FnOnce(Python<'_>, &Py<PyAny>) -> PyResult<Py<PyAny>>) {
        if self.error.is_some() {
            return;
        }
        let callback = &self.callback;
        let outcome = Python::attach(|py| {
            py.check_signals()?;
            match callback {
                Some(c) => call(py, c).map(drop),
                None => Ok(()),
            }
        });
        if let Err(e) = outcome {
            self.error = Some(e);
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

impl TrainObserver for PyProgress {
    fn on_batch(&mut self, p: &BatchProgress) {
        if self.last.elapsed() < Duration::from_millis(100) && p.batches_done < p.batches_total {
            return;
        }
        self.last = Instant::now();
        self.call(|py, c| {
            let figures = (p.running_loss, p.running_accuracy);
            c.call1(
                py,
                (
                    "batch",
                    p.epoch,
                    p.batches_done,
                    p.batches_total,
                    figures.0,
                    figures.1,
                ),
            )
        });
    }

    fn on_epoch(&mut self, r: &EpochRecord) {
        let record = serde_json::to_string(r).unwrap_or_default();
        self.call(|py, c| c.call1(py, ("epoch", record)));
    }
}

/// A rayon pool of `threads` workers (all cores with `None`): training runs inside it, as
/// the CLI's does, so its kernels share work among the pool's threads.
fn pool(threads: Option<usize>) -> PyResult<rayon::ThreadPool> {
    if threads == Some(0) {
        return Err(PyValueError::new_err(
            "threads must be >= 1, got 0 (None for one thread per core)",
        ));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the worker threads: {e}")))
}

/// A trained (or loaded) network with its run: configuration, history, normaliser and
/// weights.
#[pyclass(module = "ferrolearn._native", frozen)]
pub struct NetworkRun {
    trainer: Mutex<Trainer>,
    /// Its run directory, when it has one.
    dir: Option<PathBuf>,
    /// How training ended; `None` for a run loaded from its directory.
    stopped: Option<StopReason>,
}

impl NetworkRun {
    fn trainer(&self) -> MutexGuard<'_, Trainer> {
        self.trainer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `images` checked against the input shape the run was trained on, and, when their
    /// labels are to be scored (`labelled`), against its classes.
    fn check_input(&self, images: &Images, labelled: bool) -> PyResult<()> {
        let trainer = self.trainer();
        let config = trainer.config();
        let got = images.set.item_shape();
        if config.input_shape[..] != got[..] {
            return Err(PyValueError::new_err(format!(
                "images are {got:?} (C, H, W) but the run was trained on {:?}",
                config.input_shape
            )));
        }
        if labelled && images.set.class_names() != config.class_names.as_slice() {
            return Err(PyValueError::new_err(format!(
                "the images' classes {:?} are not the run's {:?}",
                images.set.class_names(),
                config.class_names
            )));
        }
        Ok(())
    }

    /// The run's test-time augmentation, or `tta` by name.
    fn tta(&self, tta: Option<&str>) -> PyResult<Tta> {
        match tta {
            Some(name) => name.parse().map_err(PyValueError::new_err),
            None => Ok(self.trainer().config().final_tta),
        }
    }
}

/// Trains a network: `options` is a JSON object of `TrainOptions` (the keyword arguments
/// of `ferrolearn.nn.train`), `train` the training images, `out` an optional run directory
/// (checkpointed as the CLI does; refused when it holds another run unless `overwrite`),
/// `progress` a callable given `("batch", epoch, done, total, loss, accuracy)` and
/// `("epoch", record_json)`.
#[pyfunction]
#[pyo3(signature = (options, train, out=None, overwrite=false, threads=None, progress=None))]
pub fn train_network(
    py: Python<'_>,
    options: &str,
    train: &Images,
    out: Option<PathBuf>,
    overwrite: bool,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<NetworkRun> {
    let chosen: TrainOptions = serde_json::from_str(options)
        .map_err(|e| PyValueError::new_err(format!("training options: {e}")))?;
    let options = chosen.resolve(Spelling::Keywords).map_err(to_py)?;
    let (train_set, val) = split_train(
        train.set.clone(),
        &train.name,
        options.limit,
        options.val_fraction(),
        options.seed(),
        Spelling::Keywords,
    )
    .map_err(to_py)?;
    let config = options
        .config(&train.name, &train_set, Spelling::Keywords)
        .map_err(to_py)?;
    check_run_fits(&config, train_set.len()).map_err(to_py)?;
    if let Some(dir) = &out {
        prepare_run_dir(dir, overwrite).map_err(to_py)?;
    }
    let build = |train: &Dataset| Trainer::new(config, train);
    fit_run(py, build, train_set, val, out, threads, progress)
}

/// Continues the run in `dir` from its last checkpoint on `train` (the images it trained
/// on), to a larger `epochs` when given, as `ferrolearn train --resume` does: it ends with
/// the weights of an uninterrupted run (same thread count).
#[pyfunction]
#[pyo3(signature = (dir, train, epochs=None, threads=None, progress=None))]
pub fn resume_network(
    py: Python<'_>,
    dir: PathBuf,
    train: &Images,
    epochs: Option<usize>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<NetworkRun> {
    let mut trainer = py.detach(|| run(|| Trainer::resume(&dir)))?;
    let config = trainer.config().clone();
    match epochs {
        Some(e) if e < config.epochs => {
            return Err(PyValueError::new_err(format!(
                "epochs={e} is fewer than the {} epochs of the run in {}: a run can be extended, not shortened",
                config.epochs,
                dir.display()
            )))
        }
        Some(e) => trainer.extend_epochs(e),
        None => {}
    }
    let got = (train.set.item_shape(), train.set.class_names());
    if got.0[..] != config.input_shape[..] || got.1 != config.class_names.as_slice() {
        return Err(PyValueError::new_err(format!(
            "the run in {} trained on {:?} images of classes {:?}; these are {:?} of {:?}",
            dir.display(),
            config.input_shape,
            config.class_names,
            got.0,
            got.1
        )));
    }
    let (train_set, val) = split_train(
        train.set.clone(),
        &train.name,
        config.train_limit,
        config.val_fraction,
        config.seed,
        Spelling::Keywords,
    )
    .map_err(to_py)?;
    fit_run(
        py,
        |_: &Dataset| Ok(trainer),
        train_set,
        val,
        Some(dir),
        threads,
        progress,
    )
}

/// Builds the trainer (`build`, given the training split) and trains it in a rayon pool
/// with the GIL released, reporting progress to `progress`; a `KeyboardInterrupt` (or an
/// exception of the callable) stops it after the current step, with a checkpoint in `out`.
fn fit_run(
    py: Python<'_>,
    build: impl FnOnce(&Dataset) -> ferrolearn::Result<Trainer> + Send,
    train: Dataset,
    val: Option<Dataset>,
    out: Option<PathBuf>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<NetworkRun> {
    let pool = pool(threads)?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut observer = PyProgress {
        callback: progress,
        last: Instant::now(),
        stop: stop.clone(),
        error: None,
    };
    let (trainer, stopped) = py.detach(|| {
        pool.install(|| {
            run(|| {
                let mut trainer = build(&train)?;
                trainer.set_stop_flag(stop);
                let stopped = trainer.fit(&train, val.as_ref(), out.as_deref(), &mut observer)?;
                Ok((trainer, stopped))
            })
        })
    })?;
    if let Some(e) = observer.error {
        let saved = match &out {
            Some(dir) => format!(
                " (checkpoint saved in {}: nn.resume continues it)",
                dir.display()
            ),
            None => String::new(),
        };
        if e.is_instance_of::<PyKeyboardInterrupt>(py) {
            return Err(PyKeyboardInterrupt::new_err(format!(
                "training interrupted after step {}{saved}",
                trainer.steps_done()
            )));
        }
        return Err(e);
    }
    Ok(NetworkRun {
        trainer: Mutex::new(trainer),
        dir: out,
        stopped: Some(stopped),
    })
}

#[pymethods]
impl NetworkRun {
    /// The run in directory `dir` (written by `ferrolearn train` or `NetworkRun.save`).
    #[staticmethod]
    fn load(py: Python<'_>, dir: PathBuf) -> PyResult<NetworkRun> {
        let trainer = py.detach(|| run(|| Trainer::resume(&dir)))?;
        Ok(NetworkRun {
            trainer: Mutex::new(trainer),
            dir: Some(dir),
            stopped: None,
        })
    }

    /// Writes the run into `dir` as `ferrolearn train` does (configuration, weights,
    /// normaliser, metrics and a resumable checkpoint, each atomically).
    fn save(&self, py: Python<'_>, dir: PathBuf) -> PyResult<()> {
        let trainer = &mut *self.trainer();
        py.detach(|| run(|| trainer.save(&dir)))
    }

    /// The class probabilities of every image, `float32` `[N, classes]` (with the run's
    /// test-time augmentation unless `tta` names another: none, flip, flip-translate).
    #[pyo3(signature = (images, tta=None, threads=None))]
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        images: &Images,
        tta: Option<&str>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        self.check_input(images, false)?;
        let tta = self.tta(tta)?;
        let pool = pool(threads)?;
        let trainer = &mut *self.trainer();
        let classes = trainer.config().class_names.len();
        let p = py.detach(|| pool.install(|| run(|| trainer.probabilities(&images.set, tta))))?;
        PyArray1::from_vec(py, p).reshape([images.set.len(), classes])
    }

    /// `(loss, accuracy)` on `images` (with the run's test-time augmentation unless `tta`
    /// names another).
    #[pyo3(signature = (images, tta=None, threads=None))]
    fn evaluate(
        &self,
        py: Python<'_>,
        images: &Images,
        tta: Option<&str>,
        threads: Option<usize>,
    ) -> PyResult<(f64, f64)> {
        self.check_input(images, true)?;
        let tta = self.tta(tta)?;
        let pool = pool(threads)?;
        let trainer = &mut *self.trainer();
        let e = py.detach(|| pool.install(|| run(|| trainer.evaluate_tta(&images.set, tta))))?;
        Ok((e.loss, e.accuracy))
    }

    /// `(loss, accuracy)` of the end-of-training evaluation: the first `test_limit` images
    /// with the run's test-time augmentation, as `ferrolearn train` reports it.
    #[pyo3(signature = (images, threads=None))]
    fn evaluate_final(
        &self,
        py: Python<'_>,
        images: &Images,
        threads: Option<usize>,
    ) -> PyResult<(f64, f64)> {
        self.check_input(images, true)?;
        let pool = pool(threads)?;
        let trainer = &mut *self.trainer();
        let e = py.detach(|| pool.install(|| run(|| trainer.evaluate_final(&images.set))))?;
        Ok((e.loss, e.accuracy))
    }

    /// The per-epoch figures, as a JSON list (the rows of `metrics.csv`).
    fn history_json(&self) -> String {
        serde_json::to_string(self.trainer().history()).unwrap_or_default()
    }

    /// The run's definition, as the JSON of its `config.json`.
    fn config_json(&self) -> String {
        serde_json::to_string(self.trainer().config()).unwrap_or_default()
    }

    /// The model's layers and parameter counts, as the CLI prints them.
    fn summary(&self) -> String {
        self.trainer().model().to_string()
    }

    #[getter]
    fn steps_done(&self) -> u64 {
        self.trainer().steps_done()
    }

    #[getter]
    fn stopped(&self) -> &'static str {
        self.stopped.map_or("loaded", StopReason::name)
    }

    #[getter]
    fn dir(&self) -> Option<PathBuf> {
        self.dir.clone()
    }
}

/// Adds the network classes and functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Images>()?;
    m.add_class::<NetworkRun>()?;
    m.add_function(wrap_pyfunction!(train_network, m)?)?;
    m.add_function(wrap_pyfunction!(resume_network, m)?)?;
    Ok(())
}
