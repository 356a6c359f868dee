//! Per-step learning-rate schedules: the rate of optimizer step `k` (0-based) of a run of `T`
//! steps is a pure function of `k` and `T`, so stretching a run (a time budget fitting `T`)
//! stretches the whole curve, and resuming needs only `k` and `T`.
//!
//! `frac = k / T` is the fraction of the run done before the step. [`WarmupLinear`] and
//! [`WarmupCosine`] warm up linearly from `start` times the peak (0 unless set) to the peak
//! over the first `warmup` of the run;
//! [`OneCycleLr`] is PyTorch's `OneCycleLR`; [`MultiStepFractions`] divides the rate at
//! fractions of the run.

use serde::{Deserialize, Serialize};

use super::require;
use crate::Result;

/// Checks a fraction of the run: finite and in `[0, 1)`.
fn check_fraction(name: &str, value: f64) -> Result<()> {
    require(name, value, (0.0..1.0).contains(&value), "in [0, 1)")
}

/// Checks a warm-up's first rate as a fraction of the peak: in `[0, 1]`.
fn check_start(start: f64) -> Result<()> {
    require(
        "start_factor",
        start,
        (0.0..=1.0).contains(&start),
        "in [0, 1]",
    )
}

/// `frac = k / T` (0 for an empty run).
fn fraction(step: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        step as f64 / total as f64
    }
}

/// The warm-up factor `start + (1 - start) * progress` at `progress` in `[0, 1)`.
fn warm(start: f64, progress: f64) -> f64 {
    start + (1.0 - start) * progress
}

/// Linear warm-up from 0 (or a start factor) to `peak_lr` over the first `warmup` of the run,
/// then a linear decay
/// to `final_factor * peak_lr` at its end (w9_cifar.py's fastnet recipe with warm-up 0.23 and
/// final factor 0.07):
///
/// ```text
/// lr = peak * (start + (1 - start) frac / warmup                 if frac < warmup
///              (1 - frac) / (1 - warmup) * (1 - final) + final  otherwise)
/// ```
/// The first step of a warm-up trains with rate 0, as in the script, unless a start is set
/// ([`WarmupLinear::starting_at`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmupLinear {
    peak_lr: f64,
    warmup: f64,
    final_factor: f64,
    start: f64,
}

impl WarmupLinear {
    /// Checks `peak_lr > 0`, `warmup` in `[0, 1)` and `final_factor >= 0`.
    pub fn new(peak_lr: f64, warmup: f64, final_factor: f64) -> Result<WarmupLinear> {
        require("peak_lr", peak_lr, peak_lr > 0.0, "> 0")?;
        check_fraction("warmup", warmup)?;
        require("final_factor", final_factor, final_factor >= 0.0, ">= 0")?;
        Ok(WarmupLinear {
            peak_lr,
            warmup,
            final_factor,
            start: 0.0,
        })
    }

    /// The same schedule warming up from `start * peak_lr` instead of 0 (airbench94 starts
    /// at 0.2); checks `start` in `[0, 1]`.
    pub fn starting_at(self, start: f64) -> Result<WarmupLinear> {
        check_start(start)?;
        Ok(WarmupLinear { start, ..self })
    }

    /// The rate of step `step` of `total`.
    pub fn lr_at(&self, step: u64, total: u64) -> f64 {
        let (f, w, fin) = (fraction(step, total), self.warmup, self.final_factor);
        let factor = if f < w {
            warm(self.start, f / w)
        } else {
            (1.0 - f) / (1.0 - w) * (1.0 - fin) + fin
        };
        self.peak_lr * factor
    }
}

/// Linear warm-up from 0 (or a start factor) to `peak_lr` over the first `warmup` of the run,
/// then a half cosine
/// down to `final_factor * peak_lr`:
///
/// ```text
/// lr = peak * (start + (1 - start) frac / warmup                        if frac < warmup
///              final + (1 - final) (1 + cos(pi (frac - warmup) / (1 - warmup))) / 2)
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmupCosine {
    peak_lr: f64,
    warmup: f64,
    final_factor: f64,
    start: f64,
}

