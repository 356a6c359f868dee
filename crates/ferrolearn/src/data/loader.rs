//! Mini-batches from a [`Dataset`]: seeded shuffling per epoch, per-channel normalisation and
//! optional augmentation, turning `u8` pixels into `f32` NCHW tensors one batch at a time.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::Dataset;
use crate::seeding::{stream, Purpose};
use crate::{Error, Result, Tensor};

/// Per-channel normalisation: pixels are scaled to `[0, 1]` (divided by 255), then each
/// channel `c` becomes `(x - mean[c]) / std[c]`.
///
/// Fit it on the training split only ([`Normalizer::fit`]) and apply the same statistics to
/// validation and test data; it serialises with the model so prediction normalises alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Normalizer {
    /// The per-channel mean and population standard deviation of `dataset`'s pixels, in
    /// `[0, 1]` units. Sums are exact (integers), so the statistics do not depend on order.
    /// A channel with zero spread gets std 1 (it is only centred).
    ///
    /// # Errors
    /// `InvalidData` when the dataset is empty.
    pub fn fit(dataset: &Dataset) -> Result<Normalizer> {
        if dataset.is_empty() {
            return Err(Error::InvalidData(
                "cannot fit a normalizer on an empty dataset".into(),
            ));
        }
        let [channels, h, w] = dataset.item_shape();
        let plane = h * w;
        let mut sum = vec![0u64; channels];
        let mut sum_sq = vec![0u64; channels];
        for item in dataset.images().chunks_exact(channels * plane) {
            for (c, px) in item.chunks_exact(plane).enumerate() {
                sum[c] += px.iter().map(|&p| u64::from(p)).sum::<u64>();
                sum_sq[c] += px.iter().map(|&p| u64::from(p) * u64::from(p)).sum::<u64>();
            }
        }
        let count = (dataset.len() * plane) as f64;
        let mut mean = Vec::with_capacity(channels);
        let mut std = Vec::with_capacity(channels);
        for c in 0..channels {
            let m = sum[c] as f64 / count;
            let var = (sum_sq[c] as f64 / count - m * m).max(0.0);
            let s = var.sqrt() / 255.0;
            mean.push((m / 255.0) as f32);
            std.push(if s > 0.0 { s as f32 } else { 1.0 });
        }
        Ok(Normalizer { mean, std })
    }

    /// A normalizer with given statistics (in `[0, 1]` units), e.g. read from a checkpoint.
    ///
    /// # Errors
    /// `InvalidParameter` when the lengths differ or are 0, or a value is not finite, or a
    /// std is not > 0.
    pub fn new(mean: Vec<f32>, std: Vec<f32>) -> Result<Normalizer> {
        if mean.is_empty() || mean.len() != std.len() {
            return Err(Error::InvalidParameter(format!(
                "normalizer needs one mean and one std per channel, got {} and {}",
                mean.len(),
                std.len()
            )));
        }
        if let Some(m) = mean.iter().find(|m| !m.is_finite()) {
            return Err(Error::InvalidParameter(format!(
                "normalizer mean must be finite, got {m}"
            )));
        }
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::InvalidParameter(format!(
                "normalizer std must be > 0, got {s}"
            )));
        }
        Ok(Normalizer { mean, std })
    }

    /// The per-channel means, in `[0, 1]` units.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// The per-channel standard deviations, in `[0, 1]` units.
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// The number of channels.
    pub fn channels(&self) -> usize {
        self.mean.len()
    }

    /// Normalises one `[C, H, W]` image of `u8` pixels into `out` (same length).
    ///
    /// # Panics
    /// When the lengths differ or are not a multiple of the channel count.
    pub fn apply(&self, image: &[u8], out: &mut [f32]) {
        assert_eq!(
            image.len(),
            out.len(),
            "normalize: {} pixels into {}",
            image.len(),
            out.len()
        );
        assert_eq!(
            image.len() % self.channels(),
            0,
            "normalize: {} pixels do not split into {} channels",
            image.len(),
            self.channels()
        );
        let plane = image.len() / self.channels();
        for (c, (px, o)) in image
            .chunks_exact(plane)
            .zip(out.chunks_exact_mut(plane))
            .enumerate()
        {
            let stats = self.stats(c);
            for (o, &x) in o.iter_mut().zip(px) {
                *o = stats.pixel(x);
            }
        }
    }

    /// The mean and standard deviation of channel `c`.
    fn stats(&self, c: usize) -> ChannelStats {
        ChannelStats {
            mean: self.mean[c],
            std: self.std[c],
        }
    }
}

/// The normalisation of one channel: `(x / 255 - mean) / std` for a byte `x`, computed in that
/// order so that pixels equal, bit for bit, those of torchvision's `ToTensor` then `Normalize`
/// (and, with mean 0 and std 1, those of `ToTensor` alone). The loops over it vectorise.
#[derive(Debug, Clone, Copy)]
struct ChannelStats {
    mean: f32,
    std: f32,
}

