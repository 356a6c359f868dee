//! ferrolearn: supervised machine learning on the CPU, from k-nearest neighbours to
//! convolutional networks.
//!
//! The crate is layered the way data flows through it (see `ARCHITECTURE.md`):
//! [`tensor`] holds n-d arrays and their kernels, [`autograd`] records a graph over tensor
//! ops and differentiates it, [`nn`] and [`optim`] build layers and optimizers on top,
//! [`data`] reads datasets and batches them, [`train`] runs the training loop, and
//! [`classic`] holds the scikit-learn style learners. [`metrics`] and [`viz`] are shared by both
//! halves.
//!
//! # Errors
//! Fallible work that depends on files or user-supplied settings returns [`Result`] with the
//! crate's [`Error`]. Tensor arithmetic does not: a shape mismatch inside a tensor op is a
//! programming error, and the op panics with a [`tensor::ShapeError`] payload whose message names
//! the op and both shapes. Code that feeds user-described shapes into ops (a model file, a CLI
//! flag) runs them through [`tensor::catch_shape_error`], which turns such a panic into an
//! `Err` so that no user input can end in a panic.

pub mod autograd;
pub mod classic;
pub mod data;
pub mod error;
pub mod features;
pub mod io;
pub mod metrics;
pub mod nn;
pub mod optim;
pub mod seeding;
pub mod tensor;
pub mod train;
pub mod viz;

pub use error::{Error, Result};
pub use tensor::Tensor;
