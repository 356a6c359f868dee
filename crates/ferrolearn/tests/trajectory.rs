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
//! `NAME: N steps, worst loss rel diff X, worst tensor diff Y`.
//!
//! `tests/trajectory/chaotic/` holds runs of batch norm + ReLU nets (ResNet-20 among them)
//! that only bit-identical arithmetic could follow within these tolerances: a rounding
//! difference flips a ReLU near zero, which moves some gradients by ~1e-2 of their size (see
//! `generate.py`). Replay them with `FERROLEARN_TRAJECTORY_DIR` pointing there.

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
    let mut worst_loss = 0f64;
    let mut over = Vec::new();
    for (step, (ours, theirs)) in losses.0.iter().zip(&case.losses).enumerate() {
        let rel = (ours - theirs).abs() / theirs.abs().max(1e-3);
        if rel > LOSS_RTOL {
            over.push((step, *ours, *theirs, rel));
        }
        worst_loss = worst_loss.max(rel);
    }
    if let Some(&(step, ours, theirs, rel)) = over.first() {
        failures.push(format!(
            "loss over tolerance at {} of {} steps, first at step {step}: {ours} vs PyTorch \
             {theirs} (relative difference {rel:.2e} > {LOSS_RTOL:.0e})",
            over.len(),
            case.losses.len()
        ));
    }
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
        if rel.is_nan() || rel > WEIGHT_RTOL {
            tensors_over += 1;
        }
        if rel.is_nan() || rel > worst_tensor.0 {
            worst_tensor = (rel, tensor);
        }
    }
    if tensors_over > 0 {
        failures.push(format!(
            "{tensors_over} of {tensor_count} final tensors differ from PyTorch's by more than \
             {WEIGHT_RTOL:.0e} of their largest entry; the worst, {}, by {:.2e}",
            worst_tensor.1, worst_tensor.0
        ));
    }
    Ok(Outcome {
        steps: case.losses.len(),
        worst_loss,
        worst_tensor: worst_tensor.0,
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
                    "{name}: {} steps, worst loss rel diff {:.2e}, worst tensor diff {:.2e}",
                    outcome.steps, outcome.worst_loss, outcome.worst_tensor
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
