//! Winograd F(4x4, 3x3) convolution for 3x3 kernels with stride 1 (any padding).
//!
//! Each 4x4 output tile is `A^T [U ⊙ V] A` with `U = G g G^T` (the filter, 6x6) and
//! `V = B^T d B` (the 6x6 input tile): 36 products per tile and channel pair instead of 144.
//! Over a block of tiles the 36 element-wise products become 36 GEMMs,
//! `M[xi] (C_out x T) = U[xi] (C_out x C_in) * V[xi] (C_in x T)`, so the arithmetic runs in
//! the GEMM kernel while the transforms are cheap linear maps on each tile.
//!
//! Backward is the exact adjoint of that forward: with `dM = A dY A^T` per output tile,
//! `dU[xi] += dM[xi] V[xi]^T` (summed over all tiles of the batch, a GEMM with a long inner
//! dimension) gives `grad_weight = G^T dU G`, and `dV[xi] = U[xi]^T dM[xi]` gives the input
//! gradient by adding `B dV B^T` onto each tile's (overlapping) 6x6 input window.
//!
//! Work is cut as in the im2col path: a fixed number of contiguous image groups in parallel
//! (independent of the thread count, so results are too), and inside a group blocks of whole
//! images whose transformed tiles fit in cache. Tiles that reach past an output whose side is
//! not a multiple of 4 (7x7, 15x15) read zero padding and their extra outputs are dropped.

use super::super::gemm::{gemm_strided, MatLayout};
use super::scratch::{lane_sum, with_scratch};
use super::winograd_tiles::{
    crop, g3, g6, gather_outputs, gather_windows, input_adjoint, input_transform, output_adjoint,
    output_transform, pad, scatter_outputs, scatter_windows,
};
use super::Conv2dGeometry;
use rayon::prelude::*;

/// Aim for each of the 36 GEMM operands of a block (`C x T` for the larger channel count) to
/// hold about this many `f32` (128 KiB), so the block's transformed tiles stay in L2 / L3.
const BLOCK_ELEMS: usize = 32 * 1024;

/// Smallest channel count (input and output) for which Winograd is chosen.
const MIN_CHANNELS: usize = 16;

/// Smallest output side for which Winograd is chosen.
const MIN_OUT_SIDE: usize = 3;

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

/// Tile counts and block sizes of a geometry.
pub(super) struct Tiling {
    /// Output height and width.
    pub(super) oh: usize,
    pub(super) ow: usize,
    /// Tile rows and columns per image.
    pub(super) th: usize,
    pub(super) tw: usize,
    /// Width of the zero-padded input plane that every tile reads inside (`4 tw + 2`; it has
    /// `4 th + 2` rows).
    pub(super) pw: usize,
    /// Images per block.
    ipb: usize,
}

impl Tiling {
    fn new(g: &Conv2dGeometry) -> Tiling {
        let (oh, ow) = (g.out_h(), g.out_w());
        let (th, tw) = (oh.div_ceil(4), ow.div_ceil(4));
        let tiles = th * tw;
        let ipb = (BLOCK_ELEMS / (tiles * g.c_in.max(g.c_out))).clamp(1, g.group_size());
        Tiling {
            oh,
            ow,
            th,
            tw,
            pw: 4 * tw + 2,
            ipb,
        }
    }

    /// Tiles per image.
    pub(super) fn tiles(&self) -> usize {
        self.th * self.tw
    }

    /// Values of the padded input plane.
    fn plane_len(&self) -> usize {
        (4 * self.th + 2) * self.pw
    }
}

/// A thread's scratch for one block of at most `max_t` tiles: the transformed inputs `v`
/// (`36 C_in max_t`) and products `m` (`36 C_out max_t`), a padded plane, the gathered
/// windows or tile outputs `d` and the transforms' `tmp` (`36 max_t` each), and in backward
/// the group's transformed weight gradient `du` (reused, so that no step page-faults it in).
struct Scratch<'a> {
    v: &'a mut [f32],
    du: &'a mut [f32],
    m: &'a mut [f32],
    plane: &'a mut [f32],
    d: &'a mut [f32],
    tmp: &'a mut [f32],
}

