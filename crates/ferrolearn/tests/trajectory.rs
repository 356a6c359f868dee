//! Whole training runs against PyTorch. Each case (a JSON file written by
//! `tests/trajectory/generate.py`) records a model trained by PyTorch: the dataset, the model
//! as a model file whose parameter names are PyTorch's `state_dict` names, the optimizer, the
//! initial weights, the items of every batch, the loss of every step, and the final weights
//! and batch-norm statistics. The trainer, started from the same weights on the same batches
//! (shuffling off, pixels x / 255, no augmentation), must follow the same path, step after
//! step. The single ops and optimizer steps are checked by the reference test; this checks
//! that they compose into the same run.
//!
//! Cases are read from `tests/trajectory/`, or from `$FERROLEARN_TRAJECTORY_DIR` when set
//! (every `*.json` there is replayed; an empty or unreadable directory fails). MNIST comes
//! bundled; CIFAR-10 cases find the dataset through `FERROLEARN_DATA`. Each case prints
//! `NAME: N steps, worst loss rel diff X, worst tensor diff Y (at most Z% of a step's loss
//! tolerance used)`.
//!
//! Batch norm + ReLU nets (ResNet-20 among them) are followed within these fixed tolerances by
//! no f32 implementation but PyTorch's own on the same machine: a rounding difference flips a
//! ReLU near zero, which moves some gradients by ~1e-2 of their size, and runs drift apart
//! exponentially (see `generate.py`). Their cases also record PyTorch's own re-runs of the
//! same recording (2 threads, oneDNN off); the loss tolerance at each step is then
//! [`DRIFT_FACTOR`] times the largest drift any of those re-runs showed up to that step, and
//! the final tensors' the largest difference any re-run ended with (never less than the fixed
//! tolerances): ferrolearn must follow PyTorch about as closely as PyTorch follows itself.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use ferrolearn::data::{load, Dataset, DatasetName};
use ferrolearn::nn::spec::ModelSpec;
use ferrolearn::nn::Module;
use ferrolearn::train::{
    checkpoint::model_tensors, BatchProgress, OptimizerConfig, TrainConfig, TrainObserver, Trainer,
};
use serde::Deserialize;

/// Relative tolerance on each step's loss. Runs in f32 drift apart as rounding differences
/// grow, but over the cases of `tests/trajectory/` the losses agree to within 1e-6.
const LOSS_RTOL: f64 = 1e-5;
/// Tolerance on the final weights and statistics, relative to each tensor's largest entry
/// (they agree to within 1e-5).
const WEIGHT_RTOL: f32 = 1e-4;
/// The environment variable naming another directory of cases.
const DIR_ENV: &str = "FERROLEARN_TRAJECTORY_DIR";

#[derive(Deserialize)]
struct Case {
    name: String,
    /// The dataset the items index (`mnist`, `cifar-10`): its training set.
    dataset: String,
    model: ModelSpec,
    optimizer: OptimizerConfig,
    batch_size: usize,
    /// Training-set indices, batch after batch.
    items: Vec<usize>,
    /// Tensors by `state_dict` name, as hex of little-endian f32.
    init: BTreeMap<String, String>,
    losses: Vec<f64>,
    #[serde(rename = "final")]
    final_tensors: BTreeMap<String, String>,
    /// PyTorch's own re-runs of this recording under other settings (none for cases it
    /// follows within the fixed tolerances).
    #[serde(default)]
    variants: Vec<Variant>,
}

/// One re-run of a case by PyTorch (another thread count, or oneDNN off).
#[derive(Deserialize)]
struct Variant {
    name: String,
    losses: Vec<f64>,
    /// Per final tensor, its largest difference from the recording's relative to the
    /// recording's largest entry.
    final_rel: BTreeMap<String, f32>,
}

/// The relative difference of a loss from the recorded one, as the test measures it.
fn loss_rel(ours: f64, theirs: f64) -> f64 {
    (ours - theirs).abs() / theirs.abs().max(1e-3)
}

/// How far ahead of PyTorch's own re-runs a replay of a case with re-runs may drift: their
/// drift grows about tenfold every one to three steps (see `generate.py`), so a factor of 10
/// allows a replay to run a step or so ahead of them, no more.
const DRIFT_FACTOR: f64 = 10.0;

/// The loss tolerance at each step: `LOSS_RTOL`, or when larger `DRIFT_FACTOR` times the
/// largest drift of any of PyTorch's re-runs from the recording up to that step.
fn loss_tolerances(case: &Case) -> Result<Vec<f64>, String> {
    let mut worst = LOSS_RTOL;
    let mut out = Vec::with_capacity(case.losses.len());
    for (step, &theirs) in case.losses.iter().enumerate() {
        for v in &case.variants {
            let again = v.losses.get(step).ok_or_else(|| {
                format!(
                    "variant `{}` has {} losses, the recording {}",
                    v.name,
                    v.losses.len(),
                    case.losses.len()
                )
            })?;
            worst = worst.max(DRIFT_FACTOR * loss_rel(*again, theirs));
        }
        out.push(worst);
    }
    Ok(out)
}

