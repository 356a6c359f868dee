//! Lines of text in pictures: measuring them and drawing them, across or upwards.
//!
//! Text is laid out here glyph by glyph from the embedded font's metrics (see [`super::font`]
//! for why plotters' own layout is not used) and each glyph is rasterised by plotters.

use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontTransform, IntoFont, RGBColor, TextStyle};

use super::font::{metrics, FAMILY};
use super::output::{Area, DrawResult};
use crate::Result;

/// How far above the anchor plotters' `ab_glyph` renderer draws the middle of capital letters
/// when asked for vertically centred text, as a fraction of the font size. [`draw_text`] moves
/// text by this much so that labels sit in the middle of cells and bands.
const CENTRE_CORRECTION: f64 = 0.2;

/// Which way a line of text reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Left to right.
    Across,
    /// Bottom to top (turned 90 degrees anticlockwise), for vertical axis labels.
    Up,
}

/// The width in pixels of `text` at font size `size`, along its direction: the sum of its
/// characters' advances.
pub(crate) fn text_width(text: &str, size: f64) -> Result<u32> {
    let m = metrics()?;
    let width: f64 = text.chars().map(|c| m.advance_and_bearing(c, size).0).sum();
    Ok(width.ceil() as u32)
}

/// Draws one line of `text` at font size `size` in `colour`.
///
/// `at` is a point on the line's middle (the line through the middle of its capital letters):
/// the text is centred on it across the line, and `along` says which end of the text, or its
/// centre, is at `at` along the line. For [`Direction::Up`], `HPos::Left` is the bottom end.
pub(crate) fn draw_text(
    area: &Area<'_>,
    text: &str,
    size: f64,
    colour: RGBColor,
    at: (i32, i32),
    along: HPos,
    direction: Direction,
) -> DrawResult {
    let m = metrics()?;
    let width: f64 = text.chars().map(|c| m.advance_and_bearing(c, size).0).sum();
    let mut pen = match along {
        HPos::Left => 0.0,
        HPos::Center => -width / 2.0,
        HPos::Right => -width,
    };
    let shift = (CENTRE_CORRECTION * size).round() as i32;
    let transform = match direction {
        Direction::Across => FontTransform::None,
        Direction::Up => FontTransform::Rotate270,
    };
    let style = TextStyle::from((FAMILY, size).into_font())
        .transform(transform)
        .color(&colour)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut buffer = [0u8; 4];
    for c in text.chars() {
        let (advance, bearing) = m.advance_and_bearing(c, size);
        if !c.is_whitespace() {
            let offset = (pen + bearing).round() as i32;
            let glyph_at = match direction {
                Direction::Across => (at.0 + offset, at.1 + shift),
                Direction::Up => (at.0 + shift, at.1 - offset),
            };
            area.draw_text(c.encode_utf8(&mut buffer), &style, glyph_at)?;
        }
        pen += advance;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::output::Canvas;
    use plotters::style::BLACK;
    use std::path::Path;

    /// The columns of `canvas` holding any non-white pixel.
    fn inked_columns(canvas: &Canvas) -> Vec<u32> {
        (0..canvas.width)
            .filter(|&x| {
                (0..canvas.height).any(|y| {
                    let at = 3 * (y * canvas.width + x) as usize;
                    canvas.pixels[at..at + 3] != [255, 255, 255]
                })
            })
            .collect()
    }

    #[test]
    fn width_is_the_sum_of_advances() {
        let one = f64::from(text_width("0", 100.0).expect("width"));
        let five = f64::from(text_width("00000", 100.0).expect("width"));
        assert!((five - 5.0 * one).abs() <= 5.0, "{five} vs {one}");
        assert_eq!(text_width("", 12.0).expect("width"), 0);
    }

    #[test]
    fn letters_are_evenly_spaced_and_anchored() {
        // "ii": plotters alone draws the second "i" against the first (it drops the bearing);
        // laid out here, the gap between the stems equals the advance minus the stem width.
        let mut canvas = Canvas::new(200, 60, [255, 255, 255]).expect("canvas");
        canvas
            .draw_with(Path::new("test"), |area| {
                draw_text(
                    area,
                    "ii",
                    40.0,
                    BLACK,
                    (100, 30),
                    HPos::Center,
                    Direction::Across,
                )
            })
            .expect("draw");
        let columns = inked_columns(&canvas);
        let first = *columns.first().expect("ink");
        let last = *columns.last().expect("ink");
        let gaps: Vec<u32> = columns
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|&d| d > 1)
            .collect();
        assert_eq!(gaps.len(), 1, "two stems: {columns:?}");
        let advance = text_width("i", 40.0).expect("width");
        let (_, bearing) = metrics().expect("font").advance_and_bearing('i', 40.0);
        // Centred on x = 100: ink starts one bearing in from the start of the advance box.
        let start = 100.0 - f64::from(advance);
        assert!(
            (f64::from(first) - (start + bearing)).abs() <= 1.5,
            "{first} vs {start}"
        );
        // The two stems are one advance apart.
        let stem = (last - first + 1 - advance) as f64;
        assert!(stem > 2.0 && stem < f64::from(advance), "{stem}");
        assert!((f64::from(gaps[0]) - (f64::from(advance) - stem)).abs() <= 2.0);
    }

    #[test]
    fn upward_text_is_drawn_along_a_column() {
        let mut canvas = Canvas::new(60, 200, [255, 255, 255]).expect("canvas");
        canvas
            .draw_with(Path::new("test"), |area| {
                draw_text(
                    area,
                    "class",
                    20.0,
                    BLACK,
                    (30, 100),
                    HPos::Center,
                    Direction::Up,
                )
            })
            .expect("draw");
        let columns = inked_columns(&canvas);
        let height = (0..canvas.height)
            .filter(|&y| {
                (0..canvas.width).any(|x| {
                    let at = 3 * (y * canvas.width + x) as usize;
                    canvas.pixels[at..at + 3] != [255, 255, 255]
                })
            })
            .count() as u32;
        assert!(columns.len() < 25, "narrow: {}", columns.len());
        // The ink is the advance width less the outer bearings of "c" and "s".
        let width = text_width("class", 20.0).expect("width");
        assert!(
            height + 8 >= width && height <= width + 2,
            "{height} vs {width}"
        );
    }
}
