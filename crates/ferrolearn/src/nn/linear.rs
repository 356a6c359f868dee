//! The fully connected layer.

use std::fmt;

use rand::Rng;

use super::init::{default_bias, Init};
use super::{weight_and_bias, weight_and_bias_mut, Context, Module};
use crate::autograd::Var;

/// `y = x W^T + b`, PyTorch's `nn.Linear` (weight `[out, in]`).
pub struct Linear {
    weight: Var,
    bias: Option<Var>,
}

impl Linear {
    /// A layer from `in_features` to `out_features`, weight drawn by `init`, bias (if any)
    /// as PyTorch's default.
    pub fn new(
        in_features: usize,
        out_features: usize,
        bias: bool,
        init: Init,
        rng: &mut impl Rng,
    ) -> Linear {
        let weight = init.weight(&[out_features, in_features], in_features, out_features, rng);
        let bias = bias.then(|| Var::parameter(default_bias(out_features, in_features, rng)));
        Linear {
            weight: Var::parameter(weight),
            bias,
        }
    }
}

impl Module for Linear {
    /// # Shapes
    /// `[N, in]` -> `[N, out]`.
    fn forward(&mut self, x: &Var, _ctx: &mut Context) -> Var {
        x.linear(&self.weight, self.bias.as_ref())
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        weight_and_bias(&self.weight, self.bias.as_ref())
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        weight_and_bias_mut(&mut self.weight, self.bias.as_mut())
    }
}

impl fmt::Display for Linear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.weight.shape();
        write!(
            f,
            "Linear(in={}, out={}, bias={}) [{} params]",
            s[1],
            s[0],
            self.bias.is_some(),
            self.num_parameters()
        )
    }
}
