//! 2-d max and average pooling over `[N, C, H, W]`: square window `k`, stride `s`, padding `p`
//! on every side, floor mode (rows and columns that do not fill a whole window are dropped), as
//! PyTorch's `max_pool2d(x, k, s, p)` / `avg_pool2d(x, k, s, p)`. Max pooling ignores the
//! padding (it acts as minus infinity); average pooling counts it as zeros in the `k x k`
//! divisor (PyTorch's default `count_include_pad=True`).
//!
//! Each of the `N C` planes is independent, so large inputs are spread over rayon by plane.

use rayon::prelude::*;

/// Inputs with at least this many elements are pooled in parallel; below it the work is a
/// few microseconds and the thread hand-off would dominate.
const PARALLEL_MIN_ELEMS: usize = 1 << 15;

/// Shape of a 2-d pooling: `n x c` planes of `h x w`, window `k x k`, stride `stride`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dGeometry {
    /// Batch size N.
    pub n: usize,
    /// Channels C.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Window side.
    pub k: usize,
    /// Step between windows (PyTorch's default is `k`).
    pub stride: usize,
    /// Implicit padding on every side, at most `k / 2` (as PyTorch requires).
    pub pad: usize,
}

impl Pool2dGeometry {
    /// Pooling of `n` images of `c x h x w` with a `k x k` window moved by `stride`, no
    /// padding.
    pub fn new(n: usize, c: usize, (h, w): (usize, usize), k: usize, stride: usize) -> Self {
        Pool2dGeometry {
            n,
            c,
            h,
            w,
            k,
            stride,
            pad: 0,
        }
    }

    /// The same geometry with padding `pad` on every side.
    pub fn padding(self, pad: usize) -> Self {
        Pool2dGeometry { pad, ..self }
    }

    /// Output height `(H + 2 pad - k) / stride + 1`.
    ///
    /// # Panics
    /// When `k` is 0 or larger than the input, or the stride is 0.
    pub fn out_h(&self) -> usize {
        self.out_size(self.h)
    }

    /// Output width `(W + 2 pad - k) / stride + 1`.
    ///
    /// # Panics
    /// As [`out_h`](Self::out_h).
    pub fn out_w(&self) -> usize {
        self.out_size(self.w)
    }

    /// Elements of the input, `N C H W`.
    pub fn input_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }

    /// Elements of the output, `N C H' W'`.
    ///
    /// # Panics
    /// As [`out_h`](Self::out_h).
    pub fn output_len(&self) -> usize {
        self.n * self.c * self.out_h() * self.out_w()
    }

    fn out_size(&self, size: usize) -> usize {
        assert!(self.stride >= 1, "pool2d: stride must be >= 1");
        assert!(
            self.k >= 1 && self.k <= size + 2 * self.pad && 2 * self.pad <= self.k,
            "pool2d: window {} with padding {} does not fit the input {}x{}",
            self.k,
            self.pad,
            self.h,
            self.w
        );
        (size + 2 * self.pad - self.k) / self.stride + 1
    }

    /// The input rows (or columns) `start..end` under window `o` along an axis of `size`:
    /// the window clipped to the unpadded input.
    fn span(&self, o: usize, size: usize) -> (usize, usize) {
        let start = (o * self.stride).saturating_sub(self.pad);
        let end = (o * self.stride + self.k - self.pad).min(size);
        (start, end)
    }
}

/// Whether pooling over `input_len` input elements is worth spreading over threads, and if so
/// how many planes of `plane_len` each task should take at least.
fn parallel_planes(input_len: usize, plane_len: usize) -> Option<usize> {
    (input_len >= PARALLEL_MIN_ELEMS).then(|| (PARALLEL_MIN_ELEMS / 8 / plane_len.max(1)).max(1))
}

/// Calls `f(plane_index, out_plane)` for every output plane of `plane_len` elements, in
/// parallel when `min_planes` says so.
fn for_each_plane<T: Send>(
    out: &mut [T],
    plane_len: usize,
    min_planes: Option<usize>,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    if plane_len == 0 {
        return;
    }
    match min_planes {
        Some(min) => out
            .par_chunks_mut(plane_len)
            .enumerate()
            .with_min_len(min)
            .for_each(|(p, o)| f(p, o)),
        None => out
            .chunks_mut(plane_len)
            .enumerate()
            .for_each(|(p, o)| f(p, o)),
    }
}

