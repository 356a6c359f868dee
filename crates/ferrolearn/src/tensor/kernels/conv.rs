//! 2-d convolution (cross-correlation, as in PyTorch) through im2col + GEMM.
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
//! Backward, per image and row block: `grad_weight += dY_blk * col_blk^T`, and
//! `dcol = W^T * dY_blk` scattered back with col2im into `grad_input`. A 1x1 kernel with stride
//! 1 and no padding skips im2col entirely: the image itself is the `col` matrix.

use super::gemm::{gemm_strided, MatLayout, Threading};
use rayon::prelude::*;
use std::cell::Cell;

/// Aim for im2col blocks of about this many `f32` (512 KiB), half the L2 cache, so that the
/// block is still in cache when gemm packs it.
const COL_BLOCK_ELEMS: usize = 128 * 1024;

/// The batch is split into at most this many groups of images that run in parallel; each group
/// keeps its own weight-gradient partial sum. Fixed (not the thread count) for reproducibility;
/// 8 keeps 2 to 8 threads busy with little imbalance.
const MAX_GROUPS: usize = 8;

/// Shape of a 2-d convolution: batch, channels, spatial sizes, kernel, stride and padding.
///
/// Build it with [`Conv2dGeometry::new`] and the [`stride`](Conv2dGeometry::stride) /
/// [`padding`](Conv2dGeometry::padding) setters, or as a literal for rectangular strides and
/// paddings. Output sizes follow PyTorch: `H' = (H + 2 pad_h - kH) / stride_h + 1` (floor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    /// Batch size N.
    pub n: usize,
    /// Input channels.
    pub c_in: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels (number of filters).
    pub c_out: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride `(vertical, horizontal)`, each at least 1.
    pub stride: (usize, usize),
    /// Zero padding `(top and bottom, left and right)`.
    pub padding: (usize, usize),
}

impl Conv2dGeometry {
    /// A convolution of `n` images of `c_in x h x w` with `c_out` filters of `kh x kw`,
    /// stride 1 and no padding.
    pub fn new(
        n: usize,
        c_in: usize,
        (h, w): (usize, usize),
        c_out: usize,
        (kh, kw): (usize, usize),
    ) -> Self {
        Conv2dGeometry {
            n,
            c_in,
            h,
            w,
            c_out,
            kh,
            kw,
            stride: (1, 1),
            padding: (0, 0),
        }
    }

    /// The same geometry with stride `s` in both directions.
    pub fn stride(self, s: usize) -> Self {
        Conv2dGeometry {
            stride: (s, s),
            ..self
        }
    }

    /// The same geometry with zero padding `p` on all four sides.
    pub fn padding(self, p: usize) -> Self {
        Conv2dGeometry {
            padding: (p, p),
            ..self
        }
    }

    /// Output height `H'`.
    ///
    /// # Panics
    /// When the kernel is taller than the padded input or the stride is 0.
    pub fn out_h(&self) -> usize {
        out_size(self.h, self.kh, self.stride.0, self.padding.0, "height")
    }

    /// Output width `W'`.
    ///
    /// # Panics
    /// When the kernel is wider than the padded input or the stride is 0.
    pub fn out_w(&self) -> usize {
        out_size(self.w, self.kw, self.stride.1, self.padding.1, "width")
    }

    /// Elements of the input, `N C_in H W`.
    pub fn input_len(&self) -> usize {
        self.n * self.c_in * self.h * self.w
    }

    /// Elements of the weight, `C_out C_in kH kW`.
    pub fn weight_len(&self) -> usize {
        self.c_out * self.col_rows()
    }

    /// Elements of the output, `N C_out H' W'`.
    ///
    /// # Panics
    /// As [`out_h`](Self::out_h) and [`out_w`](Self::out_w).
    pub fn output_len(&self) -> usize {
        self.n * self.c_out * self.out_h() * self.out_w()
    }

    /// Floating-point operations of the forward pass (2 per multiply-add, bias not counted);
    /// the backward pass costs twice this when it computes both input and weight gradients.
    ///
    /// # Panics
    /// As [`out_h`](Self::out_h) and [`out_w`](Self::out_w).
    pub fn forward_flops(&self) -> u64 {
        2 * self.output_len() as u64 * self.col_rows() as u64
    }

