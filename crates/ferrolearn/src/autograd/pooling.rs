//! Differentiable pooling (max, average, global average; max pooling fused onto a convolution)
//! and the option-A ResNet shortcut: the ops that reduce or resample feature maps.

use super::op::{Op, PoolAfter};
use super::var::Var;
use crate::tensor::{PoolWindow, ShapeError};

impl Var {
    /// Max pooling with a `kernel x kernel` window, no padding, floor mode.
    ///
    /// # Shapes
    /// `[N, C, H, W]` -> `[N, C, (H - k)/s + 1, (W - k)/s + 1]`.
    pub fn max_pool2d(&self, kernel: usize, stride: usize) -> Var {
        self.max_pool2d_window(PoolWindow::new(kernel, stride))
    }

    /// Max pooling with any window, padding included (padding never wins a window).
    ///
    /// # Shapes
    /// `[N, C, H, W]` -> `[N, C, (H + 2p - k)/s + 1, (W + 2p - k)/s + 1]`.
    pub fn max_pool2d_window(&self, window: PoolWindow) -> Var {
        let (value, argmax) = self.value().max_pool2d(&window);
        let op = Op::MaxPool2d {
            x: self.clone(),
            window,
            argmax,
        };
        Var::from_op(value, op)
    }

    /// [`conv2d`](Self::conv2d) then [`max_pool2d_window`](Self::max_pool2d_window) as one
    /// op, with the same values and gradients: the convolution's output (the largest tensor of
    /// a conv-pool block) is freed once pooled instead of being kept until backward.
    pub fn conv2d_max_pool(
        &self,
        weight: &Var,
        bias: Option<&Var>,
        stride: usize,
        padding: usize,
        window: PoolWindow,
    ) -> Var {
        let conv = self
            .value()
            .conv2d(weight.value(), bias.map(Var::value), stride, padding);
        let (value, argmax) = conv.max_pool2d(&window);
        let op = Op::Conv2d {
            x: self.clone(),
            weight: weight.clone(),
            bias: bias.cloned(),
            stride,
            padding,
            pool: Some(PoolAfter {
                window,
                argmax,
                conv_shape: conv.shape().to_vec(),
            }),
        };
        Var::from_op(value, op)
    }

    /// Average pooling with a `kernel x kernel` window (divides by `k * k`), no padding.
    ///
    /// # Shapes
    /// `[N, C, H, W]` -> `[N, C, (H - k)/s + 1, (W - k)/s + 1]`.
    pub fn avg_pool2d(&self, kernel: usize, stride: usize) -> Var {
        self.avg_pool2d_window(PoolWindow::new(kernel, stride))
    }

    /// Average pooling with any window; padding counts as zeros in the `k * k` divisor
    /// (PyTorch's default `count_include_pad=True`).
    ///
    /// # Shapes
    /// `[N, C, H, W]` -> `[N, C, (H + 2p - k)/s + 1, (W + 2p - k)/s + 1]`.
    pub fn avg_pool2d_window(&self, window: PoolWindow) -> Var {
        let value = self.value().avg_pool2d(&window);
        Var::from_op(
            value,
            Op::AvgPool2d {
                x: self.clone(),
                window,
            },
        )
    }

    /// The mean of every feature map: PyTorch's `AdaptiveAvgPool2d(1)` followed by `Flatten`.
    ///
    /// # Shapes
    /// `[N, C, H, W]` -> `[N, C]`.
    pub fn global_avg_pool(&self) -> Var {
        let shape = self.shape();
        if shape.len() != 4 {
            ShapeError::new(
                "global_avg_pool",
                format!("input {shape:?} is not [N, C, H, W]"),
            )
            .raise();
        }
        let (n, c) = (shape[0], shape[1]);
        let value = self.value().mean_axes(&[2, 3], false).reshape(&[n, c]);
        Var::from_op(value, Op::GlobalAvgPool(self.clone()))
    }

    /// He et al.'s option-A shortcut: `x[:, :, ::stride, ::stride]` zero-padded on channels
    /// to `out_channels` (half the new channels, rounded down, before the input's).
    ///
    /// # Shapes
    /// `[N, C, H, W]` -> `[N, out_channels, ceil(H / stride), ceil(W / stride)]`.
    pub fn shortcut_pad(&self, stride: usize, out_channels: usize) -> Var {
        let value = self.value().shortcut_pad(stride, out_channels);
        Var::from_op(
            value,
            Op::ShortcutPad {
                x: self.clone(),
                stride,
            },
        )
    }
}
