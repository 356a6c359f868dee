//! Patches one output position per row ("im2row"), for the weight gradient.
//!
//! `grad_weight += dY * col^T` through gemm with `col` laid out `[C_in kH kW, pixels]` makes
//! gemm repack the whole `col` block into its panel layout on every call: that packing took
//! 17% of a ResNet-20 step, more than the im2col that built `col`. The same product with the
//! patches as rows, `[pixels, kH kW C_in]`, hands gemm an operand it reads in place. The rows
//! are cut from a channels-last copy of the image, so each kernel row of a patch is one
//! contiguous run of `kW C_in` values; the weight gradient then comes out in
//! `[C_out, kH, kW, C_in]` order and [`unpermute_weight`] puts it back.

use super::Conv2dGeometry;

/// Whether the weight gradient takes its patches from [`im2row`]: when a kernel row of a
/// patch (`kW C_in` values, one copy) fills at least a vector register. Below that (LeNet's
/// one-channel first layer) the copies are too short and im2col, which copies whole image
/// rows, is faster even with gemm's repacking.
pub(super) fn uses_rows(g: &Conv2dGeometry) -> bool {
    g.kw * g.c_in >= 16
}

/// Writes the channels-last copy `xt` (`[H, W, C_in]`) of one image `x` (`[C_in, H, W]`).
///
/// A transpose of `[C_in, H W]`, done in tiles of 16 pixels so that each source row is read
/// a cache line at a time rather than one element per channel stride.
pub(super) fn to_channels_last(g: &Conv2dGeometry, x: &[f32], xt: &mut [f32]) {
    const TILE: usize = 16;
    let (c, hw) = (g.c_in, g.h * g.w);
    for p0 in (0..hw).step_by(TILE) {
        let p1 = (p0 + TILE).min(hw);
        let dst = &mut xt[p0 * c..p1 * c];
        for (ch, src) in x.chunks_exact(hw).enumerate() {
            for (k, &v) in src[p0..p1].iter().enumerate() {
                dst[k * c + ch] = v;
            }
        }
    }
}

/// Fills `rows` (`[(oy1 - oy0) W', kH kW C_in]`) with the patches of output rows `oy0..oy1`
/// of one channels-last image `xt` (`[H, W, C_in]`), zero where a patch covers padding.
pub(super) fn im2row(g: &Conv2dGeometry, xt: &[f32], oy0: usize, oy1: usize, rows: &mut [f32]) {
    let (c, ow) = (g.c_in, g.out_w());
    let (sw, pw) = (g.stride.1, g.padding.1);
    let krow = g.kw * c;
    let pixels = (oy1 - oy0) * ow;
    for (p, patch) in rows.chunks_exact_mut(g.kh * krow).take(pixels).enumerate() {
        let (oy, ox) = (oy0 + p / ow, p % ow);
        // Kernel columns whose input column `ox * sw + kx - pw` lies inside the image.
        let left = ox * sw;
        let kx0 = pw.saturating_sub(left).min(g.kw);
        let kx1 = (g.w + pw).saturating_sub(left).clamp(kx0, g.kw);
        for (ky, dst) in patch.chunks_exact_mut(krow).enumerate() {
            let Some(iy) = g.input_row(oy, ky) else {
                dst.fill(0.0);
                continue;
            };
            dst[..kx0 * c].fill(0.0);
            dst[kx1 * c..].fill(0.0);
            if kx0 < kx1 {
                let first = (iy * g.w + left + kx0 - pw) * c;
                dst[kx0 * c..kx1 * c].copy_from_slice(&xt[first..first + (kx1 - kx0) * c]);
            }
        }
    }
}

/// Rewrites a weight gradient from `[C_out, kH, kW, C_in]` order (what [`im2row`] patches
/// give) into the weight's `[C_out, C_in, kH, kW]`.
pub(super) fn unpermute_weight(g: &Conv2dGeometry, permuted: &[f32]) -> Vec<f32> {
    let (c, kk) = (g.c_in, g.kh * g.kw);
    let mut out = vec![0.0; permuted.len()];
    for (o, p) in out
        .chunks_exact_mut(c * kk)
        .zip(permuted.chunks_exact(c * kk))
    {
        for (k, px) in p.chunks_exact(c).enumerate() {
            for (ch, &v) in px.iter().enumerate() {
                o[ch * kk + k] = v;
            }
        }
    }
    out
}
