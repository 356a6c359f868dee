//! Batch normalisation (1-d over `[N, D]`, 2-d over `[N, C, H, W]`).

use std::fmt;

use super::{Context, Module};
use crate::autograd::{batch_norm, Var};
use crate::tensor::Tensor;

/// PyTorch's `BatchNorm1d` / `BatchNorm2d` (momentum 0.1, eps 1e-5, affine): normalises each
/// channel (axis 1) by batch statistics in training and running statistics in evaluation.
pub struct BatchNorm {
    gamma: Var,
    beta: Var,
    running_mean: Tensor,
    running_var: Tensor,
    momentum: f32,
    eps: f32,
}

impl BatchNorm {
    /// Batch norm over `channels` with PyTorch's defaults (gamma 1, beta 0, running mean 0,
    /// running variance 1).
    pub fn new(channels: usize) -> BatchNorm {
        BatchNorm {
            gamma: Var::parameter(Tensor::ones(&[channels])),
            beta: Var::parameter(Tensor::zeros(&[channels])),
            running_mean: Tensor::zeros(&[channels]),
            running_var: Tensor::ones(&[channels]),
            momentum: 0.1,
            eps: 1e-5,
        }
    }
}

impl Module for BatchNorm {
    /// # Shapes
    /// `[N, C]` or `[N, C, H, W]` -> the same.
    fn forward(&mut self, x: &Var, ctx: &mut Context) -> Var {
        batch_norm(
            x,
            &self.gamma,
            &self.beta,
            &mut self.running_mean,
            &mut self.running_var,
            ctx.training,
            self.momentum,
            self.eps,
        )
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        vec![("weight".into(), &self.gamma), ("bias".into(), &self.beta)]
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        vec![
            ("weight".into(), &mut self.gamma),
            ("bias".into(), &mut self.beta),
        ]
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        vec![
            ("running_mean".into(), &mut self.running_mean),
            ("running_var".into(), &mut self.running_var),
        ]
    }
}

impl fmt::Display for BatchNorm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BatchNorm(channels={}, momentum={}, eps={}) [{} params]",
            self.gamma.shape()[0],
            self.momentum,
            self.eps,
            self.num_parameters()
        )
    }
}
