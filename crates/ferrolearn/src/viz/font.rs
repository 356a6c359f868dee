//! The one font every picture uses, embedded in the library, and its horizontal metrics.
//!
//! plotters is built with its `ab_glyph` text renderer, which has no access to system fonts:
//! a font must be registered from bytes before any text is drawn. Embedding DejaVu Sans
//! (licence in `assets/DejaVuSans-LICENSE.txt`) makes the pictures identical on every machine.
//!
//! plotters 0.3.7's `ab_glyph` renderer places each glyph's ink at its pen position, dropping
//! the glyph's left side bearing, so letters with wide bearings ("i", "l", "m") leave gaps
//! ("vali dation"). [`super::text`] therefore lays text out itself, one glyph per plotters
//! call, from the advance widths and bearings read here from the font's `hhea`, `hmtx` and
//! `cmap` tables.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

use crate::{Error, Result};

/// The family name under which the embedded font is registered with plotters.
///
/// A name of our own, so that registering it cannot replace a font another part of a program
/// registered as `"sans-serif"`.
pub(crate) const FAMILY: &str = "ferrolearn-dejavu-sans";

/// DejaVu Sans, regular weight.
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the embedded font with plotters and reads its metrics, on first use; later calls
/// are free.
///
/// Every function that draws or measures text calls this first. Failure means the embedded
/// bytes are not a font this module can read, which a unit test rules out; it is still
/// returned as an error rather than a panic.
pub(crate) fn metrics() -> Result<&'static Metrics> {
    static METRICS: OnceLock<Option<Metrics>> = OnceLock::new();
    METRICS
        .get_or_init(|| {
            register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).ok()?;
            Metrics::parse(DEJAVU_SANS)
        })
        .as_ref()
        .ok_or_else(|| {
            Error::InvalidData("the embedded font DejaVuSans.ttf could not be read".to_string())
        })
}

/// Makes sure the embedded font is registered with plotters, for charts whose tick labels
/// plotters draws itself.
pub(crate) fn ensure_registered() -> Result<()> {
    metrics().map(|_| ())
}

/// The horizontal metrics of a TrueType font: enough to lay out a line of text.
pub(crate) struct Metrics {
    /// The whole font file.
    bytes: &'static [u8],
    /// Ascender minus descender, in font units: `ab_glyph` scales a font so that this height
    /// is the font size in pixels.
    height_units: f64,
    /// Start of the `hmtx` table.
    hmtx: usize,
    /// Number of full (advance, bearing) records in `hmtx`; later glyphs repeat the last
    /// advance and have only a bearing.
    long_metrics: u16,
    /// Start of the format 4 (Unicode BMP) subtable of `cmap`.
    cmap4: usize,
}

impl Metrics {
    /// Reads the tables it needs, or `None` when `bytes` lacks them or they are malformed.
    fn parse(bytes: &'static [u8]) -> Option<Self> {
        let table = |tag: &[u8; 4]| -> Option<usize> {
            let count = usize::from(read_u16(bytes, 4)?);
            (0..count)
                .map(|i| 12 + 16 * i)
                .find(|&record| bytes.get(record..record + 4) == Some(tag.as_slice()))
                .and_then(|record| read_u32(bytes, record + 8))
                .map(|offset| offset as usize)
        };
        let hhea = table(b"hhea")?;
        let ascender = read_u16(bytes, hhea + 4)? as i16;
        let descender = read_u16(bytes, hhea + 6)? as i16;
        let long_metrics = read_u16(bytes, hhea + 34)?;
        let cmap = table(b"cmap")?;
        let subtables = usize::from(read_u16(bytes, cmap + 2)?);
        let cmap4 = (0..subtables)
            .filter_map(|i| {
                let record = cmap + 4 + 8 * i;
                let (platform, encoding) = (read_u16(bytes, record)?, read_u16(bytes, record + 2)?);
                let start = cmap + read_u32(bytes, record + 4)? as usize;
                let unicode_bmp = (platform, encoding) == (3, 1) || platform == 0;
                (unicode_bmp && read_u16(bytes, start)? == 4).then_some(start)
            })
            .next()?;
        let height_units = f64::from(ascender) - f64::from(descender);
        (height_units > 0.0 && long_metrics > 0).then_some(Self {
            bytes,
            height_units,
            hmtx: table(b"hmtx")?,
            long_metrics,
            cmap4,
        })
    }

