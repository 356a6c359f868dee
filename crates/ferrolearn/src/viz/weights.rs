//! Pictures of learned weights: linear classifier templates and first-layer conv filters.
//!
//! Weights are drawn pixel by pixel into the canvas (upscaled by repeating pixels, so each
//! weight stays a sharp square); plotters is used only for the class names.

use std::path::Path;

use plotters::style::text_anchor::HPos;
use plotters::style::RGBColor;

use super::output::Canvas;
use super::text::{draw_text, text_width, Direction};
use crate::{Error, Result};

/// Outer margin of the templates picture, in pixels.
const PAD: u32 = 16;
/// Gap between neighbouring templates.
const GAP: u32 = 16;
/// Height of the band under each template that holds its class name.
const LABEL_BAND: u32 = 28;
/// Font size of class names; long names shrink down to [`MIN_LABEL_SIZE`], then are cut.
const LABEL_SIZE: f64 = 15.0;
/// Smallest font size a class name shrinks to before it is cut short.
const MIN_LABEL_SIZE: f64 = 10.0;
/// Templates are enlarged by a whole factor to about this many pixels along their longer side.
const TEMPLATE_SIDE: usize = 128;
/// Filters are enlarged by a whole factor to about this many pixels along their longer side.
const FILTER_SIDE: usize = 64;
/// Colour of the lines between filters and of the frame round each template.
const SEPARATOR: [u8; 3] = [0, 0, 0];
/// Width of the lines between filters: wide enough to tell the tiles apart when their edge
/// weights are dark too.
const LINE: u32 = 2;

/// Draws the weights of a linear classifier as one picture per class, the "learned templates"
/// of CS231n: which input pixels raise each class's score (bright) or lower it (dark).
///
/// `weights` is the `[n_classes, channels * height * width]` weight matrix in row-major order
/// (a `Linear` layer's weight, or a softmax / SVM classifier's, without the bias), each row an
/// image flattened channel by channel as in NCHW. `channels` is 1 (greyscale) or 3 (RGB).
/// Each template is min-max scaled to 0..255 on its own (so the picture shows its pattern, not
/// its magnitude against the others; a constant template is mid-grey), enlarged by a whole
/// factor to about 128 pixels, framed, and named underneath. Templates are laid out in a grid
/// about twice as wide as tall: ten classes give two rows of five.
///
/// # Errors
/// `InvalidData` when `weights.len()` differs from `n_classes * channels * height * width`,
/// `class_names.len()` from `n_classes`, any size is zero, `channels` is not 1 or 3, or a
/// weight is not finite; `Io` when the file cannot be written.
pub fn plot_linear_templates<S: AsRef<str>>(
    path: impl AsRef<Path>,
    weights: &[f32],
    n_classes: usize,
    (channels, height, width): (usize, usize, usize),
    class_names: &[S],
) -> Result<()> {
    let path = path.as_ref();
    let shape = [n_classes, channels, height, width];
    check_len(weights, &shape, "[n_classes, channels, height, width]")?;
    if channels != 1 && channels != 3 {
        return Err(Error::InvalidData(format!(
            "templates need 1 (greyscale) or 3 (RGB) channels, got {channels}"
        )));
    }
    if class_names.len() != n_classes {
        return Err(Error::InvalidData(format!(
            "{} class names for {n_classes} classes",
            class_names.len()
        )));
    }
    check_finite(weights)?;

    let scale = (TEMPLATE_SIDE / height.max(width)).max(1);
    let tile = Tile::new(width, height, scale)?;
    let cols = n_classes.min((2.0 * n_classes as f64).sqrt().ceil() as usize);
    let rows = n_classes.div_ceil(cols);
    let (w, h, pad, gap) = (
        tile.width as u64,
        tile.height as u64,
        PAD as u64,
        GAP as u64,
    );
    let canvas_width = 2 * pad + cols as u64 * w + (cols as u64 - 1) * gap;
    let canvas_height =
        2 * pad + rows as u64 * (h + LABEL_BAND as u64) + (rows as u64 - 1) * gap / 2;
    let mut canvas = Canvas::new(canvas_width, canvas_height, [255, 255, 255])?;
    let cols = cols as u32; // fits: the canvas is at least `cols` pixels wide

    let origin = |k: usize| {
        let (col, row) = (k as u32 % cols, k as u32 / cols);
        let x = PAD + col * (tile.width + GAP);
        let y = PAD + row * (tile.height + LABEL_BAND + GAP / 2);
        (x, y)
    };
    let per_class = channels * height * width;
    for (k, template) in weights.chunks_exact(per_class).enumerate() {
        let (x, y) = origin(k);
        tile.draw(&mut canvas, x, y, &min_max_scale(template), channels);
        frame(&mut canvas, x, y, tile.width, tile.height);
    }

    let mut labels = Vec::with_capacity(n_classes);
    for name in class_names {
        labels.push(fit_label(name.as_ref(), tile.width + GAP - 4)?);
    }
    canvas.draw_with(path, |area| {
        for (k, (label, size)) in labels.iter().enumerate() {
            let (x, y) = origin(k);
            let at = (
                (x + tile.width / 2) as i32,
                (y + tile.height + LABEL_BAND / 2 + 2) as i32,
            );
            let ink = RGBColor(30, 30, 30);
            draw_text(area, label, *size, ink, at, HPos::Center, Direction::Across)?;
        }
        Ok(())
    })?;
    canvas.save_png(path)
}

