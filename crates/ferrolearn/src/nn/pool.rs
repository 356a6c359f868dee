//! Parameter-free reshaping layers: max and average pooling, flatten.

use std::fmt;

use super::{Context, Module};
use crate::autograd::Var;

/// Max pooling over `kernel x kernel` windows moved by `stride` (no padding, floor mode).
pub struct MaxPool2d {
    kernel: usize,
    stride: usize,
}

impl MaxPool2d {
    /// A pooling layer; PyTorch's default stride is the kernel size.
    pub fn new(kernel: usize, stride: usize) -> MaxPool2d {
        MaxPool2d { kernel, stride }
    }
}

/// Average pooling over `kernel x kernel` windows moved by `stride` (divides by `k^2`).
pub struct AvgPool2d {
    kernel: usize,
    stride: usize,
}

impl AvgPool2d {
    /// A pooling layer; PyTorch's default stride is the kernel size.
    pub fn new(kernel: usize, stride: usize) -> AvgPool2d {
        AvgPool2d { kernel, stride }
    }
}

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

parameter_free!(MaxPool2d, |s, x| x.max_pool2d(s.kernel, s.stride));
parameter_free!(AvgPool2d, |s, x| x.avg_pool2d(s.kernel, s.stride));
parameter_free!(Flatten, |_s, x| x.flatten());

impl fmt::Display for MaxPool2d {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MaxPool2d(kernel={}, stride={})",
            self.kernel, self.stride
        )
    }
}

impl fmt::Display for AvgPool2d {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AvgPool2d(kernel={}, stride={})",
            self.kernel, self.stride
        )
    }
}

impl fmt::Display for Flatten {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flatten")
    }
}

pub(crate) use parameter_free;
