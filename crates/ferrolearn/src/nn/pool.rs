//! Parameter-free reshaping layers: max, average and global average pooling, flatten, the
//! option-A residual shortcut, and a constant scale.

use std::fmt;

use super::{Context, Follower, Module};
use crate::autograd::Var;
use crate::tensor::PoolWindow;

/// Max pooling over `kernel x kernel` windows moved by `stride`, with `padding` (which never
/// wins a window) on every side, floor mode.
pub struct MaxPool2d {
    window: PoolWindow,
}

impl MaxPool2d {
    /// A pooling layer without padding; PyTorch's default stride is the kernel size.
    pub fn new(kernel: usize, stride: usize) -> MaxPool2d {
        MaxPool2d::padded(kernel, stride, 0)
    }

    /// A pooling layer with `padding` on every side (at most `kernel / 2`).
    pub fn padded(kernel: usize, stride: usize, padding: usize) -> MaxPool2d {
        MaxPool2d {
            window: PoolWindow::new(kernel, stride).padding(padding),
        }
    }
}

/// Average pooling over `kernel x kernel` windows moved by `stride` (divides by `k^2`, padding
/// counted as zeros).
pub struct AvgPool2d {
    window: PoolWindow,
}

impl AvgPool2d {
    /// A pooling layer without padding; PyTorch's default stride is the kernel size.
    pub fn new(kernel: usize, stride: usize) -> AvgPool2d {
        AvgPool2d::padded(kernel, stride, 0)
    }

    /// A pooling layer with `padding` on every side (at most `kernel / 2`).
    pub fn padded(kernel: usize, stride: usize, padding: usize) -> AvgPool2d {
        AvgPool2d {
            window: PoolWindow::new(kernel, stride).padding(padding),
        }
    }
}

/// The mean of each feature map, `[N, C, H, W]` -> `[N, C]`: PyTorch's
/// `AdaptiveAvgPool2d(1)` + `Flatten`, the head of ResNets and GoogLeNet.
pub struct GlobalAvgPool;

/// He et al.'s option-A shortcut: the input subsampled by `stride` and zero-padded on channels
/// to `out_channels`, `[N, C, H, W]` -> `[N, out_channels, ceil(H/s), ceil(W/s)]`.
pub struct ShortcutPad {
    stride: usize,
    out_channels: usize,
}

impl ShortcutPad {
    /// A shortcut to `out_channels` channels, subsampling by `stride`.
    pub fn new(stride: usize, out_channels: usize) -> ShortcutPad {
        ShortcutPad {
            stride,
            out_channels,
        }
    }
}

/// Multiplies by a constant (fastnet's `Mul(1/9)` on the logits).
pub struct Scale(pub f32);

/// `[N, ...]` -> `[N, product of the rest]`, between convolutional and linear layers.
pub struct Flatten;

/// Implements [`Module`] for a layer without parameters.
macro_rules! parameter_free {
    ($layer:ty, |$s:ident, $x:ident| $forward:expr) => {
        impl Module for $layer {
            fn forward(&mut self, $x: &Var, _ctx: &mut Context) -> Var {
                let $s = &*self;
                $forward
            }

            fn parameters(&self) -> Vec<(String, &Var)> {
                Vec::new()
            }

            fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
                Vec::new()
            }
        }
    };
}

impl Module for MaxPool2d {
    fn forward(&mut self, x: &Var, _ctx: &mut Context) -> Var {
        x.max_pool2d_window(self.window)
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        Vec::new()
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        Vec::new()
    }

    fn as_follower(&self) -> Option<Follower> {
        Some(Follower::MaxPool(self.window))
    }
}

parameter_free!(AvgPool2d, |s, x| x.avg_pool2d_window(s.window));
parameter_free!(Flatten, |_s, x| x.flatten());
parameter_free!(GlobalAvgPool, |_s, x| x.global_avg_pool());
parameter_free!(ShortcutPad, |s, x| x.shortcut_pad(s.stride, s.out_channels));
parameter_free!(Scale, |s, x| x.mul_scalar(s.0));

/// Writes `Name(kernel=k, stride=s)`, and the padding when there is one.
fn fmt_window(f: &mut fmt::Formatter<'_>, name: &str, w: &PoolWindow) -> fmt::Result {
    write!(f, "{name}(kernel={}, stride={}", w.kernel, w.stride)?;
    if w.padding > 0 {
        write!(f, ", padding={}", w.padding)?;
    }
    write!(f, ")")
}

impl fmt::Display for MaxPool2d {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_window(f, "MaxPool2d", &self.window)
    }
}

impl fmt::Display for AvgPool2d {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_window(f, "AvgPool2d", &self.window)
    }
}

impl fmt::Display for GlobalAvgPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GlobalAvgPool")
    }
}

impl fmt::Display for ShortcutPad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ShortcutPad(stride={}, out_channels={})",
            self.stride, self.out_channels
        )
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scale({})", self.0)
    }
}

impl fmt::Display for Flatten {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flatten")
    }
}

pub(crate) use parameter_free;