/// The tolerance on the final tensors: `WEIGHT_RTOL`, or when larger the largest difference
/// any of PyTorch's re-runs ended with in any tensor. After tens of steps of drift the re-runs'
/// final weights differ from the recording's by about their own size (ResNet-20: up to 2x the
/// largest entry), so for such cases this only checks that the replay drifted no further.
fn tensor_tolerance(case: &Case) -> f32 {
    case.variants
        .iter()
        .flat_map(|v| v.final_rel.values())
        .fold(WEIGHT_RTOL, |tol, &rel| tol.max(rel))
}

/// The f32 values of a hex string of little-endian bytes.
fn floats(hex: &str, tensor: &str) -> Result<Vec<f32>, String> {
    if !hex.len().is_multiple_of(8) || !hex.is_ascii() {
        return Err(format!(
            "{tensor}: not hex of f32s (length {} is not a multiple of 8, or not ASCII)",
            hex.len()
        ));
    }
    hex.as_bytes()
        .chunks_exact(8)
        .map(|word| {
            let mut bytes = [0u8; 4];
            for (b, pair) in bytes.iter_mut().zip(word.chunks_exact(2)) {
                let pair = std::str::from_utf8(pair).map_err(|e| format!("{tensor}: {e}"))?;
                *b = u8::from_str_radix(pair, 16)
                    .map_err(|_| format!("{tensor}: `{pair}` is not a hex byte"))?;
            }
            Ok(f32::from_le_bytes(bytes))
        })
        .collect()
}

/// Records every step's loss.
struct StepLosses(Vec<f64>);

impl TrainObserver for StepLosses {
    fn on_batch(&mut self, progress: &BatchProgress) {
        self.0.push(progress.batch_loss);
    }
}

/// Overwrites every parameter and buffer of `model` with the case's initial tensors; the two
/// must name the same tensors with the same sizes.
fn load_init(model: &mut dyn Module, init: &BTreeMap<String, String>) -> Result<(), String> {
    let ours: Vec<String> = model_tensors(model).into_iter().map(|(n, _)| n).collect();
    let only_ours: Vec<&String> = ours.iter().filter(|n| !init.contains_key(*n)).collect();
    let only_theirs: Vec<&String> = init.keys().filter(|n| !ours.contains(n)).collect();
    if !only_ours.is_empty() || !only_theirs.is_empty() {
        return Err(format!(
            "tensor names differ: only in our model {only_ours:?}; only in the case {only_theirs:?}"
        ));
    }
    let set = |name: &str, data: &mut [f32]| -> Result<(), String> {
        let values = floats(&init[name], name)?;
        if values.len() != data.len() {
            return Err(format!(
                "{name}: the case has {} values, our model {}",
                values.len(),
                data.len()
            ));
        }
        data.copy_from_slice(&values);
        Ok(())
    };
    for (name, var) in model.parameters_mut() {
        set(&name, var.value_mut().data_mut())?;
    }
    for (name, tensor) in model.buffers_mut() {
        set(&name, tensor.data_mut())?;
    }
    Ok(())
}

/// How closely a replay followed its recording, and where it did not.
struct Outcome {
    steps: usize,
    worst_loss: f64,
    worst_tensor: f32,
    /// The largest share of its tolerance a step's loss difference used.
    worst_share: f64,
    failures: Vec<String>,
}

/// Reads one case file.
fn read_case(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("not a trajectory case: {e}"))
}

/// The training set of a dataset, loaded once for all the cases that use it.
fn training_set<'a>(
    cache: &'a mut HashMap<DatasetName, Dataset>,
    dataset: &str,
) -> Result<&'a Dataset, String> {
    let name: DatasetName = dataset.parse().map_err(|e| format!("dataset: {e}"))?;
    Ok(match cache.entry(name) {
        Entry::Occupied(set) => set.into_mut(),
        Entry::Vacant(slot) => {
            let sets = load(name, None).map_err(|e| format!("dataset {name}: {e}"))?;
            slot.insert(sets.train)
        }
    })
}