impl ChannelStats {
    /// No normalisation: the byte scaled to `[0, 1]`.
    const SCALE_ONLY: ChannelStats = ChannelStats {
        mean: 0.0,
        std: 1.0,
    };

    fn pixel(self, x: u8) -> f32 {
        (f32::from(x) / 255.0 - self.mean) / self.std
    }
}

/// Random transforms applied to each training image as its batch is formed, as torchvision's
/// `RandomCrop(size, padding)` then `RandomHorizontalFlip()` (before normalisation: padding is
/// pixel value 0). Draws come from their own seeded stream, so they repeat with the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Augment {
    /// Pad each side by this many zero pixels, then crop a random window of the original size
    /// (0 disables the crop).
    pub crop_padding: usize,
    /// Mirror left-right with probability 1/2.
    pub horizontal_flip: bool,
    /// Seed of the augmentation draws (combined with the epoch number).
    pub seed: u64,
}

impl Augment {
    fn is_identity(&self) -> bool {
        self.crop_padding == 0 && !self.horizontal_flip
    }
}

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
/// The order of epoch `e` is a function of the shuffle seed and `e` alone, so a run resumed
/// at epoch `e` sees exactly the batches an uninterrupted run would. Without
/// [`Loader::shuffle`], items come in dataset order (for evaluation).
///
/// ```no_run
/// # fn main() -> ferrolearn::Result<()> {
/// use ferrolearn::data::{load, DatasetName, Loader, Normalizer};
/// let sets = load(DatasetName::Mnist, None)?;
/// let (train, val) = sets.train.split_validation(0.1, 0)?;
/// let norm = Normalizer::fit(&train)?;
/// let loader = Loader::new(&train, 64)?.shuffle(0).normalize(norm)?;
/// for epoch in 0..3 {
///     for batch in loader.epoch(epoch) {
///         let _ = (batch.images.shape(), batch.labels.len());
///     }
/// }
/// # let _ = val; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Loader<'a> {
    dataset: &'a Dataset,
    batch_size: usize,
    shuffle_seed: Option<u64>,
    drop_last: bool,
    normalizer: Option<Normalizer>,
    augment: Augment,
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
            augment: Augment::default(),
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

    /// Augments every image with `augment` (for training loaders only).
    ///
    /// # Errors
    /// `InvalidParameter` when the crop padding exceeds the image's height or width.
    pub fn augment(mut self, augment: Augment) -> Result<Loader<'a>> {
        let [_, h, w] = self.dataset.item_shape();
        if augment.crop_padding > h.min(w) {
            return Err(Error::InvalidParameter(format!(
                "crop padding must be <= the image size ({h}x{w}), got {}",
                augment.crop_padding
            )));
        }
        self.augment = augment;
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

    /// The batches of epoch `epoch` (0-based), in that epoch's order.
    pub fn epoch(&self, epoch: u64) -> Batches<'_> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if let Some(seed) = self.shuffle_seed {
            order.shuffle(&mut stream(seed, Purpose::Shuffle, epoch));
        }
        if self.drop_last {
            order.truncate(self.num_batches() * self.batch_size);
        }
        let channels = self.dataset.item_shape()[0];
        let stats = (0..channels)
            .map(|c| match &self.normalizer {
                Some(n) => n.stats(c),
                None => ChannelStats::SCALE_ONLY,
            })
            .collect();
        Batches {
            loader: self,
            order,
            next: 0,
            stats,
            rng: stream(self.augment.seed, Purpose::Augment, epoch),
        }
    }
}

/// The batches of one epoch, from [`Loader::epoch`].
#[derive(Debug)]
pub struct Batches<'l> {
    loader: &'l Loader<'l>,
    /// Item indices in this epoch's order (cut to whole batches when dropping the last).
    order: Vec<usize>,
    /// Position in `order` of the next batch's first item.
    next: usize,
    /// The normalisation of each channel.
    stats: Vec<ChannelStats>,
    /// Draws of the augmentation.
    rng: ChaCha8Rng,
}

