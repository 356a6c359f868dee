//! `ferrolearn bench`: the standard training workloads of the reference benchmarks (the same
//! recipes as PyTorch's scripts), reported as JSON for side-by-side comparison.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::ValueEnum;
use ferrolearn::data::{load, DatasetName};
use ferrolearn::nn::models::{lenet5, mlp};
use ferrolearn::nn::ActivationKind;
use ferrolearn::train::{EpochRecord, OptimizerConfig, TrainConfig, TrainObserver, Trainer};

/// The reference workloads.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Workload {
    /// MLP 784-256-128-10, ReLU, Adam lr 1e-3, batch 128 (5 epochs by default).
    Mlp,
    /// LeNet-5, SGD lr 0.01 momentum 0.9, batch 64 (3 epochs by default).
    Lenet,
}

/// Flags of `ferrolearn bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Which workload to run.
    #[arg(long, value_enum)]
    workload: Workload,
    /// Epochs (default: 5 for mlp, 3 for lenet, as the reference scripts).
    #[arg(long)]
    epochs: Option<usize>,
    /// The dataset (MNIST as the reference; fashion-mnist for the Fashion-MNIST target).
    #[arg(long, default_value = "mnist")]
    dataset: DatasetName,
    /// Directory holding the dataset's directory (default: $FERROLEARN_DATA, then the bundled data).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Seed of initialisation and shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Prints each epoch's time and test accuracy to stderr as it finishes.
struct EpochLog;

impl TrainObserver for EpochLog {
    fn on_epoch(&mut self, r: &EpochRecord) {
        eprintln!(
            "epoch {}: {:.2}s, train loss {:.4}",
            r.epoch, r.seconds, r.train_loss
        );
    }
}

/// Runs the workload and prints one JSON object.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let sets = load(args.dataset, args.data_dir.as_deref())?;
    let classes = sets.train.num_classes();
    let (name, model, epochs, batch_size, optimizer) = match args.workload {
        Workload::Mlp => (
            "mlp",
            mlp(&[256, 128], ActivationKind::Relu, 0.0, false, classes),
            5,
            128,
            OptimizerConfig::Adam {
                lr: 1e-3,
                weight_decay: 0.0,
            },
        ),
        Workload::Lenet => (
            "lenet",
            lenet5(classes),
            3,
            64,
            OptimizerConfig::Sgd {
                lr: 0.01,
                momentum: 0.9,
                nesterov: false,
                weight_decay: 0.0,
            },
        ),
    };
    let epochs = args.epochs.unwrap_or(epochs);
    let config = TrainConfig {
        batch_size,
        optimizer,
        seed: args.seed,
        ..TrainConfig::new(name, model, args.dataset.as_str(), &sets.train)
    };
    let mut trainer = Trainer::new(config, &sets.train)?;
    let mut accuracies = Vec::new();
    let start = Instant::now();
    for epoch in 1..=epochs {
        trainer.extend_epochs(epoch);
        trainer.fit(&sets.train, None, None, &mut EpochLog)?;
        accuracies.push(trainer.evaluate(&sets.test)?.accuracy);
    }
    let seconds: Vec<f64> = trainer.history().iter().map(|r| r.seconds).collect();
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "workload": name,
            "dataset": args.dataset.as_str(),
            "epochs": epochs,
            "batch_size": batch_size,
            "threads": rayon::current_num_threads(),
            "epoch_seconds": seconds,
            "epoch_seconds_median": median,
            "epoch_seconds_min": sorted[0],
            "images_per_second": sets.train.len() as f64 / median,
            "test_accuracy_per_epoch": accuracies,
            "test_accuracy": accuracies.last(),
            "peak_rss_mib": peak_rss_mib(),
            "wall_seconds": start.elapsed().as_secs_f64(),
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of this process (VmHWM), in MiB; `None` where /proc is unavailable.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