/// Max pooling forward. Writes the maxima into `output` (`[N, C, H', W']`) and, for each, the
/// position of the winning input inside its plane (`iy * W + ix`) into `argmax`, which is what
/// the backward pass routes the gradient through.
///
/// Ties go to the first element in row-major window order, and a NaN in a window wins (and
/// propagates) as in PyTorch.
///
/// # Panics
/// When a slice length differs from what `g` implies or the window does not fit.
pub fn max_pool2d_forward(
    g: &Pool2dGeometry,
    input: &[f32],
    output: &mut [f32],
    argmax: &mut [u32],
) {
    let (oh, ow) = (g.out_h(), g.out_w());
    assert_eq!(
        input.len(),
        g.input_len(),
        "max_pool2d_forward: input length for {g:?}"
    );
    assert_eq!(
        output.len(),
        g.output_len(),
        "max_pool2d_forward: output length for {g:?}"
    );
    assert_eq!(
        argmax.len(),
        g.output_len(),
        "max_pool2d_forward: argmax length for {g:?}"
    );
    assert!(
        g.h * g.w <= u32::MAX as usize,
        "max_pool2d_forward: plane too large for u32 indices"
    );
    let (w, plane_in, plane_out) = (g.w, g.h * g.w, oh * ow);
    let run = |p: usize, y: &mut [f32], idx: &mut [u32]| {
        let x = &input[p * plane_in..(p + 1) * plane_in];
        if g.k == 2 && g.stride == 2 && g.pad == 0 {
            max_pool_2x2(x, w, oh, ow, y, idx);
            return;
        }
        for oy in 0..oh {
            let (y0, y1) = g.span(oy, g.h);
            for ox in 0..ow {
                let (x0, x1) = g.span(ox, g.w);
                let mut best = x[y0 * w + x0];
                let mut at = y0 * w + x0;
                for iy in y0..y1 {
                    for (ix, &v) in x[iy * w + x0..iy * w + x1].iter().enumerate() {
                        if beats(v, best) {
                            best = v;
                            at = iy * w + x0 + ix;
                        }
                    }
                }
                y[oy * ow + ox] = best;
                idx[oy * ow + ox] = at as u32;
            }
        }
    };
    if plane_out == 0 {
        return;
    }
    match parallel_planes(input.len(), plane_in) {
        Some(min) => output
            .par_chunks_mut(plane_out)
            .zip(argmax.par_chunks_mut(plane_out))
            .enumerate()
            .with_min_len(min)
            .for_each(|(p, (y, idx))| run(p, y, idx)),
        None => output
            .chunks_mut(plane_out)
            .zip(argmax.chunks_mut(plane_out))
            .enumerate()
            .for_each(|(p, (y, idx))| run(p, y, idx)),
    }
}

/// Whether `v` replaces `best` as a window's maximum: larger, or a NaN over a number (first
/// maximum wins ties; NaN propagates as in PyTorch). Bitwise, not short-circuit, operators,
/// so that callers compile to selects rather than data-dependent branches.
#[inline(always)]
fn beats(v: f32, best: f32) -> bool {
    (v > best) | (v.is_nan() & !best.is_nan())
}

