//! The training loop: mini-batch epochs with validation, per-epoch or per-step schedules,
//! early stopping, NaN detection, a moving average of the weights, a time budget, a
//! checkpoint after every epoch and every `checkpoint_every` inside one, and a stop flag
//! honoured after the current step.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::averaged;
use super::budget::{BudgetCosts, Clock, Measured, SpeedProbe, TimeBudget, WallClock};
use super::checkpoint_every::{CheckpointClock, CheckpointEvery};
use super::config::TrainConfig;
use super::evaluate::{class_probabilities, evaluate_with, first_items, Evaluation};
use super::partial_epoch::PartialEpoch;
use super::progress::{BatchProgress, EpochRecord, StopReason, TrainObserver};
use super::setup::{build_optimizer, check_config, norm_bias_scales};
use super::tta::{tta_logits, Tta};
use crate::autograd::Var;
use crate::data::{Dataset, Loader, Normalizer};
use crate::nn::{Context, Module, Sequential};
use crate::optim::{clip_grad_norm, Ema, Optimizer, Penalty, Schedule, StepSchedule};
use crate::seeding::{stream, Purpose};
use crate::tensor::Tensor;
use crate::{Error, Result};

/// A model, its optimizer and schedule, and the loop's progress: everything a run is.
pub struct Trainer {
    pub(super) config: TrainConfig,
    pub(super) model: Sequential,
    pub(super) optimizer: Box<dyn Optimizer + Send>,
    pub(super) schedule: Schedule,
    pub(super) step_schedule: Option<StepSchedule>,
    pub(super) normalizer: Option<Normalizer>,
    pub(super) ema: Option<Ema>,
    pub(super) state: LoopStateLite,
    pub(super) budget: Option<BudgetRun>,
    /// Per parameter, the factor its gradient is multiplied by (`norm_bias_grad_scale`).
    grad_scales: Vec<f32>,
    /// A parameter (by position) that stops training after a number of epochs: the
    /// whitening layer's bias (`whitening_bias_epochs`).
    frozen_after: Option<(usize, usize)>,
    checkpoint_every: CheckpointEvery,
    stop: Option<Arc<AtomicBool>>,
}

/// The parts of [`LoopState`] kept while training.
pub(super) struct LoopStateLite {
    pub(super) epochs_done: usize,
    pub(super) history: Vec<EpochRecord>,
    pub(super) best_val_loss: Option<f64>,
    pub(super) bad_epochs: usize,
    pub(super) stopped: Option<StopReason>,
    pub(super) steps_done: u64,
    pub(super) total_steps: Option<u64>,
    /// The unfinished epoch a checkpoint was taken in (set only while saving and after
    /// resuming from such a checkpoint).
    pub(super) partial: Option<PartialEpoch>,
}

/// A time budget being spent: the clock, the probe timing the first steps, and what was
/// measured.
pub(super) struct BudgetRun {
    budget: TimeBudget,
    clock: Box<dyn Clock>,
    probe: SpeedProbe,
    /// Steps taken by this process (the probe's count; a resumed run measures anew).
    steps_here: u64,
    /// Images of the final evaluation, reserved in the budget.
    final_images: usize,
    measured: Option<(Measured, BudgetCosts)>,
}

impl Trainer {
    /// A fresh run: the model initialised from the seed (a patch-whitening first layer fitted
    /// on the first training images), the normaliser fitted on `train`.
    pub fn new(config: TrainConfig, train: &Dataset) -> Result<Trainer> {
        check_config(&config)?;
        let mut model = config.build_model()?;
        let optimizer = build_optimizer(&config, &model)?;
        let normalizer = if config.normalize {
            Some(Normalizer::fit(train)?)
        } else {
            None
        };
        super::whiten::fit_whitening(&config, &mut model, train, normalizer.as_ref())?;
        Trainer::assemble(config, model, optimizer, normalizer, None)
    }

