//! Compute kernels on raw slices: GEMM, convolution, batch normalisation and pooling.
//!
//! Everything here works on dense row-major `f32` slices plus a small geometry description,
//! with no tensor type, so the kernels can be tested against naive loops and benchmarked on
//! their own; [`crate::tensor`] and the autograd layer call them.

pub mod batch_norm;
pub mod conv;
pub mod gemm;
pub mod pool;

pub use batch_norm::{batch_norm_backward, batch_norm_forward, batch_norm_stats, NormActivation};
pub use conv::{conv2d_backward, conv2d_forward, Conv2dGeometry};
pub use gemm::{batched_matmul, gemm_strided, matmul, MatLayout, Threading};
pub use pool::{
    avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
    Pool2dGeometry,
};
