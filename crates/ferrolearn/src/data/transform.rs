//! One image from `u8` `[C, H, W]` pixels to normalised `f32`: cropped from the padded
//! image, mirrored and cut out as its [`ImageDraw`] says, in a single pass over the output.

use super::augment::PaddingMode;
use super::draws::ImageDraw;
use super::normalizer::PixelTable;

/// Marks an output column that reads the padding rather than the image.
const PADDING: usize = usize::MAX;

/// Writes image `image` of shape `[C, h, w]` into `out` (same length), normalised with one
/// table per channel, cropped at `draw`'s offsets from the image padded by `pad` pixels
/// (`mode`), mirrored when `draw.flip`, and with `draw.cutout` set to 0.
///
/// # Shapes
/// `image`: `[C, h, w]` bytes -> `out`: `[C, h, w]` floats.
pub(super) fn transform_image(
    image: &[u8],
    [h, w]: [usize; 2],
    tables: &[PixelTable],
    (pad, mode): (usize, PaddingMode),
    draw: &ImageDraw,
    out: &mut [f32],
) {
    let source = |at: usize, len: usize| source_index(at as isize - pad as isize, len, mode);
    // Output column x shows cropped column x, or w - 1 - x when mirrored.
    let columns: Vec<usize> = (0..w)
        .map(|x| {
            let xc = if draw.flip { w - 1 - x } else { x };
            source(xc + draw.dx, w).unwrap_or(PADDING)
        })
        .collect();
    let plane = h * w;
    for ((px, o), table) in image
        .chunks_exact(plane)
        .zip(out.chunks_exact_mut(plane))
        .zip(tables)
    {
        let fill = match mode {
            PaddingMode::Black => table.get(0),
            PaddingMode::Zero | PaddingMode::Reflect => 0.0,
        };
        for (y, row) in o.chunks_exact_mut(w).enumerate() {
            let Some(sy) = source(y + draw.dy, h) else {
                row.fill(fill);
                continue;
            };
            let src = &px[sy * w..(sy + 1) * w];
            for (o, &sx) in row.iter_mut().zip(&columns) {
                *o = if sx == PADDING {
                    fill
                } else {
                    table.get(src[sx])
                };
            }
        }
        if let Some([y0, y1, x0, x1]) = draw.cutout {
            for row in o.chunks_exact_mut(w).take(y1).skip(y0) {
                row[x0..x1].fill(0.0);
            }
        }
    }
}