    /// The trainer around a model and optimizer, with the schedule, average and budget the
    /// configuration asks for, and the loop state `loop_state` (a fresh run when `None`).
    pub(super) fn assemble(
        config: TrainConfig,
        mut model: Sequential,
        optimizer: Box<dyn Optimizer + Send>,
        normalizer: Option<Normalizer>,
        loop_state: Option<LoopStateLite>,
    ) -> Result<Trainer> {
        let schedule = config.schedule.build(config.optimizer.lr())?;
        let step_schedule = config.schedule.build_per_step(config.optimizer.lr())?;
        let ema = config.ema.map(|e| e.build()).transpose()?;
        let grad_scales = norm_bias_scales(&mut model, config.norm_bias_grad_scale);
        let frozen_after = super::whiten::frozen_whitening_bias(&config, &model)?;
        let budget = match config.time_budget_s {
            Some(s) => Some(BudgetRun {
                budget: TimeBudget::new(s)?,
                clock: Box::new(WallClock(Instant::now())),
                probe: SpeedProbe::default(),
                steps_here: 0,
                final_images: config.test_limit.unwrap_or(0),
                measured: None,
            }),
            None => None,
        };
        Ok(Trainer {
            config,
            model,
            optimizer,
            schedule,
            step_schedule,
            normalizer,
            ema,
            state: loop_state.unwrap_or(LoopStateLite {
                epochs_done: 0,
                history: Vec::new(),
                best_val_loss: None,
                bad_epochs: 0,
                stopped: None,
                steps_done: 0,
                total_steps: None,
                partial: None,
            }),
            budget,
            grad_scales,
            frozen_after,
            checkpoint_every: CheckpointEvery::default(),
            stop: None,
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

    /// The moving average of the weights, when the run keeps one.
    pub fn ema(&self) -> Option<&Ema> {
        self.ema.as_ref()
    }

    /// Optimizer steps taken so far.
    pub fn steps_done(&self) -> u64 {
        self.state.steps_done
    }

    /// The total step count fitted to the time budget, once measured.
    pub fn fitted_total_steps(&self) -> Option<u64> {
        self.state.total_steps
    }

    /// Sets the clock the time budget is measured against, and the number of images the
    /// final evaluation will run on (reserved in the budget with the run's test-time
    /// augmentation). Start the clock when the run starts (before loading data) so the
    /// budget covers everything; by default it starts when the trainer is built. No effect
    /// without a time budget.
    pub fn set_budget_clock(&mut self, clock: Box<dyn Clock>, final_images: usize) {
        if let Some(b) = &mut self.budget {
            b.clock = clock;
            b.final_images = final_images;
        }
    }

    /// Seconds on the budget clock (since the run started), when the run has a time budget.
    pub fn budget_seconds_used(&self) -> Option<f64> {
        self.budget.as_ref().map(|b| b.clock.seconds())
    }

    /// Sets how often [`Trainer::fit`] checkpoints inside an epoch (default: every five
    /// minutes); it always checkpoints at the end of each epoch too.
    pub fn set_checkpoint_every(&mut self, every: CheckpointEvery) {
        self.checkpoint_every = every;
    }

    /// Gives the trainer a flag to watch: once it is set (by a Ctrl-C handler, say),
    /// [`Trainer::fit`] finishes the current step, checkpoints and returns
    /// [`StopReason::Interrupted`].
    pub fn set_stop_flag(&mut self, flag: Arc<AtomicBool>) {
        self.stop = Some(flag);
    }

    /// Whether a stop was asked for through the flag of [`Trainer::set_stop_flag`].
    fn stop_requested(&self) -> bool {
        self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst))
    }

    /// Epochs finished so far.
    pub fn epochs_done(&self) -> usize {
        self.state.epochs_done
    }

    /// Whether the run has ended (completed, stopped early or out of time): `fit` would
    /// train nothing more.
    pub fn is_finished(&self) -> bool {
        self.state.stopped.is_some()
    }

    /// Sets the total number of epochs to train, so a finished run can continue (`fit` then
    /// trains the epochs beyond those already done).
    pub fn extend_epochs(&mut self, epochs: usize) {
        self.config.epochs = epochs;
        if self.state.epochs_done < epochs {
            self.state.stopped = None;
        }
    }

    /// Evaluates the model (with the run's normaliser, and its averaged weights when it
    /// keeps an average) on `dataset`.
    pub fn evaluate(&mut self, dataset: &Dataset) -> Result<Evaluation> {
        self.evaluate_tta(dataset, Tta::None)
    }

    /// The end-of-training evaluation: [`Trainer::evaluate`] on the first `test_limit` items
    /// of `test` with the run's test-time augmentation (`final_tta`).
    pub fn evaluate_final(&mut self, test: &Dataset) -> Result<Evaluation> {
        let test = first_items(test, self.config.test_limit);
        self.evaluate_tta(&test, self.config.final_tta)
    }

    /// [`Trainer::evaluate`] with the test-time augmentation `tta`.
    pub fn evaluate_tta(&mut self, dataset: &Dataset, tta: Tta) -> Result<Evaluation> {
        let normalizer = self.normalizer.as_ref();
        averaged::with_averaged(self.ema.as_ref(), &mut self.model, |m| {
            evaluate_with(m, dataset, normalizer, tta)
        })
    }

    /// The class probabilities of every item of `dataset` ([`class_probabilities`]), row-major
    /// `[N, classes]`, with the weights evaluation uses and the run's normaliser.
    pub fn probabilities(&mut self, dataset: &Dataset, tta: Tta) -> Result<Vec<f32>> {
        let normalizer = self.normalizer.as_ref();
        averaged::with_averaged(self.ema.as_ref(), &mut self.model, |m| {
            class_probabilities(m, dataset, normalizer, tta)
        })
    }

    /// The history of finished epochs.
    pub fn history(&self) -> &[EpochRecord] {
        &self.state.history
    }

    /// The number of steps the run trains in all: fitted to the time budget once measured,
    /// else `epochs` times the steps per epoch.
    fn total_steps(&self, steps_per_epoch: u64) -> u64 {
        self.state
            .total_steps
            .unwrap_or(self.config.epochs as u64 * steps_per_epoch)
    }

    /// Whether the loop should train further.
    fn more_to_train(&self) -> bool {
        match (&self.budget, self.state.total_steps) {
            (Some(_), Some(total)) => self.state.steps_done < total,
            // A budgeted run trains until its speed is measured and its length fitted.
            (Some(_), None) => true,
            (None, _) => self.state.epochs_done < self.config.epochs,
        }
    }

    /// Trains until the configured epoch count (or the step count fitted to the time
    /// budget) or early stopping, checkpointing into `run_dir` (when given) before the
    /// first step, after every epoch and at the interval of
    /// [`Trainer::set_checkpoint_every`]. Returns [`StopReason::Interrupted`] after
    /// checkpointing when the stop flag is set. Stops with an error, leaving the last
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
        let augment = self.config.augment();
        if !augment.is_identity() {
            loader = loader.augment(augment, self.config.seed)?;
        }
        let fresh = self.state.steps_done == 0 && self.state.epochs_done == 0;
        if let (Some(dir), true) = (run_dir, fresh) {
            // The run can be resumed (and its directory recognised) from the first step.
            self.save(dir)?;
        }
        let mut clock = CheckpointClock::new(self.checkpoint_every, self.state.steps_done);
        while self.more_to_train() {
            let epoch = self.state.epochs_done + 1;
            let Some(record) =
                self.train_epoch(&loader, epoch, val, run_dir, &mut clock, observer)?
            else {
                return Ok(StopReason::Interrupted);
            };
            let val_loss = record.val_loss;
            self.state.history.push(record);
            self.state.epochs_done = epoch;
            let lr = self
                .schedule
                .step(val_loss.unwrap_or(self.state.history[epoch - 1].train_loss));
            if self.step_schedule.is_none() {
                self.optimizer.set_lr(lr);
            }
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
            if !self.more_to_train() && self.state.stopped.is_none() {
                self.state.stopped = Some(StopReason::Completed);
            }
            if let (Some(ema), Some(_), true) = (&self.ema, self.state.stopped, self.lookahead()) {
                averaged::finish_lookahead(ema, &mut self.model);
            }
            if let Some(dir) = run_dir {
                self.save(dir)?;
                clock.written(self.state.steps_done);
            }
            observer.on_epoch(&self.state.history[epoch - 1]);
            if let Some(reason) = self.state.stopped {
                return Ok(reason);
            }
            if self.stop_requested() {
                return Ok(StopReason::Interrupted);
            }
        }
        Ok(StopReason::Completed)
    }

