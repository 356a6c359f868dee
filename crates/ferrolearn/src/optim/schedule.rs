//! Learning-rate schedules, driven once per epoch, with PyTorch's conventions.
//!
//! `lr_at(t)` is the learning rate after `t` calls of PyTorch's `scheduler.step()`, so with the
//! usual loop "train epoch e; step the schedule", epoch `e` (0-based) trains with `lr_at(e)`
//! and `lr_at(0)` is the base learning rate. The closed-form schedules ([`StepLr`],
//! [`CosineAnnealingLr`], [`ExponentialLr`]) hold no state; [`ReduceLrOnPlateau`] depends on
//! the metrics it has seen and keeps a serialisable [`PlateauState`]. [`Schedule`] wraps any of
//! them behind one `step(metric)` for a training loop.

use serde::{Deserialize, Serialize};

use super::require;
use crate::{Error, Result};

/// `base_lr * gamma^floor(t / step_size)`: decay by `gamma` every `step_size` epochs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLr {
    base_lr: f64,
    step_size: usize,
    gamma: f64,
}

impl StepLr {
    /// Checks `base_lr > 0`, `step_size >= 1` and `gamma > 0`.
    pub fn new(base_lr: f64, step_size: usize, gamma: f64) -> Result<StepLr> {
        require("base_lr", base_lr, base_lr > 0.0, "> 0")?;
        require("step_size", step_size as f64, step_size >= 1, ">= 1")?;
        require("gamma", gamma, gamma > 0.0, "> 0")?;
        Ok(StepLr {
            base_lr,
            step_size,
            gamma,
        })
    }

    /// The learning rate after `t` epochs.
    pub fn lr_at(&self, t: usize) -> f64 {
        self.base_lr * self.gamma.powi(saturating_i32(t / self.step_size))
    }
}

/// `eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2`: a half cosine from
/// `base_lr` down to `eta_min` over `t_max` epochs (PyTorch's closed form; past `t_max` the
/// cosine continues and the rate rises again, as in PyTorch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineAnnealingLr {
    base_lr: f64,
    t_max: usize,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Checks `base_lr > 0`, `t_max >= 1` and `eta_min >= 0`.
    pub fn new(base_lr: f64, t_max: usize, eta_min: f64) -> Result<CosineAnnealingLr> {
        require("base_lr", base_lr, base_lr > 0.0, "> 0")?;
        require("t_max", t_max as f64, t_max >= 1, ">= 1")?;
        require("eta_min", eta_min, eta_min >= 0.0, ">= 0")?;
        Ok(CosineAnnealingLr {
            base_lr,
            t_max,
            eta_min,
        })
    }

    /// The learning rate after `t` epochs.
    pub fn lr_at(&self, t: usize) -> f64 {
        let phase = std::f64::consts::PI * t as f64 / self.t_max as f64;
        self.eta_min + (self.base_lr - self.eta_min) * (1.0 + phase.cos()) / 2.0
    }
}

/// `base_lr * gamma^t`: decay by `gamma` every epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExponentialLr {
    base_lr: f64,
    gamma: f64,
}

impl ExponentialLr {
    /// Checks `base_lr > 0` and `gamma > 0`.
    pub fn new(base_lr: f64, gamma: f64) -> Result<ExponentialLr> {
        require("base_lr", base_lr, base_lr > 0.0, "> 0")?;
        require("gamma", gamma, gamma > 0.0, "> 0")?;
        Ok(ExponentialLr { base_lr, gamma })
    }

    /// The learning rate after `t` epochs.
    pub fn lr_at(&self, t: usize) -> f64 {
        self.base_lr * self.gamma.powi(saturating_i32(t))
    }
}

