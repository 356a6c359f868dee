//! The classic pipeline, what `ferrolearn fit`, `cv`, `search`, `predict` and `eval` run:
//! a model chosen by [`ModelKind`] with its [`Hyper`]parameters, feature scaling fitted on
//! the training rows, the fitted [`FittedPipeline`] that predicts classes, values,
//! probabilities and decision scores, and the saved run ([`SavedModel`]) a Rust user loads
//! with one call.
//!
//! - `kind`: [`ModelKind`]; `options`: the named options ([`Distance`], [`PenaltyKind`],
//!   [`LossKind`], [`SolverKind`], [`Scaling`], the SGD learning rate) and [`Choice`], their name lists;
//! - `hyper`: [`Hyper`], every model's hyperparameters, set by name from a search candidate;
//! - `learner`: [`Pipeline`], which builds the learner from the hyperparameters and fits it;
//! - `scaler`: [`FittedScaler`]; `fitted`: [`FittedModel`] and [`FittedPipeline`];
//! - `columns`: [`align_columns`], new rows' columns matched to the fitted ones by name;
//! - `scores`: [`Metrics`], the figures a run records; `saved`: [`SavedModel`].

mod columns;
mod fitted;
mod hyper;
mod kind;
mod learner;
mod options;
mod saved;
mod scaler;
mod scores;

pub use columns::align_columns;
pub use fitted::{FittedModel, FittedPipeline};
pub use hyper::{Hyper, PARAM_NAMES};
pub use kind::ModelKind;
pub use learner::Pipeline;
pub use options::{Choice, Distance, LossKind, PenaltyKind, Scaling, SolverKind};
pub use saved::{FeatureOrigin, SavedModel};
pub use scaler::FittedScaler;
pub use scores::Metrics;
