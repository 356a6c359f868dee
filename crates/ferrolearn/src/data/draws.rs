//! The random choices of the augmentation, as a function of the seed, the epoch and the
//! image's position in the epoch alone — never of which thread prepares which batch.
//!
//! Layout of the augmentation stream of epoch `e` ([`stream`]`(seed, Augment, e)`): the
//! image at position `k` of the epoch's order reads the 16 words (one ChaCha block) from
//! word `16 k`, at fixed offsets: the crop's row offset (words 0-1), its column offset
//! (2-3), the random flip (4), the cutout's centre row (6-7) and column (8-9). Switching one
//! transform on or off does not move the draws of the others. Alternating flips read the
//! base bit of dataset item `i` from epoch 0's stream at word `2^64 + i / 32`, bit `i % 32`,
//! far past any position.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use super::augment::{AugmentConfig, FlipMode};
use crate::seeding::{stream, Purpose};

/// Words of the stream reserved for each image.
const WORDS_PER_IMAGE: u128 = 16;

/// Where the base bits of alternating flips start in epoch 0's stream.
const FLIP_BITS_WORD: u128 = 1 << 64;

/// The random choices for one image: the window of the padded image it is cropped from,
/// whether it is mirrored, and the cutout rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ImageDraw {
    /// Top row of the crop in the padded image, `0..=2 * padding`.
    pub dy: usize,
    /// Left column of the crop in the padded image, `0..=2 * padding`.
    pub dx: usize,
    /// Whether the crop is mirrored left-right.
    pub flip: bool,
    /// Rows `[y0, y1)` and columns `[x0, x1)` of the output set to 0, or `None`.
    pub cutout: Option<[usize; 4]>,
}

/// The draws of one epoch for images of height `h` and width `w`.
#[derive(Debug, Clone)]
pub(super) struct EpochDraws {
    config: AugmentConfig,
    h: usize,
    w: usize,
    rng: ChaCha8Rng,
    /// Alternating flips: the base bits of every dataset item, 32 per word, already
    /// inverted in odd epochs; empty otherwise.
    flip_bits: Vec<u32>,
}

impl EpochDraws {
    /// The draws of `epoch` under `seed` for a dataset of `items` images of height `h` and
    /// width `w`.
    pub(super) fn new(
        config: AugmentConfig,
        seed: u64,
        epoch: u64,
        [h, w]: [usize; 2],
        items: usize,
    ) -> EpochDraws {
        let flip_bits = if config.flip == FlipMode::Alternating {
            let mut base = stream(seed, Purpose::Augment, 0);
            base.set_word_pos(FLIP_BITS_WORD);
            let invert = if epoch % 2 == 1 { u32::MAX } else { 0 };
            (0..items.div_ceil(32))
                .map(|_| base.next_u32() ^ invert)
                .collect()
        } else {
            Vec::new()
        };
        EpochDraws {
            config,
            h,
            w,
            rng: stream(seed, Purpose::Augment, epoch),
            flip_bits,
        }
    }

    /// The draws of the images at positions `first..first + items.len()` of the epoch,
    /// which are dataset items `items`.
    pub(super) fn batch(&self, first: usize, items: &[usize]) -> Vec<ImageDraw> {
        let mut rng = self.rng.clone();
        rng.set_word_pos(first as u128 * WORDS_PER_IMAGE);
        items
            .iter()
            .map(|&item| {
                let mut words = [0u32; WORDS_PER_IMAGE as usize];
                words.iter_mut().for_each(|x| *x = rng.next_u32());
                self.image(&words, item)
            })
            .collect()
    }

    /// The choices for dataset item `item` from its block of words.
    fn image(&self, words: &[u32; WORDS_PER_IMAGE as usize], item: usize) -> ImageDraw {
        let wide = |k: usize| u64::from(words[k]) | (u64::from(words[k + 1]) << 32);
        let offsets = 2 * self.config.crop_padding + 1;
        let flip = match self.config.flip {
            FlipMode::None => false,
            FlipMode::Random => words[4] & 1 == 1,
            FlipMode::Alternating => (self.flip_bits[item / 32] >> (item % 32)) & 1 == 1,
        };
        let cutout = self.config.cutout.map(|side| {
            let (cy, cx) = (below(wide(6), self.h), below(wide(8), self.w));
            let (y0, y1) = centred_span(cy, side, self.h);
            let (x0, x1) = centred_span(cx, side, self.w);
            [y0, y1, x0, x1]
        });
        ImageDraw {
            dy: below(wide(0), offsets),
            dx: below(wide(2), offsets),
            flip,
            cutout,
        }
    }
}

/// A draw of `0..n` from 64 random bits (multiply-shift: the bias is below `n / 2^64`).
fn below(bits: u64, n: usize) -> usize {
    ((u128::from(bits) * n as u128) >> 64) as usize
}

