//! `ferrolearn train`: trains a network on an image dataset, with a progress bar per epoch,
//! a checkpoint after each, and the run saved for `eval`, `predict` and `--resume`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use clap::ValueEnum;
use ferrolearn::data::{load, DatasetName, PaddingMode};
use ferrolearn::train::budget::WallClock;
use ferrolearn::train::memory::check_run_fits;
use ferrolearn::train::{
    fresh_run_dir, CheckpointEvery, RunData, Spelling, StopReason, TrainOptions, Trainer,
};
use ferrolearn::viz::plot_training_curves;

use super::recipe_args::RecipeArgs;
use super::train_progress::{curves, Progress};
use super::train_start::{extend_or_report, start_or_resume, Start};

/// The architectures `--model` names.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ModelName {
    /// LeNet-5 (conv 20 5x5, pool, conv 50 5x5, pool, linear 500, linear classes).
    Lenet5,
    /// A multilayer perceptron (`--hidden`, `--activation`, `--dropout`, `--batch-norm`).
    Mlp,
    /// CIFAR ResNet of `--depth` layers (20 by default; 32, 44, 56: any 6n+2).
    Resnet20,
    /// AlexNet shaped for 32x32 images (five convs with batch norm, three linear, dropout).
    Alexnet,
    /// A small GoogLeNet: Inception modules (1x1; 1x1->3x3; 1x1->3x3->3x3; pool->1x1).
    Inception,
    /// The airbench94 shape of w9_cifar.py (2x2 stem, three conv-pool-BN-GELU blocks).
    Fastnet,
    /// fastnet with airbench94's patch-whitening stem, identity-initialised convolutions and
    /// frozen batch-norm scales: the time-to-accuracy model (`--time-budget 30m`).
    Airbench,
}

/// Optimizers `--optimizer` names.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OptimizerName {
    /// Stochastic gradient descent (`--momentum`, `--nesterov`).
    Sgd,
    /// Adam (bias-corrected).
    Adam,
    /// AdamW (decoupled weight decay).
    Adamw,
    /// AdaGrad.
    Adagrad,
    /// RMSProp.
    Rmsprop,
}

/// Learning-rate schedules `--schedule` names.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ScheduleName {
    /// Constant learning rate.
    None,
    /// Multiply by `--gamma` every `--step-size` epochs.
    Step,
    /// Cosine annealing to 0 over the run's epochs.
    Cosine,
    /// Multiply by `--gamma` every epoch.
    Exponential,
    /// Multiply by `--gamma` when the validation loss stalls for `--plateau-patience` epochs.
    Plateau,
    /// Per step: linear warm-up over `--warmup` of the run, then linear decay to
    /// `--final-lr-factor` times `--lr`.
    WarmupLinear,
    /// Per step: linear warm-up, then cosine decay to `--final-lr-factor` times `--lr`.
    WarmupCosine,
    /// Per step: PyTorch's OneCycleLR peaking at `--lr` (`--warmup` is pct_start,
    /// `--div-factor`, `--final-div-factor`).
    OneCycle,
    /// Per step: multiply by `--gamma` at each of `--milestones` (fractions of the run).
    MultiStep,
}

/// `--padding-mode` values.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PaddingArg {
    /// 0 after normalisation: the mean colour.
    Zero,
    /// Mirrored about the edge pixel.
    Reflect,
    /// Black pixels (0 before normalisation).
    Black,
}

impl From<PaddingArg> for PaddingMode {
    fn from(p: PaddingArg) -> PaddingMode {
        match p {
            PaddingArg::Zero => PaddingMode::Zero,
            PaddingArg::Reflect => PaddingMode::Reflect,
            PaddingArg::Black => PaddingMode::Black,
        }
    }
}

