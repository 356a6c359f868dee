//! Convolution through im2col + GEMM: the general path, any kernel, stride and padding.

use super::super::gemm::{gemm_strided, MatLayout};
use super::im2row::{im2row, to_channels_last, unpermute_weight, uses_rows};
use super::scratch::{lane_sum, with_scratch};
use super::transposed::{input_grad_geometry, rotated_weight};
use super::Conv2dGeometry;
use rayon::prelude::*;

/// Range of output columns `ox` whose input column `ox * stride + kx - pad` lies inside
/// `0..size`; the others read zero padding.
pub(super) fn valid_range(
    out: usize,
    size: usize,
    k_off: usize,
    stride: usize,
    pad: usize,
) -> (usize, usize) {
    let hi = if size + pad > k_off {
        (size + pad - k_off).div_ceil(stride).min(out)
    } else {
        0
    };
    let lo = if k_off >= pad {
        0
    } else {
        (pad - k_off).div_ceil(stride)
    };
    (lo.min(hi), hi)
}

/// Fills `col` (`[C_in kH kW, (oy1 - oy0) W']`) with the patches of output rows `oy0..oy1`
/// of one image `x` (`[C_in, H, W]`).
pub(super) fn im2col(g: &Conv2dGeometry, x: &[f32], oy0: usize, oy1: usize, col: &mut [f32]) {
    let ow = g.out_w();
    let (sw, pw) = (g.stride.1, g.padding.1);
    let ncols = (oy1 - oy0) * ow;
    let mut rows = col.chunks_exact_mut(ncols);
    for plane in x.chunks_exact(g.h * g.w) {
        for ky in 0..g.kh {
            let merged = merged_rows(g, ky, oy0, oy1);
            for kx in 0..g.kw {
                let dst = rows.next().expect("col has C_in kH kW rows");
                let (lo, hi) = valid_range(ow, g.w, kx, sw, pw);
                if let Some((a, b)) = merged {
                    // Rows `a..b` (block-relative) read real input rows; all their valid
                    // entries form one run in `plane` and in `dst`: copy it in one go, then
                    // zero the padding columns, which received neighbouring-row values.
                    dst[..a * ow].fill(0.0);
                    dst[b * ow..].fill(0.0);
                    let body = &mut dst[a * ow..b * ow];
                    if a < b && lo < hi {
                        let (d0, d1) = (lo, (b - a - 1) * ow + hi);
                        let s0 = (oy0 + a + ky - g.padding.0) * g.w + lo + kx - pw;
                        body[d0..d1].copy_from_slice(&plane[s0..s0 + d1 - d0]);
                        for d in body.chunks_exact_mut(ow) {
                            d[..lo].fill(0.0);
                            d[hi..].fill(0.0);
                        }
                    } else {
                        body.fill(0.0);
                    }
                    continue;
                }
                for (oy, d) in (oy0..oy1).zip(dst.chunks_exact_mut(ow)) {
                    let Some(iy) = g.input_row(oy, ky) else {
                        d.fill(0.0);
                        continue;
                    };
                    let src = &plane[iy * g.w..(iy + 1) * g.w];
                    d[..lo].fill(0.0);
                    d[hi..].fill(0.0);
                    if lo < hi {
                        let first = lo * sw + kx - pw;
                        if sw == 1 {
                            d[lo..hi].copy_from_slice(&src[first..first + hi - lo]);
                        } else {
                            for (v, s) in d[lo..hi].iter_mut().zip(src[first..].iter().step_by(sw))
                            {
                                *v = *s;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// For a stride-1 convolution whose output rows are as wide as its input rows ("same"
/// padding, the common case), the block-relative range of output rows `a..b` that read real
/// input rows at kernel row `ky`: the entries of those rows lie in one run of the input plane.
pub(super) fn merged_rows(
    g: &Conv2dGeometry,
    ky: usize,
    oy0: usize,
    oy1: usize,
) -> Option<(usize, usize)> {
    if g.stride != (1, 1) || g.out_w() != g.w {
        return None;
    }
    let (ylo, yhi) = valid_range(g.out_h(), g.h, ky, 1, g.padding.0);
    Some((ylo.clamp(oy0, oy1) - oy0, yhi.clamp(oy0, oy1) - oy0))
}

/// Adds `col` (`[C_in kH kW, (oy1 - oy0) W']`) back onto the input positions its entries were
/// read from by [`im2col`]: the adjoint of im2col, used for the input gradient. Entries of
/// `col` that stand for zero padding are discarded (and may be overwritten with zeros).
pub(super) fn col2im_add(
    g: &Conv2dGeometry,
    col: &mut [f32],
    oy0: usize,
    oy1: usize,
    x: &mut [f32],
) {
    let ow = g.out_w();
    let (sw, pw) = (g.stride.1, g.padding.1);
    let ncols = (oy1 - oy0) * ow;
    let mut rows = col.chunks_exact_mut(ncols);
    for plane in x.chunks_exact_mut(g.h * g.w) {
        for ky in 0..g.kh {
            let merged = merged_rows(g, ky, oy0, oy1);
            for kx in 0..g.kw {
                let src = rows.next().expect("col has C_in kH kW rows");
                let (lo, hi) = valid_range(ow, g.w, kx, sw, pw);
                if lo >= hi {
                    continue;
                }
                if let Some((a, b)) = merged {
                    // As in im2col: zero the padding columns, then add one contiguous run.
                    if a < b {
                        let body = &mut src[a * ow..b * ow];
                        for d in body.chunks_exact_mut(ow) {
                            d[..lo].fill(0.0);
                            d[hi..].fill(0.0);
                        }
                        let (d0, d1) = (lo, (b - a - 1) * ow + hi);
                        let s0 = (oy0 + a + ky - g.padding.0) * g.w + lo + kx - pw;
                        for (x, v) in plane[s0..s0 + d1 - d0].iter_mut().zip(&body[d0..d1]) {
                            *x += *v;
                        }
                    }
                    continue;
                }
                for (oy, s) in (oy0..oy1).zip(src.chunks_exact(ow)) {
                    let Some(iy) = g.input_row(oy, ky) else {
                        continue;
                    };
                    let first = lo * sw + kx - pw;
                    let dst = &mut plane[iy * g.w + first..(iy + 1) * g.w];
                    if sw == 1 {
                        for (d, v) in dst.iter_mut().zip(&s[lo..hi]) {
                            *d += *v;
                        }
                    } else {
                        for (d, v) in dst.iter_mut().step_by(sw).zip(&s[lo..hi]) {
                            *d += *v;
                        }
                    }
                }
            }
        }
    }
}

/// Forward through im2col + GEMM; arguments as [`super::conv2d_forward`], already checked.
pub(super) fn forward(
    g: &Conv2dGeometry,
    input: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let (oh, ow) = (g.out_h(), g.out_w());
    let (in_img, out_img, hw) = (g.c_in * g.h * g.w, g.c_out * oh * ow, oh * ow);
    let block_rows = g.block_rows();
    let threading = g.threading();
    let w_layout = MatLayout::row_major(g.c_out, g.col_rows());
    let scratch_len = if g.is_pointwise() {
        0
    } else {
        g.col_rows() * block_rows * ow
    };

    let image = |x: &[f32], y: &mut [f32], col: &mut [f32]| {
        if let Some(b) = bias {
            for (row, &bc) in y.chunks_exact_mut(hw).zip(b) {
                row.fill(bc);
            }
        }
        let accumulate = bias.is_some();
        if g.is_pointwise() {
            let xl = MatLayout::row_major(g.c_in, hw);
            gemm_strided(
                y,
                MatLayout::row_major(g.c_out, hw),
                weight,
                w_layout,
                x,
                xl,
                accumulate,
                threading,
            );
            return;
        }
        for oy0 in (0..oh).step_by(block_rows) {
            let oy1 = (oy0 + block_rows).min(oh);
            let ncols = (oy1 - oy0) * ow;
            let col = &mut col[..g.col_rows() * ncols];
            im2col(g, x, oy0, oy1, col);
            let yl = MatLayout {
                rows: g.c_out,
                cols: ncols,
                row_stride: hw,
                col_stride: 1,
            };
            let cl = MatLayout::row_major(g.col_rows(), ncols);
            gemm_strided(
                &mut y[oy0 * ow..],
                yl,
                weight,
                w_layout,
                col,
                cl,
                accumulate,
                threading,
            );
        }
    };

    let gs = g.group_size();
    output
        .par_chunks_mut(gs * out_img)
        .zip(input.par_chunks(gs * in_img))
        .for_each(|(ys, xs)| {
            with_scratch(scratch_len, |col| {
                for (y, x) in ys.chunks_exact_mut(out_img).zip(xs.chunks_exact(in_img)) {
                    image(x, y, col);
                }
            })
        });
}

/// Backward through im2col + GEMM; arguments as [`super::conv2d_backward`], already checked.
pub(super) fn backward(
    g: &Conv2dGeometry,
    input: &[f32],
    weight: &[f32],
    grad_output: &[f32],
    grad_input: Option<&mut [f32]>,
    grad_weight: Option<&mut [f32]>,
    grad_bias: Option<&mut [f32]>,
) {
    let (oh, ow) = (g.out_h(), g.out_w());
    let (in_img, out_img, hw) = (g.c_in * g.h * g.w, g.c_out * oh * ow, oh * ow);
    let (want_w, want_b) = (grad_weight.is_some(), grad_bias.is_some());
    if grad_input.is_none() && !want_w && !want_b {
        return;
    }
    // Stride 1: the input gradient as a forward convolution (see `transposed`).
    let grad_input = match (grad_input, input_grad_geometry(g)) {
        (Some(gi), Some(gt)) if !g.is_pointwise() => {
            super::conv2d_forward(&gt, grad_output, &rotated_weight(g, weight), None, gi);
            None
        }
        (gi, _) => gi,
    };
    let gs = g.group_size();
    let groups = g.n.div_ceil(gs);
    let block_rows = g.block_rows();
    let threading = g.threading();
    let krows = g.col_rows();
    let w_layout = MatLayout::row_major(g.c_out, krows);
    let col_len = if g.is_pointwise() {
        0
    } else {
        krows * block_rows * ow
    };
    // The channels-last image that im2row cuts the weight gradient's patches from.
    let rows = want_w && !g.is_pointwise() && uses_rows(g);
    let xt_len = if rows { in_img } else { 0 };

    // One image's contribution: adds into `gw` / `gb`, writes `gx` (when wanted).
    let image = |x: &[f32],
                 dy: &[f32],
                 gx: Option<&mut [f32]>,
                 gw: &mut [f32],
                 gb: &mut [f32],
                 scratch: &mut [f32]| {
        if want_b {
            for (s, row) in gb.iter_mut().zip(dy.chunks_exact(hw)) {
                *s += lane_sum(row);
            }
        }
        if g.is_pointwise() {
            let dyl = MatLayout::row_major(g.c_out, hw);
            if want_w {
                let xt = MatLayout::row_major(g.c_in, hw).t();
                gemm_strided(gw, w_layout, dy, dyl, x, xt, true, threading);
            }
            if let Some(gx) = gx {
                let gxl = MatLayout::row_major(g.c_in, hw);
                gemm_strided(gx, gxl, weight, w_layout.t(), dy, dyl, false, threading);
            }
            return;
        }
        let (col, rest) = scratch.split_at_mut(col_len);
        let (dcol, xt) = rest.split_at_mut(col_len);
        if rows {
            to_channels_last(g, x, xt);
        }
        let mut gx = gx;
        if let Some(gx) = gx.as_deref_mut() {
            gx.fill(0.0);
        }
        for oy0 in (0..oh).step_by(block_rows) {
            let oy1 = (oy0 + block_rows).min(oh);
            let ncols = (oy1 - oy0) * ow;
            let cl = MatLayout::row_major(krows, ncols);
            let dyl = MatLayout {
                rows: g.c_out,
                cols: ncols,
                row_stride: hw,
                col_stride: 1,
            };
            let dy_blk = &dy[oy0 * ow..];
            if rows {
                // `gw` is in [C_out, kH, kW, C_in] order here (see `im2row`).
                let patches = &mut col[..krows * ncols];
                im2row(g, xt, oy0, oy1, patches);
                let rl = MatLayout::row_major(ncols, krows);
                gemm_strided(gw, w_layout, dy_blk, dyl, patches, rl, true, threading);
            } else if want_w {
                let col = &mut col[..krows * ncols];
                im2col(g, x, oy0, oy1, col);
                gemm_strided(gw, w_layout, dy_blk, dyl, col, cl.t(), true, threading);
            }
            if let Some(gx) = gx.as_deref_mut() {
                let dcol = &mut dcol[..krows * ncols];
                gemm_strided(
                    dcol,
                    cl,
                    weight,
                    w_layout.t(),
                    dy_blk,
                    dyl,
                    false,
                    threading,
                );
                col2im_add(g, dcol, oy0, oy1, gx);
            }
        }
    };

    let gx_groups: Vec<Option<&mut [f32]>> = match grad_input {
        Some(gi) => gi.chunks_mut(gs * in_img).map(Some).collect(),
        None => (0..groups).map(|_| None).collect(),
    };
    let partials: Vec<(Vec<f32>, Vec<f32>)> = gx_groups
        .into_par_iter()
        .enumerate()
        .map(|(gi, gx)| {
            let mut gw = vec![0.0f32; if want_w { g.weight_len() } else { 0 }];
            let mut gb = vec![0.0f32; if want_b { g.c_out } else { 0 }];
            let imgs = gi * gs..((gi + 1) * gs).min(g.n);
            with_scratch(2 * col_len + xt_len, |scratch| {
                let mut gx_imgs = gx.map(|s| s.chunks_exact_mut(in_img));
                for i in imgs {
                    let x = &input[i * in_img..(i + 1) * in_img];
                    let dy = &grad_output[i * out_img..(i + 1) * out_img];
                    let gxi = gx_imgs
                        .as_mut()
                        .map(|it| it.next().expect("one grad_input chunk per image"));
                    image(x, dy, gxi, &mut gw, &mut gb, scratch);
                }
            });
            if rows {
                gw = unpermute_weight(g, &gw);
            }
            (gw, gb)
        })
        .collect();

    super::sum_partials(&partials, grad_weight, grad_bias);
}
