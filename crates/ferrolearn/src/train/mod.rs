//! The training loop: epochs, validation, schedules, early stopping, checkpoints and resume.
//!
//! [`TrainConfig`] defines a run; [`Trainer::new`] builds it, [`Trainer::fit`] trains and
//! checkpoints into the run directory after each epoch, and [`Trainer::resume`] continues an
//! interrupted run so that it ends with the same weights as an uninterrupted one (same seed,
//! same thread count): shuffling, augmentation and dropout draw from streams fixed by the seed
//! and the epoch number.

pub mod checkpoint;
mod config;
mod trainer;

pub use config::{OptimizerConfig, ScheduleConfig, TrainConfig};
pub use trainer::{
    evaluate, load_run, write_metrics_csv, BatchProgress, EpochRecord, Evaluation, LoadedRun,
    Silent, StopReason, TrainObserver, Trainer,
};
