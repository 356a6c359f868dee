//! Mini-batches from a [`Dataset`]: seeded shuffling per epoch, per-channel normalisation and
//! optional augmentation, turning `u8` pixels into `f32` NCHW tensors one batch at a time,
//! on the consumer's thread ([`Loader::epoch`]) or ahead of it ([`Loader::epoch_prefetched`]).

use rand::seq::SliceRandom;

use super::augment::AugmentConfig;
use super::draws::EpochDraws;
use super::normalizer::PixelTable;
use super::plan::EpochPlan;
use super::{Dataset, Normalizer, Prefetch};
use crate::seeding::{stream, Purpose};
use crate::{Error, Result, Tensor};

/// Batches a prefetching epoch keeps queued (one more is being built meanwhile).
const PREFETCH_DEPTH: usize = 2;

/// One mini-batch: images `[B, C, H, W]` in `f32` (scaled, normalised, augmented) and their
/// labels.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The images, `[B, C, H, W]`.
    pub images: Tensor,
    /// The label of each image, in batch order.
    pub labels: Vec<usize>,
}

/// Cuts a dataset into mini-batches, epoch after epoch.
///
/// The order of epoch `e` is a function of the shuffle seed and `e` alone, and each image's
/// augmentation a function of the augmentation seed, `e` and its position in that order, so
/// a run resumed at epoch `e` sees exactly the batches an uninterrupted run would, whether
/// they are prefetched or not and however many threads build them. Without
/// [`Loader::shuffle`], items come in dataset order (for evaluation).
///
/// ```no_run
/// # fn main() -> ferrolearn::Result<()> {
/// use ferrolearn::data::{load, AugmentConfig, DatasetName, FlipMode, Loader, Normalizer};
/// let sets = load(DatasetName::Cifar10, None)?;
/// let norm = Normalizer::fit(&sets.train)?;
/// let augment = AugmentConfig { crop_padding: 4, flip: FlipMode::Random, ..Default::default() };
/// let loader = Loader::new(&sets.train, 128)?
///     .shuffle(0)
///     .normalize(norm)?
///     .augment(augment, 0)?;
/// for epoch in 0..3 {
///     // The next batches are prepared on another thread while this one is used.
///     for batch in loader.epoch_prefetched(epoch)? {
///         let batch = batch?;
///         let _ = (batch.images.shape(), batch.labels.len());
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Loader<'a> {
    dataset: &'a Dataset,
    batch_size: usize,
    shuffle_seed: Option<u64>,
    drop_last: bool,
    normalizer: Option<Normalizer>,
    augment: AugmentConfig,
    augment_seed: u64,
}

impl<'a> Loader<'a> {
    /// A loader of `dataset` in batches of `batch_size`, in order, with pixels scaled to
    /// `[0, 1]` and nothing else.
    ///
    /// # Errors
    /// `InvalidParameter` when `batch_size` is 0.
    pub fn new(dataset: &'a Dataset, batch_size: usize) -> Result<Loader<'a>> {
        if batch_size == 0 {
            return Err(Error::InvalidParameter(
                "batch size must be >= 1, got 0".into(),
            ));
        }
        Ok(Loader {
            dataset,
            batch_size,
            shuffle_seed: None,
            drop_last: false,
            normalizer: None,
            augment: AugmentConfig::default(),
            augment_seed: 0,
        })
    }

    /// Shuffles the items anew each epoch, from `seed` and the epoch number.
    pub fn shuffle(mut self, seed: u64) -> Loader<'a> {
        self.shuffle_seed = Some(seed);
        self
    }

