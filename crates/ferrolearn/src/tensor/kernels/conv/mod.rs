//! 2-d convolution (cross-correlation, as in PyTorch): im2col + GEMM in general, Winograd
//! F(4x4, 3x3) for 3x3 stride-1 layers of 16 channels or more (`winograd.rs`).
//!
//! Layouts: input `[N, C_in, H, W]`, weight `[C_out, C_in, kH, kW]`, bias `[C_out]`, output
//! `[N, C_out, H', W']`, all dense row-major `f32`; zero padding, dilation 1, one group.
//!
//! # How the work is cut
//! Per image, the output is `W [C_out, C_in kH kW] * col [C_in kH kW, H' W']`, where `col` holds
//! the input patches (im2col). `col` for a whole image can be several MiB (2.25 MiB for a
//! 64-channel 3x3 layer on 32x32), more than the 1 MiB L2 cache, so it is built for a block of
//! output rows at a time, sized to stay in cache, and multiplied straight into the matching
//! column block of the output. The batch is cut into a fixed number of contiguous groups that
//! run in parallel on rayon, each thread with its own reused scratch buffer and gemm on that
//! thread alone. The group count depends on the batch size only, never on the number of
//! threads, so results (including the summed weight gradient) do not change with the size of
//! the thread pool (tested with 1 and 3 threads).
//!
//! For stride 1 with output rows as wide as input rows ("same" padding), the valid part of a
//! patch row is one contiguous run across all output rows, so im2col and col2im copy / add it
//! in one go instead of one short row at a time.
//!
//! Measured on the benchmark layer (128 x 64 x 32 x 32, 64 filters 3x3, pad 1) on the shared,
//! heavily loaded 2-vCPU machine, so only as rough guides: with one thread, row blocks of
//! 64 Ki-512 Ki elements gave about the same forward time, while a whole-image `col` doubled
//! the backward time (CPU time 180 ms -> 370 ms); with two threads, parallel groups of images
//! ran the forward in 158 ms against 284 ms for images in sequence with gemm's own threading.
//!
//! Backward, per image and row block: `grad_weight += dY_blk * rows_blk`, with the patches
//! laid out one output position per row (`im2row`, so gemm reads them without repacking), and
//! `dcol = W^T * dY_blk` scattered back with col2im into `grad_input`; for stride 1 the input
//! gradient is instead a forward convolution of `dY` (`transposed`), which runs its gemm
//! `C_out kH kW` deep instead of `C_out`. A 1x1 kernel with stride
//! 1 and no padding skips im2col entirely: the image itself is the `col` matrix.
//!
//! Files: `geometry` (shapes, blocking), `im2col` (the general path), `im2row` (its weight
//! gradient's patches), `winograd` and `winograd_tiles` (its tile transforms), `transposed` (the
//! stride-1 input gradient), `scratch` (per-thread buffers).

mod geometry;
mod im2col;
mod im2row;
mod scratch;
#[cfg(test)]
mod tests;
mod transposed;
mod winograd;
mod winograd_tiles;

pub use geometry::Conv2dGeometry;

/// Conv2d forward: `output = conv(input, weight) + bias`.
///
/// `input` is `[N, C_in, H, W]`, `weight` `[C_out, C_in, kH, kW]`, `bias` `[C_out]` and
/// `output` `[N, C_out, H', W']` (overwritten). The bias is written into the output first and
/// the products accumulated onto it, so it costs no extra pass.
///
/// # Panics
/// When a slice length differs from what `g` implies, or the geometry is invalid (see
/// [`Conv2dGeometry::out_h`]).
pub fn conv2d_forward(
    g: &Conv2dGeometry,
    input: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    g.validate("conv2d_forward");
    assert_eq!(
        input.len(),
        g.input_len(),
        "conv2d_forward: input length for {g:?}"
    );
    assert_eq!(
        weight.len(),
        g.weight_len(),
        "conv2d_forward: weight length for {g:?}"
    );
    assert_eq!(
        output.len(),
        g.output_len(),
        "conv2d_forward: output length for {g:?}"
    );
    if let Some(b) = bias {
        assert_eq!(b.len(), g.c_out, "conv2d_forward: bias length for {g:?}");
    }
    if output.is_empty() {
        return;
    }
    if winograd::pays(g) {
        winograd::forward(g, input, weight, bias, output);
    } else {
        im2col::forward(g, input, weight, bias, output);
    }
}

/// Conv2d backward: the gradients of a loss with respect to the input, weight and bias, given
/// its gradient `grad_output` with respect to the output.
///
/// Pass `None` for a gradient that is not needed (the first layer's input gradient, say) and
/// its work is skipped; `input` is read only for the weight gradient and `weight` only for the
/// input gradient. Each requested gradient is overwritten, not accumulated into. Shapes as in
/// [`conv2d_forward`]: `grad_output` `[N, C_out, H', W']`, `grad_input` `[N, C_in, H, W]`,
/// `grad_weight` `[C_out, C_in, kH, kW]`, `grad_bias` `[C_out]`.
///
/// # Panics
/// When a slice length differs from what `g` implies, or the geometry is invalid.
pub fn conv2d_backward(
    g: &Conv2dGeometry,
    input: &[f32],
    weight: &[f32],
    grad_output: &[f32],
    grad_input: Option<&mut [f32]>,
    grad_weight: Option<&mut [f32]>,
    grad_bias: Option<&mut [f32]>,
) {
    g.validate("conv2d_backward");
    assert_eq!(
        input.len(),
        g.input_len(),
        "conv2d_backward: input length for {g:?}"
    );
    assert_eq!(
        weight.len(),
        g.weight_len(),
        "conv2d_backward: weight length for {g:?}"
    );
    assert_eq!(
        grad_output.len(),
        g.output_len(),
        "conv2d_backward: grad_output length for {g:?}"
    );
    if let Some(gi) = &grad_input {
        assert_eq!(
            gi.len(),
            g.input_len(),
            "conv2d_backward: grad_input length for {g:?}"
        );
    }
    if let Some(gw) = &grad_weight {
        assert_eq!(
            gw.len(),
            g.weight_len(),
            "conv2d_backward: grad_weight length for {g:?}"
        );
    }
    if let Some(gb) = &grad_bias {
        assert_eq!(
            gb.len(),
            g.c_out,
            "conv2d_backward: grad_bias length for {g:?}"
        );
    }
    let (gi, gw, gb) = (grad_input, grad_weight, grad_bias);
    if gi.is_none() && gw.is_none() && gb.is_none() {
        return;
    }
    if winograd::pays(g) {
        winograd::backward(g, input, weight, grad_output, gi, gw, gb);
    } else {
        im2col::backward(g, input, weight, grad_output, gi, gw, gb);
    }
}

/// Writes the sum of the groups' partial weight and bias gradients into the requested outputs,
/// adding the groups in their fixed order (so the result does not depend on the thread count).
fn sum_partials(
    partials: &[(Vec<f32>, Vec<f32>)],
    grad_weight: Option<&mut [f32]>,
    grad_bias: Option<&mut [f32]>,
) {
    if let Some(out) = grad_weight {
        out.fill(0.0);
        for (gw, _) in partials {
            for (o, v) in out.iter_mut().zip(gw) {
                *o += *v;
            }
        }
    }
    if let Some(out) = grad_bias {
        out.fill(0.0);
        for (_, gb) in partials {
            for (o, v) in out.iter_mut().zip(gb) {
                *o += *v;
            }
        }
    }
}
