//! The input gradient of a stride-1 convolution as a forward convolution.
//!
//! For stride 1, `grad_input` is the convolution of `grad_output` with the weight turned
//! 180 degrees and its channel axes swapped, padded by `k - 1 - pad`. Computed that way the
//! gemm runs `C_out kH kW` deep, where `dcol = W^T dY` followed by col2im runs only `C_out`
//! deep and writes (then scatters back) a column matrix `kH kW` times the size of the input:
//! for ResNet-20's 16-channel layers that path was memory-bound.

use super::Conv2dGeometry;

/// The forward convolution that computes `g`'s input gradient, when `g` has stride 1, at
/// least "same" padding (`2 pad >= k - 1`) but less than the kernel, and no more output than
/// input channels. Otherwise col2im is cheaper: with less padding (a "valid" convolution) the
/// gradient's convolution is padded more than `g` and spends its work on zeros, and with more
/// output channels (LeNet's 20 -> 50) its im2col of `dY` outgrows `dcol`.
pub(super) fn input_grad_geometry(g: &Conv2dGeometry) -> Option<Conv2dGeometry> {
    let pays = |pad: usize, k: usize| 2 * pad + 1 >= k && pad < k;
    if g.stride != (1, 1)
        || g.c_out > g.c_in
        || !pays(g.padding.0, g.kh)
        || !pays(g.padding.1, g.kw)
    {
        return None;
    }
    Some(Conv2dGeometry {
        n: g.n,
        c_in: g.c_out,
        h: g.out_h(),
        w: g.out_w(),
        c_out: g.c_in,
        kh: g.kh,
        kw: g.kw,
        stride: (1, 1),
        padding: (g.kh - 1 - g.padding.0, g.kw - 1 - g.padding.1),
    })
}

/// The weight of [`input_grad_geometry`]: `[C_in, C_out, kH, kW]` with
/// `out[ci][co][ky][kx] = w[co][ci][kH-1-ky][kW-1-kx]`.
pub(super) fn rotated_weight(g: &Conv2dGeometry, w: &[f32]) -> Vec<f32> {
    let kk = g.kh * g.kw;
    let mut out = vec![0.0; w.len()];
    for (co, filter) in w.chunks_exact(g.c_in * kk).enumerate() {
        for (ci, taps) in filter.chunks_exact(kk).enumerate() {
            let dst = &mut out[(ci * g.c_out + co) * kk..][..kk];
            for (d, &v) in dst.iter_mut().zip(taps.iter().rev()) {
                *d = v;
            }
        }
    }
    out
}
