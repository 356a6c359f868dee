//! Histograms of oriented gradients with scikit-image's exact definition
//! (`skimage.feature.hog`, version 0.26).
//!
//! For an image of `u8` values (0..255, used as they are, as `hog` does with a `uint8` array):
//! 1. optionally the square root of every value (`transform_sqrt`);
//! 2. central-difference gradients `g_row[r, c] = x[r + 1, c] - x[r - 1, c]` and
//!    `g_col[r, c] = x[r, c + 1] - x[r, c - 1]`, zero on the first and last row (column);
//!    for a colour image each pixel takes the gradient of the channel with the largest
//!    magnitude (the first on ties), as `hog(..., channel_axis=-1)`;
//! 3. per cell of `pixels_per_cell` pixels and per orientation bin, the sum of the magnitudes
//!    of the pixels whose angle lies in the bin (see [`super::orientation`]), divided by the
//!    cell's number of pixels; the pixels past the last whole cell are ignored;
//! 4. each block of `cells_per_block` cells (every position, stride one cell) normalised by
//!    [`BlockNorm`], written in the order (block row, block column, cell row, cell column,
//!    orientation).
//!
//! Magnitudes are summed in `f32` (as the Cython code does), angles are decided in `f64`.

use std::fmt;

use super::orientation::{IntegerBins, OrientationBins, NO_BIN};
use super::BlockNorm;
use crate::{Error, Result};

/// The most orientation bins allowed (one degree each).
pub const MAX_ORIENTATIONS: usize = 180;
/// skimage's `rgb2gray` weights for R, G, B, applied to the 0..255 values.
const GREY_WEIGHTS: [f64; 3] = [0.2125, 0.7154, 0.0721];

/// Which gradient a pixel of a colour image votes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HogChannels {
    /// The channel of largest gradient magnitude at that pixel (`hog(..., channel_axis=-1)`).
    #[default]
    Strongest,
    /// The grey image `0.2125 R + 0.7154 G + 0.0721 B` (skimage's `rgb2gray` weights, on
    /// 0..255 values). A one-channel image is its own grey image.
    Grey,
}

impl HogChannels {
    /// The name used in feature descriptions: `strongest` or `grey`.
    pub fn as_str(self) -> &'static str {
        match self {
            HogChannels::Strongest => "strongest",
            HogChannels::Grey => "grey",
        }
    }
}

/// The settings of a HOG descriptor; the defaults are scikit-image's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HogParams {
    /// Orientation bins over `[0, 180)` degrees (1 to [`MAX_ORIENTATIONS`]); default 9.
    pub orientations: usize,
    /// Cell size in pixels, `[rows, columns]`; default `[8, 8]`.
    pub pixels_per_cell: [usize; 2],
    /// Block size in cells, `[rows, columns]`; default `[3, 3]`.
    pub cells_per_block: [usize; 2],
    /// How each block is normalised; default L2-Hys.
    pub block_norm: BlockNorm,
    /// Take the square root of every pixel value first (power-law compression); default off.
    pub transform_sqrt: bool,
    /// How colour images are reduced to one gradient per pixel; default the strongest channel.
    pub channels: HogChannels,
}

impl Default for HogParams {
    fn default() -> Self {
        HogParams {
            orientations: 9,
            pixels_per_cell: [8, 8],
            cells_per_block: [3, 3],
            block_norm: BlockNorm::L2Hys,
            transform_sqrt: false,
            channels: HogChannels::Strongest,
        }
    }
}

impl fmt::Display for HogParams {
    /// `hog(orientations=9,pixels_per_cell=8x8,cells_per_block=3x3,block_norm=L2-Hys,
    /// transform_sqrt=false,channels=strongest)`: every setting, so that two descriptions are
    /// equal exactly when the settings are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [pr, pc] = self.pixels_per_cell;
        let [br, bc] = self.cells_per_block;
        write!(
            f,
            "hog(orientations={},pixels_per_cell={pr}x{pc},cells_per_block={br}x{bc},\
             block_norm={},transform_sqrt={},channels={})",
            self.orientations,
            self.block_norm,
            self.transform_sqrt,
            self.channels.as_str()
        )
    }
}

/// A checked HOG descriptor, ready to run on images (its orientation table built once).
#[derive(Debug, Clone)]
pub struct Hog {
    params: HogParams,
    bins: OrientationBins,
    integer_bins: IntegerBins,
}

