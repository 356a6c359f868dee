//! Optimizers, learning-rate schedules (per epoch and per step), gradient clipping, L1/L2
//! penalties and the moving average of weights used for evaluation.
//!
//! The optimizers follow PyTorch's `torch.optim` update rules exactly (see each type), in order
//! of increasing complexity: [`Sgd`] (momentum, dampening, Nesterov, weight decay),
//! [`Adagrad`], [`RmsProp`], [`Adam`] and [`AdamW`]. They work on raw parameter slices: a step
//! receives the parameters and their gradients as two lists **in the same order every call**;
//! per-parameter state (momentum buffers, running averages) is kept in that order, so parameter
//! `k` of one step must be parameter `k` of the next, and of a checkpoint restored with
//! [`Optimizer::load_state`].
//!
//! Each optimizer is built from a hyperparameter struct with PyTorch's defaults
//! (`SgdConfig::default()` ...) through `new`, which validates every value once
//! (`lr must be > 0, got -1`); the optimizer type itself cannot hold invalid settings.
//!
//! Learning rates and other hyperparameters are `f64`, as in PyTorch (Python floats): schedule
//! arithmetic and bias corrections happen in `f64`, and only the per-element update runs in
//! `f32`.

mod adagrad;
mod adam;
mod clip;
mod ema;
mod penalty;
mod rmsprop;
mod schedule;
mod sgd;
mod state;
mod step_schedule;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig, AdamW};
pub use clip::clip_grad_norm;
pub use ema::Ema;
pub use penalty::Penalty;
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use schedule::{
    CosineAnnealingLr, ExponentialLr, PlateauState, ReduceLrOnPlateau, ReduceLrOnPlateauConfig,
    Schedule, ScheduleKind, ScheduleState, StepLr,
};
pub use sgd::{Sgd, SgdConfig};
pub use state::OptimizerState;
pub use step_schedule::{
    Anneal, MultiStepFractions, OneCycleConfig, OneCycleLr, StepSchedule, WarmupCosine,
    WarmupLinear,
};

use crate::Result;

/// A first-order optimizer: turns gradients into parameter updates, keeping per-parameter state.
pub trait Optimizer {
    /// Updates every parameter in place from its gradient.
    ///
    /// `params[k]` and `grads[k]` must have the same length, and the list must describe the
    /// same parameters, in the same order, at every call (the state is kept per position).
    ///
    /// # Panics
    /// When the two lists differ in length, a gradient's length differs from its parameter's,
    /// or the parameter list differs from the one of earlier steps. These are programming
    /// errors; state read from a file is checked by [`Optimizer::load_state`] instead.
    fn step(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]);

    /// The learning rate the next step will use.
    fn lr(&self) -> f64;

    /// Sets the learning rate for the following steps (what a schedule does between epochs).
    fn set_lr(&mut self, lr: f64);

    /// Applies weight decay only to parameter `k` with `mask[k]` true, as a PyTorch parameter
    /// group with `weight_decay=0` for the others (recipes exclude batch-norm and bias
    /// parameters). Optimizers without this return an error naming themselves.
    ///
    /// The mask must have one entry per parameter of every later step (a step panics
    /// otherwise, as for a changed parameter list).
    fn set_decay_mask(&mut self, mask: Vec<bool>) -> Result<()> {
        let _ = mask;
        Err(crate::Error::InvalidParameter(format!(
            "{} cannot exclude parameters from weight decay (use sgd, adam or adamw)",
            self.state().kind
        )))
    }

    /// A snapshot of everything that changes during training (learning rate, step count and
    /// per-parameter buffers), for checkpoints. Restoring it with
    /// [`Optimizer::load_state`] continues bit for bit where this optimizer stands.
    fn state(&self) -> OptimizerState;

    /// Restores a snapshot taken by [`Optimizer::state`] of the same kind of optimizer.
    ///
    /// `param_lens` are the lengths of the parameters the next steps will receive, in order;
    /// the snapshot's buffers must match them (or be empty, for an optimizer that has not
    /// stepped yet). On error, `self` is left unchanged.
    fn load_state(&mut self, state: &OptimizerState, param_lens: &[usize]) -> Result<()>;
}

/// Checks a hyperparameter: `Ok` when `ok`, else `InvalidParameter("{name} must be {rule}, got
/// {value}")`.
pub(crate) fn require(name: &str, value: f64, ok: bool, rule: &str) -> Result<()> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(crate::Error::InvalidParameter(format!(
            "{name} must be {rule}, got {value}"
        )))
    }
}

/// Checks that a weight-decay mask, when set, covers every parameter of a step.
///
/// # Panics
/// When the mask's length differs from the parameter count.
fn check_mask(op: &str, mask: Option<&[bool]>, params: usize) {
    if let Some(m) = mask {
        assert_eq!(
            m.len(),
            params,
            "{op}: the weight-decay mask has {} entries for {params} parameters",
            m.len()
        );
    }
}

/// Checks that a step received matching parameter and gradient lists.
///
/// # Panics
/// When the lists or any pair of slices differ in length.
fn check_step_args(op: &str, params: &[&mut [f32]], grads: &[&[f32]]) {
    assert_eq!(
        params.len(),
        grads.len(),
        "{op}: {} parameters but {} gradients",
        params.len(),
        grads.len()
    );
    for (k, (p, g)) in params.iter().zip(grads).enumerate() {
        assert_eq!(
            p.len(),
            g.len(),
            "{op}: parameter {k} has {} elements but its gradient {}",
            p.len(),
            g.len()
        );
    }
}
