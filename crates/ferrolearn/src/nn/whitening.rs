//! Patch whitening: a first convolution whose frozen filters decorrelate the `k x k` patches
//! of the training images (Page's ResNet-9 experiments, Jordan's airbench), so the layers
//! after it see inputs of unit variance in every direction from the first step.

use std::fmt;

use faer::{Mat, Side};
use rand::Rng;
use rayon::prelude::*;

use super::init::{default_bias, Init};
use super::{Context, Module};
use crate::autograd::Var;
use crate::tensor::Tensor;
use crate::{Error, Result};

/// A `k x k` convolution (stride 1, no padding) from `C` channels to `2 * C * k * k`:
/// filters `v / sqrt(lambda + eps)` and their negatives for each eigenpair of the patch
/// covariance of the training images ([`whitening_filters`], set when a run starts), frozen
/// (saved as a buffer named `weight`, as PyTorch's `weight.requires_grad = False`); the bias
/// is trained. Until fitted the filters are PyTorch's default draw.
pub struct PatchWhitening {
    weight: Var,
    bias: Var,
    eps: f64,
}

impl PatchWhitening {
    /// The layer for `channels` inputs.
    pub fn new(channels: usize, kernel: usize, eps: f64, rng: &mut impl Rng) -> PatchWhitening {
        let dim = channels * kernel * kernel;
        let weight = Init::PytorchDefault.weight(
            &[2 * dim, channels, kernel, kernel],
            dim,
            2 * dim * kernel * kernel,
            rng,
        );
        PatchWhitening {
            weight: Var::constant(weight),
            bias: Var::parameter(default_bias(2 * dim, dim, rng)),
            eps,
        }
    }
}

