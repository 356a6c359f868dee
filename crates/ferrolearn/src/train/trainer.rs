//! The training loop: mini-batch epochs with validation, schedules, early stopping, NaN
//! detection and a checkpoint after every epoch.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::checkpoint::{self, existing_checkpoint, read_json, swap_dir, write_json};
use super::config::TrainConfig;
use crate::autograd::{no_grad, Var};
use crate::data::{AugmentConfig, Dataset, FlipMode, Loader, Normalizer, PaddingMode};
use crate::nn::{Context, Module, Sequential};
use crate::optim::{clip_grad_norm, Optimizer, OptimizerState, Penalty, Schedule, ScheduleState};
use crate::seeding::{stream, Purpose};
use crate::tensor::Tensor;
use crate::{Error, Result};

/// Batch size used for evaluation passes (no gradients, so larger batches are cheap).
const EVAL_BATCH: usize = 1000;

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

/// Receives progress from [`Trainer::fit`]: the CLI draws progress bars with it.
pub trait TrainObserver {
    /// Called after every batch.
    fn on_batch(&mut self, _progress: &BatchProgress) {}
    /// Called when an epoch is finished and checkpointed.
    fn on_epoch(&mut self, _record: &EpochRecord) {}
}

/// An observer that ignores everything (library use, tests).
pub struct Silent;

impl TrainObserver for Silent {}

/// Loss and accuracy of a model on a dataset, with each prediction.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// Predicted class of each item, in dataset order.
    pub predictions: Vec<usize>,
}

/// Runs `model` over `dataset` in evaluation mode without recording a graph.
pub fn evaluate(
    model: &mut dyn Module,
    dataset: &Dataset,
    normalizer: Option<&Normalizer>,
) -> Result<Evaluation> {
    let mut loader = Loader::new(dataset, EVAL_BATCH)?;
    if let Some(n) = normalizer {
        loader = loader.normalize(n.clone())?;
    }
    let mut ctx = Context::eval();
    let mut total_loss = 0.0;
    let mut predictions = Vec::with_capacity(dataset.len());
    no_grad(|| {
        for batch in loader.epoch(0) {
            let logits = model.forward(&Var::constant(batch.images), &mut ctx);
            total_loss +=
                logits.cross_entropy_loss(&batch.labels).item() as f64 * batch.labels.len() as f64;
            predictions.extend(logits.value().argmax_axis(1));
        }
    });
    let correct = predictions
        .iter()
        .zip(dataset.labels())
        .filter(|(&p, &y)| p == y as usize)
        .count();
    let n = dataset.len().max(1) as f64;
    Ok(Evaluation {
        loss: total_loss / n,
        accuracy: correct as f64 / n,
        predictions,
    })
}

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// All configured epochs ran.
    Completed,
    /// The validation loss stopped improving for `patience` epochs.
    EarlyStopped,
}

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
}

/// The optimizer state without its buffers (those go to `optimizer.safetensors`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OptimizerStateHeader {
    kind: String,
    lr: f64,
    step: u64,
    buffer_names: Vec<String>,
}

/// A model, its optimizer and schedule, and the loop's progress: everything a run is.
pub struct Trainer {
    config: TrainConfig,
    model: Sequential,
    optimizer: Box<dyn Optimizer + Send>,
    schedule: Schedule,
    normalizer: Option<Normalizer>,
    state: LoopStateLite,
}

/// The parts of [`LoopState`] kept while training.
struct LoopStateLite {
    epochs_done: usize,
    history: Vec<EpochRecord>,
    best_val_loss: Option<f64>,
    bad_epochs: usize,
    stopped: Option<StopReason>,
}

impl Trainer {
    /// A fresh run: the model initialised from the seed, the normaliser fitted on `train`.
    pub fn new(config: TrainConfig, train: &Dataset) -> Result<Trainer> {
        let model = config.build_model()?;
        let optimizer = config.optimizer.build()?;
        let schedule = config.schedule.build(config.optimizer.lr())?;
        let normalizer = if config.normalize {
            Some(Normalizer::fit(train)?)
        } else {
            None
        };
        Ok(Trainer {
            config,
            model,
            optimizer,
            schedule,
            normalizer,
            state: LoopStateLite {
                epochs_done: 0,
                history: Vec::new(),
                best_val_loss: None,
                bad_epochs: 0,
                stopped: None,
            },
        })
    }

