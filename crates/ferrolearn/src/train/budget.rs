//! Time budgets: the number of training steps fitted to a wall-clock budget from the speed of
//! the first steps, so that training and the final evaluation end inside it.
//!
//! The trainer runs a few warm-up steps (caches, allocator, thread pool), times the next
//! ones, times one evaluation forward pass, and then [`TimeBudget::fit`] turns what remains of
//! the budget, minus the final evaluation (with its test-time augmentation) and the per-epoch
//! validation and checkpoints, into a total step count. Per-step schedules are functions of
//! `k / T`, so the whole schedule stretches to the fitted total.

use std::time::Instant;

use crate::{Error, Result};

/// Seconds since some fixed start: the wall clock in training, a fake one in tests.
pub trait Clock: Send {
    /// Seconds elapsed since the clock's start.
    fn seconds(&self) -> f64;
}

/// The wall clock, counting from a given instant.
#[derive(Debug, Clone, Copy)]
pub struct WallClock(pub Instant);

impl Clock for WallClock {
    fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// Parses a duration such as `90s`, `30m`, `2h`, `1h30m` or `1.5h` into seconds.
pub fn parse_duration(text: &str) -> Result<f64> {
    let bad = || {
        Error::InvalidParameter(format!(
            "time budget `{text}`: expected a duration such as 90s, 30m, 2h or 1h30m"
        ))
    };
    let mut total = 0.0;
    let mut number = String::new();
    let mut parts = 0;
    for ch in text.trim().chars() {
        match ch {
            '0'..='9' | '.' => number.push(ch),
            'h' | 'm' | 's' => {
                let value: f64 = number.parse().map_err(|_| bad())?;
                let unit = match ch {
                    'h' => 3600.0,
                    'm' => 60.0,
                    _ => 1.0,
                };
                total += value * unit;
                number.clear();
                parts += 1;
            }
            _ => return Err(bad()),
        }
    }
    if !number.is_empty() || parts == 0 || !(total.is_finite() && total > 0.0) {
        return Err(bad());
    }
    Ok(total)
}

/// What a run costs besides its training steps, for [`TimeBudget::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetCosts {
    /// Training steps per epoch (validation and checkpoints happen once per epoch).
    pub steps_per_epoch: u64,
    /// Images of the validation split, evaluated after every epoch (0 for none).
    pub val_images: usize,
    /// Images of the final evaluation.
    pub final_images: usize,
    /// Forward passes per image of the final evaluation ([`super::Tta::passes`]).
    pub final_passes: usize,
    /// Seconds to write one checkpoint.
    pub checkpoint_seconds: f64,
}

/// The speed measured on the first steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Seconds since the budget started, when the measurement ended.
    pub now: f64,
    /// Training steps done so far.
    pub steps_done: u64,
    /// Seconds per training step.
    pub step_seconds: f64,
    /// Seconds per image of one evaluation forward pass.
    pub eval_seconds_per_image: f64,
}

/// A wall-clock budget for a whole run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeBudget {
    seconds: f64,
}

/// Steps run before the timed ones (first-touch allocations, thread start-up).
pub const WARMUP_STEPS: u64 = 3;
/// Steps timed to measure the speed.
pub const MEASURED_STEPS: u64 = 10;
/// Fraction of the budget kept free for what the estimates miss (speed drift, stragglers).
const MARGIN: f64 = 0.03;
/// The final evaluation's estimate is inflated by this factor (larger batches, TTA copies).
const EVAL_SAFETY: f64 = 1.2;

impl TimeBudget {
    /// A budget of `seconds` (> 0).
    pub fn new(seconds: f64) -> Result<TimeBudget> {
        crate::optim::require("time_budget", seconds, seconds > 0.0, "> 0")?;
        Ok(TimeBudget { seconds })
    }

    /// The budget in seconds.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Seconds the final evaluation is expected to take.
    pub fn final_eval_seconds(&self, m: &Measured, costs: &BudgetCosts) -> f64 {
        EVAL_SAFETY
            * m.eval_seconds_per_image
            * (costs.final_images * costs.final_passes.max(1)) as f64
    }

    /// The clock reading after which no step may start: the budget less a third of the
    /// margin (the speed drifts on a shared machine), the final evaluation and the last
    /// checkpoint.
    pub fn deadline(&self, m: &Measured, costs: &BudgetCosts) -> f64 {
        self.seconds * (1.0 - MARGIN / 3.0)
            - self.final_eval_seconds(m, costs)
            - costs.checkpoint_seconds
    }

    /// The total number of training steps (at least those done) that fits: what is left of
    /// the budget after the margin and the final evaluation, divided by the cost of one step
    /// plus its share of the per-epoch validation and checkpoint.
    pub fn fit(&self, m: &Measured, costs: &BudgetCosts) -> u64 {
        let per_epoch =
            m.eval_seconds_per_image * costs.val_images as f64 + costs.checkpoint_seconds;
        let per_step = m.step_seconds + per_epoch / costs.steps_per_epoch.max(1) as f64;
        let left = self.seconds * (1.0 - MARGIN) - m.now - self.final_eval_seconds(m, costs);
        let more = if left > 0.0 && per_step > 0.0 {
            (left / per_step).floor() as u64
        } else {
            0
        };
        m.steps_done + more
    }
}

/// Times the first steps of a run: call [`SpeedProbe::after_step`] after every step; it
/// returns the seconds per step once [`WARMUP_STEPS`] + [`MEASURED_STEPS`] steps are done.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpeedProbe {
    start: Option<f64>,
}

