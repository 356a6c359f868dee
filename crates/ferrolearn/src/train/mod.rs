//! The training loop: epochs, validation, schedules, early stopping, checkpoints and resume,
//! plus what fast recipes add: label smoothing, per-step schedules, a moving average of the
//! weights for evaluation, test-time augmentation and a time budget.
//!
//! [`TrainConfig`] defines a run; [`Trainer::new`] builds it, [`Trainer::fit`] trains and
//! checkpoints into the run directory after each epoch, and [`Trainer::resume`] continues an
//! interrupted run so that it ends with the same weights as an uninterrupted one (same seed,
//! same thread count): shuffling, augmentation and dropout draw from streams fixed by the seed
//! and the epoch number, per-step schedules depend only on the step index and the run's total
//! steps, and the moving average is saved with the checkpoint.

mod averaged;
pub mod budget;
pub mod checkpoint;
mod checkpoint_every;
mod config;
mod evaluate;
pub mod memory;
mod partial_epoch;
mod progress;
#[cfg(test)]
mod resume_tests;
mod run_dir;
mod run_state;
mod setup;
mod trainer;
#[cfg(test)]
mod trainer_tests;
pub mod tta;
mod whiten;

pub use checkpoint_every::CheckpointEvery;
pub use config::{EmaConfig, OptimizerConfig, ScheduleConfig, TrainConfig};
pub use evaluate::{class_probabilities, evaluate, evaluate_with, first_items, Evaluation};
pub use progress::{BatchProgress, EpochRecord, Silent, StopReason, TrainObserver};
pub use run_dir::{fresh_run_dir, load_run, prepare_run_dir, write_metrics_csv, LoadedRun};
pub use trainer::Trainer;
pub use tta::Tta;
