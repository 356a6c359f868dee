//! [`Conv2dGeometry`]: the shape of a 2-d convolution, and how its work is cut into blocks
//! and parallel groups.

use super::super::gemm::Threading;

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
    pub(super) fn validate(&self, op: &str) {
        assert!(
            self.c_in >= 1 && self.c_out >= 1 && self.h >= 1 && self.w >= 1,
            "{op}: channel counts and input sizes must be >= 1 in {self:?}"
        );
        self.out_h();
        self.out_w();
    }

    /// Input row read by output row `oy` at kernel row `ky`, or `None` when it is padding.
    pub(super) fn input_row(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.stride.0 + ky)
            .checked_sub(self.padding.0)
            .filter(|&iy| iy < self.h)
    }

    /// Rows of the im2col matrix, `C_in kH kW` (also the length of one filter).
    pub(super) fn col_rows(&self) -> usize {
        self.c_in * self.kh * self.kw
    }

    pub(super) fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == (1, 1) && self.padding == (0, 0)
    }

    /// Output rows per im2col block: as many as fit in [`COL_BLOCK_ELEMS`], spread evenly.
    pub(super) fn block_rows(&self) -> usize {
        let (oh, ow) = (self.out_h(), self.out_w());
        let per_row = (self.col_rows() * ow).max(1);
        let rows = (COL_BLOCK_ELEMS / per_row).clamp(1, oh.max(1));
        let blocks = oh.div_ceil(rows).max(1);
        oh.div_ceil(blocks).max(1)
    }

    /// Images per parallel group.
    pub(super) fn group_size(&self) -> usize {
        self.n.div_ceil(MAX_GROUPS).max(1)
    }

    /// Gemm threading inside a group: the groups already fill the threads unless there are
    /// fewer groups than threads (a batch of one image, say).
    pub(super) fn threading(&self) -> Threading {
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
