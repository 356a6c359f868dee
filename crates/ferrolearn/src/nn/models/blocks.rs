//! Pieces the CIFAR models share: convolutions, batch norm, pooling, as [`Layer`]s.

use crate::nn::init::Init;
use crate::nn::spec::{Layer, LayerSpec};
use crate::nn::ActivationKind;

/// A square convolution without bias (batch norm follows it).
pub(super) fn conv(
    name: &str,
    out_channels: usize,
    kernel: usize,
    stride: usize,
    init: Init,
) -> Layer {
    Layer::named(
        name,
        LayerSpec::Conv2d {
            out_channels,
            kernel,
            stride,
            padding: kernel / 2,
            bias: false,
            init,
        },
    )
}

/// Batch norm with PyTorch's defaults.
pub(super) fn bn(name: &str) -> Layer {
    Layer::named(name, LayerSpec::batch_norm())
}

/// An unnamed activation.
pub(super) fn act(kind: ActivationKind) -> Layer {
    LayerSpec::Activation(kind).into()
}

/// An unnamed max pooling of `kernel` moved by `stride` with `padding`.
pub(super) fn max_pool(kernel: usize, stride: usize, padding: usize) -> Layer {
    LayerSpec::MaxPool2d {
        kernel,
        stride: Some(stride),
        padding,
    }
    .into()
}

/// A linear layer (PyTorch's default initialisation).
pub(super) fn linear(name: &str, out_features: usize, bias: bool) -> Layer {
    Layer::named(
        name,
        LayerSpec::Linear {
            out_features,
            bias,
            init: Init::PytorchDefault,
        },
    )
}
