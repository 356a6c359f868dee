//! Layers, initialisation and models built on [`crate::autograd`].
//!
//! A layer is a config (its constructor's arguments) -> an initialised struct of named
//! parameters -> [`Module::forward`]. Parameters are gradient-requiring leaf [`Var`]s, named as
//! in PyTorch's `state_dict` (`0.weight`, `3.running_mean`), so checkpoints and reference
//! weights line up.

mod activation;
mod conv;
pub mod init;
mod linear;
pub mod models;
mod norm;
mod parallel;
mod pool;
mod residual;
mod sequential;
pub mod spec;
mod whitening;

use std::fmt;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use activation::{Activation, ActivationKind, Dropout, Maxout, Prelu};
pub use conv::Conv2d;
pub use linear::Linear;
pub use norm::BatchNorm;
pub use parallel::{Merge, Parallel};
pub use pool::{AvgPool2d, Flatten, GlobalAvgPool, MaxPool2d, Scale, ShortcutPad};
pub use residual::ResidualBlock;
pub use sequential::Sequential;
pub use whitening::{whitening_filters, PatchWhitening};

use crate::autograd::Var;
use crate::tensor::kernels::NormActivation;
use crate::tensor::{PoolWindow, Tensor};

/// What a forward pass needs besides its input: the mode, and the RNG dropout draws from.
pub struct Context {
    /// Training mode (dropout active, batch norm on batch statistics) or evaluation.
    pub training: bool,
    /// The source of every random choice made in forward passes.
    pub rng: ChaCha8Rng,
}

impl Context {
    /// A training-mode context seeded with `seed`.
    pub fn training(seed: u64) -> Context {
        Context {
            training: true,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// An evaluation-mode context (no randomness is drawn).
    pub fn eval() -> Context {
        Context {
            training: false,
            rng: ChaCha8Rng::seed_from_u64(0),
        }
    }
}

/// A layer or a network of layers.
pub trait Module: fmt::Display + Send {
    /// Applies the module. Batch norm updates its running statistics here in training mode.
    fn forward(&mut self, x: &Var, ctx: &mut Context) -> Var;

    /// The trainable parameters with their names, in a fixed order.
    fn parameters(&self) -> Vec<(String, &Var)>;

    /// The trainable parameters, mutably (optimizers, checkpoint loading), in the same order.
    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)>;

    /// Non-trainable state saved with the weights (batch norm's running statistics).
    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        Vec::new()
    }

    /// What this module is when the layer before it may apply it in its own op (see
    /// [`forward_then`](Self::forward_then)): ReLU, GELU, max pooling.
    fn as_follower(&self) -> Option<Follower> {
        None
    }

    /// This module followed by `next` as one op with the same values, for a module that can
    /// fuse it (batch norm then ReLU/GELU, convolution then max pooling); `None` for the
    /// others, which [`Sequential`] then runs one after the other.
    fn forward_then(&mut self, _x: &Var, _next: Follower, _ctx: &mut Context) -> Option<Var> {
        None
    }

    /// The number of trainable scalars.
    fn num_parameters(&self) -> usize {
        self.parameters()
            .iter()
            .map(|(_, v)| v.value().numel())
            .sum()
    }
}

/// A parameter-free layer that the layer before it may apply in its own op: batch norm fuses
/// an activation (one pass, only its statistics kept), a convolution fuses max pooling (its
/// full-size output is then never kept for backward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follower {
    /// ReLU or GELU.
    Activation(NormActivation),
    /// Max pooling with this window.
    MaxPool(PoolWindow),
}

/// The named parameters of a layer with a weight and an optional bias.
pub(crate) fn weight_and_bias<'a>(
    weight: &'a Var,
    bias: Option<&'a Var>,
) -> Vec<(String, &'a Var)> {
    std::iter::once(("weight".to_string(), weight))
        .chain(bias.map(|b| ("bias".to_string(), b)))
        .collect()
}

/// [`weight_and_bias`], mutably.
pub(crate) fn weight_and_bias_mut<'a>(
    weight: &'a mut Var,
    bias: Option<&'a mut Var>,
) -> Vec<(String, &'a mut Var)> {
    std::iter::once(("weight".to_string(), weight))
        .chain(bias.map(|b| ("bias".to_string(), b)))
        .collect()
}

/// Prefixes every name in `items` with `prefix.`.
pub(crate) fn prefixed<T>(prefix: &str, items: Vec<(String, T)>) -> Vec<(String, T)> {
    items
        .into_iter()
        .map(|(name, v)| (format!("{prefix}.{name}"), v))
        .collect()
}