/// Draws the filters of a convolution layer (usually the first) as a grid of small tiles,
/// separated by two-pixel black lines, to see what the layer looks for: edges, colour blobs,
/// or, in an untrained or broken layer, noise.
///
/// `weights` is the layer's `[c_out, c_in, kh, kw]` weight in row-major order, as `shape`
/// says. With `c_in` 3 each filter is one RGB tile; with `c_in` 1 one greyscale tile; the
/// tiles form a near-square grid, row by row. With any other `c_in` each input channel of a
/// filter is a greyscale tile of its own: one row per filter, one column per input channel.
/// Each filter is min-max scaled to 0..255 over all its channels together, so the balance
/// between its channels (its colour) survives; tiles are enlarged by a whole factor to about
/// 64 pixels.
///
/// # Errors
/// `InvalidData` when `weights.len()` differs from the product of `shape`, a size is zero, or
/// a weight is not finite; `Io` when the file cannot be written.
pub fn plot_filters(path: impl AsRef<Path>, weights: &[f32], shape: [usize; 4]) -> Result<()> {
    let path = path.as_ref();
    check_len(weights, &shape, "[c_out, c_in, kh, kw]")?;
    check_finite(weights)?;
    let [c_out, c_in, kh, kw] = shape;

    let scale = (FILTER_SIDE / kh.max(kw)).max(1);
    let tile = Tile::new(kw, kh, scale)?;
    let colour = c_in == 1 || c_in == 3;
    let (cols, rows) = if colour {
        let cols = (c_out as f64).sqrt().ceil() as usize;
        (cols, c_out.div_ceil(cols))
    } else {
        (c_in, c_out)
    };
    let line = u64::from(LINE);
    let width = cols as u64 * (tile.width as u64 + line) + line;
    let height = rows as u64 * (tile.height as u64 + line) + line;
    let mut canvas = Canvas::new(width, height, SEPARATOR)?;
    let cols = cols as u32; // fits: the canvas is at least `cols` pixels wide
    let origin = |k: usize| {
        let (col, row) = (k as u32 % cols, k as u32 / cols);
        (
            LINE + col * (tile.width + LINE),
            LINE + row * (tile.height + LINE),
        )
    };

    let per_filter = c_in * kh * kw;
    for (f, filter) in weights.chunks_exact(per_filter).enumerate() {
        let scaled = min_max_scale(filter);
        if colour {
            let (x, y) = origin(f);
            tile.draw(&mut canvas, x, y, &scaled, c_in);
        } else {
            for (c, channel) in scaled.chunks_exact(kh * kw).enumerate() {
                let (x, y) = origin(f * c_in + c);
                tile.draw(&mut canvas, x, y, channel, 1);
            }
        }
    }
    canvas.save_png(path)
}

/// The on-canvas size of one upscaled weight image.
pub(super) struct Tile {
    /// Width of the weight image, in weights.
    cols: usize,
    /// Height of the weight image, in weights.
    rows: usize,
    /// How many pixels a weight becomes along each side.
    scale: u32,
    /// Width on the canvas, in pixels.
    pub(super) width: u32,
    /// Height on the canvas, in pixels.
    pub(super) height: u32,
}