/// The 2x2, stride-2 window of LeNet-style networks on one plane (same results as the
/// general loop). Each output row is computed branch-free: first the better of each
/// horizontal pair in both input rows, then the better of the two rows, with the winner's
/// position carried along as a column offset and a row flag.
fn max_pool_2x2(x: &[f32], w: usize, oh: usize, ow: usize, y: &mut [f32], idx: &mut [u32]) {
    for oy in 0..oh {
        let top = 2 * oy * w;
        let r0 = &x[top..top + 2 * ow];
        let r1 = &x[top + w..top + w + 2 * ow];
        let ys = &mut y[oy * ow..(oy + 1) * ow];
        let is = &mut idx[oy * ow..(oy + 1) * ow];
        // Window positions fit in u32 (checked by the caller); 32-bit lanes vectorise wider.
        let (top, w) = (top as u32, w as u32);
        for (ox, ((out, at), (p0, p1))) in ys
            .iter_mut()
            .zip(is.iter_mut())
            .zip(r0.chunks_exact(2).zip(r1.chunks_exact(2)))
            .enumerate()
        {
            // The row-major window order is p0[0], p0[1], p1[0], p1[1]; a later element wins
            // only when it beats every earlier one.
            let right0 = beats(p0[1], p0[0]);
            let best0 = if right0 { p0[1] } else { p0[0] };
            let right1 = beats(p1[1], p1[0]);
            let best1 = if right1 { p1[1] } else { p1[0] };
            let lower = beats(best1, best0);
            *out = if lower { best1 } else { best0 };
            let col = if lower { right1 } else { right0 };
            *at = top + 2 * ox as u32 + u32::from(col) + if lower { w } else { 0 };
        }
    }
}

/// Max pooling backward: `grad_input` (`[N, C, H, W]`, overwritten) receives each output
/// gradient at the input position its `argmax` names; positions that won several overlapping
/// windows receive the sum.
///
/// # Panics
/// When a slice length differs from what `g` implies, or an `argmax` entry lies outside its
/// plane.
pub fn max_pool2d_backward(
    g: &Pool2dGeometry,
    grad_output: &[f32],
    argmax: &[u32],
    grad_input: &mut [f32],
) {
    let plane_out = g.out_h() * g.out_w();
    assert_eq!(
        grad_output.len(),
        g.output_len(),
        "max_pool2d_backward: grad_output length for {g:?}"
    );
    assert_eq!(
        argmax.len(),
        g.output_len(),
        "max_pool2d_backward: argmax length for {g:?}"
    );
    assert_eq!(
        grad_input.len(),
        g.input_len(),
        "max_pool2d_backward: grad_input length for {g:?}"
    );
    let plane_in = g.h * g.w;
    for_each_plane(
        grad_input,
        plane_in,
        parallel_planes(grad_input.len(), plane_in),
        |p, gx| {
            gx.fill(0.0);
            let span = p * plane_out..(p + 1) * plane_out;
            for (&d, &i) in grad_output[span.clone()].iter().zip(&argmax[span]) {
                gx[i as usize] += d;
            }
        },
    );
}

/// Average pooling forward: each output (`[N, C, H', W']`) is the mean of its `k x k` window.
///
/// # Panics
/// When a slice length differs from what `g` implies or the window does not fit.
pub fn avg_pool2d_forward(g: &Pool2dGeometry, input: &[f32], output: &mut [f32]) {
    let (oh, ow) = (g.out_h(), g.out_w());
    assert_eq!(
        input.len(),
        g.input_len(),
        "avg_pool2d_forward: input length for {g:?}"
    );
    assert_eq!(
        output.len(),
        g.output_len(),
        "avg_pool2d_forward: output length for {g:?}"
    );
    let w = g.w;
    let (plane_in, scale) = (g.h * g.w, 1.0 / (g.k * g.k) as f32);
    for_each_plane(
        output,
        oh * ow,
        parallel_planes(input.len(), plane_in),
        |p, y| {
            let x = &input[p * plane_in..(p + 1) * plane_in];
            for oy in 0..oh {
                let (y0, y1) = g.span(oy, g.h);
                for ox in 0..ow {
                    let (x0, x1) = g.span(ox, g.w);
                    let sum: f32 = (y0..y1)
                        .map(|iy| x[iy * w + x0..iy * w + x1].iter().sum::<f32>())
                        .sum();
                    y[oy * ow + ox] = sum * scale;
                }
            }
        },
    );
}