/// Replays `case` and compares every step's loss and the final tensors with PyTorch's.
fn replay(case: &Case, data: &Dataset) -> Result<Outcome, String> {
    if let Some(&bad) = case.items.iter().find(|&&i| i >= data.len()) {
        return Err(format!(
            "item {bad} is outside the {} training items of {}",
            data.len(),
            case.dataset
        ));
    }
    let train = data.subset(&case.items);
    let config = TrainConfig {
        epochs: 1,
        batch_size: case.batch_size,
        optimizer: case.optimizer.clone(),
        shuffle: false,
        ..TrainConfig::new("trajectory", case.model.clone(), &case.dataset, &train)
    };
    let mut trainer = Trainer::new(config, &train).map_err(|e| format!("trainer: {e}"))?;
    load_init(trainer.model_mut(), &case.init)?;
    let mut losses = StepLosses(Vec::new());
    trainer
        .fit(&train, None, None, &mut losses)
        .map_err(|e| format!("training: {e}"))?;

    let mut failures = Vec::new();
    if losses.0.len() != case.losses.len() {
        failures.push(format!(
            "{} steps taken, PyTorch took {}",
            losses.0.len(),
            case.losses.len()
        ));
    }
    let tolerances = loss_tolerances(case)?;
    let mut worst_loss = 0f64;
    let mut worst_share = 0f64;
    let mut over = Vec::new();
    for (step, (ours, theirs)) in losses.0.iter().zip(&case.losses).enumerate() {
        let rel = loss_rel(*ours, *theirs);
        if rel.is_nan() || rel > tolerances[step] {
            over.push((step, *ours, *theirs, rel));
        }
        worst_loss = worst_loss.max(rel);
        worst_share = worst_share.max(rel / tolerances[step]);
    }
    if let Some(&(step, ours, theirs, rel)) = over.first() {
        failures.push(format!(
            "loss over tolerance at {} of {} steps, first at step {step}: {ours} vs PyTorch \
             {theirs} (relative difference {rel:.2e} > {:.2e}{})",
            over.len(),
            case.losses.len(),
            tolerances[step],
            if case.variants.is_empty() {
                ""
            } else {
                ", 10x the drift of PyTorch's own re-runs up to that step"
            }
        ));
    }
    let tensor_tol = tensor_tolerance(case);
    let mut worst_tensor = (0f32, String::new());
    let mut tensors_over = 0;
    let mut tensor_count = 0;
    for (tensor, value) in model_tensors(trainer.model_mut()) {
        let hex = case
            .final_tensors
            .get(&tensor)
            .ok_or_else(|| format!("final tensors lack {tensor}"))?;
        let expected = floats(hex, &tensor)?;
        if expected.len() != value.data().len() {
            return Err(format!(
                "final {tensor}: the case has {} values, our model {}",
                expected.len(),
                value.data().len()
            ));
        }
        let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        let rel = tensor_diff(value.data(), &expected) / scale;
        tensor_count += 1;
        if rel.is_nan() || rel > tensor_tol {
            tensors_over += 1;
        }
        if rel.is_nan() || rel > worst_tensor.0 {
            worst_tensor = (rel, tensor);
        }
    }
    if tensors_over > 0 {
        failures.push(format!(
            "{tensors_over} of {tensor_count} final tensors differ from PyTorch's by more than \
             {WEIGHT_RTOL:.0e} of their largest entry (or than PyTorch's own re-runs); the \
             worst, {}, by {:.2e}",
            worst_tensor.1, worst_tensor.0
        ));
    }
    Ok(Outcome {
        steps: case.losses.len(),
        worst_loss,
        worst_tensor: worst_tensor.0,
        worst_share,
        failures,
    })
}

/// The largest absolute difference (NaN when either side has a NaN).
fn tensor_diff(ours: &[f32], theirs: &[f32]) -> f32 {
    ours.iter().zip(theirs).fold(0f32, |m, (a, b)| {
        let d = (a - b).abs();
        if d.is_nan() || m.is_nan() {
            f32::NAN
        } else {
            m.max(d)
        }
    })
}

fn trajectory_dir() -> PathBuf {
    match std::env::var_os(DIR_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/trajectory"),
    }
}

/// Every `*.json` in `dir`, sorted.
fn case_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| {
        panic!(
            "cannot read the trajectory directory {}: {e} (a relative {DIR_ENV} is taken \
             from the crate directory, where cargo runs the test)",
            dir.display()
        )
    });
    let mut cases: Vec<PathBuf> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert!(
        !cases.is_empty(),
        "no *.json trajectory cases in {}",
        dir.display()
    );
    cases
}

#[test]
fn training_follows_pytorch_step_by_step() {
    let dir = trajectory_dir();
    let cases = case_files(&dir);
    println!("trajectory directory: {}", dir.display());
    let mut datasets = HashMap::new();
    let mut failures = Vec::new();
    for path in &cases {
        let result = read_case(path).and_then(|case| {
            let data = training_set(&mut datasets, &case.dataset)?;
            Ok((case.name.clone(), replay(&case, data)?))
        });
        match result {
            Ok((name, outcome)) => {
                println!(
                    "{name}: {} steps, worst loss rel diff {:.2e}, worst tensor diff {:.2e} \
                     (at most {:.0}% of a step's loss tolerance used)",
                    outcome.steps,
                    outcome.worst_loss,
                    outcome.worst_tensor,
                    100.0 * outcome.worst_share
                );
                failures.extend(
                    outcome
                        .failures
                        .iter()
                        .map(|f| format!("{}: {f}", path.display())),
                );
            }
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) in the {} trajectory case(s) of {}:\n{}",
        failures.len(),
        cases.len(),
        dir.display(),
        failures.join("\n")
    );
}
