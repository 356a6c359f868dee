//! What a person chooses for a training run, by name: `ferrolearn train`'s flags and the
//! Python package's keyword arguments both become [`TrainOptions`], and only here do they
//! become a [`TrainConfig`].
//!
//! Every field is optional: `None` means "not chosen". [`TrainOptions::resolve`] refuses
//! choices the run would ignore ([`super::unused_options`]) and fills the rest from the
//! built-in model's recipe ([`super::recipe`]); the getters then give the general defaults
//! (LeNet-5's MNIST recipe) for whatever is still unchosen.

use serde::{Deserialize, Serialize};

use super::budget::parse_duration;
use super::config::{EmaConfig, OptimizerConfig, ScheduleConfig, TrainConfig};
use super::tta::Tta;
use crate::data::{Dataset, PaddingMode};
use crate::nn::models::{lenet5, mlp, named};
use crate::nn::spec::ModelSpec;
use crate::nn::ActivationKind;
use crate::{Error, Result};

/// The built-in architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuiltinModel {
    /// LeNet-5.
    Lenet5,
    /// A multilayer perceptron shaped by `hidden`, `activation`, `dropout`, `batch_norm`.
    Mlp,
    /// The CIFAR ResNet of `depth` layers.
    Resnet20,
    /// AlexNet shaped for 32x32 images.
    Alexnet,
    /// A small GoogLeNet.
    Inception,
    /// The airbench94 shape of w9_cifar.py.
    Fastnet,
    /// fastnet with airbench94's whitening stem and initialisation.
    Airbench,
}

impl BuiltinModel {
    /// The name `--model` takes.
    pub fn name(self) -> &'static str {
        match self {
            BuiltinModel::Lenet5 => "lenet5",
            BuiltinModel::Mlp => "mlp",
            BuiltinModel::Resnet20 => "resnet20",
            BuiltinModel::Alexnet => "alexnet",
            BuiltinModel::Inception => "inception",
            BuiltinModel::Fastnet => "fastnet",
            BuiltinModel::Airbench => "airbench",
        }
    }
}

/// The optimizers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerName {
    /// SGD with optional (Nesterov) momentum.
    Sgd,
    /// Adam.
    Adam,
    /// AdamW.
    Adamw,
    /// AdaGrad.
    Adagrad,
    /// RMSProp.
    Rmsprop,
}

impl OptimizerName {
    /// The name `--optimizer` takes.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerName::Sgd => "sgd",
            OptimizerName::Adam => "adam",
            OptimizerName::Adamw => "adamw",
            OptimizerName::Adagrad => "adagrad",
            OptimizerName::Rmsprop => "rmsprop",
        }
    }
}

/// The learning-rate schedules: per epoch (`none` to `plateau`) or per step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleName {
    /// Constant.
    None,
    /// x`gamma` every `step_size` epochs.
    Step,
    /// Cosine annealing over the run's epochs.
    Cosine,
    /// x`gamma` every epoch.
    Exponential,
    /// x`gamma` when the validation loss stalls.
    Plateau,
    /// Linear warm-up, then linear decay.
    WarmupLinear,
    /// Linear warm-up, then cosine decay.
    WarmupCosine,
    /// PyTorch's OneCycleLR.
    OneCycle,
    /// x`gamma` at fractions of the run.
    MultiStep,
}

impl ScheduleName {
    /// The name `--schedule` takes.
    pub fn name(self) -> &'static str {
        match self {
            ScheduleName::None => "none",
            ScheduleName::Step => "step",
            ScheduleName::Cosine => "cosine",
            ScheduleName::Exponential => "exponential",
            ScheduleName::Plateau => "plateau",
            ScheduleName::WarmupLinear => "warmup-linear",
            ScheduleName::WarmupCosine => "warmup-cosine",
            ScheduleName::OneCycle => "one-cycle",
            ScheduleName::MultiStep => "multi-step",
        }
    }
}

/// How messages spell an option: as a command-line flag (`--crop-padding`) or as a keyword
/// argument (`crop_padding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// `--crop-padding`, `--schedule none`.
    Flags,
    /// `crop_padding`, `schedule='none'`.
    Keywords,
}

impl Spelling {
    /// The option `id` (a field name of [`TrainOptions`]) as the user wrote it.
    pub fn option(self, id: &str) -> String {
        match (self, id) {
            (Spelling::Flags, "model_spec") => "--model-file".into(),
            (Spelling::Flags, "shuffle") => "--no-shuffle".into(),
            (Spelling::Flags, _) => format!("--{}", id.replace('_', "-")),
            (Spelling::Keywords, "model_spec") => "a model description".into(),
            (Spelling::Keywords, _) => id.into(),
        }
    }