impl WarmupCosine {
    /// Checks `peak_lr > 0`, `warmup` in `[0, 1)` and `final_factor >= 0`.
    pub fn new(peak_lr: f64, warmup: f64, final_factor: f64) -> Result<WarmupCosine> {
        require("peak_lr", peak_lr, peak_lr > 0.0, "> 0")?;
        check_fraction("warmup", warmup)?;
        require("final_factor", final_factor, final_factor >= 0.0, ">= 0")?;
        Ok(WarmupCosine {
            peak_lr,
            warmup,
            final_factor,
            start: 0.0,
        })
    }

    /// The same schedule warming up from `start * peak_lr` instead of 0 (airbench94 starts
    /// at 0.2); checks `start` in `[0, 1]`.
    pub fn starting_at(self, start: f64) -> Result<WarmupCosine> {
        check_start(start)?;
        Ok(WarmupCosine { start, ..self })
    }

    /// The rate of step `step` of `total`.
    pub fn lr_at(&self, step: u64, total: u64) -> f64 {
        let (f, w, fin) = (fraction(step, total), self.warmup, self.final_factor);
        let factor = if f < w {
            warm(self.start, f / w)
        } else {
            let phase = std::f64::consts::PI * (f - w) / (1.0 - w);
            fin + (1.0 - fin) * (1.0 + phase.cos()) / 2.0
        };
        self.peak_lr * factor
    }
}

/// How [`OneCycleLr`] moves between two rates within a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anneal {
    /// `end + (start - end) (1 + cos(pi pct)) / 2` (PyTorch's default, `"cos"`).
    Cos,
    /// `start + (end - start) pct`.
    Linear,
}

impl Anneal {
    fn apply(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            Anneal::Cos => end + (start - end) / 2.0 * ((std::f64::consts::PI * pct).cos() + 1.0),
            Anneal::Linear => (end - start) * pct + start,
        }
    }
}

/// Settings of [`OneCycleLr`], with PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OneCycleConfig {
    /// Fraction of the run spent raising the rate (default 0.3), in (0, 1).
    pub pct_start: f64,
    /// The first rate is `max_lr / div_factor` (default 25), > 0.
    pub div_factor: f64,
    /// The last rate is the first one divided by this (default 1e4), > 0.
    pub final_div_factor: f64,
    /// How each phase moves (default cosine).
    pub anneal: Anneal,
    /// Up, down to the first rate, then down to the last (default off: up, then down to the
    /// last).
    pub three_phase: bool,
}

impl Default for OneCycleConfig {
    fn default() -> Self {
        OneCycleConfig {
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
            anneal: Anneal::Cos,
            three_phase: false,
        }
    }
}

/// The one-cycle policy as `torch.optim.lr_scheduler.OneCycleLR(max_lr, total_steps,
/// cycle_momentum=False, ...)`: from `max_lr / div_factor` up to `max_lr` over the first
/// `pct_start * T - 1` steps, then down to `max_lr / div_factor / final_div_factor` at step
/// `T - 1` (with `three_phase`, first back to the starting rate at step `2 pct_start T - 2`).
/// Momentum is not cycled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneCycleLr {
    max_lr: f64,
    config: OneCycleConfig,
}

impl OneCycleLr {
    /// Checks `max_lr > 0` and the settings.
    pub fn new(max_lr: f64, config: OneCycleConfig) -> Result<OneCycleLr> {
        require("max_lr", max_lr, max_lr > 0.0, "> 0")?;
        let p = config.pct_start;
        require("pct_start", p, p > 0.0 && p < 1.0, "in (0, 1)")?;
        let d = config.div_factor;
        require("div_factor", d, d > 0.0, "> 0")?;
        let f = config.final_div_factor;
        require("final_div_factor", f, f > 0.0, "> 0")?;
        Ok(OneCycleLr { max_lr, config })
    }