    /// Restores a run from its directory (`config.json` and the last checkpoint), ready to
    /// continue where it stopped.
    pub fn resume(run_dir: &Path) -> Result<Trainer> {
        let config: TrainConfig = read_json(&run_dir.join("config.json"))?;
        let ckpt = existing_checkpoint(&run_dir.join("checkpoint")).ok_or_else(|| {
            Error::InvalidData(format!(
                "{} has no checkpoint to resume from",
                run_dir.display()
            ))
        })?;
        let loop_state: LoopState = read_json(&ckpt.join("state.json"))?;
        let mut model = config.build_model()?;
        checkpoint::load_model(&ckpt.join("model.safetensors"), &mut model)?;
        let mut optimizer = config.optimizer.build()?;
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
        let mut schedule = config.schedule.build(config.optimizer.lr())?;
        schedule.load_state(loop_state.schedule)?;
        Ok(Trainer {
            config,
            model,
            optimizer,
            schedule,
            normalizer: loop_state.normalizer,
            state: LoopStateLite {
                epochs_done: loop_state.epochs_done,
                history: loop_state.history,
                best_val_loss: loop_state.best_val_loss,
                bad_epochs: loop_state.bad_epochs,
                stopped: loop_state.stopped,
            },
        })
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The model.
    pub fn model_mut(&mut self) -> &mut Sequential {
        &mut self.model
    }

    /// The model (read-only).
    pub fn model(&self) -> &Sequential {
        &self.model
    }

    /// The normaliser fitted on the training split, if normalisation is on.
    pub fn normalizer(&self) -> Option<&Normalizer> {
        self.normalizer.as_ref()
    }

    /// Sets the total number of epochs to train, so a finished run can continue (`fit` then
    /// trains the epochs beyond those already done).
    pub fn extend_epochs(&mut self, epochs: usize) {
        self.config.epochs = epochs;
        if self.state.epochs_done < epochs {
            self.state.stopped = None;
        }
    }

    /// Evaluates the model (with the run's normaliser) on `dataset`.
    pub fn evaluate(&mut self, dataset: &Dataset) -> Result<Evaluation> {
        evaluate(&mut self.model, dataset, self.normalizer.as_ref())
    }

    /// The finished epochs' figures.
    pub fn history(&self) -> &[EpochRecord] {
        &self.state.history
    }

    /// Trains until the configured epoch count or early stopping, checkpointing into
    /// `run_dir` (when given) after every epoch. Stops with an error, leaving the last
    /// checkpoint intact, when the loss becomes NaN or infinite.
    ///
    /// Small models train fastest when this is called on a rayon worker thread (inside
    /// `ThreadPool::install`, as the CLI does): each parallel kernel then shares its work
    /// within the pool instead of waking the calling thread through a lock when it ends.
    pub fn fit(
        &mut self,
        train: &Dataset,
        val: Option<&Dataset>,
        run_dir: Option<&Path>,
        observer: &mut dyn TrainObserver,
    ) -> Result<StopReason> {
        if let Some(reason) = self.state.stopped {
            return Ok(reason);
        }
        let mut loader = Loader::new(train, self.config.batch_size)?;
        if self.config.shuffle {
            loader = loader.shuffle(self.config.seed);
        }
        if let Some(n) = &self.normalizer {
            loader = loader.normalize(n.clone())?;
        }
        if self.config.augment_crop_padding > 0 || self.config.augment_flip {
            let flip = if self.config.augment_flip {
                FlipMode::Random
            } else {
                FlipMode::None
            };
            let augment = AugmentConfig {
                crop_padding: self.config.augment_crop_padding,
                padding_mode: PaddingMode::Black,
                flip,
                cutout: None,
            };
            loader = loader.augment(augment, self.config.seed)?;
        }
        while self.state.epochs_done < self.config.epochs {
            let epoch = self.state.epochs_done + 1;
            let record = self.train_epoch(&loader, epoch, val, observer)?;
            let val_loss = record.val_loss;
            self.state.history.push(record);
            self.state.epochs_done = epoch;
            let lr = self
                .schedule
                .step(val_loss.unwrap_or(self.state.history[epoch - 1].train_loss));
            self.optimizer.set_lr(lr);
            if let (Some(patience), Some(loss)) = (self.config.patience, val_loss) {
                if self.state.best_val_loss.is_none_or(|best| loss < best) {
                    self.state.best_val_loss = Some(loss);
                    self.state.bad_epochs = 0;
                } else {
                    self.state.bad_epochs += 1;
                    if self.state.bad_epochs >= patience {
                        self.state.stopped = Some(StopReason::EarlyStopped);
                    }
                }
            }
            if self.state.epochs_done == self.config.epochs && self.state.stopped.is_none() {
                self.state.stopped = Some(StopReason::Completed);
            }
            if let Some(dir) = run_dir {
                self.save(dir)?;
            }
            observer.on_epoch(&self.state.history[epoch - 1]);
            if let Some(reason) = self.state.stopped {
                return Ok(reason);
            }
        }
        Ok(StopReason::Completed)
    }

    fn train_epoch(
        &mut self,
        loader: &Loader,
        epoch: usize,
        val: Option<&Dataset>,
        observer: &mut dyn TrainObserver,
    ) -> Result<EpochRecord> {
        let start = Instant::now();
        let lr = self.optimizer.lr();
        let mut ctx = Context {
            training: true,
            rng: stream(self.config.seed, Purpose::Dropout, epoch as u64),
        };
        let batches_total = loader.num_batches();
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for (i, batch) in loader.epoch(epoch as u64 - 1).enumerate() {
            let n = batch.labels.len();
            let (loss, batch_correct) = self.step(batch.images, &batch.labels, &mut ctx)?;
            if !loss.is_finite() {
                return Err(Error::Training(format!(
                    "the loss became {loss} at epoch {epoch}, batch {}: the learning rate ({lr}) is probably too high; try a lower one (e.g. --lr {})",
                    i + 1,
                    lr / 10.0
                )));
            }
            loss_sum += loss * n as f64;
            correct += batch_correct;
            seen += n;
            observer.on_batch(&BatchProgress {
                epoch,
                batches_done: i + 1,
                batches_total,
                batch_loss: loss,
                running_loss: loss_sum / seen as f64,
                running_accuracy: correct as f64 / seen as f64,
                images: seen,
            });
        }
        let seconds = start.elapsed().as_secs_f64();
        let (val_loss, val_accuracy) = match val {
            Some(v) => {
                let e = evaluate(&mut self.model, v, self.normalizer.as_ref())?;
                (Some(e.loss), Some(e.accuracy))
            }
            None => (None, None),
        };
        Ok(EpochRecord {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            val_loss,
            val_accuracy,
            lr,
            seconds,
        })
    }

    /// One optimisation step on a batch; returns the batch loss (penalties included) and the
    /// number of correct predictions.
    fn step(
        &mut self,
        images: Tensor,
        labels: &[usize],
        ctx: &mut Context,
    ) -> Result<(f64, usize)> {
        let (loss_value, correct, mut grads) = {
            let logits = self.model.forward(&Var::constant(images), ctx);
            let loss = logits.cross_entropy_loss(labels);
            let correct = logits
                .value()
                .argmax_axis(1)
                .iter()
                .zip(labels)
                .filter(|(p, y)| p == y)
                .count();
            (loss.item() as f64, correct, loss.backward())
        };
        let penalties: Vec<Penalty> = [
            (self.config.l1, Penalty::L1 as fn(f32) -> Penalty),
            (self.config.l2, Penalty::L2),
        ]
        .into_iter()
        .filter(|(c, _)| *c > 0.0)
        .map(|(c, make)| make(c as f32))
        .collect();
        let mut penalty_value = 0.0;
        let mut params = self.model.parameters_mut();
        let mut grad_store: Vec<Vec<f32>> = params
            .iter_mut()
            .map(|(name, var)| {
                let mut g = grads
                    .take(var.id())
                    .map(Tensor::into_vec)
                    .unwrap_or_else(|| vec![0.0; var.value().numel()]);
                if is_weight(name, var) {
                    for p in &penalties {
                        penalty_value += p.value(var.value().data());
                        p.add_grad(var.value().data(), &mut g);
                    }
                }
                g
            })
            .collect();
        if let Some(max_norm) = self.config.clip_norm {
            let mut views: Vec<&mut [f32]> = grad_store.iter_mut().map(Vec::as_mut_slice).collect();
            clip_grad_norm(&mut views, max_norm)?;
        }
        let grad_views: Vec<&[f32]> = grad_store.iter().map(Vec::as_slice).collect();
        let mut param_views: Vec<&mut [f32]> = params
            .iter_mut()
            .map(|(_, v)| v.value_mut().data_mut())
            .collect();
        self.optimizer.step(&mut param_views, &grad_views);
        Ok((loss_value + penalty_value, correct))
    }

    /// Writes `config.json`, `model.safetensors`, `metrics.csv` and the resumable
    /// `checkpoint/` into `dir`, each atomically.
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
            write_json(&tmp.join("state.json"), &loop_state)
        })?;
        checkpoint::save_model(&dir.join("model.safetensors"), &mut self.model)?;
        write_json(&dir.join("normalizer.json"), &self.normalizer)?;
        write_metrics_csv(&dir.join("metrics.csv"), &self.state.history)
    }
}

