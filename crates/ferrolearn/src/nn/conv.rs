//! The 2-d convolution layer.

use std::fmt;

use rand::Rng;

use super::init::{default_bias, Init};
use super::{weight_and_bias, weight_and_bias_mut, Context, Follower, Module};
use crate::autograd::Var;

/// PyTorch's `nn.Conv2d` (dilation 1, groups 1): weight `[Cout, Cin, k, k]`, zero padding.
pub struct Conv2d {
    weight: Var,
    bias: Option<Var>,
    stride: usize,
    padding: usize,
}

impl Conv2d {
    /// `in_channels -> out_channels` with a square `kernel`, weight drawn by `init` (fans:
    /// `Cin*k*k`, `Cout*k*k`), bias as PyTorch's default.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        bias: bool,
        init: Init,
        rng: &mut impl Rng,
    ) -> Conv2d {
        let fan_in = in_channels * kernel * kernel;
        let fan_out = out_channels * kernel * kernel;
        let weight = init.weight(
            &[out_channels, in_channels, kernel, kernel],
            fan_in,
            fan_out,
            rng,
        );
        let bias = bias.then(|| Var::parameter(default_bias(out_channels, fan_in, rng)));
        Conv2d {
            weight: Var::parameter(weight),
            bias,
            stride,
            padding,
        }
    }

    /// The filters `[Cout, Cin, k, k]` (for pictures of first-layer filters).
    pub fn weight(&self) -> &Var {
        &self.weight
    }
}

impl Module for Conv2d {
    /// # Shapes
    /// `[N, Cin, H, W]` -> `[N, Cout, (H + 2p - k)/s + 1, (W + 2p - k)/s + 1]`.
    fn forward(&mut self, x: &Var, _ctx: &mut Context) -> Var {
        x.conv2d(&self.weight, self.bias.as_ref(), self.stride, self.padding)
    }

    fn forward_then(&mut self, x: &Var, next: Follower, _ctx: &mut Context) -> Option<Var> {
        match next {
            Follower::MaxPool(window) => Some(x.conv2d_max_pool(
                &self.weight,
                self.bias.as_ref(),
                self.stride,
                self.padding,
                window,
            )),
            Follower::Activation(_) => None,
        }
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        weight_and_bias(&self.weight, self.bias.as_ref())
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        weight_and_bias_mut(&mut self.weight, self.bias.as_mut())
    }
}

impl fmt::Display for Conv2d {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.weight.shape();
        write!(
            f,
            "Conv2d({} -> {}, kernel={}x{}, stride={}, padding={}) [{} params]",
            s[1],
            s[0],
            s[2],
            s[3],
            self.stride,
            self.padding,
            self.num_parameters()
        )
    }
}