fn saturating_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Settings of [`ReduceLrOnPlateau`], with PyTorch's defaults. The mode is always `min` (a
/// loss) and the threshold always relative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReduceLrOnPlateauConfig {
    /// Multiplies the rate at each reduction (default 0.1), in (0, 1).
    pub factor: f64,
    /// Epochs without improvement tolerated before a reduction (default 10).
    pub patience: usize,
    /// Relative improvement required: a metric improves when `< best * (1 - threshold)`
    /// (default 1e-4), >= 0.
    pub threshold: f64,
    /// Epochs after a reduction during which bad epochs are not counted (default 0).
    pub cooldown: usize,
    /// Lower bound of the rate (default 0), >= 0.
    pub min_lr: f64,
    /// Reductions smaller than this are skipped (default 1e-8), >= 0.
    pub eps: f64,
}

impl Default for ReduceLrOnPlateauConfig {
    fn default() -> Self {
        ReduceLrOnPlateauConfig {
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

/// What [`ReduceLrOnPlateau`] remembers between epochs, for checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlateauState {
    /// The current learning rate.
    pub lr: f64,
    /// The best metric so far; `None` before the first (PyTorch's `+inf`).
    pub best: Option<f64>,
    /// Epochs since the last improvement (reset by a reduction).
    pub num_bad_epochs: usize,
    /// Epochs of cooldown left.
    pub cooldown_counter: usize,
}

/// Divides the learning rate by `1/factor` when the monitored loss stops improving, as
/// `torch.optim.lr_scheduler.ReduceLROnPlateau(mode="min", threshold_mode="rel")`:
///
/// ```text
/// at each step(loss):
///   if loss < best * (1 - threshold): best = loss; num_bad = 0  else: num_bad += 1
///   if cooldown_counter > 0: cooldown_counter -= 1; num_bad = 0
///   if num_bad > patience:
///     new = max(lr * factor, min_lr)
///     if lr - new > eps: lr = new
///     cooldown_counter = cooldown; num_bad = 0
/// ```
/// A NaN loss never counts as an improvement.
#[derive(Debug, Clone, PartialEq)]
pub struct ReduceLrOnPlateau {
    config: ReduceLrOnPlateauConfig,
    state: PlateauState,
}

impl ReduceLrOnPlateau {
    /// Checks the settings and starts at `base_lr` with no metric seen.
    pub fn new(base_lr: f64, config: ReduceLrOnPlateauConfig) -> Result<ReduceLrOnPlateau> {
        require("base_lr", base_lr, base_lr > 0.0, "> 0")?;
        let f = config.factor;
        require("factor", f, f > 0.0 && f < 1.0, "in (0, 1)")?;
        require(
            "threshold",
            config.threshold,
            config.threshold >= 0.0,
            ">= 0",
        )?;
        require("min_lr", config.min_lr, config.min_lr >= 0.0, ">= 0")?;
        require("eps", config.eps, config.eps >= 0.0, ">= 0")?;
        Ok(ReduceLrOnPlateau {
            config,
            state: PlateauState {
                lr: base_lr,
                best: None,
                num_bad_epochs: 0,
                cooldown_counter: 0,
            },
        })
    }

    /// Records the epoch's metric (lower is better) and returns the learning rate for the
    /// next epoch.
    pub fn step(&mut self, metric: f64) -> f64 {
        let c = &self.config;
        let s = &mut self.state;
        let improved = match s.best {
            None => !metric.is_nan(),
            Some(best) => metric < best * (1.0 - c.threshold),
        };
        if improved {
            s.best = Some(metric);
            s.num_bad_epochs = 0;
        } else {
            s.num_bad_epochs += 1;
        }
        if s.cooldown_counter > 0 {
            s.cooldown_counter -= 1;
            s.num_bad_epochs = 0;
        }
        if s.num_bad_epochs > c.patience {
            let new = (s.lr * c.factor).max(c.min_lr);
            if s.lr - new > c.eps {
                s.lr = new;
            }
            s.cooldown_counter = c.cooldown;
            s.num_bad_epochs = 0;
        }
        s.lr
    }

    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.state.lr
    }

    /// A copy of the state, for checkpoints.
    pub fn state(&self) -> PlateauState {
        self.state
    }

    /// Restores a state taken by [`ReduceLrOnPlateau::state`].
    pub fn load_state(&mut self, state: PlateauState) -> Result<()> {
        if !(state.lr.is_finite() && state.lr >= 0.0) {
            return Err(Error::InvalidData(format!(
                "schedule state: lr must be finite and >= 0, got {}",
                state.lr
            )));
        }
        self.state = state;
        Ok(())
    }
}

/// Which schedule a [`Schedule`] follows.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleKind {
    /// The learning rate never changes.
    Constant(f64),
    /// See [`StepLr`].
    Step(StepLr),
    /// See [`CosineAnnealingLr`].
    Cosine(CosineAnnealingLr),
    /// See [`ExponentialLr`].
    Exponential(ExponentialLr),
    /// See [`ReduceLrOnPlateau`].
    Plateau(ReduceLrOnPlateau),
}

