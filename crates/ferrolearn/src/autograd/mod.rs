//! Reverse-mode automatic differentiation over tensor ops.
//!
//! Define-by-run: every op on [`Var`]s computes its value and, when an input requires a
//! gradient, records an op node holding what its backward rule needs (`op.rs`). A scalar's
//! [`Var::backward`] sorts the graph once and walks it in reverse (`backprop.rs`), summing
//! gradients where a value fans out and un-broadcasting them to each input's shape.
//! [`no_grad`] turns recording off for inference; [`gradcheck`] checks every rule numerically.

mod backprop;
mod functions;
mod gradcheck;
mod losses;
mod op;
mod pooling;
pub mod suite;
mod var;

pub use backprop::Gradients;
pub use functions::{batch_norm, batch_norm_activation, NormStats, SELU_ALPHA, SELU_SCALE};
pub use gradcheck::{gradcheck, GradcheckOptions, GradcheckReport, InputCheck};
pub use losses::multiclass_hinge_terms;
pub use var::{is_grad_enabled, no_grad, Var, VarId};
