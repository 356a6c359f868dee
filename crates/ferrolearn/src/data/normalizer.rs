//! Per-channel normalisation of `u8` pixels into `f32`, bit for bit as torchvision's
//! `ToTensor` then `Normalize`.

use serde::{Deserialize, Serialize};

use super::Dataset;
use crate::{Error, Result};

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

/// The value of each of the 256 bytes in one channel once scaled and normalised: a lookup
/// gives the same `f32`, bit for bit, as [`Normalizer::apply`], and costs one load where
/// the pixels are gathered (cropped, mirrored) rather than streamed.
#[derive(Debug, Clone)]
pub(super) struct PixelTable(Box<[f32; 256]>);

impl PixelTable {
    /// The tables of the first `channels` channels of `normalizer`, or of the scaling to
    /// `[0, 1]` alone without one.
    pub(super) fn per_channel(normalizer: Option<&Normalizer>, channels: usize) -> Vec<Self> {
        (0..channels)
            .map(|c| {
                let stats = normalizer.map_or(ChannelStats::SCALE_ONLY, |n| n.stats(c));
                PixelTable(Box::new(std::array::from_fn(|x| stats.pixel(x as u8))))
            })
            .collect()
    }

    /// The value of byte `x`.
    pub(super) fn get(&self, x: u8) -> f32 {
        self.0[usize::from(x)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` items of shape [1, 2, 3] whose pixels are all `i` (item index).
    fn toy(n: usize) -> Dataset {
        let images = (0..n).flat_map(|i| [i as u8; 6]).collect();
        Dataset::new(images, [1, 2, 3], vec![0; n], vec!["a".into()]).expect("valid")
    }

    #[test]
    fn normalizer_fits_and_applies() {
        let d = toy(3); // pixels 0, 1, 2 in equal numbers
        let n = Normalizer::fit(&d).expect("non-empty");
        let mean = 1.0f64 / 255.0;
        let std = (2.0f64 / 3.0).sqrt() / 255.0;
        assert!((f64::from(n.mean()[0]) - mean).abs() < 1e-7);
        assert!((f64::from(n.std()[0]) - std).abs() < 1e-7);
        let want = ((2.0 / 255.0 - mean) / std) as f32;
        let mut out = [0.0f32; 6];
        n.apply(d.image(2), &mut out);
        assert!((out[0] - want).abs() < 1e-5);
        assert!(Normalizer::new(vec![0.5], vec![0.0]).is_err());
        assert!(Normalizer::new(vec![0.5, 0.5], vec![1.0]).is_err());
        let flat = Dataset::new(vec![7; 6], [1, 2, 3], vec![0], vec!["a".into()]).expect("valid");
        assert_eq!(Normalizer::fit(&flat).expect("non-empty").std(), &[1.0]);
    }

    #[test]
    fn tables_equal_the_normalisation_bit_for_bit() {
        let n = Normalizer::new(vec![0.4914, 0.4822], vec![0.2470, 0.2435]).expect("valid");
        let tables = PixelTable::per_channel(Some(&n), 2);
        let image: Vec<u8> = (0..=255).chain(0..=255).collect();
        let mut out = vec![0.0f32; 512];
        n.apply(&image, &mut out);
        for (k, (&x, &v)) in image.iter().zip(&out).enumerate() {
            assert_eq!(tables[k / 256].get(x).to_bits(), v.to_bits(), "byte {x}");
        }
        let plain = PixelTable::per_channel(None, 1);
        assert_eq!(plain[0].get(255), 1.0);
        assert_eq!(plain[0].get(51), 51.0 / 255.0);
    }
}
