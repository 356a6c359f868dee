//! Reading a user's picture (PNG, JPEG) as a model input item, prepared the way the model's
//! training images were: transparency composited on white, grey drawings inverted for
//! models trained on bright-on-black images, and the object framed as in the dataset.

use std::path::Path;

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, RgbImage};

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

/// How the picture is placed in the model's `H x W` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// As MNIST's digits were made: the drawing (grey pixels above a tenth of the brightest,
    /// after inversion) is cropped to its bounding box, scaled to fit a `20/28` box keeping its
    /// aspect ratio, and placed so its centre of mass is the frame's centre.
    Digit,
    /// As Fashion-MNIST's articles were: cropped to the bounding box, the longer side scaled
    /// to the frame, centred.
    Object,
    /// As torchvision's `Resize(H)` + `CenterCrop(H)`: the shorter side scaled to the frame,
    /// the middle cut out.
    CentreCrop,
}

impl Framing {
    /// The framing of the images of a training dataset: `Digit` for MNIST, `Object` for
    /// Fashion-MNIST, `CentreCrop` for any other (CIFAR-10's photographs).
    pub fn for_dataset(dataset: &str) -> Framing {
        match dataset {
            "mnist" => Framing::Digit,
            "fashion-mnist" => Framing::Object,
            _ => Framing::CentreCrop,
        }
    }
}

/// Loads the picture at `path` as a `[C, H, W]` u8 item ([`prepare_picture`]).
pub fn load_picture(
    path: &Path,
    shape: [usize; 3],
    invert: Invert,
    framing: Framing,
) -> Result<Vec<u8>> {
    let picture = image::open(path)
        .map_err(|e| Error::format(path, format!("cannot read the picture: {e}")))?;
    prepare_picture(&picture, shape, invert, framing)
}

