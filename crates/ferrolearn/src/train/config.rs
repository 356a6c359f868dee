//! Everything that defines a training run, saved as `config.json` so a run can be rebuilt,
//! resumed and evaluated from its directory alone.

use serde::{Deserialize, Serialize};

use super::tta::Tta;
use crate::data::{AugmentConfig, Dataset, FlipMode, PaddingMode};
use crate::nn::spec::ModelSpec;
use crate::nn::Sequential;
use crate::optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, Anneal, CosineAnnealingLr, Ema, ExponentialLr,
    MultiStepFractions, OneCycleConfig, OneCycleLr, Optimizer, ReduceLrOnPlateau,
    ReduceLrOnPlateauConfig, RmsProp, RmsPropConfig, Schedule, ScheduleKind, Sgd, SgdConfig,
    StepLr, StepSchedule, WarmupCosine, WarmupLinear,
};
use crate::seeding::{stream, Purpose};
use crate::Result;

/// The optimizer and its hyperparameters (PyTorch's names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// SGD with optional (Nesterov) momentum.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum factor (0 = plain SGD).
        momentum: f64,
        /// Nesterov momentum.
        nesterov: bool,
        /// L2 weight decay added to the gradient.
        weight_decay: f64,
    },
    /// Adam with L2 weight decay added to the gradient.
    Adam {
        /// Learning rate.
        lr: f64,
        /// L2 weight decay.
        weight_decay: f64,
    },
    /// AdamW: decoupled weight decay.
    Adamw {
        /// Learning rate.
        lr: f64,
        /// Decoupled weight decay.
        weight_decay: f64,
    },
    /// AdaGrad.
    Adagrad {
        /// Learning rate.
        lr: f64,
        /// L2 weight decay.
        weight_decay: f64,
    },
    /// RMSProp.
    Rmsprop {
        /// Learning rate.
        lr: f64,
        /// L2 weight decay.
        weight_decay: f64,
    },
}

impl OptimizerConfig {
    /// The configured (base) learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::Adamw { lr, .. }
            | OptimizerConfig::Adagrad { lr, .. }
            | OptimizerConfig::Rmsprop { lr, .. } => lr,
        }
    }

    /// Builds the optimizer, validating every hyperparameter.
    pub fn build(&self) -> Result<Box<dyn Optimizer + Send>> {
        Ok(match *self {
            OptimizerConfig::Sgd {
                lr,
                momentum,
                nesterov,
                weight_decay,
            } => Box::new(Sgd::new(SgdConfig {
                lr,
                momentum,
                nesterov,
                weight_decay,
                ..SgdConfig::default()
            })?),
            OptimizerConfig::Adam { lr, weight_decay } => Box::new(Adam::new(AdamConfig {
                lr,
                weight_decay,
                ..AdamConfig::default()
            })?),
            OptimizerConfig::Adamw { lr, weight_decay } => Box::new(AdamW::new(AdamConfig {
                lr,
                weight_decay,
                ..AdamConfig::adamw_default()
            })?),
            OptimizerConfig::Adagrad { lr, weight_decay } => {
                Box::new(Adagrad::new(AdagradConfig {
                    lr,
                    weight_decay,
                    ..AdagradConfig::default()
                })?)
            }
            OptimizerConfig::Rmsprop { lr, weight_decay } => {
                Box::new(RmsProp::new(RmsPropConfig {
                    lr,
                    weight_decay,
                    ..RmsPropConfig::default()
                })?)
            }
        })
    }
}

