//! Batch normalisation over every axis but the channel axis, on raw slices.
//!
//! The data is seen as `[N, C, inner]` (`inner = H W` for images, 1 for `[N, D]`); each
//! channel's statistics cover its `N inner` values. Per-channel sums run in parallel over
//! channels, each channel summed by one task in a fixed order (16 lanes per row, rows added in
//! f64), so results do not depend on the thread count; elementwise passes run in parallel over
//! images. Forward reads `x` twice for the statistics (the second read mostly from cache) and
//! once to write `y`; backward reads `g` and `x` twice (and a fused ReLU's output). No scratch
//! memory, and nothing kept for backward but the per-channel statistics.

use rayon::prelude::*;

use crate::tensor::special::{gelu, gelu_derivative};

/// Sum of `f(x)` over a row in 16 independent lanes (vectorises; one serial chain would not).
fn lane_sum(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += f(*v);
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().map(|v| f(*v)).sum::<f32>()
}

/// The rows (`inner` values each, one per image) of channel `ch` in `[N, C, inner]` data.
fn channel_rows(x: &[f32], c: usize, inner: usize, ch: usize) -> impl Iterator<Item = &[f32]> {
    x.chunks_exact(c * inner)
        .map(move |img| &img[ch * inner..(ch + 1) * inner])
}

/// Per-channel mean and biased variance of `x` (`[N, C, inner]`), written into `mean` and
/// `var` (`[C]` each), by two passes (mean, then squared deviations) for accuracy.
///
/// # Panics
/// When `x.len()` is not a multiple of `c * inner` or `mean` / `var` are not `c` long.
pub fn batch_norm_stats(x: &[f32], c: usize, inner: usize, mean: &mut [f32], var: &mut [f32]) {
    assert!(
        c * inner > 0 && x.len().is_multiple_of(c * inner),
        "batch_norm_stats: {} values are not [N, {c}, {inner}]",
        x.len()
    );
    assert!(
        mean.len() == c && var.len() == c,
        "batch_norm_stats: mean / var lengths {} / {} for {c} channels",
        mean.len(),
        var.len()
    );
    let count = (x.len() / c) as f64;
    let stats: Vec<(f32, f32)> = (0..c)
        .into_par_iter()
        .map(|ch| {
            let sum: f64 = channel_rows(x, c, inner, ch)
                .map(|r| lane_sum(r, |v| v) as f64)
                .sum();
            let m = (sum / count) as f32;
            let ss: f64 = channel_rows(x, c, inner, ch)
                .map(|r| {
                    lane_sum(r, |v| {
                        let d = v - m;
                        d * d
                    }) as f64
                })
                .sum();
            (m, (ss / count) as f32)
        })
        .collect();
    for ((m, v), (sm, sv)) in mean.iter_mut().zip(var.iter_mut()).zip(stats) {
        *m = sm;
        *v = sv;
    }
}

/// An activation applied to batch norm's output in the same pass (batch norm followed by
/// ReLU or GELU, as in ResNet and fastnet), saving a pass and a tensor each way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormActivation {
    /// `max(y, 0)`.
    Relu,
    /// The exact (erf) GELU of [`crate::tensor::special::gelu`].
    Gelu,
}

/// `y = (x - mean) * inv_std * gamma + beta` per channel, then the activation `act` if any,
/// for `x` and `y` `[N, C, inner]` and the rest `[C]`.
///
/// # Panics
/// When the lengths disagree.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_forward(
    x: &[f32],
    c: usize,
    inner: usize,
    mean: &[f32],
    inv_std: &[f32],
    gamma: &[f32],
    beta: &[f32],
    act: Option<NormActivation>,
    y: &mut [f32],
) {
    assert!(
        c * inner > 0 && x.len().is_multiple_of(c * inner) && y.len() == x.len(),
        "batch_norm_forward: x / y lengths {} / {} are not [N, {c}, {inner}]",
        x.len(),
        y.len()
    );
    check_channels("batch_norm_forward", c, [mean, inv_std, gamma, beta]);
    let k = Norm {
        x,
        c,
        inner,
        mean,
        inv_std,
        gamma,
        beta,
    };
    match act {
        None => k.forward(|v| v, y),
        Some(NormActivation::Relu) => k.forward(|v| v.max(0.0), y),
        Some(NormActivation::Gelu) => k.forward(gelu, y),
    }
}

