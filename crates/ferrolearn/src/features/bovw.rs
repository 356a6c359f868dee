//! Bag of visual words: an image described by how often each of a vocabulary of small
//! patterns ("words") occurs in it.
//!
//! 1. **Vocabulary** ([`Bovw::fit`], training images only): `patches` random `size x size`
//!    patches (all channels) drawn with replacement from the training images (seeded, see
//!    [`PatchGrid::sample`](super::patches)), each normalised ([`PatchNorm`]: by default its
//!    mean subtracted and divided by `sqrt(variance + 10)`, pixel values 0..255, as Coates and
//!    Ng 2011), clustered by mini-batch k-means (k-means++ init, scikit-learn's defaults,
//!    seeded) into `words` centres.
//! 2. **Encoding** ([`Bovw::compute`]): every dense patch of the image (top-left corners
//!    every `stride` pixels, normalised alike) goes to its nearest word (squared Euclidean
//!    distance in `f64`, ties to the lower word); the feature is the histogram of words,
//!    normalised by [`HistNorm`] (by default L1: the share of the image's patches per word).
//!
//! The settings are part of the kind's text (`bovw(words=200,patch=6,...)`), and the fitted
//! vocabulary travels with the kind and with its feature cache, so test features are encoded
//! with the words learned on the training split.

use std::fmt;
use std::sync::Arc;

use ndarray::ArrayView2;

use super::patches::{PatchGrid, PatchNorm};
use super::{FeatureKind, Vocabulary};
use crate::classic::minibatch_kmeans::MiniBatchKMeans;
use crate::data::Dataset;
use crate::{Error, Result};

/// How a word histogram is normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistNorm {
    /// Divided by its sum (the number of patches): each value is a share, summing to 1.
    #[default]
    L1,
    /// Divided by its Euclidean norm.
    L2,
    /// The counts of patches per word.
    None,
}

impl HistNorm {
    /// The name in feature descriptions: `l1`, `l2` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            HistNorm::L1 => "l1",
            HistNorm::L2 => "l2",
            HistNorm::None => "none",
        }
    }
}

/// The settings of a bag of visual words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BovwParams {
    /// Number of words (k-means centres, the feature's length); default 200.
    pub words: usize,
    /// Patch side in pixels; default 6.
    pub patch: usize,
    /// Pixels between the dense patches of an image; default 1 (every position).
    pub stride: usize,
    /// Random training patches the words are learned from; default 100,000.
    pub patches: usize,
    /// How each patch is normalised; default standard (mean 0, divided by its deviation).
    pub patch_norm: PatchNorm,
    /// How each histogram is normalised; default L1.
    pub hist_norm: HistNorm,
    /// Seed of the patch draws and of k-means; default 0.
    pub seed: u64,
}

impl Default for BovwParams {
    fn default() -> Self {
        BovwParams {
            words: 200,
            patch: 6,
            stride: 1,
            patches: 100_000,
            patch_norm: PatchNorm::Standard,
            hist_norm: HistNorm::L1,
            seed: 0,
        }
    }
}

impl fmt::Display for BovwParams {
    /// `bovw(words=200,patch=6,stride=1,patches=100000,patch_norm=standard,hist_norm=l1,
    /// seed=0)`: every setting, so two descriptions are equal exactly when the settings are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bovw(words={},patch={},stride={},patches={},patch_norm={},hist_norm={},seed={})",
            self.words,
            self.patch,
            self.stride,
            self.patches,
            self.patch_norm,
            self.hist_norm.as_str(),
            self.seed
        )
    }
}

/// A checked bag of visual words, with its vocabulary once fitted.
#[derive(Debug, Clone)]
pub struct Bovw {
    params: BovwParams,
    vocabulary: Option<Arc<Vocabulary>>,
}

impl Bovw {
    /// Checks `params`; the result has no vocabulary yet (see [`Bovw::fit`]).
    ///
    /// # Errors
    /// `InvalidParameter` naming the setting when `words`, `patch`, `stride` or `patches` is
    /// 0, or there are more words than patches to learn them from.
    pub fn new(params: BovwParams) -> Result<Bovw> {
        for (name, value) in [
            ("words", params.words),
            ("patch", params.patch),
            ("stride", params.stride),
            ("patches", params.patches),
        ] {
            if value == 0 {
                return Err(Error::InvalidParameter(format!(
                    "bovw {name} must be >= 1, got 0"
                )));
            }
        }
        if params.words > params.patches {
            return Err(Error::InvalidParameter(format!(
                "bovw words={} is more than patches={}: each word is a centre of the sampled \
                 patches, so ask for at least as many patches as words",
                params.words, params.patches
            )));
        }
        Ok(Bovw {
            params,
            vocabulary: None,
        })
    }

