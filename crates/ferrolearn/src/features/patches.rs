//! Square patches of images as rows of numbers, for the bag of visual words: every patch of an
//! image on a grid (dense), or patches drawn at random from a set of images (to learn the
//! words from), each optionally normalised.
//!
//! A patch of `size` x `size` pixels of a `[C, H, W]` image is the row of its `C * size * size`
//! values in channel-major order (`[C, size, size]`, as the images are stored), taken from the
//! `u8` values as they are (0..255). Dense patches start at rows and columns `0, stride,
//! 2 stride, ...` while the patch fits, row by row (scikit-learn's `extract_patches_2d` order
//! for stride 1).

use std::fmt;

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::data::Dataset;
use crate::{Error, Result};

/// Added to a patch's variance before dividing by its square root (pixel values 0..255), so
/// that nearly flat patches are not blown up into noise: Coates and Ng's (2011) value.
pub const PATCH_VARIANCE_EPS: f64 = 10.0;

/// The most patch values ([`Vocabulary`](super::Vocabulary) training rows x values per patch)
/// drawn at once: 2^28 `f64`, 2 GiB.
const MAX_SAMPLED_VALUES: usize = 1 << 28;

/// How each patch is normalised before it is compared with the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatchNorm {
    /// Subtract the patch's mean and divide by `sqrt(variance + 10)` (over all its values, all
    /// channels together): brightness and contrast no longer matter, only the pattern.
    #[default]
    Standard,
    /// The raw pixel values.
    None,
}

impl PatchNorm {
    /// The name in feature descriptions: `standard` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchNorm::Standard => "standard",
            PatchNorm::None => "none",
        }
    }
}

impl fmt::Display for PatchNorm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where patches of one size lie in images of one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PatchGrid {
    /// The image shape `[C, H, W]`.
    pub shape: [usize; 3],
    /// The patch side in pixels.
    pub size: usize,
    /// Pixels between neighbouring dense patches.
    pub stride: usize,
    /// How patches are normalised.
    pub norm: PatchNorm,
}

impl PatchGrid {
    /// The grid, or `InvalidData` naming the patch and image sizes when a patch does not fit.
    pub fn new(shape: [usize; 3], size: usize, stride: usize, norm: PatchNorm) -> Result<Self> {
        let [c, h, w] = shape;
        if size == 0 || stride == 0 || c == 0 || size > h || size > w {
            return Err(Error::InvalidData(format!(
                "bovw patch={size} (stride={stride}) does not fit in the {c}x{h}x{w} images: \
                 the patch side must be in 1..={}",
                h.min(w)
            )));
        }
        Ok(Self {
            shape,
            size,
            stride,
            norm,
        })
    }

    /// Values per patch, `C * size * size`.
    pub fn patch_len(&self) -> usize {
        self.shape[0] * self.size * self.size
    }

    /// Dense patch positions along rows and along columns.
    fn positions(&self) -> [usize; 2] {
        let [_, h, w] = self.shape;
        [
            (h - self.size) / self.stride + 1,
            (w - self.size) / self.stride + 1,
        ]
    }

    /// The number of dense patches of one image.
    pub fn dense_count(&self) -> usize {
        let [rows, cols] = self.positions();
        rows * cols
    }

    /// Writes the patch of `image` whose top-left pixel is at row `y`, column `x` into `out`
    /// (`patch_len` values), normalised.
    fn write(&self, image: &[u8], y: usize, x: usize, out: &mut [f64]) {
        let [_, h, w] = self.shape;
        let p = self.size;
        for (plane, rows) in image.chunks_exact(h * w).zip(out.chunks_exact_mut(p * p)) {
            for (r, row) in rows.chunks_exact_mut(p).enumerate() {
                let start = (y + r) * w + x;
                for (o, &v) in row.iter_mut().zip(&plane[start..start + p]) {
                    *o = f64::from(v);
                }
            }
        }
        if self.norm == PatchNorm::Standard {
            let n = out.len() as f64;
            let mean = out.iter().sum::<f64>() / n;
            let var = out.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            let inv = 1.0 / (var + PATCH_VARIANCE_EPS).sqrt();
            out.iter_mut().for_each(|v| *v = (*v - mean) * inv);
        }
    }

    /// Every dense patch of `image`, row-major `[dense_count, patch_len]`, into `out`
    /// (resized; reused from image to image).
    pub fn dense(&self, image: &[u8], out: &mut Vec<f64>) {
        let d = self.patch_len();
        let [rows, cols] = self.positions();
        out.resize(rows * cols * d, 0.0);
        let mut chunks = out.chunks_exact_mut(d);
        for i in 0..rows {
            for j in 0..cols {
                if let Some(row) = chunks.next() {
                    self.write(image, i * self.stride, j * self.stride, row);
                }
            }
        }
    }

