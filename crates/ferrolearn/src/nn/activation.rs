//! Activation layers, PReLU (learned slopes), Maxout and dropout.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::pool::parameter_free;
use super::{Context, Follower, Module};
use crate::autograd::Var;
use crate::tensor::kernels::NormActivation;
use crate::tensor::Tensor;

/// A parameter-free activation function.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActivationKind {
    /// `max(x, 0)`.
    Relu,
    /// `x Phi(x)`, the exact (erf) GELU.
    Gelu,
    /// `x` or `slope * x` for negative inputs.
    LeakyRelu {
        /// The negative slope (PyTorch's default 0.01).
        #[serde(default = "default_leaky_slope")]
        slope: f32,
    },
    /// `x` or `alpha (e^x - 1)` for negative inputs.
    Elu {
        /// The saturation value for large negative inputs (default 1).
        #[serde(default = "default_elu_alpha")]
        alpha: f32,
    },
    /// Self-normalising ELU.
    Selu,
    /// Logistic sigmoid.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `ln(1 + e^x)`.
    Softplus,
}

fn default_leaky_slope() -> f32 {
    0.01
}

fn default_elu_alpha() -> f32 {
    1.0
}

impl ActivationKind {
    /// Applies the function.
    pub fn apply(self, x: &Var) -> Var {
        match self {
            ActivationKind::Relu => x.relu(),
            ActivationKind::Gelu => x.gelu(),
            ActivationKind::LeakyRelu { slope } => x.leaky_relu(slope),
            ActivationKind::Elu { alpha } => x.elu(alpha),
            ActivationKind::Selu => x.selu(),
            ActivationKind::Sigmoid => x.sigmoid(),
            ActivationKind::Tanh => x.tanh(),
            ActivationKind::Softplus => x.softplus(1.0),
        }
    }

    /// Parses a name as used on the command line: relu, gelu, leaky_relu, elu, selu, sigmoid,
    /// tanh, softplus.
    pub fn from_name(name: &str) -> Option<ActivationKind> {
        Some(match name {
            "relu" => ActivationKind::Relu,
            "gelu" => ActivationKind::Gelu,
            "leaky_relu" => ActivationKind::LeakyRelu { slope: 0.01 },
            "elu" => ActivationKind::Elu { alpha: 1.0 },
            "selu" => ActivationKind::Selu,
            "sigmoid" => ActivationKind::Sigmoid,
            "tanh" => ActivationKind::Tanh,
            "softplus" => ActivationKind::Softplus,
            _ => return None,
        })
    }
}

/// A layer applying an [`ActivationKind`].
pub struct Activation(pub ActivationKind);

impl Module for Activation {
    fn forward(&mut self, x: &Var, _ctx: &mut Context) -> Var {
        self.0.apply(x)
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        Vec::new()
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        Vec::new()
    }

    fn as_follower(&self) -> Option<Follower> {
        match self.0 {
            ActivationKind::Relu => Some(Follower::Activation(NormActivation::Relu)),
            ActivationKind::Gelu => Some(Follower::Activation(NormActivation::Gelu)),
            _ => None,
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Maxout: the maximum of each group of `pieces` consecutive features.
pub struct Maxout {
    pieces: usize,
}

impl Maxout {
    /// Groups of `pieces` features.
    pub fn new(pieces: usize) -> Maxout {
        Maxout { pieces }
    }
}

parameter_free!(Maxout, |s, x| x.maxout(s.pieces));

impl fmt::Display for Maxout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Maxout(pieces={})", self.pieces)
    }
}

/// Inverted dropout with drop probability `p` (identity in evaluation mode).
pub struct Dropout {
    p: f32,
}

impl Dropout {
    /// Drops each element with probability `p`.
    pub fn new(p: f32) -> Dropout {
        Dropout { p }
    }
}

impl Module for Dropout {
    fn forward(&mut self, x: &Var, ctx: &mut Context) -> Var {
        x.dropout(self.p, ctx.training, &mut ctx.rng)
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        Vec::new()
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        Vec::new()
    }
}

impl fmt::Display for Dropout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dropout(p={})", self.p)
    }
}

/// PReLU with one learned slope per channel (PyTorch's `num_parameters = C`, init 0.25).
pub struct Prelu {
    alpha: Var,
}

impl Prelu {
    /// Slopes for `channels` channels, each starting at 0.25.
    pub fn new(channels: usize) -> Prelu {
        Prelu {
            alpha: Var::parameter(Tensor::full(&[channels], 0.25)),
        }
    }
}

impl Module for Prelu {
    fn forward(&mut self, x: &Var, _ctx: &mut Context) -> Var {
        x.prelu(&self.alpha)
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        vec![("weight".into(), &self.alpha)]
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        vec![("weight".into(), &mut self.alpha)]
    }
}

impl fmt::Display for Prelu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PReLU(channels={}) [{} params]",
            self.alpha.shape()[0],
            self.num_parameters()
        )
    }
}