    /// Trains epoch `epoch` (from where a resumed checkpoint left it), checkpointing into
    /// `run_dir` when `clock` says so; `None` when the stop flag ended it early.
    fn train_epoch(
        &mut self,
        loader: &Loader,
        epoch: usize,
        val: Option<&Dataset>,
        run_dir: Option<&Path>,
        clock: &mut CheckpointClock,
        observer: &mut dyn TrainObserver,
    ) -> Result<Option<EpochRecord>> {
        let start = Instant::now();
        let mut ctx = Context {
            training: true,
            rng: stream(self.config.seed, Purpose::Dropout, epoch as u64),
        };
        let mut progress = match self.state.partial.take() {
            Some(p) if p.epoch == epoch => {
                ctx.rng.set_word_pos(p.dropout_word_pos);
                p
            }
            _ => PartialEpoch::start(epoch),
        };
        let steps_per_epoch = loader.num_batches() as u64;
        let batches_total = loader.num_batches();
        // Batches are formed on another thread while the current step computes; a resumed
        // epoch skips those it trained on (their order and draws are fixed by the seed).
        let batches = loader.epoch_prefetched(epoch as u64 - 1)?.enumerate();
        for (i, batch) in batches.skip(progress.batches_done) {
            let batch = batch?;
            if self.budget.is_some() && !self.more_to_train() {
                break;
            }
            if let Some(s) = &self.step_schedule {
                let total = self.total_steps(steps_per_epoch);
                self.optimizer.set_lr(s.lr_at(self.state.steps_done, total));
            }
            let lr = self.optimizer.lr();
            progress.lr.get_or_insert(lr);
            let n = batch.labels.len();
            let images = batch.images.clone();
            let (loss, batch_correct) = self.step(batch.images, &batch.labels, &mut ctx)?;
            if !loss.is_finite() {
                return Err(Error::Training(format!(
                    "the loss became {loss} at epoch {epoch}, batch {}: the learning rate ({lr}) is probably too high; try a lower one (e.g. --lr {})",
                    i + 1,
                    lr / 10.0
                )));
            }
            self.state.steps_done += 1;
            self.update_average(steps_per_epoch);
            self.spend_budget(&images, steps_per_epoch, val.map_or(0, Dataset::len));
            progress.loss_sum += loss * n as f64;
            progress.correct += batch_correct;
            progress.seen += n;
            progress.batches_done = i + 1;
            observer.on_batch(&BatchProgress {
                epoch,
                batches_done: i + 1,
                batches_total,
                batch_loss: loss,
                running_loss: progress.loss_sum / progress.seen as f64,
                running_accuracy: progress.correct as f64 / progress.seen as f64,
                images: progress.seen,
            });
            if i + 1 == batches_total {
                break;
            }
            let stop = self.stop_requested();
            if let Some(dir) = run_dir.filter(|_| stop || clock.due(self.state.steps_done)) {
                self.state.partial = Some(PartialEpoch {
                    seconds: progress.seconds + start.elapsed().as_secs_f64(),
                    dropout_word_pos: ctx.rng.get_word_pos(),
                    ..progress.clone()
                });
                let saved = self.save(dir);
                self.state.partial = None;
                saved?;
                clock.written(self.state.steps_done);
            }
            if stop {
                return Ok(None);
            }
        }
        let seconds = progress.seconds + start.elapsed().as_secs_f64();
        let (loss_sum, correct, seen) = (progress.loss_sum, progress.correct, progress.seen);
        let (val_loss, val_accuracy) = match val {
            Some(v) => {
                let e = self.evaluate(v)?;
                (Some(e.loss), Some(e.accuracy))
            }
            None => (None, None),
        };
        Ok(Some(EpochRecord {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            val_loss,
            val_accuracy,
            lr: progress.lr.unwrap_or_else(|| self.optimizer.lr()),
            seconds,
        }))
    }

