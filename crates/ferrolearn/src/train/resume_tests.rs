//! A run stopped or killed inside an epoch and resumed from its last checkpoint ends with the
//! same weights, average, figures and step count, bit for bit, as an uninterrupted run: every
//! stateful part is on (shuffling, crops and flips, dropout, batch norm, Adam, a per-step
//! schedule, a moving average (a lookahead one in the killed run), validation).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::checkpoint::{model_tensors, read_tensors};
use super::{
    BatchProgress, CheckpointEvery, EmaConfig, OptimizerConfig, ScheduleConfig, Silent, StopReason,
    TrainConfig, TrainObserver, Trainer,
};
use crate::data::Dataset;
use crate::nn::models::mlp;
use crate::nn::ActivationKind;

/// 240 deterministic 1x6x6 images of 3 classes, split 200 / 40.
fn data() -> (Dataset, Dataset) {
    let n = 240;
    let images = (0..n * 36)
        .map(|i| ((i * 37 + i / 36) % 251) as u8)
        .collect();
    let labels = (0..n).map(|i| (i % 3) as u8).collect();
    let names = vec!["a".into(), "b".into(), "c".into()];
    let all = Dataset::new(images, [1, 6, 6], labels, names).expect("dataset");
    all.split_validation(40.0 / 240.0, 5).expect("split")
}

