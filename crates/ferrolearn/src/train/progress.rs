//! What a training run reports: per-batch progress, per-epoch figures and why it stopped.

use serde::{Deserialize, Serialize};

/// The figures of one finished epoch (one row of `metrics.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Training accuracy over the epoch (in training mode, as the batches were seen).
    pub train_accuracy: f64,
    /// Validation loss, when a validation split exists.
    pub val_loss: Option<f64>,
    /// Validation accuracy, when a validation split exists.
    pub val_accuracy: Option<f64>,
    /// The learning rate the epoch trained with.
    pub lr: f64,
    /// Wall-clock seconds of the training part of the epoch.
    pub seconds: f64,
}

/// Progress within an epoch, reported after every batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchProgress {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Batches done in this epoch.
    pub batches_done: usize,
    /// Batches in this epoch.
    pub batches_total: usize,
    /// Mean loss of this batch.
    pub batch_loss: f64,
    /// Mean loss so far this epoch.
    pub running_loss: f64,
    /// Accuracy so far this epoch.
    pub running_accuracy: f64,
    /// Images processed so far this epoch.
    pub images: usize,
}

/// Receives progress from [`Trainer::fit`](super::Trainer::fit): the CLI draws progress bars
/// with it.
pub trait TrainObserver {
    /// Called after every batch.
    fn on_batch(&mut self, _progress: &BatchProgress) {}
    /// Called when an epoch is finished and checkpointed.
    fn on_epoch(&mut self, _record: &EpochRecord) {}
}

/// An observer that ignores everything (library use, tests).
pub struct Silent;

impl TrainObserver for Silent {}

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// All configured epochs ran.
    Completed,
    /// The validation loss stopped improving for `patience` epochs.
    EarlyStopped,
    /// The time budget ran out before the fitted step count (the speed dropped after it
    /// was measured).
    TimeBudget,
    /// A stop was asked for (the flag of [`Trainer::set_stop_flag`](super::Trainer::set_stop_flag),
    /// Ctrl-C in the CLI): the run was checkpointed after the current step and can be resumed.
    Interrupted,
}

impl StopReason {
    /// The reason's name as runs record it (`completed`, `early_stopped`, `time_budget`,
    /// `interrupted`).
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::EarlyStopped => "early_stopped",
            StopReason::TimeBudget => "time_budget",
            StopReason::Interrupted => "interrupted",
        }
    }
}
