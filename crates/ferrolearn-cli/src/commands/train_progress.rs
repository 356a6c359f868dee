//! What `ferrolearn train` shows while it runs: a progress bar per epoch on stderr, one line
//! per finished epoch, and the curves of the history redrawn after each epoch.

use std::path::PathBuf;
use std::time::Instant;

use ferrolearn::train::{BatchProgress, EpochRecord, TrainObserver};
use ferrolearn::viz::{plot_training_curves, CurveSeries};
use indicatif::{ProgressBar, ProgressStyle};

/// The loss and accuracy curves of a run's history.
pub fn curves(history: &[EpochRecord]) -> CurveSeries {
    let val: Option<Vec<f64>> = history.iter().map(|r| r.val_loss).collect();
    let val_acc: Option<Vec<f64>> = history.iter().map(|r| r.val_accuracy).collect();
    CurveSeries {
        epochs: history.iter().map(|r| r.epoch).collect(),
        train_loss: history.iter().map(|r| r.train_loss).collect(),
        val_loss: val,
        train_acc: Some(history.iter().map(|r| r.train_accuracy).collect()),
        val_acc,
    }
}

/// Progress bars on stderr (hidden with --json or when stderr is not a terminal) and one
/// line per finished epoch.
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    epochs: usize,
    epoch_start: Instant,
    curves: Option<LiveCurves>,
}

/// A curves picture kept up to date while training, so it can be watched.
struct LiveCurves {
    path: PathBuf,
    title: String,
    history: Vec<EpochRecord>,
    /// Whether a failure to draw was already reported (once is enough).
    warned: bool,
}

impl Progress {
    pub fn new(quiet: bool, epochs: usize) -> Progress {
        Progress {
            bar: None,
            quiet,
            epochs,
            epoch_start: Instant::now(),
            curves: None,
        }
    }

    /// Also redraws the curves of `history` and each finished epoch to `path` after every
    /// epoch.
    pub fn drawing_curves(
        mut self,
        path: PathBuf,
        title: String,
        history: Vec<EpochRecord>,
    ) -> Self {
        self.curves = Some(LiveCurves {
            path,
            title,
            history,
            warned: false,
        });
        self
    }

    /// Removes the bar (before any other output, and when training ends or fails).
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    /// Training that fails or is interrupted leaves no bar behind.
    fn drop(&mut self) {
        self.finish();
    }
}

impl TrainObserver for Progress {
    fn on_batch(&mut self, p: &BatchProgress) {
        if self.quiet {
            return;
        }
        // A new epoch, or the first batch after resuming inside one.
        if p.batches_done == 1 || self.bar.is_none() {
            self.finish();
            self.epoch_start = Instant::now();
            let bar = ProgressBar::new(p.batches_total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix} [{bar:30}] {pos}/{len} batches  {msg}  eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("{}/{}", p.epoch, self.epochs));
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(p.batches_done as u64);
            let speed = p.images as f64 / self.epoch_start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "loss {:.4}  acc {:.2}%  {:.0} img/s",
                p.running_loss,
                100.0 * p.running_accuracy,
                speed
            ));
        }
    }

    fn on_epoch(&mut self, r: &EpochRecord) {
        self.finish();
        if let Some(c) = &mut self.curves {
            c.history.push(r.clone());
            let drawn = plot_training_curves(&c.path, &curves(&c.history), &c.title);
            if let (Err(e), false) = (drawn, c.warned) {
                eprintln!("warning: could not draw {}: {e}", c.path.display());
                c.warned = true;
            }
        }
        if self.quiet {
            return;
        }
        let val = match (r.val_loss, r.val_accuracy) {
            (Some(l), Some(a)) => format!("  val loss {l:.4} acc {:.2}%", 100.0 * a),
            _ => String::new(),
        };
        eprintln!(
            "epoch {}/{}: train loss {:.4} acc {:.2}%{val}  lr {:.3e}  {:.1}s",
            r.epoch,
            self.epochs,
            r.train_loss,
            100.0 * r.train_accuracy,
            r.lr,
            r.seconds
        );
    }
}
