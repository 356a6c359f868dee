//! Per-thread scratch buffers and a vectorising sum, shared by the convolution kernels.

use std::cell::Cell;

thread_local! {
    /// Per-thread scratch for im2col blocks, kept between calls so that a training loop does
    /// not allocate (and page-fault) megabytes per layer and step.
    static SCRATCH: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` with a scratch slice of `len` elements (contents unspecified) from this thread's
/// cache. The buffer is taken out of the cache while in use, so a nested call (rayon may run
/// another task on this thread while gemm waits) simply gets a fresh buffer.
pub(super) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = SCRATCH.with(Cell::take);
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    SCRATCH.with(|s| s.set(buf));
    r
}

/// Sum of a slice in 16 independent lanes: vectorises (a plain `iter().sum()` is one serial
/// chain of dependent additions) and rounds a little better on long rows.
pub(super) fn lane_sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += *v;
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}