/// Any schedule behind one per-epoch interface for a training loop: after each epoch,
/// `let lr = schedule.step(val_loss); optimizer.set_lr(lr);`. It counts the epochs it has
/// been stepped, so its [`ScheduleState`] is all a checkpoint needs to resume it.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    kind: ScheduleKind,
    epochs: usize,
}

/// The serialisable progress of a [`Schedule`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScheduleState {
    /// How many times [`Schedule::step`] has been called.
    pub epochs: usize,
    /// The plateau schedule's state; `None` for the others.
    pub plateau: Option<PlateauState>,
}

impl Schedule {
    /// A schedule that has not been stepped yet.
    pub fn new(kind: ScheduleKind) -> Schedule {
        Schedule { kind, epochs: 0 }
    }

    /// The schedule followed.
    pub fn kind(&self) -> &ScheduleKind {
        &self.kind
    }

    /// The learning rate for the current epoch (the base rate before the first step).
    pub fn lr(&self) -> f64 {
        let t = self.epochs;
        match &self.kind {
            ScheduleKind::Constant(lr) => *lr,
            ScheduleKind::Step(s) => s.lr_at(t),
            ScheduleKind::Cosine(s) => s.lr_at(t),
            ScheduleKind::Exponential(s) => s.lr_at(t),
            ScheduleKind::Plateau(s) => s.lr(),
        }
    }

    /// Ends an epoch whose monitored loss was `metric` (used only by the plateau schedule)
    /// and returns the learning rate for the next epoch.
    pub fn step(&mut self, metric: f64) -> f64 {
        self.epochs += 1;
        if let ScheduleKind::Plateau(s) = &mut self.kind {
            s.step(metric);
        }
        self.lr()
    }

    /// The progress so far, for checkpoints.
    pub fn state(&self) -> ScheduleState {
        ScheduleState {
            epochs: self.epochs,
            plateau: match &self.kind {
                ScheduleKind::Plateau(s) => Some(s.state()),
                _ => None,
            },
        }
    }

    /// Restores progress saved by [`Schedule::state`] from a schedule of the same kind.
    pub fn load_state(&mut self, state: ScheduleState) -> Result<()> {
        match (&mut self.kind, state.plateau) {
            (ScheduleKind::Plateau(s), Some(p)) => s.load_state(p)?,
            (ScheduleKind::Plateau(_), None) => {
                return Err(Error::InvalidData(
                    "schedule state: the plateau schedule's state is missing".into(),
                ))
            }
            (_, Some(_)) => {
                return Err(Error::InvalidData(
                    "schedule state: saved by a plateau schedule, loaded into another kind".into(),
                ))
            }
            (_, None) => {}
        }
        self.epochs = state.epochs;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        let s = StepLr::new(0.1, 10, 0.1).expect("valid");
        assert_eq!(s.lr_at(9), 0.1);
        assert!((s.lr_at(10) - 0.01).abs() < 1e-15);
        let c = CosineAnnealingLr::new(0.1, 30, 0.001).expect("valid");
        assert_eq!(c.lr_at(0), 0.1);
        assert!((c.lr_at(15) - 0.0505).abs() < 1e-12);
        assert!((c.lr_at(30) - 0.001).abs() < 1e-12);
        let e = ExponentialLr::new(0.1, 0.5).expect("valid");
        assert_eq!(e.lr_at(3), 0.0125);
    }

