//! Winograd F(2x2, 3x3) convolution for 3x3 kernels with stride 1 (any padding).
//!
//! Each 2x2 output tile is `A^T [U ⊙ V] A` with `U = G g G^T` (the filter, 4x4) and
//! `V = B^T d B` (the 4x4 input tile): 16 products per tile and channel pair instead of 36.
//! Over a block of tiles the 16 element-wise products become 16 GEMMs,
//! `M[xi] (C_out x T) = U[xi] (C_out x C_in) * V[xi] (C_in x T)`, so the arithmetic runs in
//! the GEMM kernel while the transforms are cheap linear maps on each tile.
//!
//! Backward is the exact adjoint of that forward: with `dM = A dY A^T` per output tile,
//! `dU[xi] += dM[xi] V[xi]^T` (summed over all tiles of the batch, a GEMM with a long inner
//! dimension) gives `grad_weight = G^T dU G`, and `dV[xi] = U[xi]^T dM[xi]` gives the input
//! gradient by adding `B dV B^T` onto each tile's (overlapping) 4x4 input window.
//!
//! Work is cut as in the im2col path: a fixed number of contiguous image groups in parallel
//! (independent of the thread count, so results are too), and inside a group blocks of whole
//! images whose transformed tiles fit in cache. Tiles that reach past an odd-sized output (7x7,
//! 15x15) read zero padding and their extra outputs are dropped.

use super::super::gemm::{gemm_strided, MatLayout};
use super::scratch::{lane_sum, with_scratch};
use super::winograd_tiles::{
    crop_unsplit, input_adjoint, input_transform, output_adjoint, output_transform, split_pad,
};
use super::Conv2dGeometry;
use rayon::prelude::*;

/// Aim for each of the 16 GEMM operands of a block (`C x T` for the larger channel count) to
/// hold about this many `f32` (128 KiB), so the block's transformed tiles stay in L2 / L3.
const BLOCK_ELEMS: usize = 32 * 1024;

/// Smallest channel count (input and output) for which Winograd is chosen. Measured on the
/// CIFAR shapes (benches/cifar_layers.rs, loaded 2-core machine): it won only for 256 -> 256
/// channels on 7x7 (forward 1.4-1.9x, forward + backward 1.4-2.2x faster than im2col); with
/// 16-64 channels the 16 GEMMs have an inner dimension too short to run at speed and im2col
/// was 1.2-2.5x faster.
const MIN_CHANNELS: usize = 128;

/// Smallest output side for which Winograd is chosen: a 3x3 output pads its 2x2 tiles to 4x4
/// and measured no faster than im2col.
const MIN_OUT_SIDE: usize = 4;

/// Whether [`forward`] and [`backward`] compute this geometry: 3x3 kernels with stride 1.
pub(super) fn supports(g: &Conv2dGeometry) -> bool {
    g.kh == 3 && g.kw == 3 && g.stride == (1, 1)
}

/// Whether Winograd is chosen for this geometry (supported, and measured faster).
pub(super) fn pays(g: &Conv2dGeometry) -> bool {
    supports(g)
        && g.c_in >= MIN_CHANNELS
        && g.c_out >= MIN_CHANNELS
        && g.out_h().min(g.out_w()) >= MIN_OUT_SIDE
}

/// Tile counts and scratch sizes of a geometry.
pub(super) struct Tiling {
    /// Output height and width.
    pub(super) oh: usize,
    pub(super) ow: usize,
    /// Tile rows and columns per image.
    pub(super) th: usize,
    pub(super) tw: usize,
    /// Rows of the zero-padded input plane that every tile reads inside (`2 th + 2`; its
    /// `2 tw + 2` columns are stored split, see [`super::winograd_tiles`]).
    pub(super) ph: usize,
    /// Images per block.
    ipb: usize,
}

impl Tiling {
    fn new(g: &Conv2dGeometry) -> Tiling {
        let (oh, ow) = (g.out_h(), g.out_w());
        let (th, tw) = (oh.div_ceil(2), ow.div_ceil(2));
        let tiles = th * tw;
        let ipb = (BLOCK_ELEMS / (tiles * g.c_in.max(g.c_out))).clamp(1, g.group_size());
        Tiling {
            oh,
            ow,
            th,
            tw,
            ph: 2 * th + 2,
            ipb,
        }
    }

    fn tiles(&self) -> usize {
        self.th * self.tw
    }

    /// Scratch for the transforms: the split padded plane (`pe`, `po`) and `tmp`.
    fn plane_scratch(&self) -> usize {
        2 * self.ph * (self.tw + 1) + 8 * (self.tw + 1)
    }
}