impl Batches<'_> {
    /// The item indices of this epoch, in order (what the batches will hold).
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Appends item `i`, scaled and normalised, to `out`.
    fn push_item(&self, i: usize, out: &mut Vec<f32>) {
        let dataset = self.loader.dataset;
        let [_, h, w] = dataset.item_shape();
        for (px, &stats) in dataset.image(i).chunks_exact(h * w).zip(&self.stats) {
            out.extend(px.iter().map(|&x| stats.pixel(x)));
        }
    }

    /// Writes item `i` into `out`, randomly cropped and flipped as the loader's [`Augment`]
    /// says.
    fn write_augmented(&mut self, i: usize, out: &mut [f32]) {
        let dataset = self.loader.dataset;
        let [_, h, w] = dataset.item_shape();
        let plane = h * w;
        let image = dataset.image(i);
        let aug = self.loader.augment;
        let pad = aug.crop_padding;
        let (dy, dx) = if pad > 0 {
            (
                self.rng.gen_range(0..=2 * pad),
                self.rng.gen_range(0..=2 * pad),
            )
        } else {
            (pad, pad)
        };
        let flip = aug.horizontal_flip && self.rng.gen_bool(0.5);
        for (c, (px, o)) in image
            .chunks_exact(plane)
            .zip(out.chunks_exact_mut(plane))
            .enumerate()
        {
            let stats = self.stats[c];
            // Cropped column x reads source column x + dx - pad; those in [lo, hi) exist.
            let lo = pad.saturating_sub(dx).min(w);
            let hi = (w + pad).saturating_sub(dx).min(w).max(lo);
            let src_cols = lo + dx - pad..hi + dx - pad;
            for (y, row) in o.chunks_exact_mut(w).enumerate() {
                row.fill(stats.pixel(0));
                // Output row y reads padded row y + dy, i.e. source row y + dy - pad.
                let Some(sy) = (y + dy).checked_sub(pad).filter(|&sy| sy < h) else {
                    continue;
                };
                let src = &px[sy * w..(sy + 1) * w][src_cols.clone()];
                let px_value = |&x: &u8| stats.pixel(x);
                if flip {
                    // The flip moves cropped column x to w - 1 - x.
                    let dst = row[w - hi..w - lo].iter_mut().rev();
                    dst.zip(src.iter().map(px_value)).for_each(|(o, v)| *o = v);
                } else {
                    let dst = row[lo..hi].iter_mut();
                    dst.zip(src.iter().map(px_value)).for_each(|(o, v)| *o = v);
                }
            }
        }
    }
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.loader.batch_size).min(self.order.len());
        let dataset = self.loader.dataset;
        let item_len = dataset.item_len();
        let mut data = Vec::with_capacity((end - self.next) * item_len);
        let mut labels = Vec::with_capacity(end - self.next);
        let augment = !self.loader.augment.is_identity();
        for k in self.next..end {
            let i = self.order[k];
            if augment {
                let start = data.len();
                data.resize(start + item_len, 0.0);
                self.write_augmented(i, &mut data[start..]);
            } else {
                self.push_item(i, &mut data);
            }
            labels.push(dataset.label(i));
        }
        self.next = end;
        let [c, h, w] = dataset.item_shape();
        Some(Batch {
            images: Tensor::from_vec(data, &[labels.len(), c, h, w]),
            labels,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.loader.batch_size);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn normalizer_fits_and_applies() {
        let d = toy(3); // pixels 0, 1, 2 in equal numbers
        let n = Normalizer::fit(&d).expect("non-empty");
        let mean = 1.0f64 / 255.0;
        let std = (2.0f64 / 3.0).sqrt() / 255.0;
        assert!((f64::from(n.mean()[0]) - mean).abs() < 1e-7);
        assert!((f64::from(n.std()[0]) - std).abs() < 1e-7);
        let loader = Loader::new(&d, 3)
            .expect("valid")
            .normalize(n.clone())
            .expect("1 channel");
        let batch = loader.epoch(0).next().expect("one batch");
        let want = ((2.0 / 255.0 - mean) / std) as f32;
        assert!((batch.images.data()[12] - want).abs() < 1e-5);
        let mut out = [0.0f32; 6];
        n.apply(d.image(2), &mut out);
        assert!((out[0] - want).abs() < 1e-5);
        let two = Normalizer::new(vec![0.5, 0.5], vec![1.0, 1.0]).expect("valid");
        assert!(Loader::new(&d, 3).expect("valid").normalize(two).is_err());
        assert!(Normalizer::new(vec![0.5], vec![0.0]).is_err());
        let flat = Dataset::new(vec![7; 6], [1, 2, 3], vec![0], vec!["a".into()]).expect("valid");
        assert_eq!(Normalizer::fit(&flat).expect("non-empty").std(), &[1.0]);
    }

    #[test]
    fn augmentation_crops_and_flips_deterministically() {
        // One 1x3x3 image 1..9; with padding 1 every output is a shifted (maybe mirrored)
        // window of the zero-padded image.
        let img: Vec<u8> = (1..=9).collect();
        let d =
            Dataset::new(img.repeat(64), [1, 3, 3], vec![0; 64], vec!["a".into()]).expect("valid");
        let aug = Augment {
            crop_padding: 1,
            horizontal_flip: true,
            seed: 11,
        };
        let loader = Loader::new(&d, 64)
            .expect("valid")
            .augment(aug)
            .expect("padding fits");
        let too_wide = Augment {
            crop_padding: 4,
            ..aug
        };
        let e = Loader::new(&d, 64)
            .expect("valid")
            .augment(too_wide)
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
}