impl SpeedProbe {
    /// After step `steps_done` (counted from the start of this process's training) at clock
    /// time `now`: `Some(seconds per step)` exactly once, when the timed steps are done.
    pub fn after_step(&mut self, steps_done: u64, now: f64) -> Option<f64> {
        if steps_done == WARMUP_STEPS {
            self.start = Some(now);
        }
        match self.start {
            Some(start) if steps_done == WARMUP_STEPS + MEASURED_STEPS => {
                Some((now - start) / MEASURED_STEPS as f64)
            }
            _ => None,
        }
    }
}

/// A clock for tests: it reads what was set, and advances by `tick` seconds at every reading
/// (so a training loop under it sees deterministic "time").
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct FakeClock {
    now: std::sync::Arc<std::sync::Mutex<f64>>,
    tick: f64,
}

#[cfg(test)]
impl FakeClock {
    /// A clock at 0 advancing `tick` seconds per reading.
    pub(crate) fn new(tick: f64) -> FakeClock {
        FakeClock {
            now: std::sync::Arc::new(std::sync::Mutex::new(0.0)),
            tick,
        }
    }

    /// Moves the clock forward.
    pub(crate) fn advance(&self, seconds: f64) {
        *self.now.lock().expect("clock") += seconds;
    }
}

#[cfg(test)]
impl Clock for FakeClock {
    fn seconds(&self) -> f64 {
        let mut now = self.now.lock().expect("clock");
        let t = *now;
        *now += self.tick;
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90s").unwrap(), 90.0);
        assert_eq!(parse_duration("30m").unwrap(), 1800.0);
        assert_eq!(parse_duration("2h").unwrap(), 7200.0);
        assert_eq!(parse_duration("1h30m").unwrap(), 5400.0);
        assert_eq!(parse_duration("1.5h").unwrap(), 5400.0);
        for bad in ["", "30", "m", "3x", "-5m", "0s"] {
            let err = parse_duration(bad).unwrap_err().to_string();
            assert!(err.contains("expected a duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn probe_times_the_steps_after_the_warmup() {
        let clock = FakeClock::new(0.0);
        let mut probe = SpeedProbe::default();
        let mut result = None;
        for step in 1..=20u64 {
            // Warm-up steps are slow (5 s), then 2 s each.
            clock.advance(if step <= WARMUP_STEPS { 5.0 } else { 2.0 });
            if let Some(s) = probe.after_step(step, clock.seconds()) {
                assert!(result.is_none(), "reported twice");
                result = Some((step, s));
            }
        }
        assert_eq!(result, Some((WARMUP_STEPS + MEASURED_STEPS, 2.0)));
    }

    #[test]
    fn fit_reserves_the_final_evaluation_and_the_epoch_overheads() {
        let budget = TimeBudget::new(1000.0).unwrap();
        let m = Measured {
            now: 40.0,
            steps_done: 13,
            step_seconds: 2.0,
            eval_seconds_per_image: 0.001,
        };
        let costs = BudgetCosts {
            steps_per_epoch: 10,
            val_images: 0,
            final_images: 10_000,
            final_passes: 6,
            checkpoint_seconds: 1.0,
        };
        // Final evaluation: 1.2 * 0.001 * 60000 = 72 s. Left: 970 - 40 - 72 = 858 s.
        // A step costs 2 + 1/10 s: floor(858 / 2.1) = 408 more steps.
        assert!((budget.final_eval_seconds(&m, &costs) - 72.0).abs() < 1e-9);
        assert_eq!(budget.fit(&m, &costs), 13 + 408);
        // No step starts after 990 - 72 - 1 s: the last checkpoint and evaluation fit.
        assert!((budget.deadline(&m, &costs) - 917.0).abs() < 1e-9);
        // Validation after every epoch makes steps dearer: 2 + (0.001 * 5000 + 1) / 10 = 2.6.
        let with_val = BudgetCosts {
            val_images: 5000,
            ..costs
        };
        assert_eq!(budget.fit(&m, &with_val), 13 + 330);
        // A spent budget trains no further.
        let late = Measured { now: 990.0, ..m };
        assert_eq!(budget.fit(&late, &costs), 13);
    }

    #[test]
    fn a_slower_machine_gets_fewer_steps() {
        let budget = TimeBudget::new(1800.0).unwrap();
        let costs = BudgetCosts {
            steps_per_epoch: 98,
            val_images: 0,
            final_images: 10_000,
            final_passes: 6,
            checkpoint_seconds: 0.5,
        };
        let fast = Measured {
            now: 30.0,
            steps_done: 13,
            step_seconds: 1.0,
            eval_seconds_per_image: 0.0005,
        };
        let slow = Measured {
            step_seconds: 2.0,
            eval_seconds_per_image: 0.001,
            ..fast
        };
        let (a, b) = (budget.fit(&fast, &costs), budget.fit(&slow, &costs));
        assert!(a > b && b > 13, "{a} {b}");
        // Training the fitted steps plus the final evaluation stays inside the budget.
        for m in [fast, slow] {
            let steps = budget.fit(&m, &costs) - m.steps_done;
            let per_step = m.step_seconds + 0.5 / 98.0;
            let end = m.now + steps as f64 * per_step + budget.final_eval_seconds(&m, &costs);
            assert!(end <= 1800.0, "{end}");
        }
    }
}