    /// Whether the run's average is a lookahead one (written back into the weights).
    fn lookahead(&self) -> bool {
        self.config.ema.is_some_and(|e| e.lookahead)
    }

    /// After each step: folds the weights into the run's moving average, when it keeps one.
    fn update_average(&mut self, steps_per_epoch: u64) {
        let (step, total) = (self.state.steps_done, self.total_steps(steps_per_epoch));
        let lookahead = self.lookahead();
        let Some(ema) = &mut self.ema else { return };
        if lookahead {
            averaged::lookahead_update(ema, step, total, &mut self.model);
        } else {
            averaged::update(ema, step, &mut self.model);
        }
    }

    /// After each step of a budgeted run: fits the total step count once the first steps
    /// are timed (timing one evaluation pass on `images` too), and afterwards ends the run
    /// early if the clock says the final evaluation would no longer fit.
    fn spend_budget(&mut self, images: &Tensor, steps_per_epoch: u64, val_images: usize) {
        let Some(b) = &mut self.budget else { return };
        b.steps_here += 1;
        if let Some((m, costs)) = &b.measured {
            let deadline = b.budget.deadline(m, costs);
            // Stop when another step at the measured speed would eat into the reserve.
            let unfinished = self.state.total_steps > Some(self.state.steps_done);
            if unfinished && b.clock.seconds() + m.step_seconds > deadline {
                self.state.total_steps = Some(self.state.steps_done);
                self.state.stopped = Some(StopReason::TimeBudget);
            }
            return;
        }
        if self.state.total_steps.is_some() {
            return;
        }
        let Some(step_seconds) = b.probe.after_step(b.steps_here, b.clock.seconds()) else {
            return;
        };
        let t0 = b.clock.seconds();
        tta_logits(&mut self.model, images, Tta::None);
        let eval_seconds_per_image = (b.clock.seconds() - t0) / images.dim(0).max(1) as f64;
        let weights: usize = self.model.num_parameters();
        let costs = BudgetCosts {
            steps_per_epoch,
            val_images,
            final_images: b.final_images,
            final_passes: self.config.final_tta.passes(),
            // Model, checkpoint copy, optimizer buffers and average at ~200 MB/s, plus files.
            checkpoint_seconds: 0.1 + 4.0 * 4.0 * weights as f64 / 200e6,
        };
        let m = Measured {
            now: b.clock.seconds(),
            steps_done: self.state.steps_done,
            step_seconds,
            eval_seconds_per_image,
        };
        let total = b.budget.fit(&m, &costs);
        b.measured = Some((m, costs));
        self.state.total_steps = Some(total);
        self.config.epochs = total.div_ceil(steps_per_epoch.max(1)) as usize;
    }