    /// Checks that the geometry describes a real convolution.
    fn validate(&self, op: &str) {
        assert!(
            self.c_in >= 1 && self.c_out >= 1 && self.h >= 1 && self.w >= 1,
            "{op}: channel counts and input sizes must be >= 1 in {self:?}"
        );
        self.out_h();
        self.out_w();
    }

    /// Rows of the im2col matrix, `C_in kH kW` (also the length of one filter).
    fn col_rows(&self) -> usize {
        self.c_in * self.kh * self.kw
    }

    fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == (1, 1) && self.padding == (0, 0)
    }

    /// Output rows per im2col block: as many as fit in [`COL_BLOCK_ELEMS`], spread evenly.
    fn block_rows(&self) -> usize {
        let (oh, ow) = (self.out_h(), self.out_w());
        let per_row = (self.col_rows() * ow).max(1);
        let rows = (COL_BLOCK_ELEMS / per_row).clamp(1, oh.max(1));
        let blocks = oh.div_ceil(rows).max(1);
        oh.div_ceil(blocks).max(1)
    }

    /// Images per parallel group.
    fn group_size(&self) -> usize {
        self.n.div_ceil(MAX_GROUPS).max(1)
    }

    /// Gemm threading inside a group: the groups already fill the threads unless there are
    /// fewer groups than threads (a batch of one image, say).
    fn threading(&self) -> Threading {
        if self.n.div_ceil(self.group_size()) >= rayon::current_num_threads() {
            Threading::Single
        } else {
            Threading::Auto
        }
    }
}

fn out_size(size: usize, k: usize, stride: usize, pad: usize, what: &str) -> usize {
    assert!(stride >= 1, "conv2d: stride must be >= 1");
    assert!(
        k >= 1 && k <= size + 2 * pad,
        "conv2d: kernel {what} {k} does not fit the input {what} {size} with padding {pad}"
    );
    (size + 2 * pad - k) / stride + 1
}