/// The span `[centre - side / 2, centre - side / 2 + side)` clipped to `[0, len)`: for an
/// even side, the `[c - s/2, c + s/2)` of DeVries & Taylor's code.
fn centred_span(centre: usize, side: usize, len: usize) -> (usize, usize) {
    let start = centre as isize - (side / 2) as isize;
    let end = start + side as isize;
    (start.max(0) as usize, (end.min(len as isize)) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pad: usize, flip: FlipMode, cutout: Option<usize>) -> AugmentConfig {
        AugmentConfig {
            crop_padding: pad,
            flip,
            cutout,
            ..AugmentConfig::default()
        }
    }

    #[test]
    fn draws_depend_on_position_not_on_how_batches_are_cut() {
        let c = config(4, FlipMode::Random, Some(8));
        let draws = EpochDraws::new(c, 5, 3, [32, 32], 100);
        let items: Vec<usize> = (0..100).rev().collect();
        let whole = draws.batch(0, &items);
        let mut pieces = draws.batch(0, &items[..37]);
        pieces.extend(draws.batch(37, &items[37..]));
        assert_eq!(whole, pieces);
        assert_ne!(
            whole,
            EpochDraws::new(c, 5, 4, [32, 32], 100).batch(0, &items)
        );
        assert_ne!(
            whole,
            EpochDraws::new(c, 6, 3, [32, 32], 100).batch(0, &items)
        );
        // Turning cutout off leaves the crops and flips alone.
        let no_cutout = EpochDraws::new(config(4, FlipMode::Random, None), 5, 3, [32, 32], 100);
        for (a, b) in whole.iter().zip(no_cutout.batch(0, &items)) {
            assert_eq!((a.dy, a.dx, a.flip), (b.dy, b.dx, b.flip));
            assert_eq!(b.cutout, None);
        }
    }

    #[test]
    fn draws_cover_their_ranges_uniformly() {
        let draws = EpochDraws::new(config(2, FlipMode::Random, Some(4)), 1, 0, [6, 5], 1);
        let n = 5000;
        let all = draws.batch(0, &vec![0; n]);
        let mut offsets = [0usize; 5];
        let mut flips = 0;
        let mut centres = [[0usize; 5]; 6];
        for d in &all {
            assert!(d.dy <= 4 && d.dx <= 4);
            offsets[d.dy] += 1;
            flips += usize::from(d.flip);
            let [y0, y1, x0, x1] = d.cutout.expect("cutout on");
            assert!(y0 < y1 && y1 <= 6 && x0 < x1 && x1 <= 5 && y1 - y0 <= 4 && x1 - x0 <= 4);
            // The unclipped side recovers the centre: start = centre - 2.
            let cy = if y1 - y0 == 4 || y0 > 0 {
                y0 + 2
            } else {
                y1 - 2
            };
            let cx = if x1 - x0 == 4 || x0 > 0 {
                x0 + 2
            } else {
                x1 - 2
            };
            centres[cy][cx] += 1;
        }
        assert!(
            offsets.iter().all(|&c| (800..1200).contains(&c)),
            "{offsets:?}"
        );
        assert!((2300..2700).contains(&flips), "{flips}");
        for row in centres {
            assert!(row.iter().all(|&c| (100..240).contains(&c)), "{row:?}");
        }
    }

    #[test]
    fn cutout_spans_are_centred_and_clipped() {
        assert_eq!(centred_span(5, 4, 10), (3, 7));
        assert_eq!(centred_span(5, 3, 10), (4, 7));
        assert_eq!(centred_span(0, 4, 10), (0, 2));
        assert_eq!(centred_span(9, 4, 10), (7, 10));
        assert_eq!(centred_span(1, 1, 10), (1, 2));
        assert_eq!(centred_span(0, 10, 10), (0, 5));
    }

    #[test]
    fn alternating_flips_invert_every_other_epoch() {
        let c = config(0, FlipMode::Alternating, None);
        let items: Vec<usize> = (0..300).collect();
        let flips = |epoch: u64, items: &[usize]| -> Vec<bool> {
            EpochDraws::new(c, 9, epoch, [4, 4], 300)
                .batch(0, items)
                .iter()
                .map(|d| d.flip)
                .collect()
        };
        let e0 = flips(0, &items);
        let e1 = flips(1, &items);
        assert!(e0.iter().zip(&e1).all(|(a, b)| a != b), "odd epochs invert");
        assert_eq!(flips(2, &items), e0, "even epochs repeat");
        assert_eq!(flips(7, &items), e1);
        let ones = e0.iter().filter(|&&f| f).count();
        assert!((110..190).contains(&ones), "{ones} of 300 flipped");
        // The bit belongs to the item, wherever the shuffle puts it.
        let reversed: Vec<usize> = items.iter().rev().copied().collect();
        let mut back = flips(0, &reversed);
        back.reverse();
        assert_eq!(back, e0);
    }

    #[test]
    fn bounded_draws_reach_both_ends() {
        assert_eq!(below(0, 9), 0);
        assert_eq!(below(u64::MAX, 9), 8);
        assert_eq!(below(u64::MAX / 2, 2), 0);
        assert_eq!(below(u64::MAX / 2 + 1, 2), 1);
    }
}