    /// The option `id` set to the named `value`.
    pub fn setting(self, id: &str, value: &str) -> String {
        match self {
            Spelling::Flags => format!("{} {value}", self.option(id)),
            Spelling::Keywords => format!("{id}='{value}'"),
        }
    }
}

/// A training run's choices, each `None` until chosen (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainOptions {
    /// A built-in architecture (default `lenet5`).
    pub model: Option<BuiltinModel>,
    /// A model description instead of `model` (a model file's content).
    pub model_spec: Option<ModelSpec>,
    /// Epochs (3).
    pub epochs: Option<usize>,
    /// Mini-batch size (64).
    pub batch_size: Option<usize>,
    /// Optimizer (`sgd`).
    pub optimizer: Option<OptimizerName>,
    /// Learning rate (0.01).
    pub lr: Option<f64>,
    /// SGD momentum (0.9).
    pub momentum: Option<f64>,
    /// Nesterov momentum (off).
    pub nesterov: Option<bool>,
    /// Weight decay (0).
    pub weight_decay: Option<f64>,
    /// L1 penalty added to the loss (0).
    pub l1: Option<f64>,
    /// L2 penalty added to the loss (0).
    pub l2: Option<f64>,
    /// Learning-rate schedule (`none`).
    pub schedule: Option<ScheduleName>,
    /// `step`: epochs between reductions (10).
    pub step_size: Option<usize>,
    /// `step`, `exponential`, `plateau`, `multi-step`: the factor (0.1).
    pub gamma: Option<f64>,
    /// `plateau`: epochs without improvement before a reduction (2).
    pub plateau_patience: Option<usize>,
    /// `mlp`: hidden layer sizes (256, 128).
    pub hidden: Option<Vec<usize>>,
    /// `mlp`: activation name (`relu`).
    pub activation: Option<String>,
    /// `resnet20`: depth, any 6n+2 (20).
    pub depth: Option<usize>,
    /// `mlp`: dropout after each hidden layer (0).
    pub dropout: Option<f32>,
    /// `mlp`: batch norm after each hidden linear layer (off).
    pub batch_norm: Option<bool>,
    /// Fraction of the training set held out for validation (0.1).
    pub val_fraction: Option<f64>,
    /// Early stopping after this many epochs without validation improvement (never).
    pub patience: Option<usize>,
    /// Clip the global gradient norm (no clipping).
    pub clip_norm: Option<f64>,
    /// Per-channel normalisation (off: pixels / 255).
    pub normalize: Option<bool>,
    /// Random horizontal flips (off).
    pub augment_flip: Option<bool>,
    /// Reshuffle the training items every epoch (on).
    pub shuffle: Option<bool>,
    /// Random crops from images padded by this many pixels (0).
    pub crop_padding: Option<usize>,
    /// What the crop padding holds (`black`).
    pub padding_mode: Option<PaddingMode>,
    /// Flips alternate per image between epochs (off).
    pub alternating_flip: Option<bool>,
    /// Cutout square side (none).
    pub cutout: Option<usize>,
    /// Seed of every random choice (0).
    pub seed: Option<u64>,
    /// Only the first N training images (all).
    pub limit: Option<usize>,
    /// Label smoothing of the training loss (0).
    pub label_smoothing: Option<f64>,
    /// Per-step schedules: fraction of the run warming up (0.23, 0.05, 0.3 by schedule).
    pub warmup: Option<f64>,
    /// `warmup-linear` / `warmup-cosine`: last rate as a fraction of `lr` (0.07 and 0).
    pub final_lr_factor: Option<f64>,
    /// `warmup-linear` / `warmup-cosine`: first rate as a fraction of `lr` (0).
    pub warmup_start: Option<f64>,
    /// `multi-step`: fractions of the run where the rate is multiplied by `gamma` (0.5, 0.75).
    pub milestones: Option<Vec<f64>>,
    /// `one-cycle`: the first rate is `lr` divided by this (25).
    pub div_factor: Option<f64>,
    /// `one-cycle`: the last rate is the first divided by this (1e4).
    pub final_div_factor: Option<f64>,
    /// No weight decay on parameters of at most one dimension (off).
    pub no_decay_norm_bias: Option<bool>,
    /// Factor on batch-norm bias gradients (1).
    pub norm_bias_grad_scale: Option<f64>,
    /// Moving average of the weights with this decay per update (none).
    pub ema_decay: Option<f64>,
    /// Steps between moving-average updates (1).
    pub ema_every: Option<u64>,
    /// The moving average as airbench's lookahead (off).
    pub ema_lookahead: Option<bool>,
    /// Train a patch-whitening layer's bias during the first N epochs only (always).
    pub whitening_bias_epochs: Option<usize>,
    /// Test-time augmentation of the final evaluation (`none`).
    pub tta: Option<Tta>,
    /// Fit the run to this duration (`30m`, `2h`, `90s`; no budget).
    pub time_budget: Option<String>,
    /// Evaluate only the first N test images at the end (all).
    pub test_limit: Option<usize>,
}