/// The learning-rate schedule: the first five kinds are stepped once per epoch, the others
/// set the rate before every optimizer step from the step index `k` and the run's total
/// steps `T` (see [`crate::optim::StepSchedule`]); their rates are fractions of the
/// optimizer's `lr` (the peak).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum ScheduleConfig {
    /// A constant rate.
    Constant,
    /// Multiply by `gamma` every `step_size` epochs.
    Step {
        /// Epochs between reductions.
        step_size: usize,
        /// Factor per reduction.
        gamma: f64,
    },
    /// Cosine annealing from the base rate to `eta_min` over `t_max` epochs.
    Cosine {
        /// Epochs of one half cosine period.
        t_max: usize,
        /// The final rate.
        eta_min: f64,
    },
    /// Multiply by `gamma` every epoch.
    Exponential {
        /// Factor per epoch.
        gamma: f64,
    },
    /// Multiply by `factor` when the validation loss stops improving for `patience` epochs.
    Plateau {
        /// Factor per reduction.
        factor: f64,
        /// Epochs without improvement tolerated.
        patience: usize,
    },
    /// Per step: linear warm-up over the first `warmup` of the run, then linear decay to
    /// `final_factor` times the peak ([`WarmupLinear`]).
    WarmupLinear {
        /// Fraction of the run spent warming up.
        warmup: f64,
        /// The last rate as a fraction of the peak.
        final_factor: f64,
        /// The first rate as a fraction of the peak (0 in runs saved before it existed).
        #[serde(default)]
        start_factor: f64,
    },
    /// Per step: linear warm-up, then cosine decay to `final_factor` times the peak
    /// ([`WarmupCosine`]).
    WarmupCosine {
        /// Fraction of the run spent warming up.
        warmup: f64,
        /// The last rate as a fraction of the peak.
        final_factor: f64,
        /// The first rate as a fraction of the peak (0 in runs saved before it existed).
        #[serde(default)]
        start_factor: f64,
    },
    /// Per step: PyTorch's `OneCycleLR` with the optimizer's rate as `max_lr` ([`OneCycleLr`]).
    OneCycle {
        /// Fraction of the run spent raising the rate.
        pct_start: f64,
        /// The first rate is the peak divided by this.
        div_factor: f64,
        /// The last rate is the first divided by this.
        final_div_factor: f64,
        /// Cosine (true) or linear annealing.
        cosine: bool,
    },
    /// Per step: multiply by `gamma` at each milestone, given as a fraction of the run
    /// ([`MultiStepFractions`]).
    MultiStep {
        /// Fractions of the run, in `[0, 1)`.
        milestones: Vec<f64>,
        /// Factor per milestone.
        gamma: f64,
    },
}

impl ScheduleConfig {
    /// Builds the per-epoch schedule for a base rate: a constant one for the per-step kinds
    /// (whose rates come from [`ScheduleConfig::build_per_step`]).
    pub fn build(&self, base_lr: f64) -> Result<Schedule> {
        let kind = match *self {
            ScheduleConfig::Constant
            | ScheduleConfig::WarmupLinear { .. }
            | ScheduleConfig::WarmupCosine { .. }
            | ScheduleConfig::OneCycle { .. }
            | ScheduleConfig::MultiStep { .. } => ScheduleKind::Constant(base_lr),
            ScheduleConfig::Step { step_size, gamma } => {
                ScheduleKind::Step(StepLr::new(base_lr, step_size, gamma)?)
            }
            ScheduleConfig::Cosine { t_max, eta_min } => {
                ScheduleKind::Cosine(CosineAnnealingLr::new(base_lr, t_max, eta_min)?)
            }
            ScheduleConfig::Exponential { gamma } => {
                ScheduleKind::Exponential(ExponentialLr::new(base_lr, gamma)?)
            }
            ScheduleConfig::Plateau { factor, patience } => {
                ScheduleKind::Plateau(ReduceLrOnPlateau::new(
                    base_lr,
                    ReduceLrOnPlateauConfig {
                        factor,
                        patience,
                        ..ReduceLrOnPlateauConfig::default()
                    },
                )?)
            }
        };
        Ok(Schedule::new(kind))
    }