impl Tile {
    /// A tile for a `cols` x `rows` image, each weight drawn as a `scale` x `scale` square.
    pub(super) fn new(cols: usize, rows: usize, scale: usize) -> Result<Self> {
        let scale = to_u32(scale)?;
        let width = to_u32(cols)?.saturating_mul(scale);
        let height = to_u32(rows)?.saturating_mul(scale);
        Ok(Self {
            cols,
            rows,
            scale,
            width,
            height,
        })
    }

    /// Draws `values` (`channels` planes of `rows x cols` bytes, channel-major) with its
    /// top-left corner at `(x, y)`: one plane as grey, three as red, green and blue.
    pub(super) fn draw(&self, canvas: &mut Canvas, x: u32, y: u32, values: &[u8], channels: usize) {
        let plane = self.rows * self.cols;
        for row in 0..self.rows {
            for col in 0..self.cols {
                let at = row * self.cols + col;
                let rgb = if channels == 3 {
                    [values[at], values[plane + at], values[2 * plane + at]]
                } else {
                    [values[at]; 3]
                };
                let (px, py) = (x + col as u32 * self.scale, y + row as u32 * self.scale);
                canvas.fill(px, py, self.scale, self.scale, rgb);
            }
        }
    }
}

/// Checks that `weights` holds exactly the product of `shape` values and no size is zero,
/// naming both counts and the shape (`layout` names its axes) in the error.
pub(super) fn check_len(weights: &[f32], shape: &[usize], layout: &str) -> Result<()> {
    let expected = shape
        .iter()
        .try_fold(1usize, |product, &n| product.checked_mul(n));
    match expected {
        Some(n) if n == weights.len() && n > 0 => Ok(()),
        Some(0) => Err(Error::InvalidData(format!(
            "weight shape {shape:?} {layout} has a zero size"
        ))),
        Some(n) => Err(Error::InvalidData(format!(
            "{} weights do not fill shape {shape:?} {layout}, which holds {n}",
            weights.len()
        ))),
        None => Err(Error::InvalidData(format!(
            "weight shape {shape:?} {layout} is too large"
        ))),
    }
}

/// Checks that every weight is finite: min-max scaling of a NaN or an infinity has no meaning.
pub(super) fn check_finite(weights: &[f32]) -> Result<()> {
    match weights.iter().position(|w| !w.is_finite()) {
        Some(i) => Err(Error::InvalidData(format!(
            "weight {i} is {}; only finite weights can be drawn",
            weights[i]
        ))),
        None => Ok(()),
    }
}

/// Maps `values` linearly onto 0..=255, the smallest to 0 and the largest to 255; constant
/// values become 128, a neutral grey.
pub(super) fn min_max_scale(values: &[f32]) -> Vec<u8> {
    let (min, max) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let range = max - min;
    values
        .iter()
        .map(|&v| {
            if range > 0.0 {
                (255.0 * (v - min) / range).round() as u8
            } else {
                128
            }
        })
        .collect()
}

/// Draws a one-pixel frame just outside the rectangle at `(x, y)` of size `w` x `h`.
pub(super) fn frame(canvas: &mut Canvas, x: u32, y: u32, w: u32, h: u32) {
    canvas.fill(x - 1, y - 1, w + 2, 1, SEPARATOR);
    canvas.fill(x - 1, y + h, w + 2, 1, SEPARATOR);
    canvas.fill(x - 1, y, 1, h, SEPARATOR);
    canvas.fill(x + w, y, 1, h, SEPARATOR);
}

/// `name` and a font size at which it fits in `max_width` pixels: the name shrinks from
/// [`LABEL_SIZE`] down to [`MIN_LABEL_SIZE`], and if it is still too wide it is cut and ends
/// with an ellipsis.
pub(super) fn fit_label(name: &str, max_width: u32) -> Result<(String, f64)> {
    let mut size = LABEL_SIZE;
    while size > MIN_LABEL_SIZE && text_width(name, size)? > max_width {
        size -= 1.0;
    }
    let mut label = name.to_string();
    let mut kept: Vec<char> = name.chars().collect();
    while !kept.is_empty() && text_width(&label, size)? > max_width {
        kept.pop();
        label = kept.iter().collect::<String>() + "\u{2026}";
    }
    Ok((label, size))
}

