//! The one font every picture uses, embedded in the library.
//!
//! plotters is built with its `ab_glyph` text renderer, which has no access to system fonts:
//! a font must be registered from bytes before any text is drawn. Embedding DejaVu Sans
//! (licence in `assets/DejaVuSans-LICENSE.txt`) makes the pictures identical on every machine.

use std::sync::OnceLock;

use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle, FontTransform, IntoFont, RGBColor, TextStyle};

use super::output::{Area, DrawResult};
use crate::{Error, Result};

/// The family name under which the embedded font is registered with plotters.
///
/// A name of our own, so that registering it cannot replace a font another part of a program
/// registered as `"sans-serif"`.
pub(crate) const FAMILY: &str = "ferrolearn-dejavu-sans";

/// DejaVu Sans, regular weight.
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the embedded font with plotters on first use; later calls are free.
///
/// Every function that draws text calls this first. Failure means the embedded bytes are not a
/// font, which a unit test rules out; it is still returned as an error rather than a panic.
pub(crate) fn ensure_registered() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidData(
            "the embedded font DejaVuSans.ttf could not be parsed".to_string(),
        ))
    }
}

/// How far above the anchor plotters' `ab_glyph` renderer draws the middle of capital letters
/// when asked for vertically centred text, as a fraction of the font size. [`draw_text`] moves
/// text down by this much so that labels sit in the middle of cells and bands.
const CENTRE_CORRECTION: f64 = 0.2;

/// Which way a line of text reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Left to right.
    Across,
    /// Bottom to top (turned 90 degrees anticlockwise), for vertical axis labels.
    Up,
}

/// The width in pixels of `text` in the embedded font at `size` pixels, along its direction.
pub(crate) fn text_width(text: &str, size: f64) -> Result<u32> {
    ensure_registered()?;
    let (width, _) = (FAMILY, size)
        .into_font()
        .box_size(text)
        .map_err(|e| Error::InvalidData(format!("measuring the text {text:?} failed: {e}")))?;
    Ok(width)
}

/// Draws one line of `text` at `size` pixels in `colour`.
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
    let shift = (CENTRE_CORRECTION * size).round() as i32;
    let (transform, at) = match direction {
        Direction::Across => (FontTransform::None, (at.0, at.1 + shift)),
        Direction::Up => (FontTransform::Rotate270, (at.0 + shift, at.1)),
    };
    let style = TextStyle::from((FAMILY, size).into_font())
        .transform(transform)
        .color(&colour)
        .pos(Pos::new(along, VPos::Center));
    area.draw_text(text, &style, at)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::style::IntoFont;

    #[test]
    fn embedded_font_registers_and_measures_text() {
        ensure_registered().expect("embedded font registers");
        let font = (FAMILY, 20.0).into_font();
        let (short, _) = font.box_size("ab").expect("layout of a short string");
        let (long, height) = font.box_size("abcdefgh").expect("layout of a long string");
        assert!(height > 0);
        assert!(long > 3 * short, "{long} vs {short}");
    }
}