/// Buffers reused from one image to the next, so computing HOG allocates nothing per image.
#[derive(Debug, Default)]
pub(crate) struct HogScratch {
    /// Per pixel: the bin it votes into ([`NO_BIN`] for none).
    votes: Vec<u8>,
    /// Per pixel: its gradient magnitude.
    magnitudes: Vec<f32>,
    /// The float pixel planes of the non-integer path.
    planes: Vec<f64>,
    /// The cell histograms `[cells_row, cells_col, orientations]`.
    cells: Vec<f32>,
}

/// Cell and block counts of one image size.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    cells: [usize; 2],
    blocks: [usize; 2],
}

impl Hog {
    /// Checks `params` and builds the orientation table.
    ///
    /// # Errors
    /// `InvalidParameter` when orientations is not in 1..=180 or a cell or block size is 0.
    pub fn new(params: HogParams) -> Result<Hog> {
        if !(1..=MAX_ORIENTATIONS).contains(&params.orientations) {
            return Err(Error::InvalidParameter(format!(
                "HOG orientations must be in 1..={MAX_ORIENTATIONS}, got {}",
                params.orientations
            )));
        }
        for (name, [r, c]) in [
            ("pixels_per_cell", params.pixels_per_cell),
            ("cells_per_block", params.cells_per_block),
        ] {
            if r == 0 || c == 0 {
                return Err(Error::InvalidParameter(format!(
                    "HOG {name} must be at least 1x1, got {r}x{c}"
                )));
            }
        }
        let bins = OrientationBins::new(params.orientations);
        let integer_bins = IntegerBins::new(&bins);
        Ok(Hog {
            params,
            bins,
            integer_bins,
        })
    }

    /// The settings.
    pub fn params(&self) -> &HogParams {
        &self.params
    }

    /// The length of the descriptor of a `[C, H, W]` image.
    ///
    /// # Errors
    /// `InvalidData` when the image holds fewer rows or columns than one block, or when grey
    /// HOG is asked of an image that has neither 1 nor 3 channels.
    pub fn output_len(&self, item_shape: [usize; 3]) -> Result<usize> {
        let g = self.geometry(item_shape)?;
        let [br, bc] = self.params.cells_per_block;
        Ok(g.blocks[0] * g.blocks[1] * br * bc * self.params.orientations)
    }

    /// The descriptor of one image of `u8` values (`[C, H, W]`, row-major).
    ///
    /// # Errors
    /// As [`Hog::output_len`], and `InvalidData` when `image` does not hold `C * H * W` values.
    pub fn compute(&self, image: &[u8], item_shape: [usize; 3]) -> Result<Vec<f32>> {
        let len = self.output_len(item_shape)?;
        let pixels: usize = item_shape.iter().product();
        if image.len() != pixels {
            return Err(Error::InvalidData(format!(
                "a {item_shape:?} image holds {pixels} values, got {}",
                image.len()
            )));
        }
        let mut out = vec![0.0; len];
        self.compute_into(image, item_shape, &mut HogScratch::default(), &mut out)?;
        Ok(out)
    }

    /// Writes the descriptor of `image` into `out`, whose length is
    /// [`Hog::output_len`]`(item_shape)` (checked by the caller, as is the image length).
    pub(crate) fn compute_into(
        &self,
        image: &[u8],
        item_shape: [usize; 3],
        scratch: &mut HogScratch,
        out: &mut [f32],
    ) -> Result<()> {
        let g = self.geometry(item_shape)?;
        self.vote(image, item_shape, scratch);
        self.cell_histograms(item_shape[2], g, scratch);
        self.normalised_blocks(g, &scratch.cells, out);
        Ok(())
    }

    /// Cells and blocks of an image size, or why the image cannot be described.
    fn geometry(&self, [c, h, w]: [usize; 3]) -> Result<Geometry> {
        let [pr, pc] = self.params.pixels_per_cell;
        let [br, bc] = self.params.cells_per_block;
        if self.params.channels == HogChannels::Grey && c != 1 && c != 3 {
            return Err(Error::InvalidData(format!(
                "grey HOG needs images of 1 or 3 channels, got {c}"
            )));
        }
        let cells = [h / pr, w / pc];
        if cells[0] < br || cells[1] < bc {
            return Err(Error::InvalidData(format!(
                "a {h}x{w} image is too small for HOG blocks of {br}x{bc} cells of {pr}x{pc} \
                 pixels: it needs at least {} rows and {} columns",
                br * pr,
                bc * pc
            )));
        }
        Ok(Geometry {
            cells,
            blocks: [cells[0] - br + 1, cells[1] - bc + 1],
        })
    }

