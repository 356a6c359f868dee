//! An exponential moving average of weights, for evaluation: the average of the last
//! `~1 / (1 - decay)` updates generalises better than the latest weights, at no training cost.

use super::require;
use crate::{Error, Result};

/// The running average of a list of weight vectors (a model's parameters, and the batch-norm
/// running statistics with them), as PyTorch's
/// `AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)`
/// updated after every `every`-th optimizer step:
///
/// ```text
/// first update:  avg = w
/// later ones:    avg = avg + (1 - decay) * (w - avg)
/// ```
/// The first update copies, so early averages are not pulled towards the initial weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Ema {
    decay: f64,
    every: u64,
    updates: u64,
    averages: Vec<Vec<f32>>,
}

impl Ema {
    /// Checks `decay` in `[0, 1)` and `every >= 1`.
    pub fn new(decay: f64, every: u64) -> Result<Ema> {
        require("ema_decay", decay, (0.0..1.0).contains(&decay), "in [0, 1)")?;
        require("ema_every", every as f64, every >= 1, ">= 1")?;
        Ok(Ema {
            decay,
            every,
            updates: 0,
            averages: Vec::new(),
        })
    }

    /// The decay per update.
    pub fn decay(&self) -> f64 {
        self.decay
    }

    /// Optimizer steps between updates.
    pub fn every(&self) -> u64 {
        self.every
    }

    /// The number of updates so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The averages, one per weight vector in the order given to [`Ema::update`]; empty
    /// before the first update.
    pub fn averages(&self) -> &[Vec<f32>] {
        &self.averages
    }

    /// Call after optimizer step `step` (1-based): updates when `step` is a multiple of
    /// `every`, and says whether it did.
    pub fn after_step(&mut self, step: u64, weights: &[&[f32]]) -> bool {
        let due = step.is_multiple_of(self.every);
        if due {
            self.update(weights);
        }
        due
    }

    /// Folds `weights` into the average.
    ///
    /// # Panics
    /// When the list or a vector's length differs from the first update's.
    pub fn update(&mut self, weights: &[&[f32]]) {
        self.update_with_decay(weights, self.decay);
    }

    /// Folds `weights` into the average with `decay` for this update instead of the fixed
    /// one (a schedule ramping the decay, as airbench's lookahead does).
    ///
    /// # Panics
    /// As [`Ema::update`].
    pub fn update_with_decay(&mut self, weights: &[&[f32]], decay: f64) {
        self.updates += 1;
        if self.averages.is_empty() {
            self.averages = weights.iter().map(|w| w.to_vec()).collect();
            return;
        }
        assert_eq!(
            weights.len(),
            self.averages.len(),
            "ema: {} weight vectors, but the average holds {}",
            weights.len(),
            self.averages.len()
        );
        let rate = (1.0 - decay) as f32;
        for (k, (avg, w)) in self.averages.iter_mut().zip(weights).enumerate() {
            assert_eq!(
                avg.len(),
                w.len(),
                "ema: vector {k} has {} elements, its average {}",
                w.len(),
                avg.len()
            );
            avg.iter_mut()
                .zip(*w)
                .for_each(|(a, &w)| *a += rate * (w - *a));
        }
    }

    /// Restores a saved average (`updates` done, the averaged vectors) after checking it
    /// against the expected vector lengths; `self` is unchanged on error.
    pub fn restore(&mut self, updates: u64, averages: Vec<Vec<f32>>, lens: &[usize]) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidData(format!("ema state: {msg}")));
        if updates == 0 {
            if !averages.is_empty() {
                return bad("averages saved before any update".into());
            }
        } else {
            if averages.len() != lens.len() {
                return bad(format!(
                    "{} averaged vectors, the model has {}",
                    averages.len(),
                    lens.len()
                ));
            }
            if let Some((k, (a, n))) = averages
                .iter()
                .zip(lens)
                .enumerate()
                .find(|(_, (a, &n))| a.len() != n)
            {
                return bad(format!("vector {k} has {} elements, expected {n}", a.len()));
            }
        }
        self.updates = updates;
        self.averages = averages;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_update_copies_then_averages() {
        let mut ema = Ema::new(0.75, 2).expect("valid");
        assert!(!ema.after_step(1, &[&[4.0]]));
        assert!(ema.averages().is_empty());
        assert!(ema.after_step(2, &[&[4.0]]));
        assert_eq!(ema.averages(), [vec![4.0]]);
        ema.after_step(4, &[&[8.0]]);
        // 4 + 0.25 * (8 - 4)
        assert_eq!(ema.averages(), [vec![5.0]]);
        assert_eq!(ema.updates(), 2);
    }

    #[test]
    fn restore_checks_lengths() {
        let mut ema = Ema::new(0.9, 1).expect("valid");
        let err = ema
            .restore(3, vec![vec![1.0]], &[2])
            .unwrap_err()
            .to_string();
        assert!(err.contains("vector 0 has 1 elements, expected 2"), "{err}");
        ema.restore(3, vec![vec![1.0, 2.0]], &[2]).expect("matches");
        ema.update(&[&[3.0, 2.0]]);
        assert!((ema.averages()[0][0] - 1.2).abs() < 1e-6);
    }

    #[test]
    fn settings_are_checked() {
        let err = Ema::new(1.0, 1).unwrap_err().to_string();
        assert!(err.contains("ema_decay must be in [0, 1), got 1"), "{err}");
        assert!(Ema::new(0.9, 0).is_err());
    }
}
