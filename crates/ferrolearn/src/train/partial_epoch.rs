//! How far the current epoch has gone: what a checkpoint taken inside an epoch saves so that
//! a resumed run continues at the next batch with the figures, dropout stream and timing it
//! would have had.

use serde::{Deserialize, Serialize};

/// The progress of an unfinished epoch (saved in `checkpoint/state.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct PartialEpoch {
    /// The 1-based epoch.
    pub(super) epoch: usize,
    /// Batches trained in it.
    pub(super) batches_done: usize,
    /// Sum of the batch losses times the batch sizes.
    pub(super) loss_sum: f64,
    /// Correct training predictions.
    pub(super) correct: usize,
    /// Images trained on.
    pub(super) seen: usize,
    /// The rate of the epoch's first step.
    pub(super) lr: Option<f64>,
    /// Training seconds spent in it before this process.
    pub(super) seconds: f64,
    /// Position in the epoch's dropout stream (words drawn), so later masks are the same.
    pub(super) dropout_word_pos: u128,
}

impl PartialEpoch {
    /// Epoch `epoch` before its first batch.
    pub(super) fn start(epoch: usize) -> PartialEpoch {
        PartialEpoch {
            epoch,
            batches_done: 0,
            loss_sum: 0.0,
            correct: 0,
            seen: 0,
            lr: None,
            seconds: 0.0,
            dropout_word_pos: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_bit_for_bit() {
        let p = PartialEpoch {
            epoch: 3,
            batches_done: 17,
            loss_sum: 0.1 + 0.2,
            correct: 5,
            seen: 170,
            lr: Some(1.0 / 3.0),
            seconds: 2.5,
            dropout_word_pos: (1u128 << 70) + 3,
        };
        let back: PartialEpoch =
            serde_json::from_str(&serde_json::to_string(&p).expect("serialises")).expect("reads");
        assert_eq!(back, p);
        assert_eq!(back.loss_sum.to_bits(), p.loss_sum.to_bits());
    }
}
