//! Test-time augmentation: the logits of a batch averaged over mirrored and shifted views of
//! each image, as airbench does (its levels 0, 1 and 2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::autograd::{no_grad, Var};
use crate::nn::{Context, Module};
use crate::tensor::{ShapeError, Tensor};

/// Which views of each image evaluation averages the logits of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tta {
    /// The image alone.
    #[default]
    None,
    /// The image and its horizontal mirror, weight 1/2 each.
    Flip,
    /// airbench's level 2: `1/2 flip(x) + 1/4 flip(shift(x, +1, +1)) + 1/4 flip(shift(x, -1, -1))`
    /// where `flip` is the [`Tta::Flip`] average and `shift` moves the picture one pixel
    /// down-right or up-left, filling the uncovered row and column by reflection (the pixel
    /// one further in, PyTorch's `reflect` padding) so no artificial border appears.
    FlipTranslate,
}

impl Tta {
    /// Forward passes per image (what evaluation costs relative to no augmentation).
    pub fn passes(self) -> usize {
        match self {
            Tta::None => 1,
            Tta::Flip => 2,
            Tta::FlipTranslate => 6,
        }
    }

    /// The name used by the CLI and in `config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Tta::None => "none",
            Tta::Flip => "flip",
            Tta::FlipTranslate => "flip-translate",
        }
    }
}

impl fmt::Display for Tta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Tta {
    type Err = String;

    fn from_str(s: &str) -> Result<Tta, String> {
        match s {
            "none" => Ok(Tta::None),
            "flip" => Ok(Tta::Flip),
            "flip-translate" => Ok(Tta::FlipTranslate),
            other => Err(format!(
                "unknown test-time augmentation `{other}`: use none, flip or flip-translate"
            )),
        }
    }
}

/// The `[N, C, H, W]` dimensions of `x`, or a shape error naming `op`.
fn nchw(op: &'static str, x: &Tensor) -> [usize; 4] {
    match *x.shape() {
        [n, c, h, w] => [n, c, h, w],
        _ => ShapeError::new(
            op,
            format!("expected images [N, C, H, W], got {:?}", x.shape()),
        )
        .raise(),
    }
}

/// Mirrors every image left to right.
///
/// # Shapes
/// `[N, C, H, W]` -> `[N, C, H, W]`.
pub fn flip_horizontal(x: &Tensor) -> Tensor {
    let [_, _, _, w] = nchw("flip_horizontal", x);
    let mut out = x.data().to_vec();
    out.chunks_exact_mut(w.max(1)).for_each(<[f32]>::reverse);
    Tensor::from_vec(out, x.shape())
}

/// Index `i` reflected into `0..n` without repeating the edge (PyTorch's `reflect` padding:
/// -1 -> 1, n -> n - 2); `n == 1` keeps 0.
fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    if n == 1 {
        return 0;
    }
    let i = if i < 0 { -i } else { i };
    let i = if i >= n { 2 * (n - 1) - i } else { i };
    i.clamp(0, n - 1) as usize
}

/// Moves every image by `dy` rows and `dx` columns (positive: down and right), filling the
/// uncovered border by reflection: `out[y, x] = in[reflect(y - dy), reflect(x - dx)]`. A
/// shift of one pixel equals PyTorch's `F.pad(x, (1, 1, 1, 1), "reflect")` cropped at
/// `[1 - dy, 1 - dx]`.
///
/// # Shapes
/// `[N, C, H, W]` -> `[N, C, H, W]`.
///
/// # Panics
/// With a [`ShapeError`] when a shift is not smaller than the image side.
pub fn translate_reflect(x: &Tensor, dy: isize, dx: isize) -> Tensor {
    let [_, _, h, w] = nchw("translate_reflect", x);
    if dy.unsigned_abs() >= h.max(2) || dx.unsigned_abs() >= w.max(2) {
        ShapeError::new(
            "translate_reflect",
            format!("shift ({dy}, {dx}) too large for {h}x{w} images"),
        )
        .raise();
    }
    let rows: Vec<usize> = (0..h as isize).map(|y| reflect(y - dy, h)).collect();
    let cols: Vec<usize> = (0..w as isize).map(|c| reflect(c - dx, w)).collect();
    let mut out = vec![0.0; x.numel()];
    for (dst, src) in out
        .chunks_exact_mut(h * w)
        .zip(x.data().chunks_exact(h * w))
    {
        for (drow, &r) in dst.chunks_exact_mut(w).zip(&rows) {
            let srow = &src[r * w..(r + 1) * w];
            drow.iter_mut().zip(&cols).for_each(|(d, &c)| *d = srow[c]);
        }
    }
    Tensor::from_vec(out, x.shape())
}

/// The logits of `model` (in evaluation mode, recording no graph) for a batch of images,
/// averaged over the views `tta` names.
///
/// # Shapes
/// `images` `[N, C, H, W]` -> logits `[N, K]`.
pub fn tta_logits(model: &mut dyn Module, images: &Tensor, tta: Tta) -> Tensor {
    let mut ctx = Context::eval();
    no_grad(|| {
        let mut run = |x: Tensor| model.forward(&Var::constant(x), &mut ctx).value().clone();
        let mut mirrored = |x: &Tensor| {
            let a = run(x.clone());
            let b = run(flip_horizontal(x));
            a.add(&b).mul_scalar(0.5)
        };
        match tta {
            Tta::None => run(images.clone()),
            Tta::Flip => mirrored(images),
            Tta::FlipTranslate => {
                let centre = mirrored(images);
                let down_right = mirrored(&translate_reflect(images, 1, 1));
                let up_left = mirrored(&translate_reflect(images, -1, -1));
                let shifted = down_right.add(&up_left).mul_scalar(0.5);
                centre.add(&shifted).mul_scalar(0.5)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(h: usize, w: usize) -> Tensor {
        Tensor::from_vec((0..h * w).map(|v| v as f32).collect(), &[1, 1, h, w])
    }

    #[test]
    fn flip_mirrors_rows() {
        let x = image(2, 3);
        assert_eq!(flip_horizontal(&x).data(), &[2., 1., 0., 5., 4., 3.]);
    }

    #[test]
    fn translate_matches_reflect_padding_and_crop() {
        // 3x3 image 0..9; reflect-padded by 1 it is
        //   4 3 4 5 4 / 1 0 1 2 1 / 4 3 4 5 4 / 7 6 7 8 7 / 4 3 4 5 4
        // and the crop at [0, 0] (shift down-right) is its top-left 3x3.
        let x = image(3, 3);
        assert_eq!(
            translate_reflect(&x, 1, 1).data(),
            &[4., 3., 4., 1., 0., 1., 4., 3., 4.]
        );
        // The crop at [2, 2] (shift up-left).
        assert_eq!(
            translate_reflect(&x, -1, -1).data(),
            &[4., 5., 4., 7., 8., 7., 4., 5., 4.]
        );
        assert_eq!(translate_reflect(&x, 0, 0).data(), x.data());
    }

    #[test]
    fn names_round_trip() {
        for t in [Tta::None, Tta::Flip, Tta::FlipTranslate] {
            assert_eq!(t.name().parse::<Tta>(), Ok(t));
        }
        assert!("mirror"
            .parse::<Tta>()
            .unwrap_err()
            .contains("flip-translate"));
    }
}