/// Gradients of batch norm (and its fused activation `act`, if any) from the upstream
/// gradient `g` and the input `x` (both `[N, C, inner]`): writes `grad_x` (like `g`) and
/// `grad_gamma`, `grad_beta` (`[C]`). `xhat = (x - mean) * inv_std` and the pre-activation
/// `xhat * gamma + beta` are recomputed rather than kept from forward.
///
/// With an activation, `g` is first multiplied by its derivative at the pre-activation. In
/// training mode the statistics depend on `x`, so
/// `grad_x = gamma inv_std (g - mean(g) - xhat mean(g xhat))` per channel; in eval mode they
/// are constants and `grad_x = gamma inv_std g`.
///
/// # Panics
/// When the lengths disagree.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    g: &[f32],
    x: &[f32],
    c: usize,
    inner: usize,
    mean: &[f32],
    inv_std: &[f32],
    gamma: &[f32],
    beta: &[f32],
    training: bool,
    act: Option<NormActivation>,
    grad_x: &mut [f32],
    grad_gamma: &mut [f32],
    grad_beta: &mut [f32],
) {
    assert!(
        c * inner > 0
            && g.len().is_multiple_of(c * inner)
            && x.len() == g.len()
            && grad_x.len() == g.len(),
        "batch_norm_backward: g / x / grad_x lengths {} / {} / {} are not [N, {c}, {inner}]",
        g.len(),
        x.len(),
        grad_x.len()
    );
    check_channels("batch_norm_backward", c, [mean, inv_std, gamma, beta]);
    check_channels("batch_norm_backward", c, [&*grad_gamma, &*grad_beta]);
    let k = Norm {
        x,
        c,
        inner,
        mean,
        inv_std,
        gamma,
        beta,
    };
    let out = (grad_x, grad_gamma, grad_beta);
    match act {
        None => k.backward(g, training, |gv, _| gv, out),
        Some(NormActivation::Relu) => k.backward(g, training, |gv, y| gv * f32::from(y > 0.0), out),
        Some(NormActivation::Gelu) => k.backward(g, training, |gv, y| gv * gelu_derivative(y), out),
    }
}

/// The input of a batch norm pass and its per-channel constants.
struct Norm<'a> {
    x: &'a [f32],
    c: usize,
    inner: usize,
    mean: &'a [f32],
    inv_std: &'a [f32],
    gamma: &'a [f32],
    beta: &'a [f32],
}

impl Norm<'_> {
    /// The forward pass with activation `f`, generic so that each activation's loop
    /// vectorises.
    fn forward(&self, f: impl Fn(f32) -> f32 + Sync, y: &mut [f32]) {
        let (c, inner) = (self.c, self.inner);
        self.x
            .par_chunks(c * inner)
            .zip(y.par_chunks_mut(c * inner))
            .for_each(|(x, y)| {
                for ch in 0..c {
                    let r = ch * inner..(ch + 1) * inner;
                    let (m, s) = (self.mean[ch], self.inv_std[ch]);
                    let (ga, be) = (self.gamma[ch], self.beta[ch]);
                    for (xv, yv) in x[r.clone()].iter().zip(&mut y[r]) {
                        *yv = f((xv - m) * s * ga + be);
                    }
                }
            })
    }

    /// The two backward passes for the upstream gradient `g`, with `through(g, y)` taking it
    /// back through the activation at its input `y`; generic so that each activation's loops
    /// vectorise. Writes the gradients of `x`, `gamma` and `beta`.
    fn backward(
        &self,
        g: &[f32],
        training: bool,
        through: impl Fn(f32, f32) -> f32 + Sync,
        (gx, gg, gb): (&mut [f32], &mut [f32], &mut [f32]),
    ) {
        let (c, inner) = (self.c, self.inner);
        let sums: Vec<(f64, f64)> = (0..c)
            .into_par_iter()
            .map(|ch| {
                let (m, s, ga, be) = self.channel(ch);
                channel_rows(g, c, inner, ch)
                    .zip(channel_rows(self.x, c, inner, ch))
                    .fold((0.0, 0.0), |(sg, sgx), (gr, xr)| {
                        let (a, b) = row_sums(gr, xr, |gv, xv| {
                            let h = (xv - m) * s;
                            let ge = through(gv, h * ga + be);
                            (ge, ge * h)
                        });
                        (sg + a as f64, sgx + b as f64)
                    })
            })
            .collect();
        let count = (g.len() / c) as f64;
        // Per channel: grad_x = a * g + b * xhat + d.
        let coef: Vec<(f32, f32, f32)> = sums
            .iter()
            .enumerate()
            .map(|(ch, &(sg, sgx))| {
                let a = self.gamma[ch] * self.inv_std[ch];
                if training {
                    (a, -a * (sgx / count) as f32, -a * (sg / count) as f32)
                } else {
                    (a, 0.0, 0.0)
                }
            })
            .collect();
        for (ch, &(sg, sgx)) in sums.iter().enumerate() {
            gb[ch] = sg as f32;
            gg[ch] = sgx as f32;
        }
        let img = c * inner;
        g.par_chunks(img)
            .zip(self.x.par_chunks(img))
            .zip(gx.par_chunks_mut(img))
            .for_each(|((g, x), gx)| {
                for (ch, &(a, b, d)) in coef.iter().enumerate() {
                    let r = ch * inner..(ch + 1) * inner;
                    let (m, s, ga, be) = self.channel(ch);
                    let rows = g[r.clone()].iter().zip(&x[r.clone()]);
                    for ((gv, xv), o) in rows.zip(&mut gx[r]) {
                        let h = (xv - m) * s;
                        *o = a * through(*gv, h * ga + be) + b * h + d;
                    }
                }
            });
    }

    /// Mean, inverse standard deviation, scale and shift of channel `ch`.
    fn channel(&self, ch: usize) -> (f32, f32, f32, f32) {
        (
            self.mean[ch],
            self.inv_std[ch],
            self.gamma[ch],
            self.beta[ch],
        )
    }
}

