//! The most confident mistakes of a classifier: picking them from its class probabilities,
//! and drawing them as a grid of images, each with its true and predicted class underneath.
//!
//! The images a model is surest about and still gets wrong show what it has not learned (a
//! "7" it reads as a "1", a cat on grass it calls a deer) and, often, test labels that are
//! themselves wrong.

use std::cmp::Ordering;
use std::path::Path;

use plotters::style::text_anchor::HPos;
use plotters::style::RGBColor;

use super::output::Canvas;
use super::text::{draw_text, text_width, Direction};
use super::weights::{fit_label, frame, to_u32, Tile};
use crate::{Error, Result};

/// Outer margin of the picture, in pixels.
const PAD: u32 = 16;
/// Horizontal gap between neighbouring tiles (their labels may use part of it).
const GAP: u32 = 24;
/// Height of the band above the grid that holds the title.
const TITLE_BAND: u32 = 40;
/// Font size of the title.
const TITLE_SIZE: f64 = 18.0;
/// Height of the band under each image: two lines, the true class and the prediction.
const LABEL_BAND: u32 = 44;
/// Images are enlarged by a whole factor to about this many pixels along their longer side.
const IMAGE_SIDE: usize = 128;
/// At most this many images per row.
const MAX_COLUMNS: usize = 8;
/// Colour of the title and of the true class.
const INK: RGBColor = RGBColor(30, 30, 30);
/// Colour of the (wrong) prediction.
const WRONG: RGBColor = RGBColor(190, 20, 20);

/// One misclassified item: which it is, its true and predicted classes, and how sure the
/// model was of its prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mistake {
    /// Position of the item in the dataset.
    pub index: usize,
    /// Its true class.
    pub truth: usize,
    /// The class the model predicted (the most probable one).
    pub predicted: usize,
    /// The probability the model gave to `predicted`, in `[0, 1]`.
    pub confidence: f32,
}

/// The `top` misclassified items the model was surest of, most confident first (ties in
/// dataset order).
///
/// `probabilities` holds one row of `n_classes` class probabilities per item, row-major;
/// the prediction of an item is its most probable class (the first on ties, as `argmax`).
/// Fewer than `top` are returned when the model makes fewer mistakes; none when it makes none.
///
/// # Errors
/// `InvalidData` when `n_classes` is zero, `probabilities` does not hold one row per label,
/// a label is not below `n_classes`, or a probability is not finite.
pub fn most_confident_mistakes(
    probabilities: &[f32],
    n_classes: usize,
    labels: &[usize],
    top: usize,
) -> Result<Vec<Mistake>> {
    if n_classes == 0 {
        return Err(Error::InvalidData(
            "class probabilities need at least one class, got 0".into(),
        ));
    }
    if probabilities.len() != labels.len() * n_classes {
        return Err(Error::InvalidData(format!(
            "{} class probabilities are not {} rows of {n_classes} (one row per label)",
            probabilities.len(),
            labels.len()
        )));
    }
    if let Some(i) = probabilities.iter().position(|p| !p.is_finite()) {
        return Err(Error::InvalidData(format!(
            "class probability {i} (item {}) is {}",
            i / n_classes,
            probabilities[i]
        )));
    }
    let mut mistakes = Vec::new();
    for (index, (row, &truth)) in probabilities
        .chunks_exact(n_classes)
        .zip(labels)
        .enumerate()
    {
        if truth >= n_classes {
            return Err(Error::InvalidData(format!(
                "label {truth} of item {index} is not below the {n_classes} classes"
            )));
        }
        let (predicted, &confidence) =
            row.iter().enumerate().fold(
                (0, &row[0]),
                |best, (k, p)| if *p > *best.1 { (k, p) } else { best },
            );
        if predicted != truth {
            mistakes.push(Mistake {
                index,
                truth,
                predicted,
                confidence,
            });
        }
    }
    mistakes.sort_by(|a, b| {
        b.confidence
            .partial_cmp(&a.confidence)
            .unwrap_or(Ordering::Equal)
            .then(a.index.cmp(&b.index))
    });
    mistakes.truncate(top);
    Ok(mistakes)
}

