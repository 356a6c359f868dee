//! Colour histograms: the hue histogram of the CS231n course's `color_histogram_hsv`, or
//! one intensity histogram per channel.

use std::fmt;

use super::orientation::numpy_remainder;
use crate::{Error, Result};

/// The colour values a histogram counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorSpace {
    /// The hue of each pixel of an RGB image, as CS231n's `color_histogram_hsv(im, nbin)`:
    /// `h = matplotlib.colors.rgb_to_hsv(im / 255)[..., 0] * 255` (so `h` lies in `[0, 255)`;
    /// grey pixels have hue 0; on ties of the largest channel blue wins over green over red),
    /// counted over the edges `np.linspace(0, 255, bins + 1)` (bin `k` holds
    /// `edge_k <= h < edge_{k+1}`) and divided by the number of pixels: `np.histogram(h, edges,
    /// density=True)` times the bin widths. Needs 3 channels. Computed in f64 with the same
    /// operations as matplotlib and numpy, so a pixel on a bin edge lands where it does there.
    #[default]
    Hsv,
    /// One histogram per channel, one after another: bin `k` of `bins` counts the values `v`
    /// (0..255) with `256 k / bins <= v < 256 (k + 1) / bins` (`np.histogram(channel, bins,
    /// range=(0, 256))`), divided by the number of pixels so each channel's bins sum to 1.
    Rgb,
}

impl ColorSpace {
    /// The name used in feature descriptions: `hsv` or `rgb`.
    pub fn as_str(self) -> &'static str {
        match self {
            ColorSpace::Hsv => "hsv",
            ColorSpace::Rgb => "rgb",
        }
    }
}

/// A checked colour histogram: its space and number of bins (CS231n's default is 10 hue bins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColorHistogram {
    space: ColorSpace,
    bins: usize,
}

impl Default for ColorHistogram {
    fn default() -> Self {
        ColorHistogram {
            space: ColorSpace::Hsv,
            bins: 10,
        }
    }
}

impl ColorHistogram {
    /// A histogram of `bins` bins over `space`.
    ///
    /// # Errors
    /// `InvalidParameter` when `bins` is not in 1..=256.
    pub fn new(space: ColorSpace, bins: usize) -> Result<ColorHistogram> {
        if !(1..=256).contains(&bins) {
            return Err(Error::InvalidParameter(format!(
                "colour histogram bins must be in 1..=256, got {bins}"
            )));
        }
        Ok(ColorHistogram { space, bins })
    }

    /// The colour space.
    pub fn space(&self) -> ColorSpace {
        self.space
    }

    /// The number of bins (per channel for [`ColorSpace::Rgb`]).
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// The length of the histogram of a `[C, H, W]` image.
    ///
    /// # Errors
    /// `InvalidData` when the hue histogram is asked of an image without 3 channels.
    pub fn output_len(&self, [c, _, _]: [usize; 3]) -> Result<usize> {
        match self.space {
            ColorSpace::Hsv if c != 3 => Err(Error::InvalidData(format!(
                "a hue histogram needs RGB images (3 channels), got {c} channel(s); \
                 use space=rgb for an intensity histogram"
            ))),
            ColorSpace::Hsv => Ok(self.bins),
            ColorSpace::Rgb => Ok(c * self.bins),
        }
    }

    /// The histogram of one image of `u8` values (`[C, H, W]`).
    ///
    /// # Errors
    /// As [`ColorHistogram::output_len`], and `InvalidData` when `image` does not hold
    /// `C * H * W` values.
    pub fn compute(&self, image: &[u8], item_shape: [usize; 3]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.output_len(item_shape)?];
        let pixels: usize = item_shape.iter().product();
        if image.len() != pixels {
            return Err(Error::InvalidData(format!(
                "a {item_shape:?} image holds {pixels} values, got {}",
                image.len()
            )));
        }
        self.compute_into(image, item_shape, &mut out);
        Ok(out)
    }

    /// Writes the histogram of `image` into `out` (lengths checked by the caller).
    pub(crate) fn compute_into(&self, image: &[u8], [c, h, w]: [usize; 3], out: &mut [f32]) {
        let plane = h * w;
        let per_pixel = 1.0 / plane as f64;
        let mut counts = [0u32; 256];
        match self.space {
            ColorSpace::Hsv => {
                let edges = hue_edges(self.bins);
                for i in 0..plane {
                    let hue = hue_255([0, 1, 2].map(|ch| image[ch * plane + i]));
                    counts[edge_bin(&edges, hue)] += 1;
                }
                for (o, &n) in out.iter_mut().zip(&counts) {
                    *o = (f64::from(n) * per_pixel) as f32;
                }
            }
            ColorSpace::Rgb => {
                for ch in 0..c {
                    counts[..self.bins].fill(0);
                    for &v in &image[ch * plane..(ch + 1) * plane] {
                        counts[usize::from(v) * self.bins / 256] += 1;
                    }
                    let o = &mut out[ch * self.bins..(ch + 1) * self.bins];
                    for (o, &n) in o.iter_mut().zip(&counts) {
                        *o = (f64::from(n) * per_pixel) as f32;
                    }
                }
            }
        }
    }
}