    /// Drops the last batch of an epoch when it is smaller than the batch size.
    pub fn drop_last(mut self, drop: bool) -> Loader<'a> {
        self.drop_last = drop;
        self
    }

    /// Normalises every batch with `normalizer` (after scaling to `[0, 1]`).
    ///
    /// # Errors
    /// `InvalidParameter` when its channel count differs from the dataset's.
    pub fn normalize(mut self, normalizer: Normalizer) -> Result<Loader<'a>> {
        let channels = self.dataset.item_shape()[0];
        if normalizer.channels() != channels {
            return Err(Error::InvalidParameter(format!(
                "normalizer has {} channels but the images {channels}",
                normalizer.channels()
            )));
        }
        self.normalizer = Some(normalizer);
        Ok(self)
    }

    /// Augments every image as `config` says (for training loaders only), with random
    /// choices drawn from `seed`'s augmentation streams.
    ///
    /// # Errors
    /// `InvalidParameter` when `config` does not fit the images
    /// ([`AugmentConfig::validate`]).
    pub fn augment(mut self, config: AugmentConfig, seed: u64) -> Result<Loader<'a>> {
        config.validate(self.dataset.item_shape())?;
        self.augment = config;
        self.augment_seed = seed;
        Ok(self)
    }

    /// The number of batches per epoch.
    pub fn num_batches(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// The dataset batched.
    pub fn dataset(&self) -> &Dataset {
        self.dataset
    }

    /// The batches of epoch `epoch` (0-based), in that epoch's order, each built when asked
    /// for, its images spread over the current rayon pool.
    pub fn epoch(&self, epoch: u64) -> Batches {
        Batches {
            plan: self.plan(epoch),
            next: 0,
        }
    }

    /// The batches of epoch `epoch`, the same as [`Loader::epoch`]'s, built on a thread of
    /// their own up to three ahead of the consumer, so that preparing them overlaps with
    /// using them. That thread builds one image after another: it takes at most one core
    /// from the training step. Dropping the iterator early stops and joins the thread.
    ///
    /// # Errors
    /// `Training` when the thread cannot be started; each item is an error (and the last)
    /// if the thread fails.
    pub fn epoch_prefetched(&self, epoch: u64) -> Result<Prefetch<Batch>> {
        let plan = self.plan(epoch);
        Prefetch::spawn(plan.num_batches(), PREFETCH_DEPTH, move |b| {
            plan.build(b, false)
        })
    }

    /// The order, pixel tables and augmentation draws of epoch `epoch`.
    fn plan(&self, epoch: u64) -> EpochPlan {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if let Some(seed) = self.shuffle_seed {
            order.shuffle(&mut stream(seed, Purpose::Shuffle, epoch));
        }
        if self.drop_last {
            order.truncate(self.num_batches() * self.batch_size);
        }
        let [channels, h, w] = self.dataset.item_shape();
        let augment = (!self.augment.is_identity()).then(|| {
            let draws = EpochDraws::new(
                self.augment,
                self.augment_seed,
                epoch,
                [h, w],
                self.dataset.len(),
            );
            (self.augment, draws)
        });
        EpochPlan {
            dataset: self.dataset.clone(),
            order,
            batch_size: self.batch_size,
            tables: PixelTable::per_channel(self.normalizer.as_ref(), channels),
            augment,
        }
    }
}

/// The batches of one epoch, from [`Loader::epoch`].
#[derive(Debug)]
pub struct Batches {
    plan: EpochPlan,
    /// The next batch's number.
    next: usize,
}

impl Batches {
    /// The item indices of this epoch, in order (what the batches will hold).
    pub fn order(&self) -> &[usize] {
        &self.plan.order
    }
}

