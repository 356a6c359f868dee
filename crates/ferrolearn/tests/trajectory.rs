//! Whole training runs against PyTorch. Each case in `tests/trajectory/` (written by
//! `generate.py` there) records a small model trained by PyTorch on MNIST: its initial
//! weights, the items of every batch, the loss of every step, and the final weights and
//! batch-norm statistics. The trainer, started from the same weights on the same batches
//! (shuffling off), must follow the same path, step after step. The single ops and optimizer
//! steps are checked by the reference test; this checks that they compose into the same run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ferrolearn::data::{load, DatasetName};
use ferrolearn::nn::spec::ModelSpec;
use ferrolearn::nn::Module;
use ferrolearn::train::{
    checkpoint::model_tensors, BatchProgress, OptimizerConfig, TrainConfig, TrainObserver, Trainer,
};
use serde::Deserialize;

/// Relative tolerance on each step's loss. Runs in f32 drift apart as rounding differences
/// grow, but over these 150 steps the losses agree to within 1e-6.
const LOSS_RTOL: f64 = 1e-5;
/// Tolerance on the final weights and statistics, relative to each tensor's largest entry
/// (they agree to within 5e-6).
const WEIGHT_RTOL: f32 = 1e-4;

#[derive(Deserialize)]
struct Case {
    name: String,
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
fn floats(hex: &str) -> Vec<f32> {
    assert_eq!(hex.len() % 8, 0, "hex of f32s has a length divisible by 8");
    hex.as_bytes()
        .chunks_exact(8)
        .map(|word| {
            let mut bytes = [0u8; 4];
            for (b, pair) in bytes.iter_mut().zip(word.chunks_exact(2)) {
                let pair = std::str::from_utf8(pair).expect("ASCII hex");
                *b = u8::from_str_radix(pair, 16).expect("hex digits");
            }
            f32::from_le_bytes(bytes)
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
fn load_init(model: &mut dyn Module, init: &BTreeMap<String, String>, case: &str) {
    let ours: Vec<String> = model_tensors(model).into_iter().map(|(n, _)| n).collect();
    let theirs: Vec<String> = init.keys().cloned().collect();
    let mut sorted = ours.clone();
    sorted.sort();
    assert_eq!(sorted, theirs, "{case}: tensor names differ");
    let set = |name: &str, data: &mut [f32]| {
        let values = floats(&init[name]);
        assert_eq!(values.len(), data.len(), "{case}: size of {name}");
        data.copy_from_slice(&values);
    };
    for (name, var) in model.parameters_mut() {
        set(&name, var.value_mut().data_mut());
    }
    for (name, tensor) in model.buffers_mut() {
        set(&name, tensor.data_mut());
    }
}

fn run_case(path: &Path) {
    let case: Case = serde_json::from_str(&std::fs::read_to_string(path).expect("readable case"))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = &case.name;
    let sets = load(DatasetName::Mnist, None).expect("bundled MNIST");
    let train = sets.train.subset(&case.items);
    let config = TrainConfig {
        epochs: 1,
        batch_size: case.batch_size,
        optimizer: case.optimizer.clone(),
        shuffle: false,
        ..TrainConfig::new("trajectory", case.model.clone(), "mnist", &train)
    };
    let mut trainer = Trainer::new(config, &train).expect("trainer");
    load_init(trainer.model_mut(), &case.init, name);
    let mut losses = StepLosses(Vec::new());
    trainer
        .fit(&train, None, None, &mut losses)
        .expect("training");

    assert_eq!(losses.0.len(), case.losses.len(), "{name}: step count");
    let mut worst_loss = 0f64;
    for (step, (ours, theirs)) in losses.0.iter().zip(&case.losses).enumerate() {
        let rel = (ours - theirs).abs() / theirs.abs().max(1e-3);
        assert!(
            rel <= LOSS_RTOL,
            "{name}: step {step}: loss {ours} vs PyTorch {theirs} (relative difference {rel:.2e})"
        );
        worst_loss = worst_loss.max(rel);
    }
    let mut worst_weight = 0f32;
    for (tensor, theirs) in model_tensors(trainer.model_mut()) {
        let expected = floats(&case.final_tensors[&tensor]);
        let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        let diff = tensor_diff(theirs.data(), &expected);
        assert!(
            diff <= WEIGHT_RTOL * scale,
            "{name}: final {tensor} differs from PyTorch's by {diff:.3e} (largest entry {scale:.3e})"
        );
        worst_weight = worst_weight.max(diff / scale);
    }
    println!(
        "{name}: {} steps, worst relative loss difference {worst_loss:.2e}, worst final tensor difference {worst_weight:.2e} of its largest entry",
        case.losses.len()
    );
}

fn tensor_diff(ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(theirs)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()))
}

#[test]
fn training_follows_pytorch_step_by_step() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/trajectory");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/trajectory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 3, "the three recorded runs");
    for case in &cases {
        run_case(case);
    }
}