/// Runs `f` with this thread's [`Scratch`] for geometry `g`, with `du_len` values of `du`.
fn with_block_scratch<R>(
    g: &Conv2dGeometry,
    t: &Tiling,
    du_len: usize,
    f: impl FnOnce(Scratch) -> R,
) -> R {
    let max_t = t.ipb * t.tiles();
    let len = 36 * (g.c_in + g.c_out + 2) * max_t + t.plane_len() + du_len;
    with_scratch(len, |s| {
        let (du, s) = s.split_at_mut(du_len);
        let (v, rest) = s.split_at_mut(36 * g.c_in * max_t);
        let (m, rest) = rest.split_at_mut(36 * g.c_out * max_t);
        let (plane, rest) = rest.split_at_mut(t.plane_len());
        let (d, tmp) = rest.split_at_mut(36 * max_t);
        f(Scratch {
            v,
            du,
            m,
            plane,
            d,
            tmp,
        })
    })
}

/// Transforms the input windows of a block of images (`xb`, whole images) into
/// `v[xi * C_in tt + c tt + tile]`.
fn transform_inputs(g: &Conv2dGeometry, t: &Tiling, xb: &[f32], tt: usize, s: &mut Scratch) {
    let (in_img, in_plane) = (g.c_in * g.h * g.w, g.h * g.w);
    let vs = g.c_in * tt;
    for c in 0..g.c_in {
        for (i, x) in xb.chunks_exact(in_img).enumerate() {
            pad(g, t, &x[c * in_plane..(c + 1) * in_plane], s.plane);
            gather_windows(t, s.plane, s.d, i * t.tiles(), tt);
        }
        input_transform(s.d, tt, s.tmp, s.v, c * tt, vs);
    }
}

/// `U[xi][k][c] = (G g G^T)[xi]` for every filter `g = weight[k][c]` (`[36, C_out, C_in]`).
fn weight_transform(g: &Conv2dGeometry, weight: &[f32]) -> Vec<f32> {
    let kc_len = g.c_out * g.c_in;
    let mut u = vec![0.0f32; 36 * kc_len];
    for (kc, f) in weight.chunks_exact(9).enumerate() {
        // t = G f (6x3), then u = t G^T (6x6).
        let cols: [[f32; 6]; 3] = std::array::from_fn(|j| g6([f[j], f[3 + j], f[6 + j]]));
        for r in 0..6 {
            for (j, v) in g6([cols[0][r], cols[1][r], cols[2][r]])
                .into_iter()
                .enumerate()
            {
                u[(6 * r + j) * kc_len + kc] = v;
            }
        }
    }
    u
}

