//! Trainer tests that need the crate's fake clock: the time budget fitted from the speed of
//! the first steps, and the stop when the clock runs out.

use super::budget::{FakeClock, TimeBudget, MEASURED_STEPS, WARMUP_STEPS};
use super::{BatchProgress, ScheduleConfig, StopReason, TrainConfig, TrainObserver, Trainer};
use crate::data::Dataset;
use crate::nn::models::mlp;
use crate::nn::ActivationKind;

/// 200 deterministic 1x4x4 images of 2 classes.
fn tiny_dataset() -> Dataset {
    let n = 200;
    let images = (0..n * 16).map(|i| ((i * 37) % 251) as u8).collect();
    let labels = (0..n).map(|i| (i % 2) as u8).collect();
    Dataset::new(images, [1, 4, 4], labels, vec!["a".into(), "b".into()]).expect("dataset")
}

fn budget_config(train: &Dataset, seconds: f64) -> TrainConfig {
    TrainConfig {
        batch_size: 10,
        epochs: 1,
        schedule: ScheduleConfig::WarmupLinear {
            warmup: 0.2,
            final_factor: 0.1,
            start_factor: 0.0,
        },
        time_budget_s: Some(seconds),
        ..TrainConfig::new(
            "mlp",
            mlp(&[8], ActivationKind::Relu, 0.0, false, 2),
            "tiny",
            train,
        )
    }
}

/// Advances the fake clock after every batch: `fast` seconds for the first `switch` steps,
/// `slow` afterwards; counts the steps.
struct Ticks {
    clock: FakeClock,
    fast: f64,
    slow: f64,
    switch: u64,
    steps: u64,
}

impl TrainObserver for Ticks {
    fn on_batch(&mut self, _p: &BatchProgress) {
        self.steps += 1;
        let dt = if self.steps <= self.switch {
            self.fast
        } else {
            self.slow
        };
        self.clock.advance(dt);
    }
}

/// Trains under a budget of `seconds` on a fake clock that also advances `tick` seconds at
/// every reading (so the timed evaluation pass costs `tick`).
fn run(
    seconds: f64,
    (fast, slow): (f64, f64),
    tick: f64,
    final_images: usize,
) -> (Trainer, StopReason, Ticks) {
    let train = tiny_dataset();
    let mut trainer = Trainer::new(budget_config(&train, seconds), &train).expect("trainer");
    let clock = FakeClock::new(tick);
    trainer.set_budget_clock(Box::new(clock.clone()), final_images);
    let mut ticks = Ticks {
        clock,
        fast,
        slow,
        switch: WARMUP_STEPS + MEASURED_STEPS,
        steps: 0,
    };
    let stop = trainer
        .fit(&train, None, None, &mut ticks)
        .expect("training");
    (trainer, stop, ticks)
}

#[test]
fn budget_fits_the_step_count_to_the_measured_speed() {
    // One second per step on the fake clock; the evaluation pass takes no fake time.
    let (trainer, stop, ticks) = run(100.0, (1.0, 1.0), 0.0, 0);
    let total = trainer.fitted_total_steps().expect("fitted");
    // Measured at step 13 with the clock at 12 s: 97 s - 12 s left, at a little over 1 s per
    // step (the checkpoint estimate is spread over the epoch's 20 steps).
    let done = WARMUP_STEPS + MEASURED_STEPS;
    let left = 100.0 * 0.97 - (done - 1) as f64;
    assert!(total <= done + left as u64, "{total}");
    assert!(total >= done + (left / 1.02) as u64, "{total}");
    assert_eq!(stop, StopReason::Completed);
    assert_eq!(trainer.steps_done(), total);
    assert_eq!(ticks.steps, total);
    // The epochs were stretched to cover the fitted steps, the last one partial.
    assert_eq!(trainer.config().epochs as u64, total.div_ceil(20));
    assert_eq!(trainer.history().len() as u64, total.div_ceil(20));
    // A budget twice as long buys about twice the steps.
    let (longer, _, _) = run(200.0, (1.0, 1.0), 0.0, 0);
    let more = longer.fitted_total_steps().expect("fitted");
    assert!(
        more > 2 * total - 20 && more < 2 * total + 20,
        "{more} vs {total}"
    );
}

#[test]
fn budget_reserves_the_final_evaluation() {
    // The timed evaluation pass of a 10-image batch reads the clock twice: 0.01 s, so
    // 0.001 s per image; 10 000 final images are reserved 1.2 * 10 s = 12 s, about 12 steps.
    let (plain, _, _) = run(100.0, (1.0, 1.0), 0.01, 0);
    let (reserved, stop, _) = run(100.0, (1.0, 1.0), 0.01, 10_000);
    let (a, b) = (
        plain.fitted_total_steps().expect("fitted"),
        reserved.fitted_total_steps().expect("fitted"),
    );
    assert!(a - b >= 10 && a - b <= 14, "{a} vs {b}");
    assert_eq!(stop, StopReason::Completed);
    assert!(TimeBudget::new(0.0).is_err());
}

#[test]
fn a_slowdown_after_the_measurement_stops_the_run_inside_the_budget() {
    // 1 s per step while measured, then 3 s: the fitted count cannot be reached in time.
    let (trainer, stop, ticks) = run(100.0, (1.0, 3.0), 0.0, 0);
    assert_eq!(stop, StopReason::TimeBudget);
    let total = trainer.fitted_total_steps().expect("fitted");
    assert_eq!(total, trainer.steps_done());
    // The clock stopped within one slow step of the budget.
    let end = ticks.clock_now();
    assert!(end <= 100.0 + 3.0, "{end}");
}

impl Ticks {
    fn clock_now(&self) -> f64 {
        use super::budget::Clock;
        self.clock.seconds()
    }
}
