//! Reading a user's picture (PNG, JPEG) as a model input item.

use std::path::Path;

use image::imageops::FilterType;

use crate::{Error, Result};

/// How a picture's brightness is mapped for models trained on dark-background images (MNIST
/// and Fashion-MNIST draw the object bright on black).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invert {
    /// Invert when the picture's border is mostly light (a dark drawing on white paper).
    Auto,
    /// Always invert.
    Yes,
    /// Never invert.
    No,
}

/// Loads the picture at `path` as a `[C, H, W]` u8 item: converted to grey (C = 1) or RGB
/// (C = 3), resized to `H x W` (bilinear), and inverted according to `invert` (grey only).
pub fn load_picture(path: &Path, shape: [usize; 3], invert: Invert) -> Result<Vec<u8>> {
    let [c, h, w] = shape;
    let picture = image::open(path)
        .map_err(|e| Error::format(path, format!("cannot read the picture: {e}")))?;
    let resized = picture.resize_exact(w as u32, h as u32, FilterType::Triangle);
    match c {
        1 => {
            let mut grey = resized.to_luma8().into_raw();
            let flip = match invert {
                Invert::Yes => true,
                Invert::No => false,
                Invert::Auto => border_mean(&grey, h, w) > 127.0,
            };
            if flip {
                grey.iter_mut().for_each(|v| *v = 255 - *v);
            }
            Ok(grey)
        }
        3 => {
            let rgb = resized.to_rgb8();
            // Interleaved RGB -> planar CHW.
            let mut out = vec![0u8; 3 * h * w];
            for (i, px) in rgb.pixels().enumerate() {
                for ch in 0..3 {
                    out[ch * h * w + i] = px[ch];
                }
            }
            Ok(out)
        }
        _ => Err(Error::InvalidParameter(format!(
            "pictures can feed models with 1 or 3 channels, not {c}"
        ))),
    }
}

/// The mean of the outermost ring of pixels: the background's brightness.
fn border_mean(grey: &[u8], h: usize, w: usize) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    for y in 0..h {
        for x in 0..w {
            if y == 0 || x == 0 || y + 1 == h || x + 1 == w {
                sum += grey[y * w + x] as f64;
                n += 1;
            }
        }
    }
    sum / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dark_on_light_is_inverted_and_resized() {
        let dir = std::env::temp_dir().join(format!("ferrolearn-picture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("digit.png");
        let mut img = image::GrayImage::from_pixel(56, 56, image::Luma([255]));
        for y in 20..36 {
            for x in 26..30 {
                img.put_pixel(x, y, image::Luma([0]));
            }
        }
        img.save(&path).unwrap();
        let item = load_picture(&path, [1, 28, 28], Invert::Auto).unwrap();
        assert_eq!(item.len(), 784);
        assert!(
            item[0] < 10,
            "background should become dark, got {}",
            item[0]
        );
        assert!(item[14 * 28 + 14] > 200, "stroke should become bright");
        let kept = load_picture(&path, [1, 28, 28], Invert::No).unwrap();
        assert!(kept[0] > 245);
        let err = load_picture(&dir.join("missing.png"), [1, 28, 28], Invert::No).unwrap_err();
        assert!(err.to_string().contains("missing.png"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