    /// Fills each pixel's bin and magnitude.
    fn vote(&self, image: &[u8], [c, h, w]: [usize; 3], s: &mut HogScratch) {
        s.votes.resize(h * w, NO_BIN);
        s.magnitudes.resize(h * w, 0.0);
        let grey_of_colour = self.params.channels == HogChannels::Grey && c == 3;
        if !self.params.transform_sqrt && !grey_of_colour {
            self.vote_integer(image, [c, h, w], s);
            return;
        }
        let plane = h * w;
        let value = |v: f64| {
            if self.params.transform_sqrt {
                v.sqrt()
            } else {
                v
            }
        };
        let planes = if grey_of_colour {
            s.planes.clear();
            s.planes.extend((0..plane).map(|i| {
                let [r, g, b] = [0, 1, 2].map(|ch| f64::from(image[ch * plane + i]));
                value(r * GREY_WEIGHTS[0] + g * GREY_WEIGHTS[1] + b * GREY_WEIGHTS[2])
            }));
            1
        } else {
            s.planes.clear();
            s.planes.extend(image.iter().map(|&v| value(f64::from(v))));
            c
        };
        self.vote_float(planes, [h, w], s);
    }

    /// The integer path: gradients of raw `u8` values, bins from the table.
    fn vote_integer(&self, image: &[u8], [c, h, w]: [usize; 3], s: &mut HogScratch) {
        let plane = h * w;
        for r in 0..h {
            let inner_row = r > 0 && r + 1 < h;
            for col in 0..w {
                let inner_col = col > 0 && col + 1 < w;
                let (mut g_row, mut g_col, mut best) = (0i32, 0i32, -1i32);
                for ch in 0..c {
                    let p = &image[ch * plane..(ch + 1) * plane];
                    let gr = if inner_row {
                        i32::from(p[(r + 1) * w + col]) - i32::from(p[(r - 1) * w + col])
                    } else {
                        0
                    };
                    let gc = if inner_col {
                        i32::from(p[r * w + col + 1]) - i32::from(p[r * w + col - 1])
                    } else {
                        0
                    };
                    let m = gr * gr + gc * gc;
                    if m > best {
                        (g_row, g_col, best) = (gr, gc, m);
                    }
                }
                s.votes[r * w + col] = self.integer_bins.bin(g_row, g_col);
                s.magnitudes[r * w + col] = (best as f32).sqrt();
            }
        }
    }

    /// The float path: gradients of `planes` f64 planes in `s.planes`, angles in f64.
    fn vote_float(&self, planes: usize, [h, w]: [usize; 2], s: &mut HogScratch) {
        let plane = h * w;
        for r in 0..h {
            let inner_row = r > 0 && r + 1 < h;
            for col in 0..w {
                let inner_col = col > 0 && col + 1 < w;
                let (mut g_row, mut g_col, mut best) = (0.0f64, 0.0f64, -1.0f64);
                for ch in 0..planes {
                    let p = &s.planes[ch * plane..(ch + 1) * plane];
                    let gr = if inner_row {
                        p[(r + 1) * w + col] - p[(r - 1) * w + col]
                    } else {
                        0.0
                    };
                    let gc = if inner_col {
                        p[r * w + col + 1] - p[r * w + col - 1]
                    } else {
                        0.0
                    };
                    let m = gr * gr + gc * gc;
                    if m > best {
                        (g_row, g_col, best) = (gr, gc, m);
                    }
                }
                s.votes[r * w + col] = self.bins.bin(g_row, g_col).map_or(NO_BIN, |b| b as u8);
                s.magnitudes[r * w + col] = best.sqrt() as f32;
            }
        }
    }

    /// Sums the votes of each cell's pixels into `s.cells`.
    fn cell_histograms(&self, w: usize, g: Geometry, s: &mut HogScratch) {
        let n = self.params.orientations;
        let [pr, pc] = self.params.pixels_per_cell;
        let area = (pr * pc) as f32;
        s.cells.clear();
        s.cells.resize(g.cells[0] * g.cells[1] * n, 0.0);
        for (cell, hist) in s.cells.chunks_exact_mut(n).enumerate() {
            let (yi, xi) = (cell / g.cells[1], cell % g.cells[1]);
            for r in yi * pr..(yi + 1) * pr {
                let row = r * w + xi * pc;
                let votes = &s.votes[row..row + pc];
                let mags = &s.magnitudes[row..row + pc];
                for (&b, &m) in votes.iter().zip(mags) {
                    if b != NO_BIN {
                        hist[usize::from(b)] += m;
                    }
                }
            }
            // As the Cython code: the `float` sum divided by the cell area.
            for v in hist.iter_mut() {
                *v /= area;
            }
        }
    }