    /// The settings.
    pub fn params(&self) -> &BovwParams {
        &self.params
    }

    /// The fitted words, if any.
    pub fn vocabulary(&self) -> Option<&Vocabulary> {
        self.vocabulary.as_deref()
    }

    /// This kind with `vocabulary` (for instance one read back from a cache).
    ///
    /// # Errors
    /// `InvalidData` when the vocabulary's word count or patch size differs from the settings.
    pub fn with_vocabulary(&self, vocabulary: Vocabulary) -> Result<Bovw> {
        let [_, h, w] = vocabulary.patch_shape();
        if vocabulary.words() != self.params.words || [h, w] != [self.params.patch; 2] {
            return Err(Error::InvalidData(format!(
                "a vocabulary of {} words of {:?} patches does not belong to {}",
                vocabulary.words(),
                vocabulary.patch_shape(),
                self.params
            )));
        }
        Ok(Bovw {
            params: self.params,
            vocabulary: Some(Arc::new(vocabulary)),
        })
    }

    /// The feature's length (the number of words), after checking that the patch fits in a
    /// `[C, H, W]` image.
    ///
    /// # Errors
    /// `InvalidData` naming the patch and image sizes when it does not fit.
    pub fn output_len(&self, item_shape: [usize; 3]) -> Result<usize> {
        self.grid(item_shape)?;
        Ok(self.params.words)
    }

    fn grid(&self, item_shape: [usize; 3]) -> Result<PatchGrid> {
        let p = &self.params;
        PatchGrid::new(item_shape, p.patch, p.stride, p.patch_norm)
    }

    /// Learns the words from `train` (the training split only): random patches, normalised,
    /// clustered by mini-batch k-means; returns this kind with its vocabulary.
    ///
    /// # Errors
    /// `InvalidData` when the patch does not fit in the images or `train` is empty;
    /// `InvalidParameter` when `patches` is too large to hold.
    pub fn fit(&self, train: &Dataset) -> Result<Bovw> {
        let shape = train.item_shape();
        let grid = self.grid(shape)?;
        let p = &self.params;
        let rows = grid.sample(train, p.patches, p.seed)?;
        let fitted = MiniBatchKMeans {
            k: p.words,
            seed: p.seed,
            ..MiniBatchKMeans::default()
        }
        .fit(rows.view())?;
        let centres = fitted.model.centres();
        self.with_vocabulary(Vocabulary::new(
            [shape[0], p.patch, p.patch],
            centres.view(),
        )?)
    }

    /// The normalised word histogram of one `[C, H, W]` image of `u8` values.
    ///
    /// # Errors
    /// As [`Bovw::output_len`]; `InvalidParameter` when no vocabulary is fitted, or its
    /// patches have another channel count than the image.
    pub fn compute(&self, image: &[u8], item_shape: [usize; 3]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.params.words];
        self.compute_into(image, item_shape, &mut Vec::new(), &mut out)?;
        Ok(out)
    }

    /// [`Bovw::compute`] into `out` (`words` values), with `patches` a buffer reused from
    /// image to image.
    pub(crate) fn compute_into(
        &self,
        image: &[u8],
        item_shape: [usize; 3],
        patches: &mut Vec<f64>,
        out: &mut [f32],
    ) -> Result<()> {
        let vocabulary = self.vocabulary.as_deref().ok_or_else(|| {
            Error::InvalidParameter(format!(
                "{} has no vocabulary yet: fit it on the training images first \
                 (features::fit_vocabularies)",
                self.params
            ))
        })?;
        let grid = self.grid(item_shape)?;
        if vocabulary.patch_shape()[0] != item_shape[0] {
            return Err(Error::InvalidParameter(format!(
                "the vocabulary's words are {:?} patches, but the images have {} channels",
                vocabulary.patch_shape(),
                item_shape[0]
            )));
        }
        grid.dense(image, patches);
        let n = grid.dense_count();
        let rows = ArrayView2::from_shape((n, grid.patch_len()), &patches[..])
            .map_err(|e| Error::InvalidData(format!("bovw patches: {e}")))?;
        let mut counts = vec![0u32; self.params.words];
        for &word in &vocabulary.nearest(rows)? {
            counts[word] += 1;
        }
        let scale = match self.params.hist_norm {
            HistNorm::L1 => 1.0 / n as f64,
            HistNorm::L2 => {
                let sq: f64 = counts.iter().map(|&c| f64::from(c) * f64::from(c)).sum();
                1.0 / sq.sqrt()
            }
            HistNorm::None => 1.0,
        };
        for (o, &c) in out.iter_mut().zip(&counts) {
            *o = (f64::from(c) * scale) as f32;
        }
        Ok(())
    }
}