/// `U[xi][k][c] = (G g G^T)[xi]` for every filter `g = weight[k][c]` (`[16, C_out, C_in]`).
fn weight_transform(g: &Conv2dGeometry, weight: &[f32]) -> Vec<f32> {
    let (co, ci) = (g.c_out, g.c_in);
    let mut u = vec![0.0f32; 16 * co * ci];
    for (kc, f) in weight.chunks_exact(9).enumerate() {
        // t = G f (4x3), then u = t G^T (4x4).
        let mut t = [[0.0f32; 3]; 4];
        for j in 0..3 {
            let (a, b, c) = (f[j], f[3 + j], f[6 + j]);
            t[0][j] = a;
            t[1][j] = 0.5 * (a + b + c);
            t[2][j] = 0.5 * (a - b + c);
            t[3][j] = c;
        }
        for (r, row) in t.iter().enumerate() {
            let [a, b, c] = *row;
            let vals = [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
            for (j, v) in vals.into_iter().enumerate() {
                u[(4 * r + j) * co * ci + kc] = v;
            }
        }
    }
    u
}

/// `grad_weight[k][c] += G^T dU[.][k][c] G`, the adjoint of [`weight_transform`].
fn weight_adjoint(g: &Conv2dGeometry, du: &[f32], grad_weight: &mut [f32]) {
    let kc_len = g.c_out * g.c_in;
    for (kc, gw) in grad_weight.chunks_exact_mut(9).enumerate() {
        let d = |xi: usize| du[xi * kc_len + kc];
        // r = G^T d (3x4), then gw = r G (3x3).
        let col = |j: usize| {
            let (a, b, c, e) = (d(j), d(4 + j), d(8 + j), d(12 + j));
            [a + 0.5 * (b + c), 0.5 * (b - c), 0.5 * (b + c) + e]
        };
        let cols = [col(0), col(1), col(2), col(3)];
        let r: [[f32; 4]; 3] = std::array::from_fn(|i| std::array::from_fn(|j| cols[j][i]));
        for (i, row) in r.iter().enumerate() {
            let [a, b, c, e] = *row;
            gw[3 * i] += a + 0.5 * (b + c);
            gw[3 * i + 1] += 0.5 * (b - c);
            gw[3 * i + 2] += 0.5 * (b + c) + e;
        }
    }
}

/// Forward through Winograd; arguments as [`super::conv2d_forward`], already checked.
pub(super) fn forward(
    g: &Conv2dGeometry,
    input: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let t = Tiling::new(g);
    let (ci, co) = (g.c_in, g.c_out);
    let (in_img, out_img) = (ci * g.h * g.w, co * t.oh * t.ow);
    let (in_plane, out_plane) = (g.h * g.w, t.oh * t.ow);
    let u = weight_transform(g, weight);
    let threading = g.threading();
    let max_t = t.ipb * t.tiles();
    let gs = g.group_size();
    output
        .par_chunks_mut(gs * out_img)
        .zip(input.par_chunks(gs * in_img))
        .for_each(|(ys, xs)| {
            let scratch_len = 16 * (ci + co) * max_t + t.plane_scratch();
            with_scratch(scratch_len, |s| {
                let (v, rest) = s.split_at_mut(16 * ci * max_t);
                let (m, rest) = rest.split_at_mut(16 * co * max_t);
                let (pe, rest) = rest.split_at_mut(t.ph * (t.tw + 1));
                let (po, tmp) = rest.split_at_mut(t.ph * (t.tw + 1));
                for (yb, xb) in ys
                    .chunks_mut(t.ipb * out_img)
                    .zip(xs.chunks(t.ipb * in_img))
                {
                    let tt = xb.len() / in_img * t.tiles();
                    let (vs, ms) = (ci * tt, co * tt);
                    for (i, x) in xb.chunks_exact(in_img).enumerate() {
                        for (c, plane) in x.chunks_exact(in_plane).enumerate() {
                            split_pad(g, &t, plane, pe, po);
                            input_transform(&t, pe, po, tmp, v, c * tt + i * t.tiles(), vs);
                        }
                    }
                    for xi in 0..16 {
                        gemm_strided(
                            &mut m[xi * ms..(xi + 1) * ms],
                            MatLayout::row_major(co, tt),
                            &u[xi * co * ci..(xi + 1) * co * ci],
                            MatLayout::row_major(co, ci),
                            &v[xi * vs..(xi + 1) * vs],
                            MatLayout::row_major(ci, tt),
                            false,
                            threading,
                        );
                    }
                    for (i, y) in yb.chunks_exact_mut(out_img).enumerate() {
                        for (k, plane) in y.chunks_exact_mut(out_plane).enumerate() {
                            let b = bias.map_or(0.0, |b| b[k]);
                            output_transform(&t, m, k * tt + i * t.tiles(), ms, b, tmp, plane);
                        }
                    }
                }
            })
        });
}

/// Backward through Winograd; arguments as [`super::conv2d_backward`], already checked.
pub(super) fn backward(
    g: &Conv2dGeometry,
    input: &[f32],
    weight: &[f32],
    grad_output: &[f32],
    grad_input: Option<&mut [f32]>,
    grad_weight: Option<&mut [f32]>,
    grad_bias: Option<&mut [f32]>,
) {
    let t = Tiling::new(g);
    let (ci, co) = (g.c_in, g.c_out);
    let (in_img, out_img) = (ci * g.h * g.w, co * t.oh * t.ow);
    let (in_plane, out_plane) = (g.h * g.w, t.oh * t.ow);
    let (want_x, want_w, want_b) = (
        grad_input.is_some(),
        grad_weight.is_some(),
        grad_bias.is_some(),
    );
    let u = if want_x {
        weight_transform(g, weight)
    } else {
        Vec::new()
    };
    let threading = g.threading();
    let max_t = t.ipb * t.tiles();
    let gs = g.group_size();
    let groups = g.n.div_ceil(gs);
    let gx_groups: Vec<Option<&mut [f32]>> = match grad_input {
        Some(gi) => gi.chunks_mut(gs * in_img).map(Some).collect(),
        None => (0..groups).map(|_| None).collect(),
    };
    let partials: Vec<(Vec<f32>, Vec<f32>)> = gx_groups
        .into_par_iter()
        .enumerate()
        .map(|(gi, mut gx)| {
            let mut du = vec![0.0f32; if want_w { 16 * co * ci } else { 0 }];
            let mut gb = vec![0.0f32; if want_b { co } else { 0 }];
            let imgs = gi * gs..((gi + 1) * gs).min(g.n);
            let xs = &input[imgs.start * in_img..imgs.end * in_img];
            let dys = &grad_output[imgs.start * out_img..imgs.end * out_img];
            let scratch_len = 16 * (ci + co) * max_t + t.plane_scratch();
            with_scratch(scratch_len, |s| {
                let (v, rest) = s.split_at_mut(16 * ci * max_t);
                let (dm, rest) = rest.split_at_mut(16 * co * max_t);
                let (pe, rest) = rest.split_at_mut(t.ph * (t.tw + 1));
                let (po, tmp) = rest.split_at_mut(t.ph * (t.tw + 1));
                for (b, (xb, dyb)) in xs
                    .chunks(t.ipb * in_img)
                    .zip(dys.chunks(t.ipb * out_img))
                    .enumerate()
                {
                    let nb = xb.len() / in_img;
                    let tt = nb * t.tiles();
                    let (vs, ms) = (ci * tt, co * tt);
                    for (i, dy) in dyb.chunks_exact(out_img).enumerate() {
                        for (k, plane) in dy.chunks_exact(out_plane).enumerate() {
                            if want_b {
                                gb[k] += lane_sum(plane);
                            }
                            output_adjoint(&t, plane, tmp, dm, k * tt + i * t.tiles(), ms);
                        }
                    }
                    if want_w {
                        for (i, x) in xb.chunks_exact(in_img).enumerate() {
                            for (c, plane) in x.chunks_exact(in_plane).enumerate() {
                                split_pad(g, &t, plane, pe, po);
                                let base = c * tt + i * t.tiles();
                                input_transform(&t, pe, po, tmp, v, base, vs);
                            }
                        }
                        for xi in 0..16 {
                            gemm_strided(
                                &mut du[xi * co * ci..(xi + 1) * co * ci],
                                MatLayout::row_major(co, ci),
                                &dm[xi * ms..(xi + 1) * ms],
                                MatLayout::row_major(co, tt),
                                &v[xi * vs..(xi + 1) * vs],
                                MatLayout::row_major(ci, tt).t(),
                                true,
                                threading,
                            );
                        }
                    }
                    if let Some(gx) = gx.as_deref_mut() {
                        let dv = &mut v[..16 * vs];
                        for xi in 0..16 {
                            gemm_strided(
                                &mut dv[xi * vs..(xi + 1) * vs],
                                MatLayout::row_major(ci, tt),
                                &u[xi * co * ci..(xi + 1) * co * ci],
                                MatLayout::row_major(co, ci).t(),
                                &dm[xi * ms..(xi + 1) * ms],
                                MatLayout::row_major(co, tt),
                                false,
                                threading,
                            );
                        }
                        let first = b * t.ipb * in_img;
                        let gxb = &mut gx[first..first + nb * in_img];
                        for (i, gxi) in gxb.chunks_exact_mut(in_img).enumerate() {
                            for (c, plane) in gxi.chunks_exact_mut(in_plane).enumerate() {
                                pe.fill(0.0);
                                po.fill(0.0);
                                let base = c * tt + i * t.tiles();
                                input_adjoint(&t, dv, base, vs, tmp, pe, po);
                                crop_unsplit(g, &t, pe, po, plane);
                            }
                        }
                    }
                }
            });
            let mut gw = vec![0.0f32; if want_w { co * ci * 9 } else { 0 }];
            if want_w {
                weight_adjoint(g, &du, &mut gw);
            }
            (gw, gb)
        })
        .collect();

    super::sum_partials(&partials, grad_weight, grad_bias);
}