/// `grad_weight[k][c] += G^T dU[.][k][c] G`, the adjoint of [`weight_transform`].
fn weight_adjoint(g: &Conv2dGeometry, du: &[f32], grad_weight: &mut [f32]) {
    let kc_len = g.c_out * g.c_in;
    for (kc, gw) in grad_weight.chunks_exact_mut(9).enumerate() {
        // r = G^T dU (3x6) column by column, then gw = r G (3x3) row by row.
        let cols: [[f32; 3]; 6] =
            std::array::from_fn(|j| g3(std::array::from_fn(|i| du[(6 * i + j) * kc_len + kc])));
        for i in 0..3 {
            for (j, v) in g3(std::array::from_fn(|c| cols[c][i]))
                .into_iter()
                .enumerate()
            {
                gw[3 * i + j] += v;
            }
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
    let out_plane = t.oh * t.ow;
    let u = weight_transform(g, weight);
    let threading = g.threading();
    let gs = g.group_size();
    output
        .par_chunks_mut(gs * out_img)
        .zip(input.par_chunks(gs * in_img))
        .for_each(|(ys, xs)| {
            with_block_scratch(g, &t, 0, |mut s| {
                for (yb, xb) in ys
                    .chunks_mut(t.ipb * out_img)
                    .zip(xs.chunks(t.ipb * in_img))
                {
                    let tt = xb.len() / in_img * t.tiles();
                    let (vs, ms) = (ci * tt, co * tt);
                    transform_inputs(g, &t, xb, tt, &mut s);
                    for xi in 0..36 {
                        gemm_strided(
                            &mut s.m[xi * ms..(xi + 1) * ms],
                            MatLayout::row_major(co, tt),
                            &u[xi * co * ci..(xi + 1) * co * ci],
                            MatLayout::row_major(co, ci),
                            &s.v[xi * vs..(xi + 1) * vs],
                            MatLayout::row_major(ci, tt),
                            false,
                            threading,
                        );
                    }
                    for k in 0..co {
                        let b = bias.map_or(0.0, |b| b[k]);
                        output_transform(s.m, k * tt, ms, tt, b, s.tmp, s.d);
                        for (i, y) in yb.chunks_exact_mut(out_img).enumerate() {
                            let plane = &mut y[k * out_plane..(k + 1) * out_plane];
                            scatter_outputs(&t, s.d, i * t.tiles(), tt, plane);
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
            let mut gw = vec![0.0f32; if want_w { co * ci * 9 } else { 0 }];
            let mut gb = vec![0.0f32; if want_b { co } else { 0 }];
            let imgs = gi * gs..((gi + 1) * gs).min(g.n);
            let xs = &input[imgs.start * in_img..imgs.end * in_img];
            let dys = &grad_output[imgs.start * out_img..imgs.end * out_img];
            let du_len = if want_w { 36 * co * ci } else { 0 };
            with_block_scratch(g, &t, du_len, |mut s| {
                s.du.fill(0.0);
                for (b, (xb, dyb)) in xs
                    .chunks(t.ipb * in_img)
                    .zip(dys.chunks(t.ipb * out_img))
                    .enumerate()
                {
                    let nb = xb.len() / in_img;
                    let tt = nb * t.tiles();
                    let (vs, ms) = (ci * tt, co * tt);
                    for k in 0..co {
                        for (i, dy) in dyb.chunks_exact(out_img).enumerate() {
                            let plane = &dy[k * out_plane..(k + 1) * out_plane];
                            if want_b {
                                gb[k] += lane_sum(plane);
                            }
                            gather_outputs(&t, plane, i * t.tiles(), tt, s.d);
                        }
                        output_adjoint(s.d, tt, s.tmp, s.m, k * tt, ms);
                    }
                    if want_w {
                        transform_inputs(g, &t, xb, tt, &mut s);
                        for xi in 0..36 {
                            gemm_strided(
                                &mut s.du[xi * co * ci..(xi + 1) * co * ci],
                                MatLayout::row_major(co, ci),
                                &s.m[xi * ms..(xi + 1) * ms],
                                MatLayout::row_major(co, tt),
                                &s.v[xi * vs..(xi + 1) * vs],
                                MatLayout::row_major(ci, tt).t(),
                                true,
                                threading,
                            );
                        }
                    }
                    if let Some(gx) = gx.as_deref_mut() {
                        let dv = &mut s.v[..36 * vs];
                        for xi in 0..36 {
                            gemm_strided(
                                &mut dv[xi * vs..(xi + 1) * vs],
                                MatLayout::row_major(ci, tt),
                                &u[xi * co * ci..(xi + 1) * co * ci],
                                MatLayout::row_major(co, ci).t(),
                                &s.m[xi * ms..(xi + 1) * ms],
                                MatLayout::row_major(co, tt),
                                false,
                                threading,
                            );
                        }
                        let first = b * t.ipb * in_img;
                        let gxb = &mut gx[first..first + nb * in_img];
                        for c in 0..ci {
                            input_adjoint(dv, c * tt, vs, tt, s.tmp, s.d);
                            for (i, gxi) in gxb.chunks_exact_mut(in_img).enumerate() {
                                s.plane.fill(0.0);
                                scatter_windows(&t, s.d, i * t.tiles(), tt, s.plane);
                                crop(g, &t, s.plane, &mut gxi[c * in_plane..(c + 1) * in_plane]);
                            }
                        }
                    }
                }
                if want_w {
                    weight_adjoint(g, s.du, &mut gw);
                }
            });
            (gw, gb)
        })
        .collect();

    super::sum_partials(&partials, grad_weight, grad_bias);
}