/// `kinds` with every bag of visual words given a vocabulary learned from `train` (kinds
/// that already have one, and the other kinds, are kept as they are).
///
/// # Errors
/// As [`Bovw::fit`].
pub fn fit_vocabularies(kinds: &[FeatureKind], train: &Dataset) -> Result<Vec<FeatureKind>> {
    kinds
        .iter()
        .map(|kind| match kind {
            FeatureKind::Bovw(b) if b.vocabulary().is_none() => b.fit(train).map(FeatureKind::Bovw),
            other => Ok(other.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn params(words: usize, patch: usize, stride: usize) -> BovwParams {
        BovwParams {
            words,
            patch,
            stride,
            patches: 100,
            patch_norm: PatchNorm::None,
            ..BovwParams::default()
        }
    }

    #[test]
    fn a_hand_made_image_gets_its_word_counts() {
        // 1x3x4 image; 2x2 patches at stride 1 give 2x3 = 6 patches. Word 0 is dark, word 1
        // bright: the patches covering the bright right half go to word 1.
        let image = [0, 0, 200, 200, 0, 0, 200, 200, 0, 0, 200, 200];
        let words = array![[0.0, 0.0, 0.0, 0.0], [200.0, 200.0, 200.0, 200.0]];
        let vocab = Vocabulary::new([1, 2, 2], words.view()).unwrap();
        let b = Bovw::new(params(2, 2, 1))
            .unwrap()
            .with_vocabulary(vocab)
            .unwrap();
        // Per row of patches: [0 0|0 0] -> 0, [0 200|0 200] (mean 100) -> tie -> 0,
        // [200 200|200 200] -> 1; two rows.
        assert_eq!(
            b.compute(&image, [1, 3, 4]).unwrap(),
            vec![4.0 / 6.0, 2.0 / 6.0]
        );
        let mut counts = b.clone();
        counts.params.hist_norm = HistNorm::None;
        assert_eq!(counts.compute(&image, [1, 3, 4]).unwrap(), vec![4.0, 2.0]);
        counts.params.hist_norm = HistNorm::L2;
        let norm = 20f32.sqrt();
        assert_eq!(
            counts.compute(&image, [1, 3, 4]).unwrap(),
            vec![4.0 / norm, 2.0 / norm]
        );
    }

    #[test]
    fn bad_settings_name_the_setting() {
        for (p, word) in [
            (params(0, 6, 1), "words must be >= 1"),
            (params(5, 0, 1), "patch must be >= 1"),
            (params(5, 6, 0), "stride must be >= 1"),
            (params(101, 6, 1), "words=101 is more than patches=100"),
        ] {
            let err = Bovw::new(p).unwrap_err().to_string();
            assert!(err.contains(word), "{err}");
        }
        let b = Bovw::new(params(5, 40, 1)).unwrap();
        let err = b.output_len([3, 32, 32]).unwrap_err().to_string();
        assert!(err.contains("patch=40") && err.contains("3x32x32"), "{err}");
        let err = b.compute(&[0; 12], [1, 3, 4]).unwrap_err().to_string();
        assert!(err.contains("no vocabulary"), "{err}");
    }

    #[test]
    fn fitting_learns_the_asked_words_from_the_training_images() {
        let images: Vec<u8> = (0..20 * 3 * 10 * 10)
            .map(|i| ((i * 7919) % 251) as u8)
            .collect();
        let train = Dataset::new(images, [3, 10, 10], vec![0; 20], vec!["a".into()]).unwrap();
        let b = Bovw::new(BovwParams {
            words: 8,
            patch: 3,
            stride: 2,
            patches: 400,
            ..BovwParams::default()
        })
        .unwrap();
        let fitted = b.fit(&train).unwrap();
        let vocab = fitted.vocabulary().unwrap();
        assert_eq!(vocab.words(), 8);
        assert_eq!(vocab.patch_shape(), [3, 3, 3]);
        assert_eq!(fitted.vocabulary(), b.fit(&train).unwrap().vocabulary());
        let h = fitted.compute(train.image(0), [3, 10, 10]).unwrap();
        assert!((h.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let err = fitted.compute(&[0; 100], [1, 10, 10]).unwrap_err();
        assert!(err.to_string().contains("1 channels"), "{err}");
    }
}