thread_local! {
    /// Per-thread scratch for im2col blocks, kept between calls so that a training loop does
    /// not allocate (and page-fault) megabytes per layer and step.
    static SCRATCH: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` with a scratch slice of `len` elements (contents unspecified) from this thread's
/// cache. The buffer is taken out of the cache while in use, so a nested call (rayon may run
/// another task on this thread while gemm waits) simply gets a fresh buffer.
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = SCRATCH.with(Cell::take);
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    SCRATCH.with(|s| s.set(buf));
    r
}

/// Sum of a slice in 16 independent lanes: vectorises (a plain `iter().sum()` is one serial
/// chain of dependent additions) and rounds a little better on long rows.
fn lane_sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += *v;
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// Range of output columns `ox` whose input column `ox * stride + kx - pad` lies inside
/// `0..size`; the others read zero padding.
fn valid_range(out: usize, size: usize, k_off: usize, stride: usize, pad: usize) -> (usize, usize) {
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

/// Input row read by output row `oy` at kernel row `ky`, or `None` when it is padding.
fn input_row(g: &Conv2dGeometry, oy: usize, ky: usize) -> Option<usize> {
    (oy * g.stride.0 + ky)
        .checked_sub(g.padding.0)
        .filter(|&iy| iy < g.h)
}

/// Fills `col` (`[C_in kH kW, (oy1 - oy0) W']`) with the patches of output rows `oy0..oy1`
/// of one image `x` (`[C_in, H, W]`).
fn im2col(g: &Conv2dGeometry, x: &[f32], oy0: usize, oy1: usize, col: &mut [f32]) {
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
                    let Some(iy) = input_row(g, oy, ky) else {
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
fn merged_rows(g: &Conv2dGeometry, ky: usize, oy0: usize, oy1: usize) -> Option<(usize, usize)> {
    if g.stride != (1, 1) || g.out_w() != g.w {
        return None;
    }
    let (ylo, yhi) = valid_range(g.out_h(), g.h, ky, 1, g.padding.0);
    Some((ylo.clamp(oy0, oy1) - oy0, yhi.clamp(oy0, oy1) - oy0))
}

/// Adds `col` (`[C_in kH kW, (oy1 - oy0) W']`) back onto the input positions its entries were
/// read from by [`im2col`]: the adjoint of im2col, used for the input gradient. Entries of
/// `col` that stand for zero padding are discarded (and may be overwritten with zeros).
fn col2im_add(g: &Conv2dGeometry, col: &mut [f32], oy0: usize, oy1: usize, x: &mut [f32]) {
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
                    let Some(iy) = input_row(g, oy, ky) else {
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
    let (oh, ow) = (g.out_h(), g.out_w());
    let (in_img, out_img, hw) = (g.c_in * g.h * g.w, g.c_out * oh * ow, oh * ow);
    let (want_w, want_b) = (grad_weight.is_some(), grad_bias.is_some());
    if grad_input.is_none() && !want_w && !want_b {
        return;
    }
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
        let (col, dcol) = scratch.split_at_mut(col_len);
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
            if want_w {
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
            with_scratch(2 * col_len, |scratch| {
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
            (gw, gb)
        })
        .collect();

    if let Some(out) = grad_weight {
        out.fill(0.0);
        for (gw, _) in &partials {
            for (o, v) in out.iter_mut().zip(gw) {
                *o += *v;
            }
        }
    }
    if let Some(out) = grad_bias {
        out.fill(0.0);
        for (_, gb) in &partials {
            for (o, v) in out.iter_mut().zip(gb) {
                *o += *v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(len: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
        (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
    }

    fn assert_close(got: &[f32], want: &[f64], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let tol = 1e-4 * (1.0 + w.abs());
            assert!(
                (g as f64 - w).abs() <= tol,
                "{what}: element {i}: got {g}, want {w}"
            );
        }
    }

    /// Calls `f(n, co, oy, ox, ci, ky, kx, input_index)` for every term of the direct
    /// convolution sum that reads a real (non-padding) input element.
    fn each_term(g: &Conv2dGeometry, mut f: impl FnMut([usize; 7], usize)) {
        let (oh, ow) = (g.out_h(), g.out_w());
        for n in 0..g.n {
            for co in 0..g.c_out {
                for oy in 0..oh {
                    for ox in 0..ow {
                        for ci in 0..g.c_in {
                            for ky in 0..g.kh {
                                for kx in 0..g.kw {
                                    let iy = (oy * g.stride.0 + ky) as isize - g.padding.0 as isize;
                                    let ix = (ox * g.stride.1 + kx) as isize - g.padding.1 as isize;
                                    if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize
                                    {
                                        continue;
                                    }
                                    let xi =
                                        ((n * g.c_in + ci) * g.h + iy as usize) * g.w + ix as usize;
                                    f([n, co, oy, ox, ci, ky, kx], xi);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    struct Naive {
        y: Vec<f64>,
        gx: Vec<f64>,
        gw: Vec<f64>,
        gb: Vec<f64>,
    }

    /// Direct-loop convolution and its gradients, in f64.
    fn naive(g: &Conv2dGeometry, x: &[f32], w: &[f32], b: &[f32], dy: &[f32]) -> Naive {
        let (oh, ow) = (g.out_h(), g.out_w());
        let mut r = Naive {
            y: vec![0.0; g.output_len()],
            gx: vec![0.0; g.input_len()],
            gw: vec![0.0; g.weight_len()],
            gb: vec![0.0; g.c_out],
        };
        for n in 0..g.n {
            for (co, &bc) in b.iter().enumerate() {
                for p in 0..oh * ow {
                    let yi = (n * g.c_out + co) * oh * ow + p;
                    r.y[yi] = bc as f64;
                    r.gb[co] += dy[yi] as f64;
                }
            }
        }
        each_term(g, |[n, co, oy, ox, ci, ky, kx], xi| {
            let yi = ((n * g.c_out + co) * oh + oy) * ow + ox;
            let wi = ((co * g.c_in + ci) * g.kh + ky) * g.kw + kx;
            r.y[yi] += x[xi] as f64 * w[wi] as f64;
            r.gx[xi] += w[wi] as f64 * dy[yi] as f64;
            r.gw[wi] += x[xi] as f64 * dy[yi] as f64;
        });
        r
    }

    fn check(g: Conv2dGeometry, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = random(g.input_len(), &mut rng);
        let w = random(g.weight_len(), &mut rng);
        let b = random(g.c_out, &mut rng);
        let dy = random(g.output_len(), &mut rng);
        let want = naive(&g, &x, &w, &b, &dy);

        // Outputs start as garbage to prove that everything is overwritten.
        let mut y = vec![f32::NAN; g.output_len()];
        conv2d_forward(&g, &x, &w, Some(&b), &mut y);
        assert_close(&y, &want.y, &format!("forward {g:?}"));

        let mut y0 = vec![f32::NAN; g.output_len()];
        conv2d_forward(&g, &x, &w, None, &mut y0);
        let want_nobias: Vec<f64> = want
            .y
            .iter()
            .enumerate()
            .map(|(i, v)| v - b[(i / (g.out_h() * g.out_w())) % g.c_out] as f64)
            .collect();
        assert_close(&y0, &want_nobias, &format!("forward without bias {g:?}"));

        let mut gx = vec![f32::NAN; g.input_len()];
        let mut gw = vec![f32::NAN; g.weight_len()];
        let mut gb = vec![f32::NAN; g.c_out];
        conv2d_backward(&g, &x, &w, &dy, Some(&mut gx), Some(&mut gw), Some(&mut gb));
        assert_close(&gx, &want.gx, &format!("grad_input {g:?}"));
        assert_close(&gw, &want.gw, &format!("grad_weight {g:?}"));
        assert_close(&gb, &want.gb, &format!("grad_bias {g:?}"));

        // Each gradient on its own gives the same numbers.
        let mut gx1 = vec![f32::NAN; g.input_len()];
        conv2d_backward(&g, &x, &w, &dy, Some(&mut gx1), None, None);
        assert_close(&gx1, &want.gx, &format!("grad_input alone {g:?}"));
        let mut gw1 = vec![f32::NAN; g.weight_len()];
        conv2d_backward(&g, &x, &w, &dy, None, Some(&mut gw1), None);
        assert_close(&gw1, &want.gw, &format!("grad_weight alone {g:?}"));
    }

    #[test]
    fn square_kernel_same_padding_batch() {
        check(Conv2dGeometry::new(2, 3, (7, 6), 4, (3, 3)).padding(1), 10);
    }

    #[test]
    fn pointwise_kernel_uses_plain_gemm() {
        let g = Conv2dGeometry::new(3, 5, (4, 5), 6, (1, 1));
        assert!(g.is_pointwise());
        check(g, 11);
    }

    #[test]
    fn strided_pointwise_and_padded_pointwise() {
        check(Conv2dGeometry::new(2, 3, (7, 8), 2, (1, 1)).stride(2), 12);
        check(Conv2dGeometry::new(2, 3, (5, 4), 2, (1, 1)).padding(1), 13);
    }

    #[test]
    fn stride_two_with_and_without_padding() {
        check(Conv2dGeometry::new(2, 3, (9, 8), 4, (3, 3)).stride(2), 14);
        check(
            Conv2dGeometry::new(2, 3, (9, 8), 4, (3, 3))
                .stride(2)
                .padding(1),
            15,
        );
        check(
            Conv2dGeometry::new(1, 2, (10, 10), 3, (4, 4))
                .stride(3)
                .padding(1),
            16,
        );
    }

    #[test]
    fn padding_wider_than_half_the_kernel() {
        check(Conv2dGeometry::new(2, 2, (5, 6), 3, (3, 3)).padding(2), 17);
        check(
            Conv2dGeometry::new(1, 2, (3, 3), 2, (2, 2))
                .padding(3)
                .stride(2),
            18,
        );
    }

    #[test]
    fn rectangular_kernel_stride_and_padding_on_non_square_input() {
        let g = Conv2dGeometry {
            stride: (2, 1),
            padding: (1, 0),
            ..Conv2dGeometry::new(2, 3, (6, 9), 4, (2, 3))
        };
        check(g, 19);
        let g = Conv2dGeometry {
            stride: (1, 3),
            padding: (0, 2),
            ..Conv2dGeometry::new(1, 2, (5, 7), 3, (3, 2))
        };
        check(g, 20);
    }

    #[test]
    fn same_padding_rectangular_kernels_copy_whole_row_runs() {
        // Stride 1 with output rows as wide as input rows takes the merged-row im2col path.
        for (i, (kh, kw)) in [(3, 5), (3, 1), (1, 3), (5, 3)].into_iter().enumerate() {
            let g = Conv2dGeometry {
                padding: (kh / 2, kw / 2),
                ..Conv2dGeometry::new(2, 3, (6, 7), 4, (kh, kw))
            };
            assert!(merged_rows(&g, 0, 0, g.out_h()).is_some());
            check(g, 30 + i as u64);
        }
    }

    #[test]
    fn single_input_channel_lenet_like() {
        check(
            Conv2dGeometry::new(3, 1, (12, 10), 4, (5, 5)).padding(2),
            21,
        );
    }

    #[test]
    fn batch_larger_than_group_count_with_uneven_groups() {
        check(Conv2dGeometry::new(11, 2, (5, 5), 3, (3, 3)).padding(1), 22);
        check(Conv2dGeometry::new(19, 3, (4, 4), 2, (1, 1)), 23);
    }

    #[test]
    fn several_row_blocks_per_image() {
        let g = Conv2dGeometry::new(2, 16, (50, 40), 5, (3, 3)).padding(1);
        assert!(
            g.block_rows() < g.out_h(),
            "the test should cover several row blocks"
        );
        check(g, 24);
    }

    #[test]
    fn kernel_as_large_as_padded_input() {
        check(Conv2dGeometry::new(2, 2, (3, 4), 2, (5, 6)).padding(1), 25);
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let g = Conv2dGeometry::new(10, 4, (9, 9), 6, (3, 3)).padding(1);
        let mut rng = ChaCha8Rng::seed_from_u64(26);
        let x = random(g.input_len(), &mut rng);
        let w = random(g.weight_len(), &mut rng);
        let dy = random(g.output_len(), &mut rng);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut y = vec![0.0; g.output_len()];
                let mut gx = vec![0.0; g.input_len()];
                let mut gw = vec![0.0; g.weight_len()];
                conv2d_forward(&g, &x, &w, None, &mut y);
                conv2d_backward(&g, &x, &w, &dy, Some(&mut gx), Some(&mut gw), None);
                (y, gx, gw)
            })
        };
        assert!(
            run(1) == run(3),
            "conv results changed with the number of threads"
        );
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn kernel_larger_than_padded_input_is_refused() {
        Conv2dGeometry::new(1, 1, (2, 2), 1, (4, 4))
            .padding(0)
            .out_h();
    }

    #[test]
    #[should_panic(expected = "weight length")]
    fn wrong_weight_length_is_refused() {
        let g = Conv2dGeometry::new(1, 2, (4, 4), 3, (3, 3));
        let mut y = vec![0.0; g.output_len()];
        conv2d_forward(&g, &vec![0.0; g.input_len()], &[0.0; 5], None, &mut y);
    }

    #[test]
    fn valid_range_matches_brute_force() {
        for size in 1..7 {
            for k_off in 0..5 {
                for stride in 1..4 {
                    for pad in 0..4 {
                        for out in 0..6 {
                            let inside = |ox: usize| {
                                let i = (ox * stride + k_off) as isize - pad as isize;
                                i >= 0 && i < size as isize
                            };
                            let (lo, hi) = valid_range(out, size, k_off, stride, pad);
                            for ox in 0..out {
                                assert_eq!(
                                    (lo..hi).contains(&ox),
                                    inside(ox),
                                    "{size} {k_off} {stride} {pad} {out} {ox}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
