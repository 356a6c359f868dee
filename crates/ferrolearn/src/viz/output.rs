//! The pixel buffer pictures are drawn into, and the PNG write (atomic, through [`crate::io`]) that
//! ends every picture.

use std::io;
use std::path::Path;

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, IntoDrawingArea};

use crate::io::write_atomic;
use crate::{Error, Result};

/// The largest picture any function here will draw, in pixels (a 10000 x 10000 image).
///
/// A guard against shapes or class counts that would otherwise ask for gigabytes of memory.
const MAX_PIXELS: u64 = 100_000_000;

/// What a drawing closure passed to [`Canvas::draw_with`] returns: plotters' errors are generic
/// over the backend, so they are boxed and become an I/O error on the picture's path.
pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The plotters drawing area over a [`Canvas`].
pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a, RGBPixel>, Shift>;

/// An RGB8 image being drawn: plotters draws into it, pixel-level pictures write it directly.
pub(crate) struct Canvas {
    /// Width in pixels.
    pub(crate) width: u32,
    /// Height in pixels.
    pub(crate) height: u32,
    /// Row-major RGB bytes, `3 * width * height` of them.
    pub(crate) pixels: Vec<u8>,
}

impl Canvas {
    /// A canvas filled with `background`, or `InvalidData` when the size is zero or too large.
    ///
    /// The size is taken as `u64` so that callers can compute it without overflow and leave
    /// the range check to this one place.
    pub(crate) fn new(width: u64, height: u64, background: [u8; 3]) -> Result<Self> {
        let count = width.saturating_mul(height);
        if count == 0 || count > MAX_PIXELS {
            return Err(Error::InvalidData(format!(
                "a picture of {width} x {height} pixels cannot be drawn \
                 (at most {MAX_PIXELS} pixels and none empty)"
            )));
        }
        // Both sides are at most MAX_PIXELS here, so they fit in u32 and usize.
        let pixels = background.repeat(count as usize);
        Ok(Self {
            width: width as u32,
            height: height as u32,
            pixels,
        })
    }

    /// Sets the pixel at column `x`, row `y`; positions outside the canvas are ignored.
    pub(crate) fn put(&mut self, x: u32, y: u32, rgb: [u8; 3]) {
        if x < self.width && y < self.height {
            let at = 3 * (y as usize * self.width as usize + x as usize);
            self.pixels[at..at + 3].copy_from_slice(&rgb);
        }
    }

    /// Fills the rectangle with top-left corner `(x, y)` and size `w` x `h`.
    pub(crate) fn fill(&mut self, x: u32, y: u32, w: u32, h: u32, rgb: [u8; 3]) {
        for row in y..y.saturating_add(h) {
            for col in x..x.saturating_add(w) {
                self.put(col, row, rgb);
            }
        }
    }

    /// Runs `draw` with a plotters drawing area over this canvas, for text and charts.
    ///
    /// Drawing errors (in practice only font errors) become an I/O error on `path`, the file
    /// that could not be produced.
    pub(crate) fn draw_with<F>(&mut self, path: &Path, draw: F) -> Result<()>
    where
        F: FnOnce(&Area<'_>) -> DrawResult,
    {
        let size = (self.width, self.height);
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut self.pixels, size)
            .map_err(|e| drawing_error(path, e))?;
        let area = backend.into_drawing_area();
        draw(&area).map_err(|e| drawing_error(path, e))?;
        area.present().map_err(|e| drawing_error(path, e))
    }

    /// Encodes the canvas as PNG and writes it to `path` atomically (see [`write_atomic`]).
    pub(crate) fn save_png(&self, path: &Path) -> Result<()> {
        let mut encoded = Vec::new();
        PngEncoder::new(&mut encoded)
            .write_image(
                &self.pixels,
                self.width,
                self.height,
                ExtendedColorType::Rgb8,
            )
            .map_err(|e| drawing_error(path, e))?;
        write_atomic(path, &encoded)
    }
}

/// Turns a failure to draw into the error of the file that was being produced.
fn drawing_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::io(
        path,
        io::Error::other(format!("drawing the picture failed: {message}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::atomic::tmp_path;
    use crate::viz::test_util::TempPng;

    #[test]
    fn save_png_round_trips_pixels_and_leaves_no_temporary_file() {
        let png = TempPng::new("output-round-trip");
        let path = png.path().to_path_buf();
        let mut canvas = Canvas::new(4, 3, [255, 255, 255]).expect("small canvas");
        canvas.fill(1, 1, 2, 1, [10, 20, 30]);
        canvas.put(9, 9, [0, 0, 0]); // outside: ignored
        canvas.save_png(&path).expect("write png");
        let back = image::open(&path).expect("read png").to_rgb8();
        assert_eq!(back.dimensions(), (4, 3));
        assert_eq!(back.get_pixel(1, 1).0, [10, 20, 30]);
        assert_eq!(back.get_pixel(2, 1).0, [10, 20, 30]);
        assert_eq!(back.get_pixel(0, 0).0, [255, 255, 255]);
        assert!(!tmp_path(&path).exists());
    }

    #[test]
    fn oversized_and_empty_canvases_are_refused() {
        assert!(matches!(
            Canvas::new(0, 10, [0; 3]),
            Err(Error::InvalidData(_))
        ));
        assert!(matches!(
            Canvas::new(100_000, 100_000, [0; 3]),
            Err(Error::InvalidData(_))
        ));
    }
}