/// Flags of `ferrolearn train`.
#[derive(clap::Args)]
pub struct Args {
    /// The architecture. The CIFAR-10 models bring a default recipe for every flag not given:
    /// resnet20: 60 epochs, batch 128, SGD lr 0.1 momentum 0.9 Nesterov, weight decay 5e-4
    /// (not on biases / batch norm), lr x0.1 at 50% and 75%, crop 4 + flip; alexnet and
    /// inception: 30 epochs, lr 0.05, 5% warm-up then cosine; fastnet: 10 epochs, batch 512,
    /// lr 0.2 momentum 0.85, label smoothing 0.2, warm-up 23% then linear decay, crop 2 +
    /// alternating flip, flip TTA. All normalised, zero-padded crops, no validation split.
    #[arg(long, value_enum, default_value = "lenet5", verbatim_doc_comment)]
    pub(super) model: ModelName,
    /// A JSON model description (a list of layers; see the README) instead of --model.
    #[arg(long, value_name = "FILE")]
    pub(super) model_file: Option<PathBuf>,
    /// The dataset: mnist (bundled), fashion-mnist or cifar-10.
    #[arg(long, default_value = "mnist")]
    pub(super) dataset: DatasetName,
    /// Directory holding the dataset's directory (default: $FERROLEARN_DATA, then the bundled data).
    #[arg(long, value_name = "DIR")]
    pub(super) data_dir: Option<PathBuf>,
    /// Epochs to train.
    #[arg(long, default_value_t = 3)]
    pub(super) epochs: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 64)]
    pub(super) batch_size: usize,
    /// The optimizer.
    #[arg(long, value_enum, default_value = "sgd")]
    pub(super) optimizer: OptimizerName,
    /// Learning rate.
    #[arg(long, default_value_t = 0.01)]
    pub(super) lr: f64,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.9)]
    pub(super) momentum: f64,
    /// Use Nesterov momentum (SGD).
    #[arg(long)]
    pub(super) nesterov: bool,
    /// Weight decay (L2 added to the gradient; decoupled for AdamW).
    #[arg(long, default_value_t = 0.0)]
    pub(super) weight_decay: f64,
    /// L1 penalty on weights, added to the loss.
    #[arg(long, default_value_t = 0.0)]
    pub(super) l1: f64,
    /// L2 penalty on weights (`l2/2 * sum w^2`), added to the loss.
    #[arg(long, default_value_t = 0.0)]
    pub(super) l2: f64,
    /// Learning-rate schedule.
    #[arg(long, value_enum, default_value = "none")]
    pub(super) schedule: ScheduleName,
    /// Epochs between reductions for --schedule step.
    #[arg(long, default_value_t = 10)]
    pub(super) step_size: usize,
    /// Factor of --schedule step, exponential and plateau.
    #[arg(long, default_value_t = 0.1)]
    pub(super) gamma: f64,
    /// Epochs without improvement before --schedule plateau reduces the rate.
    #[arg(long, default_value_t = 2)]
    pub(super) plateau_patience: usize,
    /// Hidden layer sizes of --model mlp, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256,128")]
    pub(super) hidden: Vec<usize>,
    /// Activation of --model mlp: relu, leaky_relu, elu, selu, sigmoid, tanh, softplus.
    #[arg(long, default_value = "relu")]
    pub(super) activation: String,
    /// Depth of --model resnet20: 20, 32, 44, 56 or any 6n+2.
    #[arg(long, default_value_t = 20)]
    pub(super) depth: usize,
    /// Dropout probability after each hidden layer of --model mlp.
    #[arg(long, default_value_t = 0.0)]
    pub(super) dropout: f32,
    /// Batch norm after each hidden linear layer of --model mlp.
    #[arg(long)]
    pub(super) batch_norm: bool,
    /// Fraction of the training set held out for validation.
    #[arg(long, default_value_t = 0.1)]
    pub(super) val_fraction: f64,
    /// Stop when the validation loss has not improved for this many epochs.
    #[arg(long)]
    pub(super) patience: Option<usize>,
    /// Clip the global gradient norm to this value.
    #[arg(long)]
    pub(super) clip_norm: Option<f64>,
    /// Normalise each channel with the training split's mean and std (off: pixels / 255).
    #[arg(long)]
    pub(super) normalize: bool,
    /// Random horizontal flips of training images.
    #[arg(long)]
    pub(super) augment_flip: bool,
    /// Take the training items in dataset order every epoch instead of reshuffling them.
    #[arg(long)]
    pub(super) no_shuffle: bool,
    /// Random crops after padding each side by this many pixels.
    #[arg(long, default_value_t = 0)]
    pub(super) crop_padding: usize,
    /// What the crop padding holds: zero (the mean colour, after normalisation), reflect,
    /// or black (pixel 0, as torchvision's RandomCrop).
    #[arg(long, value_enum, default_value = "black")]
    pub(super) padding_mode: PaddingArg,
    /// Flips alternate per image from one epoch to the next (airbench) instead of being
    /// drawn afresh; with --augment-flip.
    #[arg(long)]
    pub(super) alternating_flip: bool,
    /// Cutout: zero a square of this side at a random place in each training image.
    #[arg(long, value_name = "SIDE")]
    pub(super) cutout: Option<usize>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    pub(super) seed: u64,
    /// Run directory (default: runs/MODEL-DATASET, or runs/MODEL-DATASET-2, -3, ... when
    /// that one holds a run). A directory named here that holds another run is refused
    /// unless --overwrite.
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,
    /// Continue the run in --out from its last checkpoint (its config.json decides every
    /// setting; a larger --epochs trains a finished run further). With no run there yet,
    /// starts one from the flags.
    #[arg(long)]
    pub(super) resume: bool,
    /// Replace the run that --out holds (its files are deleted first).
    #[arg(long)]
    pub(super) overwrite: bool,
    /// Checkpoint inside an epoch every N steps (500) or every duration (90s, 5m, 1h), so
    /// a killed run loses at most that much; one is also written after every epoch.
    /// Ctrl-C (or SIGTERM) finishes the current step, checkpoints and stops; a second one
    /// stops at once.
    #[arg(long, value_name = "N|DURATION", default_value = "5m")]
    pub(super) checkpoint_every: CheckpointEvery,
    /// Use only the first N training images (quick experiments).
    #[arg(long)]
    pub(super) limit: Option<usize>,
    /// Print one JSON object with the final figures instead of progress.
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) recipe: RecipeArgs,
}