    /// `count` patches drawn uniformly (image, then top-left row and column, with
    /// replacement) from `data`, as rows `[count, patch_len]`.
    ///
    /// The positions come from ChaCha8 seeded with `seed` (stream 1, so they share no draws
    /// with a k-means seeded alike) one after another; the patches are then cut out in
    /// parallel. The result depends on the seed only, not on the number of threads.
    ///
    /// # Errors
    /// `InvalidData` when `data` is empty or its images are not of this grid's shape;
    /// `InvalidParameter` when `count` is 0 or too many values to hold.
    pub fn sample(&self, data: &Dataset, count: usize, seed: u64) -> Result<Array2<f64>> {
        if data.item_shape() != self.shape || data.is_empty() {
            let [c, h, w] = data.item_shape();
            return Err(Error::InvalidData(format!(
                "bovw patches are drawn from {} images of {c}x{h}x{w}, expected at least one \
                 of {:?}",
                data.len(),
                self.shape
            )));
        }
        let d = self.patch_len();
        if count == 0 || count.saturating_mul(d) > MAX_SAMPLED_VALUES {
            return Err(Error::InvalidParameter(format!(
                "bovw patches must be in 1..={} for {d}-value patches, got {count}",
                MAX_SAMPLED_VALUES / d
            )));
        }
        let [_, h, w] = self.shape;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        let at: Vec<[usize; 3]> = (0..count)
            .map(|_| {
                [
                    rng.gen_range(0..data.len()),
                    rng.gen_range(0..=h - self.size),
                    rng.gen_range(0..=w - self.size),
                ]
            })
            .collect();
        let mut rows = vec![0.0; count * d];
        rows.par_chunks_mut(d)
            .zip(at.par_iter())
            .for_each(|(row, &[i, y, x])| self.write(data.image(i), y, x, row));
        Array2::from_shape_vec((count, d), rows)
            .map_err(|e| Error::InvalidData(format!("bovw patches {count}x{d}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1x4x5 image holding 0..20 row by row.
    fn ramp() -> Vec<u8> {
        (0..20).collect()
    }

    #[test]
    fn dense_patches_follow_the_stride_row_by_row() {
        let grid = PatchGrid::new([1, 4, 5], 2, 2, PatchNorm::None).unwrap();
        assert_eq!(grid.dense_count(), 2 * 2);
        let mut out = Vec::new();
        grid.dense(&ramp(), &mut out);
        let want: Vec<f64> = [0, 1, 5, 6, 2, 3, 7, 8, 10, 11, 15, 16, 12, 13, 17, 18]
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        assert_eq!(out, want);
        let every = PatchGrid::new([1, 4, 5], 2, 1, PatchNorm::None).unwrap();
        assert_eq!(every.dense_count(), 3 * 4);
    }

    #[test]
    fn colour_patches_are_channel_major_and_standardised() {
        // Two channels of 2x2, the second the first plus 100.
        let image: Vec<u8> = vec![0, 2, 4, 6, 100, 102, 104, 106];
        let grid = PatchGrid::new([2, 2, 2], 2, 1, PatchNorm::Standard).unwrap();
        let mut out = Vec::new();
        grid.dense(&image, &mut out);
        let raw = [0.0, 2.0, 4.0, 6.0, 100.0, 102.0, 104.0, 106.0];
        let mean = raw.iter().sum::<f64>() / 8.0;
        let var = raw.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 8.0;
        for (o, r) in out.iter().zip(raw) {
            assert!((o - (r - mean) / (var + 10.0).sqrt()).abs() < 1e-12);
        }
        // A flat patch becomes zeros, not NaN.
        grid.dense(&[7; 8], &mut out);
        assert!(out.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn sampling_is_fixed_by_the_seed_whatever_the_threads() {
        let images: Vec<u8> = (0..6 * 3 * 8 * 8).map(|i| (i * 37 % 253) as u8).collect();
        let data = Dataset::new(images, [3, 8, 8], vec![0; 6], vec!["a".into()]).unwrap();
        let grid = PatchGrid::new([3, 8, 8], 3, 1, PatchNorm::Standard).unwrap();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| grid.sample(&data, 500, 7).unwrap());
        let many = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| grid.sample(&data, 500, 7).unwrap());
        assert_eq!(one, many);
        assert_eq!(one.dim(), (500, 27));
        assert_ne!(one, grid.sample(&data, 500, 8).unwrap());
        // Every sampled row is one of the dense patches.
        let mut dense = Vec::new();
        let all: Vec<Vec<f64>> = (0..6)
            .flat_map(|i| {
                grid.dense(data.image(i), &mut dense);
                dense
                    .chunks_exact(27)
                    .map(<[f64]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(one.rows().into_iter().all(|r| all.contains(&r.to_vec())));
    }

    #[test]
    fn patches_that_do_not_fit_are_refused_naming_the_sizes() {
        let err = PatchGrid::new([3, 8, 8], 9, 1, PatchNorm::None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("patch=9") && err.contains("3x8x8"), "{err}");
        let grid = PatchGrid::new([3, 8, 8], 3, 1, PatchNorm::None).unwrap();
        let data = Dataset::new(vec![0; 64], [1, 8, 8], vec![0], vec!["a".into()]).unwrap();
        assert!(grid.sample(&data, 10, 0).is_err());
    }
}
