//! Saving a [`Trainer`] into its run directory and restoring it: the weights, optimizer
//! buffers, moving average and loop state of the last finished epoch.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::averaged;
use super::checkpoint::{self, existing_checkpoint, read_json, swap_dir, write_json};
use super::config::TrainConfig;
use super::partial_epoch::PartialEpoch;
use super::progress::{EpochRecord, StopReason};
use super::run_dir::write_metrics_csv;
use super::setup::{build_optimizer, check_config};
use super::trainer::{LoopStateLite, Trainer};
use crate::data::Normalizer;
use crate::nn::Module;
use crate::optim::{Ema, OptimizerState, ScheduleState};
use crate::tensor::Tensor;
use crate::{Error, Result};

/// The loop state saved in `checkpoint/state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LoopState {
    epochs_done: usize,
    history: Vec<EpochRecord>,
    best_val_loss: Option<f64>,
    bad_epochs: usize,
    stopped: Option<StopReason>,
    normalizer: Option<Normalizer>,
    optimizer: OptimizerStateHeader,
    schedule: ScheduleState,
    /// Optimizer steps taken (the per-step schedules' `k`).
    #[serde(default)]
    steps_done: u64,
    /// The step count fitted to a time budget.
    #[serde(default)]
    total_steps: Option<u64>,
    /// Updates of the moving average (its values are in `ema.safetensors`).
    #[serde(default)]
    ema_updates: u64,
    /// The unfinished epoch of a checkpoint taken inside one.
    #[serde(default)]
    partial: Option<PartialEpoch>,
}

/// The optimizer state without its buffers (those go to `optimizer.safetensors`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OptimizerStateHeader {
    kind: String,
    lr: f64,
    step: u64,
    buffer_names: Vec<String>,
}

impl Trainer {
    /// Restores a run from its directory (`config.json` and the last checkpoint), ready to
    /// continue where it stopped.
    pub fn resume(run_dir: &Path) -> Result<Trainer> {
        let config: TrainConfig = read_json(&run_dir.join("config.json"))?;
        check_config(&config)?;
        let ckpt = existing_checkpoint(&run_dir.join("checkpoint")).ok_or_else(|| {
            Error::InvalidData(format!(
                "{} has no checkpoint to resume from",
                run_dir.display()
            ))
        })?;
        let loop_state: LoopState = read_json(&ckpt.join("state.json"))?;
        let mut model = config.build_model()?;
        checkpoint::load_model(&ckpt.join("model.safetensors"), &mut model)?;
        let mut optimizer = build_optimizer(&config, &model)?;
        let buffers_path = ckpt.join("optimizer.safetensors");
        let mut saved = checkpoint::read_tensors(&buffers_path)?;
        let param_lens: Vec<usize> = model
            .parameters()
            .iter()
            .map(|(_, v)| v.value().numel())
            .collect();
        let mut buffers = std::collections::BTreeMap::new();
        for name in &loop_state.optimizer.buffer_names {
            let per_param = (0..param_lens.len())
                .map_while(|k| saved.remove(&format!("{name}.{k}")).map(Tensor::into_vec))
                .collect();
            buffers.insert(name.clone(), per_param);
        }
        let header = &loop_state.optimizer;
        optimizer.load_state(
            &OptimizerState {
                kind: header.kind.clone(),
                lr: header.lr,
                step: header.step,
                buffers,
            },
            &param_lens,
        )?;
        let lite = LoopStateLite {
            epochs_done: loop_state.epochs_done,
            history: loop_state.history,
            best_val_loss: loop_state.best_val_loss,
            bad_epochs: loop_state.bad_epochs,
            stopped: loop_state.stopped,
            steps_done: loop_state.steps_done,
            total_steps: loop_state.total_steps,
            partial: loop_state.partial,
        };
        let mut trainer =
            Trainer::assemble(config, model, optimizer, loop_state.normalizer, Some(lite))?;
        trainer.schedule.load_state(loop_state.schedule)?;
        if let Some(ema) = &mut trainer.ema {
            let path = ckpt.join("ema.safetensors");
            averaged::restore(ema, loop_state.ema_updates, &path, &mut trainer.model)?;
        }
        Ok(trainer)
    }

    /// Writes `config.json`, `model.safetensors` (the weights to evaluate: the moving
    /// average when the run keeps one), `normalizer.json`, `metrics.csv` and the resumable
    /// `checkpoint/` (live weights, optimizer buffers, average, loop state) into `dir`, each
    /// atomically.
    pub fn save(&mut self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        write_json(&dir.join("config.json"), &self.config)?;
        let opt = self.optimizer.state();
        let loop_state = LoopState {
            epochs_done: self.state.epochs_done,
            history: self.state.history.clone(),
            best_val_loss: self.state.best_val_loss,
            bad_epochs: self.state.bad_epochs,
            stopped: self.state.stopped,
            normalizer: self.normalizer.clone(),
            optimizer: OptimizerStateHeader {
                kind: opt.kind.clone(),
                lr: opt.lr,
                step: opt.step,
                buffer_names: opt.buffers.keys().cloned().collect(),
            },
            schedule: self.schedule.state(),
            steps_done: self.state.steps_done,
            total_steps: self.state.total_steps,
            ema_updates: self.ema.as_ref().map_or(0, Ema::updates),
            partial: self.state.partial.clone(),
        };
        let averaged = match &self.ema {
            Some(ema) => averaged::averaged_tensors(ema, &mut self.model),
            None => None,
        };
        let model = &mut self.model;
        swap_dir(&dir.join("checkpoint"), |tmp| {
            checkpoint::save_model(&tmp.join("model.safetensors"), model)?;
            let buffers: Vec<(String, Tensor)> = opt
                .buffers
                .iter()
                .flat_map(|(name, per_param)| {
                    per_param.iter().enumerate().map(move |(k, b)| {
                        (
                            format!("{name}.{k}"),
                            Tensor::from_vec(b.clone(), &[b.len()]),
                        )
                    })
                })
                .collect();
            let path = tmp.join("optimizer.safetensors");
            checkpoint::write_atomic(&path, &checkpoint::tensors_to_bytes(&path, &buffers)?)?;
            if let Some(avg) = &averaged {
                let path = tmp.join("ema.safetensors");
                checkpoint::write_atomic(&path, &checkpoint::tensors_to_bytes(&path, avg)?)?;
            }
            write_json(&tmp.join("state.json"), &loop_state)
        })?;
        let path = dir.join("model.safetensors");
        match &averaged {
            Some(avg) => {
                checkpoint::write_atomic(&path, &checkpoint::tensors_to_bytes(&path, avg)?)?
            }
            None => checkpoint::save_model(&path, &mut self.model)?,
        }
        write_json(&dir.join("normalizer.json"), &self.normalizer)?;
        write_metrics_csv(&dir.join("metrics.csv"), &self.state.history)
    }
}