/// The source row or column that padded position `at` (`-pad..len + pad`) shows, or `None`
/// for constant padding. Reflection mirrors about the edge without repeating it, and needs
/// `pad < len` (checked by `AugmentConfig::validate`).
fn source_index(at: isize, len: usize, mode: PaddingMode) -> Option<usize> {
    let last = len as isize - 1;
    if (0..=last).contains(&at) {
        return Some(at as usize);
    }
    match mode {
        PaddingMode::Reflect if at < 0 => Some(at.unsigned_abs()),
        PaddingMode::Reflect => Some((2 * last - at) as usize),
        PaddingMode::Zero | PaddingMode::Black => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Normalizer;

    /// A 1x3x4 image with pixels 1..=12, its tables (scale only, so the output is the byte
    /// value / 255) and the output of `draw` read back as bytes.
    fn run(pad: usize, mode: PaddingMode, draw: ImageDraw) -> Vec<Vec<i32>> {
        let image: Vec<u8> = (1..=12).collect();
        let tables = PixelTable::per_channel(None, 1);
        let mut out = vec![f32::NAN; 12];
        transform_image(&image, [3, 4], &tables, (pad, mode), &draw, &mut out);
        out.chunks(4)
            .map(|r| r.iter().map(|&v| (v * 255.0).round() as i32).collect())
            .collect()
    }

    fn at(dy: usize, dx: usize, flip: bool) -> ImageDraw {
        ImageDraw {
            dy,
            dx,
            flip,
            cutout: None,
        }
    }

    // The expected windows, checked with PyTorch:
    //   x = torch.arange(1, 13.).reshape(1, 1, 3, 4)
    //   p = F.pad(x, (2, 2, 2, 2), mode="reflect")[0, 0]; p[0:3, 0:4]; p[4:7, 4:8]
    //   p1 = F.pad(x, (1, 1, 1, 1), mode="reflect")[0, 0]; p1[1:4, 2:6]
    //   p1[1:4, 0:4].flip(1)  (the mirrored window in `flips_mirror_the_cropped_window`)
    #[test]
    fn reflect_padding_does_not_repeat_the_edge() {
        // Image rows: [1 2 3 4], [5 6 7 8], [9 10 11 12]. Reflect-padded by 2, row -1 is
        // row 1 and column -2 is column 2.
        assert_eq!(
            run(2, PaddingMode::Reflect, at(0, 0, false)),
            vec![vec![11, 10, 9, 10], vec![7, 6, 5, 6], vec![3, 2, 1, 2]]
        );
        assert_eq!(
            run(2, PaddingMode::Reflect, at(4, 4, false)),
            vec![vec![11, 12, 11, 10], vec![7, 8, 7, 6], vec![3, 4, 3, 2]]
        );
        assert_eq!(
            run(1, PaddingMode::Reflect, at(1, 2, false)),
            vec![vec![2, 3, 4, 3], vec![6, 7, 8, 7], vec![10, 11, 12, 11]]
        );
        assert_eq!(source_index(-3, 4, PaddingMode::Reflect), Some(3));
        assert_eq!(source_index(6, 4, PaddingMode::Reflect), Some(0));
    }

    #[test]
    fn zero_padding_is_zero_after_normalisation_and_black_before() {
        assert_eq!(
            run(1, PaddingMode::Zero, at(0, 2, false)),
            vec![vec![0, 0, 0, 0], vec![2, 3, 4, 0], vec![6, 7, 8, 0]]
        );
        // With a normaliser, zero padding is exactly 0.0 and black padding is byte 0.
        let n = Normalizer::new(vec![0.5], vec![0.25]).expect("valid");
        let tables = PixelTable::per_channel(Some(&n), 1);
        let image = [255u8; 4];
        for (mode, want) in [(PaddingMode::Zero, 0.0), (PaddingMode::Black, -2.0)] {
            let mut out = [f32::NAN; 4];
            transform_image(
                &image,
                [2, 2],
                &tables,
                (1, mode),
                &at(0, 0, false),
                &mut out,
            );
            assert_eq!(out, [want, want, want, 2.0], "{mode:?}");
        }
    }

    #[test]
    fn flips_mirror_the_cropped_window() {
        assert_eq!(
            run(0, PaddingMode::Zero, at(0, 0, true)),
            vec![vec![4, 3, 2, 1], vec![8, 7, 6, 5], vec![12, 11, 10, 9]]
        );
        // Crop columns -1..3 (0 1 2 3 of the padded image), then mirror.
        assert_eq!(
            run(1, PaddingMode::Zero, at(1, 0, true)),
            vec![vec![3, 2, 1, 0], vec![7, 6, 5, 0], vec![11, 10, 9, 0]]
        );
        assert_eq!(
            run(1, PaddingMode::Reflect, at(1, 0, true)),
            vec![vec![3, 2, 1, 2], vec![7, 6, 5, 6], vec![11, 10, 9, 10]]
        );
    }

    #[test]
    fn cutout_zeroes_its_rectangle_in_every_channel() {
        let image: Vec<u8> = (1..=24).collect();
        let tables = PixelTable::per_channel(None, 2);
        let draw = ImageDraw {
            cutout: Some([1, 3, 0, 2]),
            ..at(0, 0, false)
        };
        let mut out = vec![f32::NAN; 24];
        transform_image(
            &image,
            [3, 4],
            &tables,
            (0, PaddingMode::Zero),
            &draw,
            &mut out,
        );
        let bytes: Vec<i32> = out.iter().map(|&v| (v * 255.0).round() as i32).collect();
        let mut want: Vec<i32> = (1..=24).collect();
        for c in 0..2 {
            for y in 1..3 {
                for x in 0..2 {
                    want[c * 12 + y * 4 + x] = 0;
                }
            }
        }
        assert_eq!(bytes, want);
    }
}
