//! Batch normalisation (1-d over `[N, D]`, 2-d over `[N, C, H, W]`).

use std::fmt;

use super::{Context, Follower, Module};
use crate::autograd::{batch_norm_activation, Var};
use crate::tensor::kernels::NormActivation;
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
    /// The scale `gamma` is not trained (PyTorch: `weight.requires_grad = False`, as fast
    /// CIFAR recipes do); it is then saved as a buffer under the same name.
    freeze_weight: bool,
}

impl BatchNorm {
    /// Batch norm over `channels` with PyTorch's defaults (gamma 1, beta 0, running mean 0,
    /// running variance 1).
    pub fn new(channels: usize) -> BatchNorm {
        BatchNorm::with_options(channels, 1e-5, 0.1, false)
    }

    /// Batch norm with PyTorch's `eps` and `momentum` (the running statistics move by
    /// `momentum` of the way to each batch's), and optionally a frozen scale.
    pub fn with_options(
        channels: usize,
        eps: f32,
        momentum: f32,
        freeze_weight: bool,
    ) -> BatchNorm {
        let ones = Tensor::ones(&[channels]);
        BatchNorm {
            gamma: if freeze_weight {
                Var::constant(ones)
            } else {
                Var::parameter(ones)
            },
            beta: Var::parameter(Tensor::zeros(&[channels])),
            running_mean: Tensor::zeros(&[channels]),
            running_var: Tensor::ones(&[channels]),
            momentum,
            eps,
            freeze_weight,
        }
    }
}

impl BatchNorm {
    /// Batch norm of `x`, then `act` in the same pass.
    fn normalise(&mut self, x: &Var, act: Option<NormActivation>, ctx: &Context) -> Var {
        let stats = (
            &mut self.running_mean,
            &mut self.running_var,
            ctx.training,
            self.momentum,
            self.eps,
        );
        batch_norm_activation(x, &self.gamma, &self.beta, stats, act)
    }
}

impl Module for BatchNorm {
    /// # Shapes
    /// `[N, C]` or `[N, C, H, W]` -> the same.
    fn forward(&mut self, x: &Var, ctx: &mut Context) -> Var {
        self.normalise(x, None, ctx)
    }

    fn forward_then(&mut self, x: &Var, next: Follower, ctx: &mut Context) -> Option<Var> {
        match next {
            Follower::Activation(act) => Some(self.normalise(x, Some(act), ctx)),
            Follower::MaxPool(_) => None,
        }
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        if self.freeze_weight {
            return vec![("bias".into(), &self.beta)];
        }
        vec![("weight".into(), &self.gamma), ("bias".into(), &self.beta)]
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        if self.freeze_weight {
            return vec![("bias".into(), &mut self.beta)];
        }
        vec![
            ("weight".into(), &mut self.gamma),
            ("bias".into(), &mut self.beta),
        ]
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        let mut buffers: Vec<(String, &mut Tensor)> = Vec::new();
        if self.freeze_weight {
            buffers.push(("weight".into(), self.gamma.value_mut()));
        }
        buffers.push(("running_mean".into(), &mut self.running_mean));
        buffers.push(("running_var".into(), &mut self.running_var));
        buffers
    }
}

impl fmt::Display for BatchNorm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BatchNorm(channels={}, momentum={}, eps={}{}) [{} params]",
            self.gamma.shape()[0],
            self.momentum,
            self.eps,
            if self.freeze_weight {
                ", weight frozen"
            } else {
                ""
            },
            self.num_parameters()
        )
    }
}