impl Iterator for Batches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.plan.num_batches() {
            return None;
        }
        self.next += 1;
        Some(self.plan.build(self.next - 1, true))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.plan.num_batches() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches {}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{FlipMode, PaddingMode};

    /// `n` items of shape [1, 2, 3] whose pixels are all `i` (item index), labels `i % 4`.
    fn toy(n: usize) -> Dataset {
        let images = (0..n).flat_map(|i| [i as u8; 6]).collect();
        let labels = (0..n).map(|i| (i % 4) as u8).collect();
        let names = (0..4).map(|c| c.to_string()).collect();
        Dataset::new(images, [1, 2, 3], labels, names).expect("valid")
    }

    /// The item index each image of a batch came from (pixel * 255, rounded).
    fn ids(batch: &Batch) -> Vec<usize> {
        batch
            .images
            .data()
            .chunks(6)
            .map(|c| (c[0] * 255.0).round() as usize)
            .collect()
    }

    #[test]
    fn batches_in_order_with_a_short_last_one() {
        let d = toy(10);
        let loader = Loader::new(&d, 4).expect("valid");
        assert_eq!(loader.num_batches(), 3);
        let batches: Vec<Batch> = loader.epoch(0).collect();
        assert_eq!(batches.len(), 3);
        assert_eq!(batches[0].images.shape(), &[4, 1, 2, 3]);
        assert_eq!(batches[2].images.shape(), &[2, 1, 2, 3]);
        assert_eq!(ids(&batches[1]), vec![4, 5, 6, 7]);
        assert_eq!(batches[2].labels, vec![0, 1]);
        assert_eq!(batches[0].images.data()[6], 1.0 / 255.0);
        let dropped = Loader::new(&d, 4).expect("valid").drop_last(true);
        assert_eq!(dropped.num_batches(), 2);
        assert_eq!(dropped.epoch(0).len(), 2);
        assert_eq!(dropped.epoch(0).count(), 2);
        assert!(Loader::new(&d, 0).is_err());
    }

    #[test]
    fn shuffling_depends_on_seed_and_epoch_only() {
        let d = toy(50);
        let order = |seed, epoch| {
            Loader::new(&d, 7)
                .expect("valid")
                .shuffle(seed)
                .epoch(epoch)
                .order()
                .to_vec()
        };
        let a = order(3, 5);
        assert_eq!(a, order(3, 5), "a resumed run gets the same order");
        assert_ne!(a, order(3, 6));
        assert_ne!(a, order(4, 5));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        let loader = Loader::new(&d, 7).expect("valid").shuffle(3);
        let seen: Vec<usize> = loader.epoch(5).flat_map(|b| ids(&b)).collect();
        assert_eq!(seen, a, "batches follow the order");
        let labels: Vec<usize> = loader.epoch(5).flat_map(|b| b.labels).collect();
        assert_eq!(labels, a.iter().map(|i| i % 4).collect::<Vec<_>>());
    }

    #[test]
    fn batches_are_normalised() {
        let d = toy(3); // pixels 0, 1, 2 in equal numbers
        let n = Normalizer::fit(&d).expect("non-empty");
        let loader = Loader::new(&d, 3)
            .expect("valid")
            .normalize(n.clone())
            .expect("1 channel");
        let batch = loader.epoch(0).next().expect("one batch");
        let mut want = [0.0f32; 6];
        n.apply(d.image(2), &mut want);
        assert_eq!(&batch.images.data()[12..], &want, "bit for bit");
        let two = Normalizer::new(vec![0.5, 0.5], vec![1.0, 1.0]).expect("valid");
        let e = Loader::new(&d, 3)
            .expect("valid")
            .normalize(two)
            .unwrap_err();
        assert!(e
            .to_string()
            .contains("normalizer has 2 channels but the images 1"));
    }

    #[test]
    fn augmentation_crops_and_flips_deterministically() {
        // One 1x3x3 image 1..9; with padding 1 every output is a shifted (maybe mirrored)
        // window of the zero-padded image.
        let img: Vec<u8> = (1..=9).collect();
        let d =
            Dataset::new(img.repeat(64), [1, 3, 3], vec![0; 64], vec!["a".into()]).expect("valid");
        let aug = AugmentConfig {
            crop_padding: 1,
            padding_mode: PaddingMode::Black,
            flip: FlipMode::Random,
            cutout: None,
        };
        let loader = Loader::new(&d, 64)
            .expect("valid")
            .augment(aug, 11)
            .expect("padding fits");
        let too_wide = AugmentConfig {
            crop_padding: 4,
            ..aug
        };
        let e = Loader::new(&d, 64)
            .expect("valid")
            .augment(too_wide, 11)
            .unwrap_err();
        assert!(e
            .to_string()
            .contains("crop padding must be <= the image size (3x3), got 4"));
        let batch = loader.epoch(0).next().expect("one batch");
        let px = |v: f32| (v * 255.0).round() as i32;
        let mut variants = std::collections::BTreeSet::new();
        for out in batch.images.data().chunks(9) {
            let out: Vec<i32> = out.iter().map(|&v| px(v)).collect();
            let found = (0..3).any(|dy| {
                (0..3).any(|dx| {
                    [false, true].iter().any(|&flip| {
                        (0..9).all(|k| {
                            let (y, x) = (k / 3, k % 3);
                            let xc = if flip { 2 - x } else { x };
                            let (sy, sx) = (y as i32 + dy - 1, xc as i32 + dx - 1);
                            let want = if (0..3).contains(&sy) && (0..3).contains(&sx) {
                                sy * 3 + sx + 1
                            } else {
                                0
                            };
                            out[k] == want
                        })
                    })
                })
            });
            assert!(found, "{out:?} is not a padded crop of the image");
            variants.insert(out);
        }
        assert!(
            variants.len() > 9,
            "only {} distinct augmentations",
            variants.len()
        );
        let again = loader.epoch(0).next().expect("one batch");
        assert_eq!(again.images.data(), batch.images.data());
        let next_epoch = loader.epoch(1).next().expect("one batch");
        assert_ne!(next_epoch.images.data(), batch.images.data());
    }

    /// 40 CIFAR-like 3x8x8 images of varied pixels, labels `i % 4`.
    fn colour(n: usize) -> Dataset {
        let images = (0..n * 192).map(|k| (k * 37 % 251) as u8).collect();
        let labels = (0..n).map(|i| (i % 4) as u8).collect();
        let names = (0..4).map(|c| c.to_string()).collect();
        Dataset::new(images, [3, 8, 8], labels, names).expect("valid")
    }

    /// Every transform on: reflect crops, alternating flips, cutout, normalisation.
    fn full(d: &Dataset) -> Loader<'_> {
        let config = AugmentConfig {
            crop_padding: 2,
            padding_mode: PaddingMode::Reflect,
            flip: FlipMode::Alternating,
            cutout: Some(3),
        };
        let norm = Normalizer::fit(d).expect("non-empty");
        Loader::new(d, 16)
            .expect("valid")
            .shuffle(4)
            .normalize(norm)
            .expect("3 channels")
            .augment(config, 9)
            .expect("fits")
    }

    fn pixels(batches: impl Iterator<Item = Batch>) -> Vec<(Vec<u32>, Vec<usize>)> {
        batches
            .map(|b| {
                (
                    b.images.data().iter().map(|v| v.to_bits()).collect(),
                    b.labels,
                )
            })
            .collect()
    }

    #[test]
    fn batches_do_not_depend_on_prefetching_or_thread_count() {
        let d = colour(40);
        let loader = full(&d);
        for epoch in [0, 1] {
            let in_pool = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool");
                pool.install(|| pixels(loader.epoch(epoch)))
            };
            let one = in_pool(1);
            assert_eq!(one.len(), 3);
            assert_eq!(one[2].1.len(), 8, "a short last batch");
            assert_eq!(in_pool(3), one, "3 threads, epoch {epoch}");
            let prefetched = loader
                .epoch_prefetched(epoch)
                .expect("thread")
                .map(|b| b.expect("no failure"));
            assert_eq!(pixels(prefetched), one, "prefetched, epoch {epoch}");
        }
        assert_ne!(pixels(loader.epoch(0)), pixels(loader.epoch(1)));
    }

    #[test]
    fn a_prefetching_epoch_dropped_early_ends_cleanly() {
        let d = colour(40);
        let loader = full(&d).drop_last(true);
        let mut batches = loader.epoch_prefetched(3).expect("thread");
        let first = batches.next().expect("a batch").expect("no failure");
        drop(batches);
        assert_eq!(pixels([first].into_iter()), pixels(loader.epoch(3).take(1)));
        let all: Vec<Batch> = loader
            .epoch_prefetched(3)
            .expect("thread")
            .map(|b| b.expect("no failure"))
            .collect();
        assert_eq!(all.len(), 2, "dropping the short last batch");
    }

    #[test]
    fn cutout_zeroes_one_square_and_keeps_the_rest() {
        // One 1x6x6 image of ones: without a normaliser the output is 1/255 outside the
        // cutout and 0 inside it.
        let d = Dataset::new(vec![1; 36 * 200], [1, 6, 6], vec![0; 200], vec!["a".into()])
            .expect("valid");
        let config = AugmentConfig {
            cutout: Some(4),
            ..AugmentConfig::default()
        };
        let loader = Loader::new(&d, 200)
            .expect("valid")
            .augment(config, 1)
            .expect("fits");
        let batch = loader.epoch(0).next().expect("one batch");
        let mut clipped = 0;
        for image in batch.images.data().chunks(36) {
            let zero: Vec<(usize, usize)> = (0..36)
                .filter(|&k| image[k] == 0.0)
                .map(|k| (k / 6, k % 6))
                .collect();
            assert!(image.iter().all(|&v| v == 0.0 || v == 1.0 / 255.0));
            let (rows, cols) = (
                zero.iter()
                    .map(|p| p.0)
                    .collect::<std::collections::BTreeSet<_>>(),
                zero.iter()
                    .map(|p| p.1)
                    .collect::<std::collections::BTreeSet<_>>(),
            );
            assert_eq!(zero.len(), rows.len() * cols.len(), "a rectangle");
            assert!((2..=4).contains(&rows.len()) && (2..=4).contains(&cols.len()));
            let contiguous = |s: &std::collections::BTreeSet<usize>| {
                s.last().expect("non-empty") - s.first().expect("non-empty") + 1 == s.len()
            };
            assert!(contiguous(&rows) && contiguous(&cols));
            clipped += usize::from(rows.len() < 4 || cols.len() < 4);
        }
        assert!((120..180).contains(&clipped), "{clipped} of 200 clipped");
    }
}