/// A getter per option with a general default: the chosen value, else the default.
macro_rules! defaults {
    ($($name:ident: $ty:ty = $default:expr;)*) => {
        impl TrainOptions {
            $(
                #[doc = concat!("`", stringify!($name), "`, or its default.")]
                pub fn $name(&self) -> $ty {
                    self.$name.clone().unwrap_or_else(|| $default)
                }
            )*
        }
    };
}

defaults! {
    epochs: usize = 3;
    batch_size: usize = 64;
    optimizer: OptimizerName = OptimizerName::Sgd;
    lr: f64 = 0.01;
    momentum: f64 = 0.9;
    nesterov: bool = false;
    weight_decay: f64 = 0.0;
    l1: f64 = 0.0;
    l2: f64 = 0.0;
    schedule: ScheduleName = ScheduleName::None;
    step_size: usize = 10;
    gamma: f64 = 0.1;
    plateau_patience: usize = 2;
    hidden: Vec<usize> = vec![256, 128];
    activation: String = "relu".into();
    depth: usize = 20;
    dropout: f32 = 0.0;
    batch_norm: bool = false;
    val_fraction: f64 = 0.1;
    normalize: bool = false;
    augment_flip: bool = false;
    shuffle: bool = true;
    crop_padding: usize = 0;
    padding_mode: PaddingMode = PaddingMode::Black;
    alternating_flip: bool = false;
    seed: u64 = 0;
    label_smoothing: f64 = 0.0;
    warmup_start: f64 = 0.0;
    milestones: Vec<f64> = vec![0.5, 0.75];
    div_factor: f64 = 25.0;
    final_div_factor: f64 = 1e4;
    no_decay_norm_bias: bool = false;
    norm_bias_grad_scale: f64 = 1.0;
    ema_every: u64 = 1;
    ema_lookahead: bool = false;
    tta: Tta = Tta::None;
}

impl TrainOptions {
    /// Options for the built-in `model`, nothing else chosen.
    pub fn for_model(model: BuiltinModel) -> TrainOptions {
        TrainOptions {
            model: Some(model),
            ..TrainOptions::default()
        }
    }

    /// The built-in model trained (`lenet5` when none is chosen), unless a description is.
    pub fn builtin(&self) -> Option<BuiltinModel> {
        match self.model_spec {
            Some(_) => None,
            None => Some(self.model.unwrap_or(BuiltinModel::Lenet5)),
        }
    }

    /// The model's name: the library's (`resnet32` carries its depth), or `custom` for a
    /// description.
    pub fn model_name(&self) -> String {
        match self.builtin() {
            None => "custom".into(),
            Some(BuiltinModel::Resnet20) => format!("resnet{}", self.depth()),
            Some(m) => m.name().into(),
        }
    }

    /// Refuses the chosen options the run would ignore (naming each as `spelling` writes
    /// it), then fills every unchosen option the built-in model's recipe sets.
    pub fn resolve(&self, spelling: Spelling) -> Result<TrainOptions> {
        let resolved = self.with_recipe();
        super::unused_options::refuse_unused(self, &resolved, spelling)?;
        Ok(resolved)
    }

