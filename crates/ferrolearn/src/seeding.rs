//! Independent random streams under one seed.
//!
//! Every random choice of a training run comes from ChaCha8 keyed by the run's seed. Each
//! purpose, and each epoch of it, reads its own stream of that generator, so no two ever share
//! draws (the initial weights are not correlated with the first epoch's order, dropout masks
//! not with the augmentation), and a run resumed at an epoch boundary draws exactly what an
//! uninterrupted run would.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a stream's draws are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The initial weights (one stream for the whole run).
    Init,
    /// The order of the training items in an epoch.
    Shuffle,
    /// The random crops and flips of an epoch.
    Augment,
    /// The dropout masks of an epoch.
    Dropout,
}

/// The generator for `purpose` in `epoch` (pass 0 for [`Purpose::Init`]) under `seed`.
///
/// The stream number is `purpose * 2^32 + epoch`, so the initial weights read stream 0, which
/// is what `ChaCha8Rng::seed_from_u64(seed)` alone gives.
pub fn stream(seed: u64, purpose: Purpose, epoch: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((purpose as u64) << 32) | (epoch & 0xFFFF_FFFF));
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    fn first_word(seed: u64, purpose: Purpose, epoch: u64) -> u64 {
        stream(seed, purpose, epoch).next_u64()
    }

    #[test]
    fn purposes_and_epochs_draw_from_different_streams() {
        let purposes = [
            Purpose::Init,
            Purpose::Shuffle,
            Purpose::Augment,
            Purpose::Dropout,
        ];
        let mut seen = std::collections::HashSet::new();
        for p in purposes {
            for epoch in 0..4 {
                assert!(seen.insert(first_word(7, p, epoch)), "{p:?} epoch {epoch}");
            }
        }
    }

    #[test]
    fn init_stream_is_the_plain_seeded_generator() {
        assert_eq!(
            first_word(3, Purpose::Init, 0),
            ChaCha8Rng::seed_from_u64(3).next_u64()
        );
    }
}