    /// One optimisation step on a batch; returns the batch loss (penalties included) and the
    /// number of correct predictions.
    fn step(
        &mut self,
        images: Tensor,
        labels: &[usize],
        ctx: &mut Context,
    ) -> Result<(f64, usize)> {
        let smoothing = self.config.label_smoothing as f32;
        let (loss_value, correct, mut grads) = {
            let logits = self.model.forward(&Var::constant(images), ctx);
            let loss = logits.cross_entropy_loss_smoothed(labels, smoothing);
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
            .zip(&self.grad_scales)
            .map(|((name, var), &scale)| {
                let mut g = grads
                    .take(var.id())
                    .map(Tensor::into_vec)
                    .unwrap_or_else(|| vec![0.0; var.value().numel()]);
                if scale != 1.0 {
                    g.iter_mut().for_each(|v| *v *= scale);
                }
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
        // A frozen parameter keeps its value, as a PyTorch one without `requires_grad`.
        let frozen = self
            .frozen_after
            .filter(|&(_, epochs)| self.state.epochs_done >= epochs)
            .map(|(k, _)| (k, param_views[k].to_vec()));
        self.optimizer.step(&mut param_views, &grad_views);
        if let Some((k, kept)) = frozen {
            param_views[k].copy_from_slice(&kept);
        }
        Ok((loss_value + penalty_value, correct))
    }
}

/// L1/L2 penalties apply to weights (matrices and filters), not to biases or norm scales.
fn is_weight(name: &str, var: &Var) -> bool {
    name.ends_with("weight") && var.shape().len() >= 2
}