    /// The run's definition for these (resolved) options, training on `train` of the
    /// dataset named `dataset` (its item shape and classes are recorded).
    pub fn config(
        &self,
        dataset: &str,
        train: &Dataset,
        spelling: Spelling,
    ) -> Result<TrainConfig> {
        let bad = |id: &str, why: String| {
            Error::InvalidParameter(format!("{} {why}", spelling.option(id)))
        };
        let val_fraction = self.val_fraction();
        if !(0.0..1.0).contains(&val_fraction) {
            return Err(bad(
                "val_fraction",
                format!("must be in [0, 1), got {val_fraction}"),
            ));
        }
        if self.epochs() == 0 {
            return Err(bad("epochs", "must be >= 1".into()));
        }
        let classes = train.num_classes();
        let model = match (&self.model_spec, self.builtin()) {
            (Some(spec), _) => spec.clone(),
            (None, Some(BuiltinModel::Lenet5)) => lenet5(classes),
            (None, Some(BuiltinModel::Mlp)) => {
                let name = self.activation();
                let Some(activation) = ActivationKind::from_name(&name) else {
                    return Err(Error::InvalidParameter(format!(
                        "unknown activation {name:?}: use relu, leaky_relu, elu, selu, sigmoid, tanh or softplus"
                    )));
                };
                mlp(
                    &self.hidden(),
                    activation,
                    self.dropout(),
                    self.batch_norm(),
                    classes,
                )
            }
            (None, _) => named(&self.model_name(), classes)?,
        };
        let mut config = TrainConfig {
            train_limit: self.limit,
            epochs: self.epochs(),
            batch_size: self.batch_size(),
            optimizer: self.optimizer_config(),
            schedule: self.schedule_config(spelling)?,
            val_fraction,
            patience: self.patience,
            clip_norm: self.clip_norm,
            l1: self.l1(),
            l2: self.l2(),
            augment_crop_padding: self.crop_padding(),
            augment_padding_mode: self.padding_mode(),
            augment_flip: self.augment_flip(),
            augment_alternating_flip: self.alternating_flip(),
            augment_cutout: self.cutout,
            normalize: self.normalize(),
            shuffle: self.shuffle(),
            seed: self.seed(),
            label_smoothing: self.label_smoothing(),
            no_decay_norm_bias: self.no_decay_norm_bias(),
            norm_bias_grad_scale: self.norm_bias_grad_scale(),
            whitening_bias_epochs: self.whitening_bias_epochs,
            final_tta: self.tta(),
            time_budget_s: self
                .time_budget
                .as_deref()
                .map(parse_duration)
                .transpose()?,
            test_limit: self.test_limit,
            ..TrainConfig::new(&self.model_name(), model, dataset, train)
        };
        if self.ema_lookahead() && self.ema_decay.is_none() {
            return Err(bad(
                "ema_lookahead",
                format!(
                    "needs {} (airbench: 0.774 with {} 5)",
                    spelling.option("ema_decay"),
                    spelling.option("ema_every")
                ),
            ));
        }
        config.ema = self.ema_decay.map(|decay| EmaConfig {
            decay,
            every: self.ema_every(),
            lookahead: self.ema_lookahead(),
        });
        Ok(config)
    }

    fn optimizer_config(&self) -> OptimizerConfig {
        let (lr, weight_decay) = (self.lr(), self.weight_decay());
        match self.optimizer() {
            OptimizerName::Sgd => OptimizerConfig::Sgd {
                lr,
                momentum: self.momentum(),
                nesterov: self.nesterov(),
                weight_decay,
            },
            OptimizerName::Adam => OptimizerConfig::Adam { lr, weight_decay },
            OptimizerName::Adamw => OptimizerConfig::Adamw { lr, weight_decay },
            OptimizerName::Adagrad => OptimizerConfig::Adagrad { lr, weight_decay },
            OptimizerName::Rmsprop => OptimizerConfig::Rmsprop { lr, weight_decay },
        }
    }

    fn schedule_config(&self, spelling: Spelling) -> Result<ScheduleConfig> {
        let start_factor = self.warmup_start();
        Ok(match self.schedule() {
            ScheduleName::None => ScheduleConfig::Constant,
            ScheduleName::Step => ScheduleConfig::Step {
                step_size: self.step_size(),
                gamma: self.gamma(),
            },
            ScheduleName::Cosine => ScheduleConfig::Cosine {
                t_max: self.epochs(),
                eta_min: 0.0,
            },
            ScheduleName::Exponential => ScheduleConfig::Exponential {
                gamma: self.gamma(),
            },
            ScheduleName::Plateau => ScheduleConfig::Plateau {
                factor: self.gamma(),
                patience: self.plateau_patience(),
            },
            ScheduleName::WarmupLinear => ScheduleConfig::WarmupLinear {
                warmup: self.warmup.unwrap_or(0.23),
                final_factor: self.final_lr_factor.unwrap_or(0.07),
                start_factor,
            },
            ScheduleName::WarmupCosine => ScheduleConfig::WarmupCosine {
                warmup: self.warmup.unwrap_or(0.05),
                final_factor: self.final_lr_factor.unwrap_or(0.0),
                start_factor,
            },
            ScheduleName::OneCycle => ScheduleConfig::OneCycle {
                pct_start: self.warmup.unwrap_or(0.3),
                div_factor: self.div_factor(),
                final_div_factor: self.final_div_factor(),
                cosine: true,
            },
            ScheduleName::MultiStep => {
                let milestones = self.milestones();
                if milestones.is_empty() {
                    return Err(Error::InvalidParameter(format!(
                        "{} needs at least one fraction of the run",
                        spelling.option("milestones")
                    )));
                }
                ScheduleConfig::MultiStep {
                    milestones,
                    gamma: self.gamma(),
                }
            }
        })
    }
}