    /// The rate of step `step` of `total`, as PyTorch's `get_lr` after `step` scheduler steps.
    pub fn lr_at(&self, step: u64, total: u64) -> f64 {
        let c = &self.config;
        let initial = self.max_lr / c.div_factor;
        let min = initial / c.final_div_factor;
        let t = total as f64;
        let up_end = c.pct_start * t - 1.0;
        let phases: &[(f64, f64, f64)] = if c.three_phase {
            &[
                (up_end, initial, self.max_lr),
                (2.0 * c.pct_start * t - 2.0, self.max_lr, initial),
                (t - 1.0, initial, min),
            ]
        } else {
            &[(up_end, initial, self.max_lr), (t - 1.0, self.max_lr, min)]
        };
        let k = step as f64;
        let mut start_step = 0.0;
        for (i, &(end_step, from, to)) in phases.iter().enumerate() {
            if k <= end_step || i == phases.len() - 1 {
                let pct = (k - start_step) / (end_step - start_step);
                return c.anneal.apply(from, to, pct);
            }
            start_step = end_step;
        }
        min
    }
}

/// `base_lr * gamma^(number of milestones m with frac >= m)`: PyTorch's `MultiStepLR` with
/// milestones given as fractions of the run (w9_cifar.py's ResNet recipe: x0.1 at 0.5 and
/// 0.75).
#[derive(Debug, Clone, PartialEq)]
pub struct MultiStepFractions {
    base_lr: f64,
    milestones: Vec<f64>,
    gamma: f64,
}

impl MultiStepFractions {
    /// Checks `base_lr > 0`, `gamma > 0` and every milestone in `[0, 1)`.
    pub fn new(base_lr: f64, milestones: Vec<f64>, gamma: f64) -> Result<MultiStepFractions> {
        require("base_lr", base_lr, base_lr > 0.0, "> 0")?;
        require("gamma", gamma, gamma > 0.0, "> 0")?;
        for &m in &milestones {
            check_fraction("milestone", m)?;
        }
        Ok(MultiStepFractions {
            base_lr,
            milestones,
            gamma,
        })
    }

    /// The rate of step `step` of `total`.
    pub fn lr_at(&self, step: u64, total: u64) -> f64 {
        let f = fraction(step, total);
        let passed = self.milestones.iter().filter(|&&m| f >= m).count();
        self.base_lr * self.gamma.powi(i32::try_from(passed).unwrap_or(i32::MAX))
    }
}

/// Any per-step schedule behind one interface: before optimizer step `k` of a run of `T`,
/// `optimizer.set_lr(schedule.lr_at(k, T))`.
#[derive(Debug, Clone, PartialEq)]
pub enum StepSchedule {
    /// See [`WarmupLinear`].
    WarmupLinear(WarmupLinear),
    /// See [`WarmupCosine`].
    WarmupCosine(WarmupCosine),
    /// See [`OneCycleLr`].
    OneCycle(OneCycleLr),
    /// See [`MultiStepFractions`].
    MultiStep(MultiStepFractions),
}

