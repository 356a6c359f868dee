//! Everything that defines a training run, saved as `config.json` so a run can be rebuilt,
//! resumed and evaluated from its directory alone.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::nn::spec::ModelSpec;
use crate::nn::Sequential;
use crate::optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, CosineAnnealingLr, ExponentialLr, Optimizer,
    ReduceLrOnPlateau, ReduceLrOnPlateauConfig, RmsProp, RmsPropConfig, Schedule, ScheduleKind,
    Sgd, SgdConfig, StepLr,
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

/// The learning-rate schedule, stepped once per epoch.
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
}

impl ScheduleConfig {
    /// Builds the schedule for a base rate.
    pub fn build(&self, base_lr: f64) -> Result<Schedule> {
        let kind = match *self {
            ScheduleConfig::Constant => ScheduleKind::Constant(base_lr),
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
}

/// Runs saved before `shuffle` existed shuffled.
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
    /// Random crop padding and horizontal flips for training batches.
    pub augment_crop_padding: usize,
    /// Random horizontal flips of training images.
    pub augment_flip: bool,
    /// Per-channel normalisation statistics from the training split.
    pub normalize: bool,
    /// Visit the training items in a new random order each epoch (as PyTorch's
    /// `DataLoader(shuffle=True)`); off, every epoch takes them in dataset order.
    #[serde(default = "shuffle_by_default")]
    pub shuffle: bool,
    /// The seed of every random choice (initialisation, split, shuffling, dropout).
    pub seed: u64,
}

impl TrainConfig {
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
    /// seed 0. Override fields with struct-update syntax.
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
            augment_flip: false,
            normalize: false,
            shuffle: true,
            seed: 0,
        }
    }
}