/// Draws `mistakes` as a grid of images under a title, in the order given (most confident
/// first from [`most_confident_mistakes`]), and writes it to `path` as a PNG.
///
/// `images` holds the dataset's items as bytes, `shape` = `(channels, height, width)` each,
/// channel-major as in NCHW (a [`Dataset`](crate::data::Dataset)'s `images()`); `channels`
/// is 1 (grey) or 3 (RGB). Each image is enlarged by a whole factor to about 128 pixels,
/// framed, and labelled underneath with `true: <class>` and, in red,
/// `pred: <class> 97%`. Rows hold up to eight images.
///
/// # Errors
/// `InvalidData` when there are no mistakes, `images` is not a whole number of items of
/// `shape`, `channels` is not 1 or 3, a mistake's index is not an item, or its classes have
/// no name in `class_names`; `Io` when the file cannot be written.
pub fn plot_mistakes<S: AsRef<str>>(
    path: impl AsRef<Path>,
    images: &[u8],
    (channels, height, width): (usize, usize, usize),
    mistakes: &[Mistake],
    class_names: &[S],
    title: &str,
) -> Result<()> {
    let path = path.as_ref();
    let item = channels * height * width;
    if mistakes.is_empty() {
        return Err(Error::InvalidData("there are no mistakes to draw".into()));
    }
    if channels != 1 && channels != 3 {
        return Err(Error::InvalidData(format!(
            "images need 1 (greyscale) or 3 (RGB) channels, got {channels}"
        )));
    }
    if item == 0 || !images.len().is_multiple_of(item) {
        return Err(Error::InvalidData(format!(
            "{} bytes are not a whole number of [{channels}, {height}, {width}] images",
            images.len()
        )));
    }
    let n_items = images.len() / item;
    let name = |k: usize| -> Result<&str> {
        class_names.get(k).map(AsRef::as_ref).ok_or_else(|| {
            Error::InvalidData(format!(
                "class {k} has no name ({} class names)",
                class_names.len()
            ))
        })
    };
    let mut labels = Vec::with_capacity(mistakes.len());
    let scale = (IMAGE_SIDE / height.max(width)).max(1);
    let tile = Tile::new(width, height, scale)?;
    let room = tile.width + GAP - 4;
    for m in mistakes {
        if m.index >= n_items {
            return Err(Error::InvalidData(format!(
                "mistake on item {} but there are {n_items} images",
                m.index
            )));
        }
        let percent = (100.0 * m.confidence).round();
        let truth = fit_label(&format!("true: {}", name(m.truth)?), room)?;
        let predicted = fit_label(&format!("pred: {} {percent}%", name(m.predicted)?), room)?;
        labels.push((truth, predicted));
    }

    let cols = mistakes.len().min(MAX_COLUMNS);
    let rows = mistakes.len().div_ceil(cols);
    let (cols, rows) = (to_u32(cols)?, to_u32(rows)?);
    let grid_width = u64::from(cols) * u64::from(tile.width + GAP) - u64::from(GAP);
    let title_width = u64::from(text_width(title, TITLE_SIZE)?);
    let canvas_width = 2 * u64::from(PAD) + grid_width.max(title_width);
    let cell_height = u64::from(tile.height + LABEL_BAND);
    let canvas_height = 2 * u64::from(PAD) + u64::from(TITLE_BAND) + u64::from(rows) * cell_height;
    let mut canvas = Canvas::new(canvas_width, canvas_height, [255, 255, 255])?;
    // Fits: the canvas is at least this wide. The grid is centred under the title.
    let left = PAD + ((canvas_width - 2 * u64::from(PAD) - grid_width) / 2) as u32;
    let origin = |k: usize| {
        let (col, row) = (k as u32 % cols, k as u32 / cols);
        let x = left + col * (tile.width + GAP);
        let y = PAD + TITLE_BAND + row * (tile.height + LABEL_BAND);
        (x, y)
    };
    for (k, m) in mistakes.iter().enumerate() {
        let (x, y) = origin(k);
        tile.draw(
            &mut canvas,
            x,
            y,
            &images[m.index * item..][..item],
            channels,
        );
        frame(&mut canvas, x, y, tile.width, tile.height);
    }
    let centre = (canvas.width / 2) as i32;
    canvas.draw_with(path, |area| {
        let at = (centre, (PAD + TITLE_BAND / 2 - 4) as i32);
        draw_text(
            area,
            title,
            TITLE_SIZE,
            INK,
            at,
            HPos::Center,
            Direction::Across,
        )?;
        for (k, ((truth, t_size), (predicted, p_size))) in labels.iter().enumerate() {
            let (x, y) = origin(k);
            let middle = (x + tile.width / 2) as i32;
            let first = (y + tile.height + LABEL_BAND / 4 + 2) as i32;
            let second = (y + tile.height + 3 * LABEL_BAND / 4) as i32;
            draw_text(
                area,
                truth,
                *t_size,
                INK,
                (middle, first),
                HPos::Center,
                Direction::Across,
            )?;
            let at = (middle, second);
            draw_text(
                area,
                predicted,
                *p_size,
                WRONG,
                at,
                HPos::Center,
                Direction::Across,
            )?;
        }
        Ok(())
    })?;
    canvas.save_png(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::test_util::{distinct_colours, TempPng};

    #[test]
    fn mistakes_are_sorted_by_confidence_and_cut_to_top() {
        // Four items of three classes: item 0 right, items 1-3 wrong with 0.5, 0.9, 0.5.
        let probabilities = [
            0.8, 0.1, 0.1, //
            0.5, 0.3, 0.2, //
            0.05, 0.05, 0.9, //
            0.2, 0.5, 0.3,
        ];
        let labels = [0, 2, 1, 0];
        let all = most_confident_mistakes(&probabilities, 3, &labels, 10).expect("mistakes");
        let order: Vec<(usize, usize, usize)> = all
            .iter()
            .map(|m| (m.index, m.truth, m.predicted))
            .collect();
        assert_eq!(order, vec![(2, 1, 2), (1, 2, 0), (3, 0, 1)]);
        assert_eq!(all[0].confidence, 0.9);
        let top = most_confident_mistakes(&probabilities, 3, &labels, 1).expect("top 1");
        assert_eq!(top, all[..1]);
        let none = most_confident_mistakes(&probabilities[..3], 3, &[0], 5).expect("right");
        assert!(none.is_empty());
    }

    #[test]
    fn bad_probabilities_and_labels_are_named() {
        let err = most_confident_mistakes(&[0.5; 5], 2, &[0, 1], 3).expect_err("length");
        assert_eq!(
            err.to_string(),
            "invalid data: 5 class probabilities are not 2 rows of 2 (one row per label)"
        );
        let err = most_confident_mistakes(&[0.5, 0.5], 2, &[2], 3).expect_err("label");
        assert!(err.to_string().contains("label 2 of item 0"), "{err}");
        let err = most_confident_mistakes(&[0.5, f32::NAN], 2, &[0], 3).expect_err("nan");
        assert!(
            err.to_string().contains("probability 1 (item 0) is NaN"),
            "{err}"
        );
    }

    #[test]
    fn grid_holds_each_image_upscaled_with_its_labels() {
        // Three 4 x 4 grey images with values 0, 100 and 200; mistakes on the last two.
        let images: Vec<u8> = (0..3).flat_map(|i| [i * 100; 16]).collect();
        let mistakes = [
            Mistake {
                index: 2,
                truth: 0,
                predicted: 1,
                confidence: 0.97,
            },
            Mistake {
                index: 1,
                truth: 1,
                predicted: 0,
                confidence: 0.6,
            },
        ];
        let png = TempPng::new("mistakes");
        plot_mistakes(
            png.path(),
            &images,
            (1, 4, 4),
            &mistakes,
            &["cat", "dog"],
            "t",
        )
        .expect("plot");
        let picture = png.read();
        // Scale 32: tiles 128 x 128, two columns with one gap.
        let width = 2 * PAD + 2 * 128 + GAP;
        assert_eq!(
            picture.dimensions(),
            (width, 2 * PAD + TITLE_BAND + 128 + LABEL_BAND)
        );
        let y = PAD + TITLE_BAND + 64;
        assert_eq!(picture.get_pixel(PAD + 64, y).0, [200; 3]);
        assert_eq!(picture.get_pixel(PAD + 128 + GAP + 64, y).0, [100; 3]);
        // The labels are drawn: red ink of the predictions sits under the images.
        let red = (PAD + TITLE_BAND + 128..picture.height())
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let [r, g, b] = picture.get_pixel(x, y).0;
                r > 150 && g < 100 && b < 100
            })
            .count();
        assert!(red > 50, "{red} red pixels");
        assert!(distinct_colours(&picture) > 10);
    }

    #[test]
    fn bad_grids_are_refused() {
        let png = TempPng::new("mistakes-bad");
        let m = Mistake {
            index: 3,
            truth: 0,
            predicted: 1,
            confidence: 0.5,
        };
        let images = [0u8; 32];
        let err = plot_mistakes(png.path(), &images, (1, 4, 4), &[m], &["a", "b"], "t")
            .expect_err("index");
        assert!(
            err.to_string().contains("item 3 but there are 2 images"),
            "{err}"
        );
        let err = plot_mistakes(png.path(), &images, (1, 4, 4), &[], &["a", "b"], "t")
            .expect_err("empty");
        assert!(err.to_string().contains("no mistakes"), "{err}");
        let m = Mistake { index: 0, ..m };
        let err =
            plot_mistakes(png.path(), &images, (1, 4, 4), &[m], &["a"], "t").expect_err("name");
        assert!(err.to_string().contains("class 1 has no name"), "{err}");
        let err = plot_mistakes(png.path(), &images, (2, 4, 4), &[m], &["a", "b"], "t")
            .expect_err("channels");
        assert!(err.to_string().contains("got 2"), "{err}");
        assert!(!png.path().exists());
    }
}