/// The whitening filters of the `kernel x kernel` patches of `images` `[N, C, H, W]`:
/// with `S = E[p p^T]` over every patch `p` (flattened as `[C, k, k]`, not centred) and
/// `S = V diag(lambda) V^T` (eigenvalues ascending), filter `i` is `V[:, i] / sqrt(lambda_i
/// + eps)` and filter `d + i` its negative (`d = C k^2`). Returned as `[2d, C, k, k]`.
pub fn whitening_filters(images: &Tensor, kernel: usize, eps: f64) -> Result<Tensor> {
    let &[n, c, h, w] = images.shape() else {
        return Err(Error::InvalidParameter(format!(
            "patch whitening needs images [N, C, H, W], got {:?}",
            images.shape()
        )));
    };
    if n == 0 || kernel == 0 || h < kernel || w < kernel {
        return Err(Error::InvalidParameter(format!(
            "patch whitening: no {kernel}x{kernel} patch in images {:?}",
            images.shape()
        )));
    }
    if !(eps > 0.0 && eps.is_finite()) {
        return Err(Error::InvalidParameter(format!(
            "patch whitening: eps must be > 0, got {eps}"
        )));
    }
    let d = c * kernel * kernel;
    let (oh, ow) = (h - kernel + 1, w - kernel + 1);
    let plane = c * h * w;
    // Sum of p p^T per image (upper triangle), in f64, images in parallel.
    let sum = images
        .data()
        .par_chunks(plane)
        .fold(
            || vec![0f64; d * d],
            |mut acc, image| {
                let mut p = vec![0f64; d];
                for y in 0..oh {
                    for x in 0..ow {
                        for ch in 0..c {
                            for dy in 0..kernel {
                                for dx in 0..kernel {
                                    p[(ch * kernel + dy) * kernel + dx] =
                                        image[(ch * h + y + dy) * w + x + dx] as f64;
                                }
                            }
                        }
                        for i in 0..d {
                            let pi = p[i];
                            for j in i..d {
                                acc[i * d + j] += pi * p[j];
                            }
                        }
                    }
                }
                acc
            },
        )
        .reduce(
            || vec![0f64; d * d],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let count = (n * oh * ow) as f64;
    let cov = Mat::from_fn(d, d, |i, j| sum[i.min(j) * d + i.max(j)] / count);
    let eig = cov.self_adjoint_eigen(Side::Upper).map_err(|e| {
        Error::InvalidParameter(format!("patch whitening: eigendecomposition failed: {e:?}"))
    })?;
    let (values, vectors) = (eig.S().column_vector(), eig.U());
    let mut filters = vec![0f32; 2 * d * d];
    for i in 0..d {
        let scale = 1.0 / (values[i].max(0.0) + eps).sqrt();
        for j in 0..d {
            let v = (vectors[(j, i)] * scale) as f32;
            filters[i * d + j] = v;
            filters[(d + i) * d + j] = -v;
        }
    }
    Ok(Tensor::from_vec(filters, &[2 * d, c, kernel, kernel]))
}

impl Module for PatchWhitening {
    /// # Shapes
    /// `[N, C, H, W]` -> `[N, 2 C k^2, H - k + 1, W - k + 1]`.
    fn forward(&mut self, x: &Var, _ctx: &mut Context) -> Var {
        x.conv2d(&self.weight, Some(&self.bias), 1, 0)
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        vec![("bias".into(), &self.bias)]
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        vec![("bias".into(), &mut self.bias)]
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        vec![("weight".into(), self.weight.value_mut())]
    }
}

impl fmt::Display for PatchWhitening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.weight.shape();
        write!(
            f,
            "PatchWhitening({} -> {}, kernel={}x{}, eps={}, weight frozen) [{} params]",
            s[1],
            s[0],
            s[2],
            s[3],
            self.eps,
            self.num_parameters()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Correlated random images: each pixel mixes its neighbours and the other channels.
    fn correlated_images(n: usize) -> Tensor {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let noise = Tensor::randn(&[n, 3, 9, 9], 0.0, 1.0, &mut rng);
        let z = noise.data();
        let mut out = vec![0f32; n * 3 * 8 * 8];
        for i in 0..n {
            for ch in 0..3 {
                for y in 0..8 {
                    for x in 0..8 {
                        let at =
                            |c: usize, yy: usize, xx: usize| z[((i * 3 + c) * 9 + yy) * 9 + xx];
                        out[((i * 3 + ch) * 8 + y) * 8 + x] = at(ch, y, x)
                            + 0.8 * at(ch, y + 1, x + 1)
                            + 0.5 * at((ch + 1) % 3, y, x)
                            + 0.3;
                    }
                }
            }
        }
        Tensor::from_vec(out, &[n, 3, 8, 8])
    }

    #[test]
    fn filtered_patches_have_identity_second_moment() {
        let images = correlated_images(200);
        let filters = whitening_filters(&images, 2, 1e-9).unwrap();
        assert_eq!(filters.shape(), [24, 3, 2, 2]);
        let out = Var::constant(images).conv2d(&Var::constant(filters), None, 1, 0);
        let (o, s) = (out.value(), out.shape().to_vec());
        let per = s[2] * s[3];
        let count = (s[0] * per) as f64;
        // E[y_i y_j] over all positions must be the identity for the first 12 outputs.
        for i in 0..12 {
            for j in 0..12 {
                let mut acc = 0f64;
                for b in 0..s[0] {
                    for p in 0..per {
                        let yi = o.data()[(b * s[1] + i) * per + p] as f64;
                        let yj = o.data()[(b * s[1] + j) * per + p] as f64;
                        acc += yi * yj;
                    }
                }
                let want = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (acc / count - want).abs() < 1e-3,
                    "E[y{i} y{j}] = {}",
                    acc / count
                );
            }
        }
    }

    #[test]
    fn the_second_half_is_the_negated_first() {
        let filters = whitening_filters(&correlated_images(20), 2, 5e-4).unwrap();
        let f = filters.data();
        assert!((0..144).all(|k| f[k] == -f[144 + k]));
    }

    #[test]
    fn bad_images_are_refused() {
        let small = Tensor::zeros(&[2, 3, 1, 1]);
        let err = whitening_filters(&small, 2, 5e-4).unwrap_err();
        assert!(err.to_string().contains("no 2x2 patch"), "{err}");
        let flat = Tensor::zeros(&[2, 12]);
        assert!(whitening_filters(&flat, 2, 5e-4).is_err());
    }
}