    #[test]
    fn plateau_patience_cooldown_and_min_lr() {
        let config = ReduceLrOnPlateauConfig {
            factor: 0.5,
            patience: 1,
            cooldown: 1,
            min_lr: 0.3,
            ..ReduceLrOnPlateauConfig::default()
        };
        let mut p = ReduceLrOnPlateau::new(1.0, config).expect("valid");
        // 1.0 improves on +inf; 2 bad epochs (> patience 1) halve the rate.
        let lrs: Vec<f64> = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
            .iter()
            .map(|&m| p.step(m))
            .collect();
        // t=3 reduces to 0.5 (cooldown 1); t=4 is cooldown (bad count reset);
        // t=5,6 bad -> t=6 would go to 0.25 but min_lr clamps to 0.3.
        assert_eq!(lrs, [1.0, 1.0, 0.5, 0.5, 0.5, 0.3, 0.3]);
        assert_eq!(p.state().best, Some(1.0));
    }

    #[test]
    fn plateau_threshold_is_relative_and_strict() {
        let config = ReduceLrOnPlateauConfig {
            patience: 0,
            threshold: 0.1,
            ..ReduceLrOnPlateauConfig::default()
        };
        let mut p = ReduceLrOnPlateau::new(1.0, config).expect("valid");
        p.step(1.0);
        // 0.9 is not < 1.0 * 0.9: a bad epoch, and with patience 0 a reduction.
        assert!((p.step(0.9) - 0.1).abs() < 1e-15);
        let mut p = ReduceLrOnPlateau::new(1.0, config).expect("valid");
        p.step(1.0);
        assert_eq!(p.step(0.89), 1.0);
        assert_eq!(p.step(f64::NAN), 0.1, "NaN never improves");
    }

    #[test]
    fn schedule_state_resumes() {
        let make = || {
            Schedule::new(ScheduleKind::Plateau(
                ReduceLrOnPlateau::new(
                    0.1,
                    ReduceLrOnPlateauConfig {
                        patience: 1,
                        ..ReduceLrOnPlateauConfig::default()
                    },
                )
                .expect("valid"),
            ))
        };
        let losses = [1.0, 0.9, 0.95, 0.97, 0.8, 0.85, 0.86, 0.9];
        let mut whole = make();
        let all: Vec<f64> = losses.iter().map(|&m| whole.step(m)).collect();
        let mut first = make();
        losses[..4].iter().for_each(|&m| {
            first.step(m);
        });
        let json = serde_json::to_string(&first.state()).expect("serialise");
        let mut resumed = make();
        resumed
            .load_state(serde_json::from_str(&json).expect("parse"))
            .expect("load");
        let rest: Vec<f64> = losses[4..].iter().map(|&m| resumed.step(m)).collect();
        assert_eq!(rest, all[4..]);
        let mut step = Schedule::new(ScheduleKind::Step(StepLr::new(0.1, 2, 0.5).expect("valid")));
        assert!(step.load_state(first.state()).is_err());
        step.load_state(ScheduleState {
            epochs: 4,
            plateau: None,
        })
        .expect("load");
        assert_eq!(step.lr(), 0.025);
    }

    #[test]
    fn invalid_settings_are_named() {
        let err = StepLr::new(0.1, 0, 0.1).unwrap_err().to_string();
        assert!(err.contains("step_size must be >= 1, got 0"), "{err}");
        let config = ReduceLrOnPlateauConfig {
            factor: 1.0,
            ..ReduceLrOnPlateauConfig::default()
        };
        let err = ReduceLrOnPlateau::new(0.1, config).unwrap_err().to_string();
        assert!(err.contains("factor must be in (0, 1), got 1"), "{err}");
    }
}