/// Average pooling backward: every input position (`grad_input`, `[N, C, H, W]`, overwritten)
/// receives `1 / k^2` of the gradient of each window that covers it (summed over overlapping
/// windows; dropped remainder rows and columns get zero).
///
/// # Panics
/// When a slice length differs from what `g` implies or the window does not fit.
pub fn avg_pool2d_backward(g: &Pool2dGeometry, grad_output: &[f32], grad_input: &mut [f32]) {
    let (oh, ow) = (g.out_h(), g.out_w());
    assert_eq!(
        grad_output.len(),
        g.output_len(),
        "avg_pool2d_backward: grad_output length for {g:?}"
    );
    assert_eq!(
        grad_input.len(),
        g.input_len(),
        "avg_pool2d_backward: grad_input length for {g:?}"
    );
    let w = g.w;
    let (plane_in, plane_out, scale) = (g.h * g.w, oh * ow, 1.0 / (g.k * g.k) as f32);
    for_each_plane(
        grad_input,
        plane_in,
        parallel_planes(grad_input.len(), plane_in),
        |p, gx| {
            gx.fill(0.0);
            let dy = &grad_output[p * plane_out..(p + 1) * plane_out];
            for oy in 0..oh {
                let (y0, y1) = g.span(oy, g.h);
                for ox in 0..ow {
                    let d = dy[oy * ow + ox] * scale;
                    let (x0, x1) = g.span(ox, g.w);
                    for iy in y0..y1 {
                        for v in &mut gx[iy * w + x0..iy * w + x1] {
                            *v += d;
                        }
                    }
                }
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(len: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
        (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
    }

    fn assert_close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                "{what}: element {i}: got {g}, want {w}"
            );
        }
    }

    /// Naive pooling over every window: returns (max, argmax, avg) outputs and the max / avg
    /// input gradients for `dy`.
    #[allow(clippy::type_complexity)]
    fn naive(
        g: &Pool2dGeometry,
        x: &[f32],
        dy: &[f32],
    ) -> (Vec<f32>, Vec<u32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let (oh, ow) = (g.out_h(), g.out_w());
        let (mut mx, mut am, mut avg) = (vec![], vec![], vec![]);
        let mut gmax = vec![0.0f32; g.input_len()];
        let mut gavg = vec![0.0f32; g.input_len()];
        for p in 0..g.n * g.c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let o = p * oh * ow + oy * ow + ox;
                    let (mut best, mut at, mut sum) = (f32::NEG_INFINITY, 0, 0.0f64);
                    for ky in 0..g.k {
                        for kx in 0..g.k {
                            let (iy, ix) = (oy * g.stride + ky, ox * g.stride + kx);
                            // Padding: outside the input, a zero for the average only.
                            let (Some(iy), Some(ix)) = (iy.checked_sub(g.pad), ix.checked_sub(g.pad))
                            else {
                                continue;
                            };
                            if iy >= g.h || ix >= g.w {
                                continue;
                            }
                            let v = x[p * g.h * g.w + iy * g.w + ix];
                            sum += v as f64;
                            if v > best {
                                best = v;
                                at = iy * g.w + ix;
                            }
                            gavg[p * g.h * g.w + iy * g.w + ix] += dy[o] / (g.k * g.k) as f32;
                        }
                    }
                    mx.push(best);
                    am.push(at as u32);
                    avg.push((sum / (g.k * g.k) as f64) as f32);
                    gmax[p * g.h * g.w + at] += dy[o];
                }
            }
        }
        (mx, am, avg, gmax, gavg)
    }

    fn check(g: Pool2dGeometry, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = random(g.input_len(), &mut rng);
        let dy = random(g.output_len(), &mut rng);
        let (mx, am, avg, gmax, gavg) = naive(&g, &x, &dy);
        let mut y = vec![f32::NAN; g.output_len()];
        let mut idx = vec![u32::MAX; g.output_len()];
        max_pool2d_forward(&g, &x, &mut y, &mut idx);
        assert_eq!(y, mx, "max {g:?}");
        assert_eq!(idx, am, "argmax {g:?}");
        let mut gx = vec![f32::NAN; g.input_len()];
        max_pool2d_backward(&g, &dy, &idx, &mut gx);
        assert_close(&gx, &gmax, &format!("max backward {g:?}"));
        avg_pool2d_forward(&g, &x, &mut y);
        assert_close(&y, &avg, &format!("avg {g:?}"));
        avg_pool2d_backward(&g, &dy, &mut gx);
        assert_close(&gx, &gavg, &format!("avg backward {g:?}"));
    }

    #[test]
    fn non_overlapping_windows() {
        check(Pool2dGeometry::new(2, 3, (8, 6), 2, 2), 1);
    }

    #[test]
    fn overlapping_windows_add_their_gradients() {
        check(Pool2dGeometry::new(2, 2, (7, 9), 3, 2), 2);
        check(Pool2dGeometry::new(1, 2, (5, 5), 3, 1), 3);
    }

    #[test]
    fn remainder_rows_and_columns_are_dropped() {
        let g = Pool2dGeometry::new(1, 2, (7, 5), 2, 2);
        assert_eq!((g.out_h(), g.out_w()), (3, 2));
        check(g, 4);
        check(Pool2dGeometry::new(3, 1, (10, 11), 3, 3), 5);
    }

    #[test]
    fn padded_windows_clip_to_the_input() {
        // GoogLeNet's pooling branch (3x3, stride 1, pad 1) and its downsampling (stride 2).
        let g = Pool2dGeometry::new(2, 3, (6, 7), 3, 1).padding(1);
        assert_eq!((g.out_h(), g.out_w()), (6, 7));
        check(g, 7);
        let g = Pool2dGeometry::new(1, 2, (8, 8), 3, 2).padding(1);
        assert_eq!((g.out_h(), g.out_w()), (4, 4));
        check(g, 8);
        check(Pool2dGeometry::new(1, 1, (5, 4), 2, 2).padding(1), 9);
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn padding_beyond_half_the_window_is_refused() {
        Pool2dGeometry::new(1, 1, (8, 8), 3, 1).padding(2).output_len();
    }

    #[test]
    fn large_input_takes_the_parallel_path() {
        let g = Pool2dGeometry::new(8, 16, (24, 24), 2, 2);
        assert!(parallel_planes(g.input_len(), g.h * g.w).is_some());
        check(g, 6);
    }

    #[test]
    fn max_pool_ties_take_the_first_and_nan_propagates() {
        let g = Pool2dGeometry::new(1, 1, (2, 4), 2, 2);
        let x = [1.0, 5.0, 2.0, f32::NAN, 5.0, 0.0, 3.0, 9.0];
        let mut y = [0.0; 2];
        let mut idx = [0; 2];
        max_pool2d_forward(&g, &x, &mut y, &mut idx);
        assert_eq!(y[0], 5.0);
        assert_eq!(idx[0], 1);
        assert!(y[1].is_nan());
        assert_eq!(idx[1], 3);
    }

    #[test]
    fn two_by_two_windows_pick_the_first_maximum_or_nan_in_every_arrangement() {
        // Every 2x2 window of values from {0, 1, 2, NaN}: 4^4 windows side by side.
        let values = [0.0, 1.0, 2.0, f32::NAN];
        let windows = values.len().pow(4);
        let g = Pool2dGeometry::new(1, 1, (2, 2 * windows), 2, 2);
        let mut x = vec![0.0f32; g.input_len()];
        for win in 0..windows {
            for pos in 0..4 {
                let v = values[(win >> (2 * pos)) & 3];
                x[(pos / 2) * 2 * windows + 2 * win + pos % 2] = v;
            }
        }
        let mut y = vec![0.0; windows];
        let mut idx = vec![0u32; windows];
        max_pool2d_forward(&g, &x, &mut y, &mut idx);
        for win in 0..windows {
            // Row-major window order; the first NaN, else the first maximum, wins.
            let order = [
                2 * win,
                2 * win + 1,
                2 * windows + 2 * win,
                2 * windows + 2 * win + 1,
            ];
            let at = order
                .iter()
                .copied()
                .find(|&i| x[i].is_nan())
                .unwrap_or_else(|| {
                    let max = order.iter().map(|&i| x[i]).fold(f32::MIN, f32::max);
                    order.iter().copied().find(|&i| x[i] == max).unwrap()
                });
            assert_eq!(idx[win] as usize, at, "window {win}");
            assert_eq!(y[win].to_bits(), x[at].to_bits(), "window {win}");
        }
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn window_larger_than_input_is_refused() {
        Pool2dGeometry::new(1, 1, (3, 8), 4, 1).output_len();
    }
}