impl StepSchedule {
    /// The rate of step `step` (0-based) of a run of `total` steps.
    pub fn lr_at(&self, step: u64, total: u64) -> f64 {
        match self {
            StepSchedule::WarmupLinear(s) => s.lr_at(step, total),
            StepSchedule::WarmupCosine(s) => s.lr_at(step, total),
            StepSchedule::OneCycle(s) => s.lr_at(step, total),
            StepSchedule::MultiStep(s) => s.lr_at(step, total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-12)
    }

    #[test]
    fn warmup_linear_is_the_fastnet_formula() {
        let s = WarmupLinear::new(0.2, 0.23, 0.07).expect("valid");
        assert_eq!(s.lr_at(0, 100), 0.0);
        assert!(close(s.lr_at(10, 100), 0.2 * 0.1 / 0.23));
        // The peak at frac = warm-up, the final factor approached at the end.
        assert!(close(s.lr_at(23, 100), 0.2));
        assert!(close(s.lr_at(100, 100), 0.2 * 0.07));
        assert!(close(s.lr_at(99, 100), 0.2 * (0.01 / 0.77 * 0.93 + 0.07)));
    }

    #[test]
    fn a_warm_up_can_start_above_zero_as_airbench_does() {
        // airbench94: np.interp(k, [0, 0.23 T, T], [0.2, 1, 0.07]).
        let s = WarmupLinear::new(2.0, 0.25, 0.07)
            .and_then(|s| s.starting_at(0.2))
            .expect("valid");
        assert!(close(s.lr_at(0, 100), 2.0 * 0.2));
        assert!(close(s.lr_at(10, 100), 2.0 * (0.2 + 0.8 * 0.4)));
        assert!(close(s.lr_at(25, 100), 2.0));
        let c = WarmupCosine::new(1.0, 0.5, 0.0)
            .and_then(|s| s.starting_at(0.5))
            .expect("valid");
        assert!(close(c.lr_at(1, 4), 0.75));
        assert!(WarmupLinear::new(1.0, 0.2, 0.0)
            .and_then(|s| s.starting_at(1.5))
            .is_err());
    }

    #[test]
    fn warmup_cosine_hand_values() {
        let s = WarmupCosine::new(1.0, 0.2, 0.1).expect("valid");
        assert!(close(s.lr_at(1, 10), 0.5));
        assert!(close(s.lr_at(2, 10), 1.0));
        // Half-way through the decay: final + (1 - final) / 2.
        assert!(close(s.lr_at(6, 10), 0.55));
        assert!(close(s.lr_at(10, 10), 0.1));
    }

    #[test]
    fn one_cycle_hand_values() {
        let s = OneCycleLr::new(1.0, OneCycleConfig::default()).expect("valid");
        // T = 100: up over steps 0..=29, the peak at step 29, the floor at step 99.
        assert!(close(s.lr_at(0, 100), 0.04));
        assert!(close(s.lr_at(29, 100), 1.0));
        assert!(close(s.lr_at(99, 100), 0.04 / 1e4));
        let lin = OneCycleLr::new(
            1.0,
            OneCycleConfig {
                anneal: Anneal::Linear,
                pct_start: 0.5,
                div_factor: 2.0,
                final_div_factor: 1.0,
                three_phase: false,
            },
        )
        .expect("valid");
        // Up from 0.5 to 1 over steps 0..=4, back to 0.5 at step 9: step 7 is 3/5 down.
        assert!(close(lin.lr_at(2, 10), 0.75));
        assert!(close(lin.lr_at(7, 10), 0.7));
    }

    #[test]
    fn multi_step_at_fractions() {
        let s = MultiStepFractions::new(0.1, vec![0.5, 0.75], 0.1).expect("valid");
        let lrs: Vec<f64> = [0, 49, 50, 74, 75, 99]
            .iter()
            .map(|&k| s.lr_at(k, 100))
            .collect();
        assert_eq!(lrs[0], 0.1);
        assert_eq!(lrs[1], 0.1);
        assert!(close(lrs[2], 0.01) && close(lrs[3], 0.01));
        assert!(close(lrs[4], 0.001) && close(lrs[5], 0.001));
    }

    #[test]
    fn stretching_the_run_stretches_the_curve() {
        let s = StepSchedule::WarmupLinear(WarmupLinear::new(0.2, 0.25, 0.0).expect("valid"));
        for k in 0..10 {
            assert!(close(s.lr_at(k, 10), s.lr_at(3 * k, 30)));
        }
    }

    #[test]
    fn invalid_settings_are_named() {
        let err = WarmupLinear::new(0.1, 1.0, 0.0).unwrap_err().to_string();
        assert!(err.contains("warmup must be in [0, 1), got 1"), "{err}");
        let err = MultiStepFractions::new(0.1, vec![0.5, 1.5], 0.1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("milestone must be in [0, 1), got 1.5"),
            "{err}"
        );
        let config = OneCycleConfig {
            div_factor: 0.0,
            ..OneCycleConfig::default()
        };
        let err = OneCycleLr::new(0.1, config).unwrap_err().to_string();
        assert!(err.contains("div_factor must be > 0, got 0"), "{err}");
    }
}
