//! The training loop: epochs, validation, schedules, early stopping, checkpoints and resume,
//! plus what fast recipes add: label smoothing, per-step schedules, a moving average of the
//! weights for evaluation, test-time augmentation and a time budget.
//!
//! [`TrainOptions`] holds a person's choices by name (the CLI's flags, Python's keyword
//! arguments) and turns them, with the built-in models' recipes, into the [`TrainConfig`]
//! that defines a run; [`RunData`] cuts and splits the images it uses; [`Trainer::new`]
//! builds the run, [`Trainer::fit`] trains and checkpoints into the run directory after each
//! epoch, and [`Trainer::resume`] continues an interrupted run so that it ends with the same weights as an uninterrupted one (same seed,
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
mod options;
mod partial_epoch;
mod progress;
mod recipe;
#[cfg(test)]
mod resume_tests;
mod run_data;
mod run_dir;
mod run_state;
mod setup;
mod trainer;
#[cfg(test)]
mod trainer_tests;
pub mod tta;
mod unused_options;
mod whiten;

pub use checkpoint_every::CheckpointEvery;
pub use config::{EmaConfig, OptimizerConfig, ScheduleConfig, TrainConfig};
pub use evaluate::{class_probabilities, evaluate, evaluate_with, first_items, Evaluation};
pub use options::{BuiltinModel, OptimizerName, ScheduleName, Spelling, TrainOptions};
pub use progress::{BatchProgress, EpochRecord, Silent, StopReason, TrainObserver};
pub use run_data::{split_train, RunData};
pub use run_dir::{fresh_run_dir, load_run, prepare_run_dir, write_metrics_csv, LoadedRun};
pub use trainer::Trainer;
pub use tta::Tta;