/// A trained model read back from its run directory, for evaluation and prediction.
pub struct LoadedRun {
    /// The run's definition.
    pub config: TrainConfig,
    /// The model with its latest weights.
    pub model: Sequential,
    /// The input normaliser, when the run used one.
    pub normalizer: Option<Normalizer>,
}

/// Reads `config.json`, `model.safetensors` and `normalizer.json` from a run directory.
pub fn load_run(dir: &Path) -> Result<LoadedRun> {
    let config: TrainConfig = read_json(&dir.join("config.json"))?;
    let mut model = config.build_model()?;
    checkpoint::load_model(&dir.join("model.safetensors"), &mut model)?;
    let normalizer = read_json(&dir.join("normalizer.json"))?;
    Ok(LoadedRun {
        config,
        model,
        normalizer,
    })
}

/// L1/L2 penalties apply to weights (matrices and filters), not to biases or norm scales.
fn is_weight(name: &str, var: &Var) -> bool {
    name.ends_with("weight") && var.shape().len() >= 2
}

/// Writes the per-epoch figures as CSV.
pub fn write_metrics_csv(path: &Path, history: &[EpochRecord]) -> Result<()> {
    let opt = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    let mut text =
        String::from("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n");
    for r in history {
        text.push_str(&format!(
            "{},{:.6},{:.6},{},{},{},{:.3}\n",
            r.epoch,
            r.train_loss,
            r.train_accuracy,
            opt(r.val_loss),
            opt(r.val_accuracy),
            r.lr,
            r.seconds
        ));
    }
    checkpoint::write_atomic(path, text.as_bytes())
}