impl fmt::Display for ColorHistogram {
    /// `color(space=hsv,bins=10)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "color(space={},bins={})", self.space.as_str(), self.bins)
    }
}

/// matplotlib's `rgb_to_hsv(rgb / 255)` hue times 255, with matplotlib's float operations.
fn hue_255(rgb: [u8; 3]) -> f64 {
    let [r, g, b] = rgb.map(|v| f64::from(v) / 255.0);
    let max = r.max(g).max(b);
    let delta = max - r.min(g).min(b);
    let h = if delta > 0.0 {
        // matplotlib assigns red, then green, then blue: the last channel equal to max wins.
        if b == max {
            4.0 + (r - g) / delta
        } else if g == max {
            2.0 + (b - r) / delta
        } else {
            (g - b) / delta
        }
    } else {
        0.0
    };
    numpy_remainder(h / 6.0, 1.0) * 255.0
}

/// `np.linspace(0, 255, bins + 1)`: `k * (255 / bins)`, the last edge exactly 255.
fn hue_edges(bins: usize) -> Vec<f64> {
    let step = 255.0 / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|k| k as f64 * step).collect();
    edges[bins] = 255.0;
    edges
}

/// The bin of `x` among `edges` as `np.histogram` counts it: `edges[k] <= x < edges[k + 1]`,
/// the last bin closed. `x` lies in `[edges[0], edges[last]]`.
fn edge_bin(edges: &[f64], x: f64) -> usize {
    let bins = edges.len() - 1;
    let mut k = ((x / edges[bins] * bins as f64) as usize).min(bins - 1);
    while k > 0 && x < edges[k] {
        k -= 1;
    }
    while k + 1 < bins && x >= edges[k + 1] {
        k += 1;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hues_of_primary_colours() {
        assert_eq!(hue_255([255, 0, 0]), 0.0);
        assert!((hue_255([0, 255, 0]) - 85.0).abs() < 1e-9);
        assert!((hue_255([0, 0, 255]) - 170.0).abs() < 1e-9);
        assert_eq!(hue_255([90, 90, 90]), 0.0);
        // magenta: blue wins the tie, 4 + 1 = 5 sixths.
        assert!((hue_255([255, 0, 255]) - 212.5).abs() < 1e-9);
    }

    #[test]
    fn histograms_sum_to_one_per_channel() {
        let image: Vec<u8> = (0..3 * 16).map(|i| (i * 37 % 256) as u8).collect();
        let hsv = ColorHistogram::new(ColorSpace::Hsv, 10).unwrap();
        let out = hsv.compute(&image, [3, 4, 4]).unwrap();
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let rgb = ColorHistogram::new(ColorSpace::Rgb, 4).unwrap();
        let out = rgb.compute(&image, [3, 4, 4]).unwrap();
        assert_eq!(out.len(), 12);
        for ch in out.chunks(4) {
            assert!((ch.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn rgb_bins_split_the_byte_range_evenly() {
        let image = [0u8, 63, 64, 255];
        let out = ColorHistogram::new(ColorSpace::Rgb, 4)
            .unwrap()
            .compute(&image, [1, 2, 2])
            .unwrap();
        assert_eq!(out, vec![0.5, 0.25, 0.0, 0.25]);
    }

    #[test]
    fn bad_settings_and_shapes_are_refused() {
        let err = ColorHistogram::new(ColorSpace::Hsv, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bins"), "{err}");
        let err = ColorHistogram::default()
            .output_len([1, 28, 28])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("3 channels") && err.contains("space=rgb"),
            "{err}"
        );
    }

    #[test]
    fn a_value_on_an_edge_goes_up_and_the_last_edge_stays_in() {
        let edges = hue_edges(10);
        assert_eq!(edge_bin(&edges, 25.5), 1);
        assert_eq!(edge_bin(&edges, 255.0), 9);
        assert_eq!(edge_bin(&edges, 0.0), 0);
    }
}