    /// The per-step schedule peaking at `peak_lr`, or `None` for the per-epoch kinds.
    pub fn build_per_step(&self, peak_lr: f64) -> Result<Option<StepSchedule>> {
        Ok(Some(match self {
            ScheduleConfig::WarmupLinear {
                warmup,
                final_factor,
                start_factor,
            } => StepSchedule::WarmupLinear(
                WarmupLinear::new(peak_lr, *warmup, *final_factor)?.starting_at(*start_factor)?,
            ),
            ScheduleConfig::WarmupCosine {
                warmup,
                final_factor,
                start_factor,
            } => StepSchedule::WarmupCosine(
                WarmupCosine::new(peak_lr, *warmup, *final_factor)?.starting_at(*start_factor)?,
            ),
            ScheduleConfig::OneCycle {
                pct_start,
                div_factor,
                final_div_factor,
                cosine,
            } => StepSchedule::OneCycle(OneCycleLr::new(
                peak_lr,
                OneCycleConfig {
                    pct_start: *pct_start,
                    div_factor: *div_factor,
                    final_div_factor: *final_div_factor,
                    anneal: if *cosine { Anneal::Cos } else { Anneal::Linear },
                    three_phase: false,
                },
            )?),
            ScheduleConfig::MultiStep { milestones, gamma } => StepSchedule::MultiStep(
                MultiStepFractions::new(peak_lr, milestones.clone(), *gamma)?,
            ),
            _ => return Ok(None),
        }))
    }
}

/// The moving average of weights used for evaluation ([`Ema`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmaConfig {
    /// Decay per update, in `[0, 1)`.
    pub decay: f64,
    /// Optimizer steps between updates (>= 1).
    pub every: u64,
    /// Lookahead (airbench's): the decay of the update after step `t` of `T` is
    /// `decay * (t / T)^3`, each update is written back into the live weights, and training
    /// ends on the average.
    #[serde(default)]
    pub lookahead: bool,
}

impl EmaConfig {
    /// Builds the (empty) average, validating the settings.
    pub fn build(&self) -> Result<Ema> {
        Ema::new(self.decay, self.every)
    }
}

/// Runs saved before the padding choice existed padded crops with black pixels.
fn black_padding() -> PaddingMode {
    PaddingMode::Black
}

/// Runs saved before `shuffle` existed shuffled.
fn unit_scale() -> f64 {
    1.0
}

fn shuffle_by_default() -> bool {
    true
}

/// A complete training run's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The model's name (`lenet5`, `mlp`, or `custom` for a model file), for display.
    pub model_name: String,
    /// The architecture.
    pub model: ModelSpec,
    /// The dataset (`mnist`, `fashion-mnist`, `cifar-10`).
    pub dataset: String,
    /// Shape of one input `[C, H, W]`.
    pub input_shape: Vec<usize>,
    /// Class names, in label order.
    pub class_names: Vec<String>,
    /// Only the first this-many training images were used (quick experiments, tests).
    pub train_limit: Option<usize>,
    /// Epochs to train.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// The optimizer.
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule.
    pub schedule: ScheduleConfig,
    /// Fraction of the training set held out for validation (0 for none).
    pub val_fraction: f64,
    /// Stop when the validation loss has not improved for this many epochs (None: never).
    pub patience: Option<usize>,
    /// Clip the global gradient norm to this value (None: no clipping).
    pub clip_norm: Option<f64>,
    /// L1 penalty coefficient on weights, added to the loss.
    pub l1: f64,
    /// L2 penalty coefficient on weights, added to the loss (`l2 * sum w^2`).
    pub l2: f64,
    /// Random crops of training images from copies padded by this many pixels (0: none).
    pub augment_crop_padding: usize,
    /// What the crop padding holds (runs saved before the choice existed padded black).
    #[serde(default = "black_padding")]
    pub augment_padding_mode: PaddingMode,
    /// Random horizontal flips of training images.
    pub augment_flip: bool,
    /// Flips alternate per image from epoch to epoch instead of being drawn afresh
    /// (airbench's alternating flip; only with `augment_flip`).
    #[serde(default)]
    pub augment_alternating_flip: bool,
    /// Cutout: a square of this side zeroed at a random place in each training image.
    #[serde(default)]
    pub augment_cutout: Option<usize>,
    /// Per-channel normalisation statistics from the training split.
    pub normalize: bool,
    /// Visit the training items in a new random order each epoch (as PyTorch's
    /// `DataLoader(shuffle=True)`); off, every epoch takes them in dataset order.
    #[serde(default = "shuffle_by_default")]
    pub shuffle: bool,
    /// The seed of every random choice (initialisation, split, shuffling, dropout).
    pub seed: u64,
    /// Label smoothing of the training loss, in `[0, 1]` (0: none), as PyTorch's
    /// `F.cross_entropy(..., label_smoothing)`. Evaluation losses are never smoothed.
    #[serde(default)]
    pub label_smoothing: f64,
    /// Exclude parameters with at most one dimension (biases, batch-norm scales and shifts)
    /// from weight decay, as a PyTorch parameter group with `weight_decay=0`.
    #[serde(default)]
    pub no_decay_norm_bias: bool,
    /// Multiply the gradients of batch-norm biases by this before each optimizer step
    /// (airbench's `bias_scaler`, 64: with SGD it is a learning rate this many times larger
    /// for them at the same decay per step); 1 leaves them alone.
    #[serde(default = "unit_scale")]
    pub norm_bias_grad_scale: f64,
    /// Evaluate (validation, final test, `eval`, `predict`) with a moving average of the
    /// weights; `None`: the latest weights.
    #[serde(default)]
    pub ema: Option<EmaConfig>,
    /// Train the bias of a patch-whitening first layer during the first this many epochs
    /// only, then freeze it (airbench: 3); `None` trains it throughout.
    #[serde(default)]
    pub whitening_bias_epochs: Option<usize>,
    /// Test-time augmentation of the final evaluation at the end of training (and the
    /// default of `ferrolearn eval`).
    #[serde(default)]
    pub final_tta: Tta,
    /// Fit the number of training steps so that training and the final evaluation end
    /// within this many seconds (`epochs` then only sets the first steps' provisional
    /// schedule length).
    #[serde(default)]
    pub time_budget_s: Option<f64>,
    /// Only the first this-many test images are evaluated at the end.
    #[serde(default)]
    pub test_limit: Option<usize>,
}