/// Prepares a decoded picture as a `[C, H, W]` u8 item: transparent pixels composited on white,
/// converted to grey (C = 1, then inverted according to `invert`) or RGB (C = 3), and framed in
/// `H x W` by `framing`.
pub fn prepare_picture(
    picture: &DynamicImage,
    shape: [usize; 3],
    invert: Invert,
    framing: Framing,
) -> Result<Vec<u8>> {
    let [c, h, w] = shape;
    if h == 0 || w == 0 {
        return Err(Error::InvalidParameter(format!(
            "the model's input is {h}x{w}: no picture fits it"
        )));
    }
    let rgb = on_white(picture);
    match c {
        1 => {
            let mut grey = DynamicImage::ImageRgb8(rgb).to_luma8();
            let flip = match invert {
                Invert::Yes => true,
                Invert::No => false,
                Invert::Auto => border_mean(&grey) > 127.0,
            };
            if flip {
                grey.pixels_mut().for_each(|p| p.0[0] = 255 - p.0[0]);
            }
            Ok(frame_grey(&grey, h, w, framing).into_raw())
        }
        3 => {
            let framed = match framing {
                Framing::CentreCrop => centre_crop(&DynamicImage::ImageRgb8(rgb), h, w).to_rgb8(),
                // A colour model trained on centred objects: fit the whole picture.
                _ => DynamicImage::ImageRgb8(rgb)
                    .resize_exact(w as u32, h as u32, FilterType::Triangle)
                    .to_rgb8(),
            };
            // Interleaved RGB -> planar CHW.
            let mut out = vec![0u8; 3 * h * w];
            for (i, px) in framed.pixels().enumerate() {
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

/// The item as a picture (what the model saw), for `--save-input`.
pub fn item_picture(item: &[u8], shape: [usize; 3]) -> Result<DynamicImage> {
    let [c, h, w] = shape;
    let bad = || {
        Error::InvalidData(format!(
            "{} values do not make a {c}x{h}x{w} item",
            item.len()
        ))
    };
    match c {
        1 => GrayImage::from_raw(w as u32, h as u32, item.to_vec())
            .map(DynamicImage::ImageLuma8)
            .ok_or_else(bad),
        3 if item.len() == 3 * h * w => {
            let plane = h * w;
            let interleaved = (0..plane)
                .flat_map(|i| [item[i], item[plane + i], item[2 * plane + i]])
                .collect();
            RgbImage::from_raw(w as u32, h as u32, interleaved)
                .map(DynamicImage::ImageRgb8)
                .ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

/// The picture as RGB with transparent pixels blended onto white (a drawing exported with a
/// transparent background is dark strokes on nothing: on white it reads as on paper).
fn on_white(picture: &DynamicImage) -> RgbImage {
    let rgba = picture.to_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(p.0[3]);
        for ch in 0..3 {
            let v = (u32::from(p.0[ch]) * a + 255 * (255 - a) + 127) / 255;
            o.0[ch] = v as u8;
        }
    }
    out
}

/// Places a grey picture (object bright on black) in an `h x w` frame by `framing`.
fn frame_grey(grey: &GrayImage, h: usize, w: usize, framing: Framing) -> GrayImage {
    let Some((x0, y0, bw, bh)) = ink_box(grey).filter(|_| framing != Framing::CentreCrop) else {
        return centre_crop(&DynamicImage::ImageLuma8(grey.clone()), h, w).to_luma8();
    };
    let crop = image::imageops::crop_imm(grey, x0, y0, bw, bh).to_image();
    // The box the object is scaled into: MNIST's 20 of 28 pixels, or the whole frame.
    let (box_h, box_w) = match framing {
        Framing::Digit => (
            ((h * 20) as f64 / 28.0).round(),
            ((w * 20) as f64 / 28.0).round(),
        ),
        _ => (h as f64, w as f64),
    };
    let scale = (box_h / f64::from(bh)).min(box_w / f64::from(bw));
    let sw = ((f64::from(bw) * scale).round() as u32).clamp(1, w as u32);
    let sh = ((f64::from(bh) * scale).round() as u32).clamp(1, h as u32);
    let scaled = image::imageops::resize(&crop, sw, sh, FilterType::Triangle);
    // Where the scaled object's centre (of mass for digits) lands: the frame's centre.
    let (cx, cy) = match framing {
        Framing::Digit => centre_of_mass(&scaled),
        _ => (f64::from(sw) / 2.0, f64::from(sh) / 2.0),
    };
    let left = (w as f64 / 2.0 - cx).round() as i64;
    let top = (h as f64 / 2.0 - cy).round() as i64;
    let mut frame = GrayImage::new(w as u32, h as u32);
    image::imageops::overlay(&mut frame, &scaled, left, top);
    frame
}

/// The bounding box `(x, y, width, height)` of the pixels brighter than a tenth of the
/// brightest, or `None` for a blank picture.
fn ink_box(grey: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let max = grey.pixels().map(|p| p.0[0]).max()?;
    if max == 0 {
        return None;
    }
    let threshold = max / 10;
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in grey.enumerate_pixels() {
        if p.0[0] > threshold {
            (x0, y0) = (x0.min(x), y0.min(y));
            (x1, y1) = (x1.max(x), y1.max(y));
        }
    }
    Some((x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

/// The brightness-weighted centre `(x, y)` of a picture, in pixel units (pixel `i` spans
/// `[i, i + 1)`).
fn centre_of_mass(grey: &GrayImage) -> (f64, f64) {
    let (mut sum, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for (x, y, p) in grey.enumerate_pixels() {
        let v = f64::from(p.0[0]);
        sum += v;
        sx += v * (f64::from(x) + 0.5);
        sy += v * (f64::from(y) + 0.5);
    }
    if sum == 0.0 {
        let (w, h) = grey.dimensions();
        return (f64::from(w) / 2.0, f64::from(h) / 2.0);
    }
    (sx / sum, sy / sum)
}

/// The picture scaled so it covers `h x w` (aspect ratio kept), its middle cut out.
fn centre_crop(picture: &DynamicImage, h: usize, w: usize) -> DynamicImage {
    let (pw, ph) = (f64::from(picture.width()), f64::from(picture.height()));
    let scale = (h as f64 / ph).max(w as f64 / pw);
    let sw = ((pw * scale).round() as u32).max(w as u32);
    let sh = ((ph * scale).round() as u32).max(h as u32);
    let scaled = picture.resize_exact(sw, sh, FilterType::Triangle);
    scaled.crop_imm((sw - w as u32) / 2, (sh - h as u32) / 2, w as u32, h as u32)
}

/// The mean of the outermost ring of pixels: the background's brightness.
fn border_mean(grey: &GrayImage) -> f64 {
    let (w, h) = grey.dimensions();
    let mut sum = 0.0;
    let mut n = 0usize;
    for (x, y, p) in grey.enumerate_pixels() {
        if y == 0 || x == 0 || y + 1 == h || x + 1 == w {
            sum += f64::from(p.0[0]);
            n += 1;
        }
    }
    sum / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgba, RgbaImage};

    fn temp_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ferrolearn-picture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A 56x56 white page with a dark 4x16 bar at x 26..30, y 20..36.
    fn bar_on_paper() -> GrayImage {
        let mut img = GrayImage::from_pixel(56, 56, Luma([255]));
        for y in 20..36 {
            for x in 26..30 {
                img.put_pixel(x, y, Luma([0]));
            }
        }
        img
    }

    #[test]
    fn dark_on_light_is_inverted_and_resized() {
        let dir = temp_dir();
        let path = dir.join("digit.png");
        bar_on_paper().save(&path).unwrap();
        let item = load_picture(&path, [1, 28, 28], Invert::Auto, Framing::CentreCrop).unwrap();
        assert_eq!(item.len(), 784);
        assert!(
            item[0] < 10,
            "background should become dark, got {}",
            item[0]
        );
        assert!(item[14 * 28 + 14] > 200, "stroke should become bright");
        let kept = load_picture(&path, [1, 28, 28], Invert::No, Framing::CentreCrop).unwrap();
        assert!(kept[0] > 245);
        let err = load_picture(
            &dir.join("missing.png"),
            [1, 28, 28],
            Invert::No,
            Framing::Digit,
        )
        .unwrap_err();
        assert!(err.to_string().contains("missing.png"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn transparency_is_composited_on_white() {
        // Black strokes on a fully transparent background (whose colour is black too).
        let mut img = RgbaImage::from_pixel(40, 40, Rgba([0, 0, 0, 0]));
        for y in 10..30 {
            img.put_pixel(20, y, Rgba([0, 0, 0, 255]));
        }
        let rgb = on_white(&DynamicImage::ImageRgba8(img.clone()));
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(rgb.get_pixel(20, 15).0, [0, 0, 0]);
        // So the digit framing sees a dark stroke on paper, inverts it and finds it.
        let item = prepare_picture(
            &DynamicImage::ImageRgba8(img),
            [1, 28, 28],
            Invert::Auto,
            Framing::Digit,
        )
        .unwrap();
        assert_eq!(item[0], 0);
        assert!(item.iter().any(|&v| v > 200));
    }

    #[test]
    fn an_off_centre_digit_is_boxed_to_20_pixels_and_centred_by_its_mass() {
        // A bright 6x30 bar in the top-left corner of a black 100x100 picture.
        let mut img = GrayImage::new(100, 100);
        for y in 5..35 {
            for x in 3..9 {
                img.put_pixel(x, y, Luma([255]));
            }
        }
        let framed = frame_grey(&img, 28, 28, Framing::Digit);
        let (x0, y0, bw, bh) = ink_box(&framed).expect("ink");
        assert_eq!(bh, 20, "the longer side fills MNIST's 20-pixel box");
        assert!((3..=5).contains(&bw), "{bw}");
        let (cx, cy) = centre_of_mass(&framed);
        assert!(
            (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
            "{cx} {cy}"
        );
        assert!(x0 > 8 && y0 >= 3, "moved off the corner: {x0} {y0}");
        // Fashion-MNIST's framing fills the whole frame instead.
        let object = frame_grey(&img, 28, 28, Framing::Object);
        assert_eq!(ink_box(&object).expect("ink").3, 28);
    }

    #[test]
    fn colour_pictures_are_centre_cropped_and_round_trip_as_pictures() {
        // A wide picture: red left half, blue right half, with a green middle third.
        let mut img = RgbImage::from_pixel(96, 32, image::Rgb([255, 0, 0]));
        for y in 0..32 {
            for x in 32..64 {
                img.put_pixel(x, y, image::Rgb([0, 255, 0]));
            }
        }
        let shape = [3, 32, 32];
        let item = prepare_picture(
            &DynamicImage::ImageRgb8(img),
            shape,
            Invert::No,
            Framing::CentreCrop,
        )
        .unwrap();
        // The middle third fills the frame: green everywhere, in the planar layout.
        assert!(item[..1024].iter().all(|&r| r < 30));
        assert!(item[1024..2048].iter().all(|&g| g > 225));
        let back = item_picture(&item, shape).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (32, 32));
        assert!(back.get_pixel(16, 16).0[1] > 225);
        assert!(item_picture(&item[..10], shape).is_err());
    }
}
