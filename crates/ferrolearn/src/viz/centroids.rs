//! The centres of a k-means clustering of images or image patches (the visual words of a bag
//! of visual words, or the "average digits" of k-means on MNIST), drawn as a grid of small
//! pictures under a title.

use std::path::Path;

use plotters::style::text_anchor::HPos;
use plotters::style::RGBColor;

use super::output::Canvas;
use super::text::{draw_text, text_width, Direction};
use super::weights::{check_finite, check_len, min_max_scale, to_u32, Tile};
use crate::{Error, Result};

/// Outer margin, in pixels.
const PAD: u32 = 12;
/// Height of the band above the grid that holds the title.
const TITLE_BAND: u32 = 36;
/// Font size of the title.
const TITLE_SIZE: f64 = 16.0;
/// Centres are enlarged by a whole factor to about this many pixels along their longer side.
const CENTRE_SIDE: usize = 84;
/// Width of the black lines between centres.
const LINE: u32 = 2;
/// Colour of the lines between centres.
const SEPARATOR: [u8; 3] = [0, 0, 0];
/// Colour of the title.
const INK: RGBColor = RGBColor(30, 30, 30);

/// Draws `k` cluster centres, each a `[channels, height, width]` picture, in a near-square
/// grid read row by row (centre 0 at the top left), under `title`.
///
/// `centres` is the row-major `[k, channels * height * width]` matrix of the centres, each
/// row channel-major as the images are stored; `channels` is 1 (grey) or 3 (RGB). Each
/// centre is min-max scaled to 0..255 on its own, over all its channels together (its
/// darkest value black, its brightest white; so normalised patches, whose values are centred
/// on 0, show their pattern, and a constant centre is mid-grey), then enlarged by a whole
/// factor with nearest-neighbour to about 84 pixels; two-pixel black lines separate the
/// centres.
///
/// # Errors
/// `InvalidData` when `centres.len()` is not the product of `shape` (`[k, channels, height,
/// width]`), a size is zero, `channels` is not 1 or 3, or a value is not finite; `Io` when
/// the file cannot be written.
pub fn plot_centroids(
    path: impl AsRef<Path>,
    centres: &[f32],
    shape: [usize; 4],
    title: &str,
) -> Result<()> {
    let path = path.as_ref();
    check_len(centres, &shape, "[k, channels, height, width]")?;
    let [k, channels, height, width] = shape;
    if channels != 1 && channels != 3 {
        return Err(Error::InvalidData(format!(
            "centres are drawn as grey (1 channel) or RGB (3 channels) pictures, got \
             {channels} channels"
        )));
    }
    check_finite(centres)?;

    let scale = (CENTRE_SIDE / height.max(width)).max(1);
    let tile = Tile::new(width, height, scale)?;
    let cols = (k as f64).sqrt().ceil() as usize;
    let rows = k.div_ceil(cols);
    let (cols, rows) = (to_u32(cols)?, to_u32(rows)?);
    let line = u64::from(LINE);
    let grid_width = u64::from(cols) * (u64::from(tile.width) + line) + line;
    let grid_height = u64::from(rows) * (u64::from(tile.height) + line) + line;
    let title_width = u64::from(text_width(title, TITLE_SIZE)?);
    let pad = u64::from(PAD);
    let canvas_width = 2 * pad + grid_width.max(title_width);
    let canvas_height = 2 * pad + u64::from(TITLE_BAND) + grid_height;
    let mut canvas = Canvas::new(canvas_width, canvas_height, [255, 255, 255])?;
    // Fits: the canvas is at least this wide and tall. The grid is centred under the title.
    let left = PAD + ((canvas_width - 2 * pad - grid_width) / 2) as u32;
    let top = PAD + TITLE_BAND;
    canvas.fill(left, top, grid_width as u32, grid_height as u32, SEPARATOR);
    for (c, centre) in centres.chunks_exact(channels * height * width).enumerate() {
        let (col, row) = (c as u32 % cols, c as u32 / cols);
        let x = left + LINE + col * (tile.width + LINE);
        let y = top + LINE + row * (tile.height + LINE);
        tile.draw(&mut canvas, x, y, &min_max_scale(centre), channels);
    }
    let at = ((canvas.width / 2) as i32, (PAD + TITLE_BAND / 2 - 2) as i32);
    canvas.draw_with(path, |area| {
        draw_text(
            area,
            title,
            TITLE_SIZE,
            INK,
            at,
            HPos::Center,
            Direction::Across,
        )
    })?;
    canvas.save_png(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::test_util::{distinct_colours, TempPng};

    #[test]
    fn rgb_centres_are_scaled_each_on_its_own_in_a_square_grid() {
        // Five 2x2 RGB centres: centre c is red at its top-left value (c + 1) * 10 (others 0),
        // except centre 4, constant.
        let mut centres = vec![0.0f32; 5 * 12];
        for c in 0..4 {
            centres[c * 12] = (c + 1) as f32 * 10.0;
        }
        centres[4 * 12..].fill(-3.0);
        let png = TempPng::new("centroids-rgb");
        plot_centroids(png.path(), &centres, [5, 3, 2, 2], "five words").expect("plot");
        let picture = png.read();
        // Scale 84 / 2 = 42: tiles 84 x 84 in a 3 x 2 grid with 2-pixel lines.
        let (grid_w, grid_h) = (3 * 86 + 2, 2 * 86 + 2);
        assert_eq!(picture.width(), 2 * 12 + grid_w);
        assert_eq!(picture.height(), 2 * 12 + 36 + grid_h);
        let at = |c: u32, x: u32, y: u32| {
            let (col, row) = (c % 3, c / 3);
            picture
                .get_pixel(12 + 2 + col * 86 + x, 48 + 2 + row * 86 + y)
                .0
        };
        for c in 0..4 {
            assert_eq!(at(c, 0, 0), [255, 0, 0], "centre {c}"); // its own maximum
            assert_eq!(at(c, 41, 41), [255, 0, 0]); // the same value, enlarged
            assert_eq!(at(c, 42, 41), [0, 0, 0]); // the next value
            assert_eq!(at(c, 84, 41), [0, 0, 0]); // separator
        }
        assert_eq!(at(1, 85, 0), [0, 0, 0]); // separator between columns
        assert_eq!(at(1, 86, 0), at(2, 0, 0)); // the next centre
        assert_eq!(at(4, 60, 60), [128, 128, 128]); // constant centre
        assert_eq!(at(5, 60, 60), [0, 0, 0]); // no sixth centre: background of the grid
        let title = image::imageops::crop_imm(&picture, 0, 0, picture.width(), 40).to_image();
        assert!(distinct_colours(&title) > 2);
    }

    #[test]
    fn grey_digits_and_bad_shapes() {
        let centres: Vec<f32> = (0..10 * 28 * 28)
            .map(|i| (i % 255) as f32 / 255.0)
            .collect();
        let png = TempPng::new("centroids-grey");
        plot_centroids(png.path(), &centres, [10, 1, 28, 28], "k-means").expect("plot");
        // Scale 3: tiles 84 x 84 in a 4 x 3 grid.
        let picture = png.read();
        assert_eq!(
            picture.dimensions(),
            (2 * 12 + 4 * 86 + 2, 2 * 12 + 36 + 3 * 86 + 2)
        );
        assert!(picture
            .pixels()
            .skip((48 * picture.width()) as usize)
            .all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]));

        let err = plot_centroids(png.path(), &centres, [10, 2, 28, 14], "x").expect_err("chan");
        assert!(err.to_string().contains("got 2 channels"), "{err}");
        let err = plot_centroids(png.path(), &centres[1..], [10, 1, 28, 28], "x").expect_err("len");
        assert!(
            err.to_string().contains("[k, channels, height, width]"),
            "{err}"
        );
    }
}
