//! The parameter-free ResNet shortcut of He et al.'s "option A": the input subsampled in space
//! and zero-padded on channels, so it can be added to a block's strided, wider output.

use super::check::{fmt_shape, ShapeError};
use super::storage;
use super::Tensor;
use rayon::prelude::*;

/// Where the input's channels land in the padded output: `before` zero channels, then the
/// input's, then the rest up to `out_channels` (PyTorch: `F.pad(x, (0,0,0,0, p//2, p - p//2))`).
fn geometry(op: &'static str, shape: &[usize], stride: usize, out_channels: usize) -> [usize; 7] {
    let fail = |why: String| -> ! { ShapeError::new(op, why).raise() };
    let [n, c, h, w] = shape[..] else {
        fail(format!("input {} is not [N, C, H, W]", fmt_shape(shape)));
    };
    if stride == 0 {
        fail("stride must be >= 1".into());
    }
    if out_channels < c {
        fail(format!(
            "input {} has more than the {out_channels} output channels",
            fmt_shape(shape)
        ));
    }
    let before = (out_channels - c) / 2;
    let (oh, ow) = (h.div_ceil(stride), w.div_ceil(stride));
    [n, c, h, w, before, oh, ow]
}

impl Tensor {
    /// `x[:, :, ::stride, ::stride]` with zero channels added to reach `out_channels`, half
    /// (rounded down) before the input's channels and the rest after.
    ///
    /// # Shapes
    /// `[N, C, H, W]` -> `[N, out_channels, ceil(H / stride), ceil(W / stride)]`.
    pub fn shortcut_pad(&self, stride: usize, out_channels: usize) -> Tensor {
        let [n, c, h, w, before, oh, ow] =
            geometry("shortcut_pad", self.shape(), stride, out_channels);
        let mut out = storage::zeroed(n * out_channels * oh * ow);
        let x = self.data();
        out.par_chunks_mut(out_channels * oh * ow)
            .enumerate()
            .for_each(|(i, image)| {
                for ch in 0..c {
                    let src = &x[(i * c + ch) * h * w..(i * c + ch + 1) * h * w];
                    let dst = &mut image[(before + ch) * oh * ow..(before + ch + 1) * oh * ow];
                    for (oy, row) in dst.chunks_exact_mut(ow).enumerate() {
                        let line = &src[oy * stride * w..];
                        for (ox, v) in row.iter_mut().enumerate() {
                            *v = line[ox * stride];
                        }
                    }
                }
            });
        Tensor::from_vec(out, &[n, out_channels, oh, ow])
    }

    /// The gradient of [`shortcut_pad`](Self::shortcut_pad) for an input of `input_shape`:
    /// each kept position receives its output's gradient, the others zero.
    pub fn shortcut_pad_backward(grad: &Tensor, input_shape: &[usize], stride: usize) -> Tensor {
        let out_channels = grad.shape().get(1).copied().unwrap_or(0);
        let [n, c, h, w, before, oh, ow] =
            geometry("shortcut_pad_backward", input_shape, stride, out_channels);
        if grad.shape() != [n, out_channels, oh, ow] {
            ShapeError::new(
                "shortcut_pad_backward",
                format!(
                    "gradient {} does not match input {}",
                    fmt_shape(grad.shape()),
                    fmt_shape(input_shape)
                ),
            )
            .raise();
        }
        let mut gx = storage::zeroed(n * c * h * w);
        let g = grad.data();
        gx.par_chunks_mut(c * h * w)
            .enumerate()
            .for_each(|(i, image)| {
                for ch in 0..c {
                    let off = (i * out_channels + before + ch) * oh * ow;
                    let src = &g[off..off + oh * ow];
                    let dst = &mut image[ch * h * w..(ch + 1) * h * w];
                    for (oy, row) in src.chunks_exact(ow).enumerate() {
                        let line = &mut dst[oy * stride * w..];
                        for (ox, &v) in row.iter().enumerate() {
                            line[ox * stride] = v;
                        }
                    }
                }
            });
        Tensor::from_vec(gx, input_shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsamples_and_pads_like_pytorch_option_a() {
        // x[:, :, ::2, ::2] then F.pad(.., (0, 0, 0, 0, 1, 2)): 2 -> 5 channels, one zero
        // channel before the input's and two after.
        let x = Tensor::from_vec(
            (0..2 * 2 * 3 * 3).map(|v| v as f32).collect(),
            &[2, 2, 3, 3],
        );
        let y = x.shortcut_pad(2, 5);
        assert_eq!(y.shape(), &[2, 5, 2, 2]);
        let d = y.data();
        assert!(d[..4].iter().all(|&v| v == 0.0));
        assert_eq!(&d[4..8], &[0.0, 2.0, 6.0, 8.0]);
        assert_eq!(&d[8..12], &[9.0, 11.0, 15.0, 17.0]);
        assert!(d[12..20].iter().all(|&v| v == 0.0));
        assert_eq!(&d[24..28], &[18.0, 20.0, 24.0, 26.0]);
        let g = Tensor::from_vec((0..40).map(|v| v as f32).collect(), &[2, 5, 2, 2]);
        let gx = Tensor::shortcut_pad_backward(&g, &[2, 2, 3, 3], 2);
        assert_eq!(
            &gx.data()[..9],
            &[4.0, 0.0, 5.0, 0.0, 0.0, 0.0, 6.0, 0.0, 7.0]
        );
        assert_eq!(gx.data()[18], 24.0);
    }

    #[test]
    fn stride_one_and_same_width_is_the_identity() {
        let x = Tensor::from_vec((0..12).map(|v| v as f32).collect(), &[1, 3, 2, 2]);
        let y = x.shortcut_pad(1, 3);
        assert_eq!((y.shape(), y.data()), (x.shape(), x.data()));
    }

    #[test]
    #[should_panic(expected = "more than the 2 output channels")]
    fn fewer_output_channels_are_refused() {
        Tensor::zeros(&[1, 3, 4, 4]).shortcut_pad(2, 2);
    }
}