/// Sums of the two values `term(g, x)` over one row in 16 lanes.
fn row_sums(g: &[f32], x: &[f32], term: impl Fn(f32, f32) -> (f32, f32)) -> (f32, f32) {
    let (mut sa, mut sb) = ([0.0f32; 16], [0.0f32; 16]);
    let (mut cg, mut cx) = (g.chunks_exact(16), x.chunks_exact(16));
    for (gc, xc) in (&mut cg).zip(&mut cx) {
        for k in 0..16 {
            let (a, b) = term(gc[k], xc[k]);
            sa[k] += a;
            sb[k] += b;
        }
    }
    let (mut ta, mut tb) = (0.0f32, 0.0f32);
    for (gv, xv) in cg.remainder().iter().zip(cx.remainder()) {
        let (a, b) = term(*gv, *xv);
        ta += a;
        tb += b;
    }
    (sa.iter().sum::<f32>() + ta, sb.iter().sum::<f32>() + tb)
}

/// Checks that every per-channel slice holds `c` values.
fn check_channels<const K: usize>(op: &str, c: usize, slices: [&[f32]; K]) {
    for p in slices {
        assert_eq!(
            p.len(),
            c,
            "{op}: per-channel slice length for {c} channels"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct f64 batch norm (training mode) and its gradients for `[N, C, inner]` data.
    #[allow(clippy::type_complexity)]
    fn naive(
        x: &[f32],
        g: &[f32],
        c: usize,
        inner: usize,
        gamma: &[f32],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let n = x.len() / (c * inner);
        let idx = |i: usize, ch: usize, j: usize| (i * c + ch) * inner + j;
        let (mut y, mut gx) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let (mut gg, mut gb) = (vec![0.0; c], vec![0.0; c]);
        let m = (n * inner) as f64;
        for ch in 0..c {
            let all: Vec<usize> = (0..n)
                .flat_map(|i| (0..inner).map(move |j| idx(i, ch, j)))
                .collect();
            let mean = all.iter().map(|&k| x[k] as f64).sum::<f64>() / m;
            let var = all
                .iter()
                .map(|&k| (x[k] as f64 - mean).powi(2))
                .sum::<f64>()
                / m;
            let s = 1.0 / (var + 1e-5).sqrt();
            let xh: Vec<f64> = all.iter().map(|&k| (x[k] as f64 - mean) * s).collect();
            let sg: f64 = all.iter().map(|&k| g[k] as f64).sum();
            let sgx: f64 = all.iter().zip(&xh).map(|(&k, h)| g[k] as f64 * h).sum();
            gb[ch] = sg;
            gg[ch] = sgx;
            for (&k, h) in all.iter().zip(&xh) {
                y[k] = h * gamma[ch] as f64 + 0.5;
                gx[k] = gamma[ch] as f64 * s * (g[k] as f64 - sg / m - h * sgx / m);
            }
        }
        (y, gx, gg, gb)
    }

    #[test]
    fn fused_activations_equal_the_activation_after_batch_norm_in_both_directions() {
        use crate::tensor::special::{gelu, gelu_derivative};
        let (n, c, inner) = (3, 2, 19);
        let len = n * c * inner;
        let x: Vec<f32> = (0..len)
            .map(|i| ((i * 29 % 13) as f32) * 0.25 - 1.5)
            .collect();
        let g: Vec<f32> = (0..len)
            .map(|i| ((i * 11 % 9) as f32) * 0.3 - 1.0)
            .collect();
        let (gamma, beta) = (vec![1.5, -0.7], vec![0.1, 0.2]);
        let (mut mean, mut var) = (vec![0.0; c], vec![0.0; c]);
        batch_norm_stats(&x, c, inner, &mut mean, &mut var);
        let inv: Vec<f32> = var.iter().map(|v| 1.0 / (v + 1e-5).sqrt()).collect();
        let mut y = vec![0.0; len];
        batch_norm_forward(&x, c, inner, &mean, &inv, &gamma, &beta, None, &mut y);
        assert!(y.iter().any(|&v| v < 0.0) && y.iter().any(|&v| v > 0.0));
        let relu = (|v: f32| v.max(0.0)) as fn(f32) -> f32;
        let relu_d = (|v: f32| f32::from(v > 0.0)) as fn(f32) -> f32;
        for (act, f, df) in [
            (NormActivation::Relu, relu, relu_d),
            (
                NormActivation::Gelu,
                gelu as fn(f32) -> f32,
                gelu_derivative as fn(f32) -> f32,
            ),
        ] {
            let mut out = vec![0.0; len];
            batch_norm_forward(
                &x,
                c,
                inner,
                &mean,
                &inv,
                &gamma,
                &beta,
                Some(act),
                &mut out,
            );
            let want: Vec<f32> = y.iter().map(|&v| f(v)).collect();
            assert_eq!(out, want, "{act:?} forward");
            // Backward through the fused op = backward of plain batch norm given the
            // activation's gradient g * f'(y).
            let through: Vec<f32> = g.iter().zip(&y).map(|(g, &y)| g * df(y)).collect();
            let run = |g: &[f32], act| {
                let mut r = (vec![0.0; len], vec![0.0; c], vec![0.0; c]);
                let (gx, gg, gb) = (&mut r.0, &mut r.1, &mut r.2);
                let (m, b) = (&mean, &beta);
                batch_norm_backward(g, &x, c, inner, m, &inv, &gamma, b, true, act, gx, gg, gb);
                r
            };
            assert_eq!(run(&g, Some(act)), run(&through, None), "{act:?} backward");
        }
    }

    #[test]
    fn matches_direct_loops_in_training_mode() {
        for (n, c, inner) in [(3, 4, 7), (5, 3, 1), (2, 2, 37)] {
            let len = n * c * inner;
            let x: Vec<f32> = (0..len)
                .map(|i| ((i * 37 % 11) as f32) * 0.3 - 1.0)
                .collect();
            let g: Vec<f32> = (0..len)
                .map(|i| ((i * 13 % 7) as f32) * 0.2 - 0.5)
                .collect();
            let gamma: Vec<f32> = (0..c).map(|i| 0.5 + i as f32).collect();
            let (mut mean, mut var) = (vec![0.0; c], vec![0.0; c]);
            batch_norm_stats(&x, c, inner, &mut mean, &mut var);
            let inv: Vec<f32> = var.iter().map(|v| 1.0 / (v + 1e-5).sqrt()).collect();
            let mut y = vec![0.0; len];
            let beta = vec![0.5; c];
            batch_norm_forward(&x, c, inner, &mean, &inv, &gamma, &beta, None, &mut y);
            let (mut gx, mut gg, mut gb) = (vec![0.0; len], vec![0.0; c], vec![0.0; c]);
            let (m, b) = (&mean, &beta);
            batch_norm_backward(
                &g, &x, c, inner, m, &inv, &gamma, b, true, None, &mut gx, &mut gg, &mut gb,
            );
            let (wy, wgx, wgg, wgb) = naive(&x, &g, c, inner, &gamma);
            for (what, got, want) in [
                ("y", &y, &wy),
                ("grad_x", &gx, &wgx),
                ("grad_gamma", &gg, &wgg),
                ("grad_beta", &gb, &wgb),
            ] {
                for (i, (a, b)) in got.iter().zip(want.iter()).enumerate() {
                    assert!(
                        (*a as f64 - b).abs() <= 1e-4 * (1.0 + b.abs()),
                        "{what}[{i}] for [{n}, {c}, {inner}]: got {a}, want {b}"
                    );
                }
            }
        }
    }
}
