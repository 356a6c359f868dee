//! Convolution and pooling on NCHW tensors, checked here and computed by
//! [`super::kernels`].

use super::check::{fmt_shape, ShapeError};
use super::kernels::{conv, pool, Conv2dGeometry, Pool2dGeometry};
use super::storage;
use super::Tensor;

/// A square pooling window of `kernel x kernel` moved by `stride`, with `padding` on every
/// side (at most half the window, as PyTorch requires), floor mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolWindow {
    /// Window side.
    pub kernel: usize,
    /// Step between windows.
    pub stride: usize,
    /// Implicit padding on every side: ignored by max pooling, zeros for average pooling.
    pub padding: usize,
}

impl PoolWindow {
    /// A `kernel x kernel` window with the given stride and no padding.
    pub fn new(kernel: usize, stride: usize) -> PoolWindow {
        PoolWindow {
            kernel,
            stride,
            padding: 0,
        }
    }

    /// The same window with `padding` on every side.
    pub fn padding(self, padding: usize) -> PoolWindow {
        PoolWindow { padding, ..self }
    }

    fn geometry(&self, op: &'static str, shape: &[usize]) -> Pool2dGeometry {
        if shape.len() != 4 {
            ShapeError::new(
                op,
                format!("input {} is not [N, C, H, W]", fmt_shape(shape)),
            )
            .raise();
        }
        let (h, w) = (shape[2], shape[3]);
        let (k, p) = (self.kernel, self.padding);
        if k == 0 || self.stride == 0 || k > h + 2 * p || k > w + 2 * p || 2 * p > k {
            ShapeError::new(
                op,
                format!(
                    "window {k}x{k} with stride {s} and padding {p} does not fit input {}",
                    fmt_shape(shape),
                    s = self.stride
                ),
            )
            .raise();
        }
        Pool2dGeometry::new(shape[0], shape[1], (h, w), k, self.stride).padding(p)
    }
}

fn conv_geometry(
    op: &'static str,
    x: &[usize],
    w: &[usize],
    stride: usize,
    padding: usize,
) -> Conv2dGeometry {
    let fail = |why: String| -> ! {
        ShapeError::new(
            op,
            format!("input {} with weight {}: {why}", fmt_shape(x), fmt_shape(w)),
        )
        .raise()
    };
    if x.len() != 4 || w.len() != 4 {
        fail("expected input [N, C, H, W] and weight [Cout, Cin, kH, kW]".into());
    }
    if x[1] != w[1] {
        fail(format!(
            "input channels {} != weight channels {}",
            x[1], w[1]
        ));
    }
    if stride == 0 {
        fail("stride must be >= 1".into());
    }
    if x[2] + 2 * padding < w[2] || x[3] + 2 * padding < w[3] {
        fail(format!(
            "kernel larger than the padded input (padding {padding})"
        ));
    }
    Conv2dGeometry::new(x[0], x[1], (x[2], x[3]), w[0], (w[2], w[3]))
        .stride(stride)
        .padding(padding)
}

impl Tensor {
    /// 2-d cross-correlation of `self` (`[N, Cin, H, W]`) with `weight`
    /// (`[Cout, Cin, kH, kW]`) plus an optional `bias` (`[Cout]`), zero padding on all sides.
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: usize,
        padding: usize,
    ) -> Tensor {
        let g = conv_geometry("conv2d", self.shape(), weight.shape(), stride, padding);
        if let Some(b) = bias {
            if b.shape() != [g.c_out] {
                ShapeError::new(
                    "conv2d",
                    format!(
                        "bias {} does not match weight {}",
                        fmt_shape(b.shape()),
                        fmt_shape(weight.shape())
                    ),
                )
                .raise();
            }
        }
        let mut out = storage::take(g.output_len());
        conv::conv2d_forward(
            &g,
            self.data(),
            weight.data(),
            bias.map(Tensor::data),
            &mut out,
        );
        Tensor::from_vec(out, &[g.n, g.c_out, g.out_h(), g.out_w()])
    }

    /// Gradients of a convolution for the upstream gradient `grad_out`: input (skipped and
    /// returned as `None` when `need_input` is false), weight and bias.
    pub fn conv2d_backward(
        x: &Tensor,
        weight: &Tensor,
        grad_out: &Tensor,
        stride: usize,
        padding: usize,
        need_input: bool,
    ) -> (Option<Tensor>, Tensor, Tensor) {
        let g = conv_geometry(
            "conv2d_backward",
            x.shape(),
            weight.shape(),
            stride,
            padding,
        );
        let mut gx = need_input.then(|| storage::take(g.input_len()));
        let mut gw = vec![0.0; g.weight_len()];
        let mut gb = vec![0.0; g.c_out];
        conv::conv2d_backward(
            &g,
            x.data(),
            weight.data(),
            grad_out.data(),
            gx.as_deref_mut(),
            Some(&mut gw),
            Some(&mut gb),
        );
        (
            gx.map(|v| Tensor::from_vec(v, x.shape())),
            Tensor::from_vec(gw, weight.shape()),
            Tensor::from_vec(gb, &[g.c_out]),
        )
    }

    /// Max pooling; also returns, per output, the flat index within its `H x W` plane of the
    /// input element it took (what backward routes the gradient to).
    pub fn max_pool2d(&self, window: &PoolWindow) -> (Tensor, Vec<u32>) {
        let g = window.geometry("max_pool2d", self.shape());
        let mut out = storage::take(g.output_len());
        let mut argmax = vec![0u32; g.output_len()];
        pool::max_pool2d_forward(&g, self.data(), &mut out, &mut argmax);
        (
            Tensor::from_vec(out, &[g.n, g.c, g.out_h(), g.out_w()]),
            argmax,
        )
    }

    /// The gradient of max pooling: each output's gradient added at its argmax.
    pub fn max_pool2d_backward(
        grad_out: &Tensor,
        argmax: &[u32],
        input_shape: &[usize],
        window: &PoolWindow,
    ) -> Tensor {
        let g = window.geometry("max_pool2d_backward", input_shape);
        let mut gx = storage::take(g.input_len());
        pool::max_pool2d_backward(&g, grad_out.data(), argmax, &mut gx);
        Tensor::from_vec(gx, input_shape)
    }

    /// Average pooling (each window's sum divided by `kernel^2`).
    pub fn avg_pool2d(&self, window: &PoolWindow) -> Tensor {
        let g = window.geometry("avg_pool2d", self.shape());
        let mut out = storage::take(g.output_len());
        pool::avg_pool2d_forward(&g, self.data(), &mut out);
        Tensor::from_vec(out, &[g.n, g.c, g.out_h(), g.out_w()])
    }

    /// The gradient of average pooling: each output's gradient spread over its window.
    pub fn avg_pool2d_backward(
        grad_out: &Tensor,
        input_shape: &[usize],
        window: &PoolWindow,
    ) -> Tensor {
        let g = window.geometry("avg_pool2d_backward", input_shape);
        let mut gx = storage::take(g.input_len());
        pool::avg_pool2d_backward(&g, grad_out.data(), &mut gx);
        Tensor::from_vec(gx, input_shape)
    }
}