fn config(train: &Dataset) -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 16,
        optimizer: OptimizerConfig::Adam {
            lr: 0.01,
            weight_decay: 1e-4,
        },
        schedule: ScheduleConfig::WarmupCosine {
            warmup: 0.2,
            final_factor: 0.0,
            start_factor: 0.0,
        },
        augment_crop_padding: 1,
        augment_flip: true,
        normalize: true,
        seed: 11,
        ema: Some(EmaConfig {
            decay: 0.9,
            every: 2,
            lookahead: false,
        }),
        ..TrainConfig::new(
            "mlp",
            mlp(&[12], ActivationKind::Relu, 0.3, true, 3),
            "tiny",
            train,
        )
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrolearn-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Sets the stop flag after step `at`, or copies the run directory to `copy_to` after it (a
/// snapshot of what a SIGKILL at that moment would leave).
struct At {
    at: usize,
    steps: usize,
    flag: Arc<AtomicBool>,
    copy: Option<(PathBuf, PathBuf)>,
}

impl TrainObserver for At {
    fn on_batch(&mut self, _p: &BatchProgress) {
        self.steps += 1;
        if self.steps != self.at {
            return;
        }
        match &self.copy {
            Some((from, to)) => copy_dir(from, to),
            None => self.flag.store(true, Ordering::SeqCst),
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn stopping_at(at: usize) -> At {
    At {
        at,
        steps: 0,
        flag: Arc::new(AtomicBool::new(false)),
        copy: None,
    }
}

/// Everything that must match: live weights, saved evaluation weights, history (without
/// timings) and steps.
fn assert_same(a: &mut Trainer, a_dir: &Path, b: &mut Trainer, b_dir: &Path) {
    assert_eq!(a.steps_done(), b.steps_done());
    for ((name, x), (_, y)) in model_tensors(a.model_mut())
        .iter()
        .zip(&model_tensors(b.model_mut()))
    {
        assert_eq!(x.data(), y.data(), "{name} differs after resume");
    }
    let saved = |d: &Path| {
        read_tensors(&d.join("model.safetensors"))
            .expect("saved weights")
            .into_iter()
            .map(|(name, t)| (name, t.into_vec()))
            .collect::<Vec<_>>()
    };
    assert_eq!(saved(a_dir), saved(b_dir), "the averaged weights differ");
    let strip = |t: &Trainer| {
        t.history()
            .iter()
            .map(|r| (r.epoch, r.train_loss, r.train_accuracy, r.val_loss, r.lr))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(a), strip(b));
}

#[test]
fn stopped_twice_inside_epochs_and_resumed_equals_uninterrupted() {
    let (train, val) = data();
    let straight_dir = temp_dir("straight");
    let mut straight = Trainer::new(config(&train), &train).expect("trainer");
    let stop = straight
        .fit(&train, Some(&val), Some(&straight_dir), &mut Silent)
        .expect("training");
    assert_eq!(stop, StopReason::Completed);
    assert_eq!(straight.steps_done(), 39, "3 epochs of 13 batches");

    let dir = temp_dir("stopped");
    let mut first = Trainer::new(config(&train), &train).expect("trainer");
    // Stops after step 18: epoch 2, batch 5.
    let mut at = stopping_at(18);
    first.set_stop_flag(at.flag.clone());
    let stop = first
        .fit(&train, Some(&val), Some(&dir), &mut at)
        .expect("training");
    assert_eq!(stop, StopReason::Interrupted);
    assert_eq!(first.steps_done(), 18);
    let mut second = Trainer::resume(&dir).expect("resumable");
    assert_eq!((second.steps_done(), second.epochs_done()), (18, 1));
    let mut at = stopping_at(8);
    second.set_stop_flag(at.flag.clone());
    let stop = second
        .fit(&train, Some(&val), Some(&dir), &mut at)
        .expect("training");
    assert_eq!((stop, second.steps_done()), (StopReason::Interrupted, 26));
    let mut third = Trainer::resume(&dir).expect("resumable");
    let stop = third
        .fit(&train, Some(&val), Some(&dir), &mut Silent)
        .expect("training");
    assert_eq!(stop, StopReason::Completed);
    assert_same(&mut straight, &straight_dir, &mut third, &dir);
    for d in [straight_dir, dir] {
        std::fs::remove_dir_all(d).expect("cleanup");
    }
}

/// [`config`] with a lookahead average, which writes itself back into the live weights.
fn lookahead_config(train: &Dataset) -> TrainConfig {
    TrainConfig {
        ema: Some(EmaConfig {
            decay: 0.9,
            every: 2,
            lookahead: true,
        }),
        ..config(train)
    }
}

#[test]
fn killed_after_a_periodic_checkpoint_and_resumed_equals_uninterrupted() {
    let (train, val) = data();
    let config = lookahead_config;
    let straight_dir = temp_dir("straight-kill");
    let mut straight = Trainer::new(config(&train), &train).expect("trainer");
    straight
        .fit(&train, Some(&val), Some(&straight_dir), &mut Silent)
        .expect("training");

    // Checkpoints every 5 steps, counted from the last one (the end of epoch 1 at step 13):
    // the directory as it stands after step 23, before that step's checkpoint (last one at
    // step 18, inside epoch 2), is what a kill then would leave.
    let (dir, killed) = (temp_dir("running"), temp_dir("killed"));
    let mut running = Trainer::new(config(&train), &train).expect("trainer");
    running.set_checkpoint_every(CheckpointEvery::Steps(5));
    let mut snapshot = At {
        copy: Some((dir.clone(), killed.clone())),
        ..stopping_at(23)
    };
    running
        .fit(&train, Some(&val), Some(&dir), &mut snapshot)
        .expect("training");
    let mut resumed = Trainer::resume(&killed).expect("resumable");
    assert_eq!((resumed.steps_done(), resumed.epochs_done()), (18, 1));
    resumed
        .fit(&train, Some(&val), Some(&killed), &mut Silent)
        .expect("training");
    assert_same(&mut straight, &straight_dir, &mut resumed, &killed);
    // A snapshot before the first step holds a resumable run too.
    let early = temp_dir("early");
    let mut fresh = Trainer::new(config(&train), &train).expect("trainer");
    let mut snapshot = At {
        copy: Some((early.clone(), early.with_extension("copy"))),
        ..stopping_at(1)
    };
    fresh
        .fit(&train, Some(&val), Some(&early), &mut snapshot)
        .expect("training");
    let restarted = Trainer::resume(&early.with_extension("copy")).expect("resumable");
    assert_eq!(restarted.steps_done(), 0);
    for d in [
        straight_dir,
        dir,
        killed,
        early.clone(),
        early.with_extension("copy"),
    ] {
        std::fs::remove_dir_all(d).expect("cleanup");
    }
}

#[test]
fn a_finished_run_whose_rate_ended_at_zero_resumes_and_extends() {
    let (train, _) = data();
    let dir = temp_dir("extend");
    let cosine = TrainConfig {
        epochs: 2,
        schedule: ScheduleConfig::Cosine {
            t_max: 2,
            eta_min: 0.0,
        },
        ema: None,
        ..config(&train)
    };
    let mut first = Trainer::new(cosine, &train).expect("trainer");
    first
        .fit(&train, None, Some(&dir), &mut Silent)
        .expect("training");
    let ended: Vec<Vec<f32>> = model_tensors(first.model_mut())
        .into_iter()
        .map(|(_, t)| t.into_vec())
        .collect();
    let mut again = Trainer::resume(&dir).expect("a run at lr 0 resumes");
    assert!(again.is_finished());
    let stop = again
        .fit(&train, None, Some(&dir), &mut Silent)
        .expect("nothing to do");
    assert_eq!((stop, again.steps_done()), (StopReason::Completed, 26));
    again.extend_epochs(4);
    assert!(!again.is_finished());
    again
        .fit(&train, None, Some(&dir), &mut Silent)
        .expect("training further");
    assert_eq!((again.epochs_done(), again.steps_done()), (4, 52));
    let moved = model_tensors(again.model_mut())
        .into_iter()
        .zip(&ended)
        .any(|((_, t), old)| t.data() != old.as_slice());
    assert!(moved, "the extra epochs trained");
    assert_eq!(
        again.history()[2].lr,
        0.0,
        "epoch 3 starts where the cosine ended"
    );
    std::fs::remove_dir_all(dir).expect("cleanup");
}