impl TrainConfig {
    /// The augmentation of training batches these settings describe.
    pub fn augment(&self) -> AugmentConfig {
        let flip = match (self.augment_flip, self.augment_alternating_flip) {
            (false, _) => FlipMode::None,
            (true, false) => FlipMode::Random,
            (true, true) => FlipMode::Alternating,
        };
        AugmentConfig {
            crop_padding: self.augment_crop_padding,
            padding_mode: self.augment_padding_mode,
            flip,
            cutout: self.augment_cutout,
        }
    }

    /// The model for this run's input shape and classes, its initial weights drawn from the
    /// seed's initialisation stream (what a fresh run starts from; a resumed or loaded run
    /// then overwrites them from its checkpoint).
    pub fn build_model(&self) -> Result<Sequential> {
        let mut rng = stream(self.seed, Purpose::Init, 0);
        self.model
            .build(&self.input_shape, self.class_names.len(), &mut rng)
    }

    /// A run of `model` on `train` (whose item shape and class names it records) with the
    /// LeNet-5 recipe's defaults: one epoch, batch 64, SGD lr 0.01 momentum 0.9, constant
    /// rate, no validation split, no penalties or augmentation, pixels scaled to [0, 1],
    /// seed 0, no label smoothing, EMA, test-time augmentation or time budget. Override
    /// fields with struct-update syntax.
    pub fn new(model_name: &str, model: ModelSpec, dataset: &str, train: &Dataset) -> TrainConfig {
        TrainConfig {
            model_name: model_name.to_string(),
            model,
            dataset: dataset.to_string(),
            input_shape: train.item_shape().to_vec(),
            class_names: train.class_names().to_vec(),
            train_limit: None,
            epochs: 1,
            batch_size: 64,
            optimizer: OptimizerConfig::Sgd {
                lr: 0.01,
                momentum: 0.9,
                nesterov: false,
                weight_decay: 0.0,
            },
            schedule: ScheduleConfig::Constant,
            val_fraction: 0.0,
            patience: None,
            clip_norm: None,
            l1: 0.0,
            l2: 0.0,
            augment_crop_padding: 0,
            augment_padding_mode: PaddingMode::Black,
            augment_flip: false,
            augment_alternating_flip: false,
            augment_cutout: None,
            normalize: false,
            shuffle: true,
            seed: 0,
            label_smoothing: 0.0,
            no_decay_norm_bias: false,
            norm_bias_grad_scale: 1.0,
            whitening_bias_epochs: None,
            ema: None,
            final_tta: Tta::None,
            time_budget_s: None,
            test_limit: None,
        }
    }
}