/// Trains, then reports the test accuracy.
pub fn run(args: Args, matches: Option<&clap::ArgMatches>) -> anyhow::Result<ExitCode> {
    let options = super::train_options::options(&args, matches)?.resolve(Spelling::Flags)?;
    let run_start = Instant::now();
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None if args.resume => default_run_dir(&options, args.dataset),
        None => fresh_run_dir(&default_run_dir(&options, args.dataset)),
    };
    let start = start_or_resume(&args, &out)?;
    let prior = match &start {
        Start::Resume(t) => Some(t.config()),
        Start::Restart(c) => Some(&**c),
        Start::Fresh => None,
    };
    let dataset: DatasetName = match prior {
        Some(c) => DatasetName::of_run(&c.dataset)?,
        None => args.dataset,
    };
    let sets = load(dataset, args.data_dir.as_deref())?;
    let limit = prior.map_or(options.limit, |c| c.train_limit);
    let (val_fraction, seed) = prior.map_or((options.val_fraction(), options.seed()), |c| {
        (c.val_fraction, c.seed)
    });
    let RunData { train, val, test } = RunData::new(
        sets,
        dataset.as_str(),
        limit,
        val_fraction,
        seed,
        Spelling::Flags,
    )?;
    let resumed = matches!(start, Start::Resume(_));
    let mut trainer = match start {
        Start::Resume(t) => *t,
        Start::Restart(c) => {
            check_run_fits(&c, train.len())?;
            Trainer::new(*c, &train)?
        }
        Start::Fresh => {
            let config = options.config(dataset.as_str(), &train, Spelling::Flags)?;
            check_run_fits(&config, train.len())?;
            Trainer::new(config, &train)?
        }
    };
    if resumed {
        extend_or_report(&mut trainer, &args, matches, &out)?;
    }
    trainer.set_checkpoint_every(args.checkpoint_every);
    trainer.set_stop_flag(stop_on_signals()?);
    let config = trainer.config().clone();
    if config.test_limit == Some(0) {
        bail!("--test-limit must be >= 1, got 0: nothing to evaluate the model on");
    }
    if !args.json {
        eprintln!(
            "{} on {} ({} train, {} validation, {} test images) -> {}",
            config.model_name,
            config.dataset,
            train.len(),
            val.as_ref().map_or(0, |v| v.len()),
            test.len(),
            out.display()
        );
        eprint!("{}", trainer.model());
    }
    let test_images = config.test_limit.map_or(test.len(), |n| n.min(test.len()));
    trainer.set_budget_clock(Box::new(WallClock(run_start)), test_images);
    let title = format!("{} on {}", config.model_name, config.dataset);
    let mut observer = Progress::new(args.json, config.epochs).drawing_curves(
        out.join("curves.png"),
        title.clone(),
        trainer.history().to_vec(),
    );
    let start = Instant::now();
    let stop = trainer.fit(&train, val.as_ref(), Some(&out), &mut observer);
    observer.finish();
    let stop = stop?;
    if stop == StopReason::Interrupted {
        eprintln!(
            "interrupted after step {} (epoch {}): checkpoint saved in {}\nresume with: ferrolearn train --resume --out {}",
            trainer.steps_done(),
            trainer.epochs_done() + 1,
            out.display(),
            out.display()
        );
        return Ok(ExitCode::from(130));
    }
    let test = trainer.evaluate_final(&test)?;
    let seconds_used = run_start.elapsed().as_secs_f64();
    let history = trainer.history();
    plot_training_curves(out.join("curves.png"), &curves(history), &title)?;
    let seconds_per_epoch =
        history.iter().map(|r| r.seconds).sum::<f64>() / history.len().max(1) as f64;
    if args.json {
        let last = history.last();
        super::stdout::print_json(
            "train",
            serde_json::json!({
                "run": out,
                "model": config.model_name,
                "dataset": config.dataset,
                "epochs": history.len(),
                "stopped": stop,
                "train_loss": last.map(|r| r.train_loss),
                "train_accuracy": last.map(|r| r.train_accuracy),
                "val_loss": last.and_then(|r| r.val_loss),
                "val_accuracy": last.and_then(|r| r.val_accuracy),
                "test_loss": test.loss,
                "test_accuracy": test.accuracy,
                "test_images": test_images,
                "tta": config.final_tta.name(),
                "steps": trainer.steps_done(),
                "time_budget_s": config.time_budget_s,
                "seconds_per_epoch": seconds_per_epoch,
                "seconds_training": start.elapsed().as_secs_f64(),
                "seconds_total": seconds_used,
            }),
        )?;
    } else {
        if stop == StopReason::EarlyStopped {
            println!(
                "stopped early: no validation improvement for {} epochs",
                config.patience.unwrap_or(0)
            );
        }
        if stop == StopReason::TimeBudget {
            println!("stopped early: the time budget ran out before the fitted step count");
        }
        println!(
            "test accuracy {:.2}% (loss {:.4}, {} images, tta {}) after {} epochs ({} steps); run saved in {}",
            100.0 * test.accuracy,
            test.loss,
            test_images,
            config.final_tta,
            history.len(),
            trainer.steps_done(),
            out.display()
        );
        if let Some(budget) = config.time_budget_s {
            println!(
                "time used {seconds_used:.1}s of a {budget:.0}s budget (training and final evaluation)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A flag that SIGINT and SIGTERM set (the trainer then checkpoints after the current step
/// and stops); a second signal ends the process at once.
fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registered first, so it sees the flag as it was before this signal set it.
        signal_hook::flag::register_conditional_shutdown(signal, 130, flag.clone())
            .context("cannot install the Ctrl-C handler")?;
        signal_hook::flag::register(signal, flag.clone())
            .context("cannot install the Ctrl-C handler")?;
    }
    Ok(flag)
}

/// `runs/MODEL-DATASET` (`custom` for a model file).
fn default_run_dir(options: &TrainOptions, dataset: DatasetName) -> PathBuf {
    Path::new("runs").join(format!("{}-{}", options.model_name(), dataset.as_str()))
}
