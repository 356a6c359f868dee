//! Compute kernels on raw slices: GEMM, convolution (im2col) and pooling.
