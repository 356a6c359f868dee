//! `ferrolearn bench`: the standard training workloads of the reference benchmarks (the same
//! recipes as PyTorch's scripts), reported as JSON for side-by-side comparison.
//!
//! MNIST workloads (`mlp`, `lenet`) train whole epochs, as w2_mlp.py and w3_lenet.py. CIFAR-10
//! workloads (`resnet20`, `fastnet`) time `--steps` training steps after three warm-up steps and
//! extrapolate an epoch, as w9_cifar.py does with `--steps`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::ValueEnum;

use super::stdout::print_json;
use ferrolearn::data::{load, DatasetName};
use ferrolearn::nn::models::{fastnet, lenet5, mlp, resnet};
use ferrolearn::nn::ActivationKind;
use ferrolearn::nn::Module;
use ferrolearn::train::{
    BatchProgress, EpochRecord, OptimizerConfig, TrainConfig, TrainObserver, Trainer,
};

/// The reference workloads.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Workload {
    /// MLP 784-256-128-10, ReLU, Adam lr 1e-3, batch 128 (5 epochs by default).
    Mlp,
    /// LeNet-5, SGD lr 0.01 momentum 0.9, batch 64 (3 epochs by default).
    Lenet,
    /// ResNet-20 on CIFAR-10, batch 128, SGD lr 0.1 momentum 0.9 weight decay 1e-4, random
    /// crop (4-pixel padding) and flip (timed steps).
    Resnet20,
    /// fastnet on CIFAR-10, batch 512, SGD Nesterov lr 0.2 momentum 0.85 weight decay 5e-4,
    /// random crop (2-pixel padding) and flip (timed steps).
    Fastnet,
}

/// Flags of `ferrolearn bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Which workload to run.
    #[arg(long, value_enum)]
    workload: Workload,
    /// Epochs of the MNIST workloads (default: 5 for mlp, 3 for lenet, as the reference
    /// scripts).
    #[arg(long)]
    epochs: Option<usize>,
    /// Timed training steps of the CIFAR workloads, after 3 warm-up steps.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Batch size of the CIFAR workloads (default: 128 for resnet20, 512 for fastnet).
    #[arg(long)]
    batch_size: Option<usize>,
    /// The dataset of the MNIST workloads (fashion-mnist for the Fashion-MNIST target); the
    /// CIFAR workloads always use cifar-10.
    #[arg(long, default_value = "mnist")]
    dataset: DatasetName,
    /// Directory holding the dataset's directory (default: $FERROLEARN_DATA, then the bundled data).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Seed of initialisation and shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print only the JSON object: no per-epoch lines on stderr (the JSON object is printed
    /// either way).
    #[arg(long)]
    json: bool,
}

/// Prints each epoch's time and training loss to stderr as it finishes, unless `quiet`.
struct EpochLog {
    quiet: bool,
}

impl TrainObserver for EpochLog {
    fn on_epoch(&mut self, r: &EpochRecord) {
        if self.quiet {
            return;
        }
        eprintln!(
            "epoch {}: {:.2}s, train loss {:.4}",
            r.epoch, r.seconds, r.train_loss
        );
    }
}

/// Runs the workload and prints one JSON object.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if matches!(args.workload, Workload::Resnet20 | Workload::Fastnet) {
        return run_steps(args);
    }
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
        Workload::Resnet20 | Workload::Fastnet => unreachable!("timed by run_steps"),
    };
    let epochs = args.epochs.unwrap_or(epochs);
    if epochs == 0 {
        anyhow::bail!("--epochs must be >= 1, got 0");
    }
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
        trainer.fit(&sets.train, None, None, &mut EpochLog { quiet: args.json })?;
        accuracies.push(trainer.evaluate(&sets.test)?.accuracy);
    }
    let seconds: Vec<f64> = trainer.history().iter().map(|r| r.seconds).collect();
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    print_json(
        "bench",
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
        }),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Records when each training step ended.
struct StepClock(Vec<Instant>);

impl TrainObserver for StepClock {
    fn on_batch(&mut self, _progress: &BatchProgress) {
        self.0.push(Instant::now());
    }
}

/// Steps run before the clock starts (allocator, caches and thread pool warm up).
const WARMUP_STEPS: usize = 3;

/// Times `--steps` training steps of a CIFAR-10 workload after the warm-up, with the
/// reference script's recipe and augmentation, and prints one JSON object.
fn run_steps(args: Args) -> anyhow::Result<ExitCode> {
    if args.steps == 0 {
        anyhow::bail!("--steps must be >= 1");
    }
    let sets = load(DatasetName::Cifar10, args.data_dir.as_deref())?;
    let classes = sets.train.num_classes();
    let (name, model, batch_size, crop_padding, optimizer) = match args.workload {
        Workload::Resnet20 => (
            "resnet20",
            resnet(20, classes)?,
            128,
            4,
            OptimizerConfig::Sgd {
                lr: 0.1,
                momentum: 0.9,
                nesterov: false,
                weight_decay: 1e-4,
            },
        ),
        _ => (
            "fastnet",
            fastnet(classes),
            512,
            2,
            OptimizerConfig::Sgd {
                lr: 0.2,
                momentum: 0.85,
                nesterov: true,
                weight_decay: 5e-4,
            },
        ),
    };
    let batch_size = args.batch_size.unwrap_or(batch_size);
    if batch_size == 0 {
        anyhow::bail!("--batch-size must be >= 1");
    }
    let steps_total = WARMUP_STEPS + args.steps;
    let needed = steps_total * batch_size;
    if needed > sets.train.len() {
        anyhow::bail!(
            "--steps {} at batch {batch_size} needs {needed} images, more than the {} of one epoch",
            args.steps,
            sets.train.len()
        );
    }
    let train = sets.train.subset(&(0..needed).collect::<Vec<_>>());
    let config = TrainConfig {
        batch_size,
        optimizer,
        normalize: true,
        augment_crop_padding: crop_padding,
        augment_flip: true,
        seed: args.seed,
        ..TrainConfig::new(name, model, "cifar-10", &train)
    };
    let mut trainer = Trainer::new(config, &train)?;
    let params = trainer.model().num_parameters();
    let mut clock = StepClock(Vec::with_capacity(steps_total));
    trainer.fit(&train, None, None, &mut clock)?;
    let timed = clock.0[steps_total - 1] - clock.0[WARMUP_STEPS - 1];
    let s_per_step = timed.as_secs_f64() / args.steps as f64;
    let steps_per_epoch = sets.train.len().div_ceil(batch_size);
    print_json(
        "bench",
        serde_json::json!({
            "workload": name,
            "params": params,
            "batch": batch_size,
            "threads": rayon::current_num_threads(),
            "steps_timed": args.steps,
            "s_per_step": s_per_step,
            "images_per_s": batch_size as f64 / s_per_step,
            "epoch_s_extrapolated": s_per_step * steps_per_epoch as f64,
            "train_loss": trainer.history().last().map(|r| r.train_loss),
            "peak_rss_mib": peak_rss_mib(),
        }),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of this process (VmHWM), in MiB; `None` where /proc is unavailable.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