    /// Copies every block's cell histograms into `out` and normalises each block.
    fn normalised_blocks(&self, g: Geometry, cells: &[f32], out: &mut [f32]) {
        let n = self.params.orientations;
        let [br, bc] = self.params.cells_per_block;
        let block_len = br * bc * n;
        for (block, o) in out.chunks_exact_mut(block_len).enumerate() {
            let (r, c) = (block / g.blocks[1], block % g.blocks[1]);
            for i in 0..br {
                for j in 0..bc {
                    let src = ((r + i) * g.cells[1] + c + j) * n;
                    o[(i * bc + j) * n..(i * bc + j + 1) * n].copy_from_slice(&cells[src..src + n]);
                }
            }
            self.params.block_norm.apply(o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hog(params: HogParams) -> Hog {
        Hog::new(params).unwrap()
    }

    #[test]
    fn descriptor_length_follows_skimage() {
        let h = hog(HogParams::default());
        // 32x32 with 8x8 cells: 4x4 cells, 2x2 blocks of 3x3 cells of 9 bins.
        assert_eq!(h.output_len([3, 32, 32]).unwrap(), 2 * 2 * 3 * 3 * 9);
        // 28x28: 3x3 cells (the last 4 pixels ignored), one block.
        assert_eq!(h.output_len([1, 28, 28]).unwrap(), 81);
    }

    #[test]
    fn an_image_smaller_than_a_block_is_refused() {
        let err = hog(HogParams::default())
            .output_len([1, 20, 32])
            .unwrap_err()
            .to_string();
        assert!(err.contains("20x32") && err.contains("24 rows"), "{err}");
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        for (params, word) in [
            (
                HogParams {
                    orientations: 0,
                    ..HogParams::default()
                },
                "orientations",
            ),
            (
                HogParams {
                    pixels_per_cell: [0, 8],
                    ..HogParams::default()
                },
                "pixels_per_cell",
            ),
            (
                HogParams {
                    cells_per_block: [2, 0],
                    ..HogParams::default()
                },
                "cells_per_block",
            ),
        ] {
            let err = Hog::new(params).unwrap_err().to_string();
            assert!(err.contains(word), "{err}");
        }
    }

    #[test]
    fn a_zero_image_gives_finite_zeros() {
        for block_norm in BlockNorm::ALL {
            for transform_sqrt in [false, true] {
                let h = hog(HogParams {
                    block_norm,
                    transform_sqrt,
                    ..HogParams::default()
                });
                let out = h.compute(&[0u8; 3 * 32 * 32], [3, 32, 32]).unwrap();
                assert!(out.iter().all(|&v| v == 0.0), "{block_norm}");
            }
        }
    }

    #[test]
    fn a_vertical_edge_votes_in_the_zero_degree_bin() {
        // Columns 0..4 dark, 4..8 bright: a horizontal gradient, angle 0.
        let image: Vec<u8> = (0..64).map(|i| if i % 8 < 4 { 0 } else { 200 }).collect();
        let h = hog(HogParams {
            pixels_per_cell: [8, 8],
            cells_per_block: [1, 1],
            block_norm: BlockNorm::L1,
            ..HogParams::default()
        });
        let out = h.compute(&image, [1, 8, 8]).unwrap();
        assert!((out[0] - 1.0).abs() < 1e-6, "{out:?}");
        assert!(out[1..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn a_wrong_image_length_is_refused() {
        let err = hog(HogParams::default())
            .compute(&[0u8; 10], [1, 32, 32])
            .unwrap_err()
            .to_string();
        assert!(err.contains("1024") && err.contains("10"), "{err}");
    }

    #[test]
    fn grey_needs_one_or_three_channels() {
        let h = hog(HogParams {
            channels: HogChannels::Grey,
            ..HogParams::default()
        });
        let err = h.output_len([2, 32, 32]).unwrap_err().to_string();
        assert!(err.contains("2"), "{err}");
    }
}