/// `n` as a pixel count, or `InvalidData` when it cannot be one.
pub(super) fn to_u32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::InvalidData(format!("{n} is too large for a picture")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::test_util::{distinct_colours, TempPng};

    #[test]
    fn templates_are_scaled_per_class_upscaled_and_named() {
        // Three RGB classes of 4 x 5: class 0 is a horizontal ramp in red only, class 1 a
        // vertical ramp at a much larger magnitude, class 2 constant.
        let (c, h, w) = (3, 4, 5);
        let mut weights = vec![0.0f32; 3 * c * h * w];
        for y in 0..h {
            for x in 0..w {
                weights[y * w + x] = x as f32 * 0.01; // class 0, red plane
                for ch in 0..c {
                    weights[c * h * w + ch * h * w + y * w + x] = y as f32 * 100.0;
                    // class 1
                }
            }
        }
        weights[2 * c * h * w..].fill(0.7);
        let png = TempPng::new("templates");
        plot_linear_templates(
            png.path(),
            &weights,
            3,
            (c, h, w),
            &["ramp", "rows", "flat"],
        )
        .expect("plot");
        let picture = png.read();
        // Scale 128 / 5 = 25: tiles 125 x 100, one row of three with 16-pixel gaps and margins,
        // a 28-pixel band for the names.
        assert_eq!(
            picture.dimensions(),
            (16 + 3 * 125 + 2 * 16 + 16, 16 + 100 + 28 + 16)
        );
        let pixel = |k: u32, x: u32, y: u32| picture.get_pixel(16 + k * 141 + x, 16 + y).0;
        assert_eq!(pixel(0, 0, 0), [0, 0, 0]); // smallest weight of class 0
        assert_eq!(pixel(0, 124, 99), [255, 0, 0]); // largest: red only, green and blue at min
        assert_eq!(pixel(0, 24, 50), pixel(0, 0, 0)); // same 25 x 25 block
        assert_ne!(pixel(0, 25, 50), pixel(0, 0, 0)); // next weight
        assert_eq!(pixel(1, 60, 0), [0, 0, 0]);
        assert_eq!(pixel(1, 60, 99), [255, 255, 255]); // scaled on its own despite x10000
        assert_eq!(pixel(2, 60, 50), [128, 128, 128]); // constant template
                                                       // Names are drawn in the band under the tiles.
        let band = image::imageops::crop_imm(&picture, 16, 118, 125, 24).to_image();
        assert!(distinct_colours(&band) > 2);
    }

    #[test]
    fn greyscale_templates_lay_out_in_two_rows_of_five() {
        let weights: Vec<f32> = (0..10 * 28 * 28).map(|i| ((i * 37) % 101) as f32).collect();
        let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
        let png = TempPng::new("templates-mnist");
        plot_linear_templates(png.path(), &weights, 10, (1, 28, 28), &names).expect("plot");
        // Scale 4: tiles 112 x 112.
        let expected = (2 * 16 + 5 * 112 + 4 * 16, 2 * 16 + 2 * (112 + 28) + 8);
        let picture = png.read();
        assert_eq!(picture.dimensions(), expected);
        assert!(picture
            .pixels()
            .all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]));
    }

    #[test]
    fn template_errors_name_both_sizes() {
        let never = TempPng::new("never");
        let names = ["a", "b"];
        let err = plot_linear_templates(never.path(), &[0.0; 10], 2, (1, 2, 3), &names)
            .expect_err("length");
        assert_eq!(
            err.to_string(),
            "invalid data: 10 weights do not fill shape [2, 1, 2, 3] \
             [n_classes, channels, height, width], which holds 12"
        );
        let err = plot_linear_templates(never.path(), &[0.0; 12], 2, (1, 2, 3), &["a"])
            .expect_err("names");
        assert_eq!(err.to_string(), "invalid data: 1 class names for 2 classes");
        let err = plot_linear_templates(never.path(), &[0.0; 16], 2, (2, 2, 2), &names)
            .expect_err("channels");
        assert!(err.to_string().contains("got 2"), "{err}");
        let mut nan = [0.0; 12];
        nan[7] = f32::NAN;
        let err = plot_linear_templates(never.path(), &nan, 2, (1, 2, 3), &names).expect_err("nan");
        assert_eq!(
            err.to_string(),
            "invalid data: weight 7 is NaN; only finite weights can be drawn"
        );
        assert!(!never.path().exists());
    }

    #[test]
    fn greyscale_filters_keep_row_major_orientation_and_separators() {
        // Four 2 x 3 filters; filter f holds f * 10 + 0..6 in row-major order.
        let weights: Vec<f32> = (0..4)
            .flat_map(|f| (0..6).map(move |i| (f * 10 + i) as f32))
            .collect();
        let png = TempPng::new("filters-grey");
        plot_filters(png.path(), &weights, [4, 1, 2, 3]).expect("plot");
        let picture = png.read();
        // Scale 64 / 3 = 21: tiles 63 x 42 in a 2 x 2 grid with 2-pixel lines.
        assert_eq!(picture.dimensions(), (2 * 65 + 2, 2 * 44 + 2));
        let at = |x: u32, y: u32| picture.get_pixel(x, y).0;
        assert_eq!(at(1, 10), [0, 0, 0]); // separator
        assert_eq!(at(66, 10), [0, 0, 0]); // separator between columns
        assert_eq!(at(10, 45), [0, 0, 0]); // separator between rows
        assert_eq!(at(2, 2), [0, 0, 0]); // weight (0, 0): the minimum
        assert_eq!(at(2 + 2 * 21, 2 + 21), [255, 255, 255]); // weight (1, 2): the maximum
        assert_eq!(at(2 + 2 * 21, 2), [102, 102, 102]); // weight (0, 2) = 2 of 0..5
        assert_eq!(at(67 + 2 * 21, 46 + 21), [255, 255, 255]); // fourth filter, maximum
    }

    #[test]
    fn rgb_filters_are_scaled_over_all_channels() {
        // One 3 x 3 RGB filter: red at the top-left weight, everything else zero; a second
        // filter all blue.
        let mut weights = vec![0.0f32; 2 * 27];
        weights[0] = 1.0;
        weights[27 + 18..].fill(1.0);
        weights[27] = -1.0;
        let png = TempPng::new("filters-rgb");
        plot_filters(png.path(), &weights, [2, 3, 3, 3]).expect("plot");
        let picture = png.read();
        assert_eq!(picture.dimensions(), (2 * 65 + 2, 65 + 2));
        assert_eq!(picture.get_pixel(2, 2).0, [255, 0, 0]);
        assert_eq!(picture.get_pixel(40, 40).0, [0, 0, 0]);
        assert_eq!(picture.get_pixel(67 + 40, 40).0, [128, 128, 255]);
    }

    #[test]
    fn filters_with_many_input_channels_get_one_row_per_filter() {
        let weights: Vec<f32> = (0..16 * 6 * 5 * 5).map(|i| (i % 7) as f32).collect();
        let png = TempPng::new("filters-deep");
        plot_filters(png.path(), &weights, [16, 6, 5, 5]).expect("plot");
        // Scale 12: tiles 60 x 60; 6 columns (input channels), 16 rows (filters).
        let picture = png.read();
        assert_eq!(picture.dimensions(), (6 * 62 + 2, 16 * 62 + 2));
        assert!(distinct_colours(&picture) > 3);

        let err = plot_filters(png.path(), &weights[1..], [16, 6, 5, 5]).expect_err("short");
        assert_eq!(
            err.to_string(),
            "invalid data: 2399 weights do not fill shape [16, 6, 5, 5] [c_out, c_in, kh, kw], \
             which holds 2400"
        );
        let err = plot_filters(png.path(), &[], [0, 1, 3, 3]).expect_err("empty");
        assert!(err.to_string().contains("zero size"), "{err}");
    }

    #[test]
    fn min_max_scale_maps_ends_and_constants() {
        assert_eq!(min_max_scale(&[-2.0, 0.0, 2.0]), vec![0, 128, 255]);
        assert_eq!(min_max_scale(&[3.0, 3.0]), vec![128, 128]);
    }

    #[test]
    fn long_labels_shrink_then_are_cut() {
        let (label, size) = fit_label("cat", 100).expect("fits");
        assert_eq!((label.as_str(), size), ("cat", LABEL_SIZE));
        let (label, size) = fit_label("a rather long class name indeed", 60).expect("cut");
        assert_eq!(size, MIN_LABEL_SIZE);
        assert!(label.ends_with('\u{2026}'), "{label}");
        assert!(text_width(&label, size).expect("width") <= 60);
    }
}
