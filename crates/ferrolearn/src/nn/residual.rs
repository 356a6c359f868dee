//! The ResNet basic block.

use std::fmt;

use rand::Rng;

use super::init::Init;
use super::{prefixed, BatchNorm, Context, Conv2d, Module};
use crate::autograd::Var;
use crate::tensor::Tensor;

/// He et al.'s basic residual block: `relu(bn(conv3x3(relu(bn(conv3x3(x))))) + shortcut(x))`,
/// where the shortcut is the identity, or a strided 1x1 convolution + batch norm when the
/// channel count or resolution changes.
pub struct ResidualBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    shortcut: Option<(Conv2d, BatchNorm)>,
}

impl ResidualBlock {
    /// A block from `in_channels` to `out_channels`, downsampling by `stride`.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        stride: usize,
        rng: &mut impl Rng,
    ) -> ResidualBlock {
        let init = Init::KaimingNormal;
        let shortcut = (stride != 1 || in_channels != out_channels).then(|| {
            (
                Conv2d::new(in_channels, out_channels, 1, stride, 0, false, init, rng),
                BatchNorm::new(out_channels),
            )
        });
        ResidualBlock {
            conv1: Conv2d::new(in_channels, out_channels, 3, stride, 1, false, init, rng),
            bn1: BatchNorm::new(out_channels),
            conv2: Conv2d::new(out_channels, out_channels, 3, 1, 1, false, init, rng),
            bn2: BatchNorm::new(out_channels),
            shortcut,
        }
    }

    fn parts(&self) -> Vec<(&str, &dyn Module)> {
        let mut parts: Vec<(&str, &dyn Module)> = vec![
            ("conv1", &self.conv1),
            ("bn1", &self.bn1),
            ("conv2", &self.conv2),
            ("bn2", &self.bn2),
        ];
        if let Some((c, b)) = &self.shortcut {
            parts.push(("shortcut.0", c));
            parts.push(("shortcut.1", b));
        }
        parts
    }

    fn parts_mut(&mut self) -> Vec<(&str, &mut dyn Module)> {
        let mut parts: Vec<(&str, &mut dyn Module)> = vec![
            ("conv1", &mut self.conv1),
            ("bn1", &mut self.bn1),
            ("conv2", &mut self.conv2),
            ("bn2", &mut self.bn2),
        ];
        if let Some((c, b)) = &mut self.shortcut {
            parts.push(("shortcut.0", c));
            parts.push(("shortcut.1", b));
        }
        parts
    }
}

impl Module for ResidualBlock {
    /// # Shapes
    /// `[N, Cin, H, W]` -> `[N, Cout, H / stride, W / stride]`.
    fn forward(&mut self, x: &Var, ctx: &mut Context) -> Var {
        let h = self.conv1.forward(x, ctx);
        let h = self.bn1.forward(&h, ctx).relu();
        let h = self.conv2.forward(&h, ctx);
        let h = self.bn2.forward(&h, ctx);
        let skip = match &mut self.shortcut {
            Some((conv, bn)) => {
                let s = conv.forward(x, ctx);
                bn.forward(&s, ctx)
            }
            None => x.clone(),
        };
        h.add(&skip).relu()
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        self.parts()
            .into_iter()
            .flat_map(|(name, m)| prefixed(name, m.parameters()))
            .collect()
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        self.parts_mut()
            .into_iter()
            .flat_map(|(name, m)| prefixed(name, m.parameters_mut()))
            .collect()
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        self.parts_mut()
            .into_iter()
            .flat_map(|(name, m)| prefixed(name, m.buffers_mut()))
            .collect()
    }
}

impl fmt::Display for ResidualBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.conv1.weight().shape();
        write!(
            f,
            "ResidualBlock({} -> {}, shortcut={}) [{} params]",
            s[1],
            s[0],
            if self.shortcut.is_some() {
                "1x1 conv"
            } else {
                "identity"
            },
            self.num_parameters()
        )
    }
}