    /// The advance width and the left side bearing of `c`, in pixels at font size `size`.
    /// Characters the font lacks get the metrics of its missing-glyph box.
    pub(crate) fn advance_and_bearing(&self, c: char, size: f64) -> (f64, f64) {
        let glyph = self.glyph(c);
        let last = self.long_metrics - 1;
        let record = self.hmtx + 4 * usize::from(glyph.min(last));
        let advance = read_u16(self.bytes, record).unwrap_or(0);
        let bearing_at = if glyph <= last {
            record + 2
        } else {
            self.hmtx
                + 4 * usize::from(self.long_metrics)
                + 2 * usize::from(glyph - self.long_metrics)
        };
        let bearing = read_u16(self.bytes, bearing_at).unwrap_or(0) as i16;
        let scale = size / self.height_units;
        (f64::from(advance) * scale, f64::from(bearing) * scale)
    }

    /// The glyph index of `c` from the format 4 `cmap` subtable (0, the missing glyph, for
    /// characters outside it).
    fn glyph(&self, c: char) -> u16 {
        u16::try_from(u32::from(c))
            .ok()
            .and_then(|c| self.lookup(c))
            .unwrap_or(0)
    }

    /// Looks `c` up in the segments of the format 4 subtable.
    fn lookup(&self, c: u16) -> Option<u16> {
        let (b, base) = (self.bytes, self.cmap4);
        let segments = usize::from(read_u16(b, base + 6)? / 2);
        let ends = base + 14;
        let starts = ends + 2 * segments + 2;
        let deltas = starts + 2 * segments;
        let range_offsets = deltas + 2 * segments;
        let segment =
            (0..segments).find(|&i| read_u16(b, ends + 2 * i).is_some_and(|end| end >= c))?;
        let start = read_u16(b, starts + 2 * segment)?;
        if c < start {
            return None;
        }
        let delta = read_u16(b, deltas + 2 * segment)?;
        let range_offset_at = range_offsets + 2 * segment;
        let range_offset = read_u16(b, range_offset_at)?;
        if range_offset == 0 {
            return Some(c.wrapping_add(delta));
        }
        let at = range_offset_at + usize::from(range_offset) + 2 * usize::from(c - start);
        let glyph = read_u16(b, at)?;
        (glyph != 0).then(|| glyph.wrapping_add(delta))
    }
}

/// The big-endian `u16` at `at`, if the file is long enough.
fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

/// The big-endian `u32` at `at`, if the file is long enough.
fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_metrics_match_dejavu_sans() {
        let m = metrics().expect("embedded font reads");
        // DejaVu Sans: 2048 units per em, ascender 1901, descender -483. At a size equal to
        // that height in units, metrics come out in font units.
        let size = 2384.0;
        assert_eq!(m.advance_and_bearing('0', size).0, 1303.0);
        assert_eq!(m.advance_and_bearing(' ', size).0, 651.0);
        let (i_advance, i_bearing) = m.advance_and_bearing('i', size);
        let (m_advance, _) = m.advance_and_bearing('m', size);
        assert_eq!(i_advance, 569.0);
        assert_eq!(i_bearing, 193.0);
        assert!(m_advance > 3.0 * i_advance);
        // A character outside the font and the basic plane falls back to the missing glyph.
        assert_eq!(m.glyph('\u{1F600}'), 0);
        assert_ne!(m.glyph('a'), 0);
    }

    #[test]
    fn a_file_that_is_not_a_font_is_refused() {
        assert!(Metrics::parse(b"not a font at all").is_none());
        assert!(Metrics::parse(&[]).is_none());
    }
}
