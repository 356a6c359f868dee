//! Batch normalisation over every axis but the channel axis, on raw slices.
//!
//! The data is seen as `[N, C, inner]` (`inner = H W` for images, 1 for `[N, D]`); each
//! channel's statistics cover its `N inner` values. Per-channel sums run in parallel over
//! channels, each channel summed by one task in a fixed order (16 lanes per row, rows added in
//! f64), so results do not depend on the thread count; elementwise passes run in parallel over
//! images. Forward reads `x` twice for the statistics (the second read mostly from cache) and
//! once to write `xhat` and `y`; backward reads `g` and `xhat` twice. No scratch memory.

use rayon::prelude::*;

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

/// Sum of `a[i] * b[i]` over a row in 16 lanes.
fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let (mut ca, mut cb) = (a.chunks_exact(16), b.chunks_exact(16));
    for (x, y) in (&mut ca).zip(&mut cb) {
        for ((s, u), v) in acc.iter_mut().zip(x).zip(y) {
            *s += u * v;
        }
    }
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(u, v)| u * v)
        .sum();
    acc.iter().sum::<f32>() + tail
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

/// `xhat = (x - mean) * inv_std` and `y = xhat * gamma + beta` per channel, for `x`, `xhat`, `y`
/// `[N, C, inner]` and the rest `[C]`. `xhat` is what backward needs.
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
    xhat: &mut [f32],
    y: &mut [f32],
) {
    assert!(
        c * inner > 0
            && x.len().is_multiple_of(c * inner)
            && xhat.len() == x.len()
            && y.len() == x.len(),
        "batch_norm_forward: x / xhat / y lengths {} / {} / {} are not [N, {c}, {inner}]",
        x.len(),
        xhat.len(),
        y.len()
    );
    for (name, p) in [
        ("mean", mean),
        ("inv_std", inv_std),
        ("gamma", gamma),
        ("beta", beta),
    ] {
        assert_eq!(
            p.len(),
            c,
            "batch_norm_forward: {name} length for {c} channels"
        );
    }
    let img = c * inner;
    x.par_chunks(img)
        .zip(xhat.par_chunks_mut(img))
        .zip(y.par_chunks_mut(img))
        .for_each(|((x, xh), y)| {
            for ch in 0..c {
                let r = ch * inner..(ch + 1) * inner;
                let (m, s, ga, be) = (mean[ch], inv_std[ch], gamma[ch], beta[ch]);
                for ((xv, hv), yv) in x[r.clone()].iter().zip(&mut xh[r.clone()]).zip(&mut y[r]) {
                    let h = (xv - m) * s;
                    *hv = h;
                    *yv = h * ga + be;
                }
            }
        });
}

/// Gradients of batch norm from the upstream gradient `g` and the cached `xhat` (both
/// `[N, C, inner]`): writes `grad_x` (like `g`) and `grad_gamma`, `grad_beta` (`[C]`).
///
/// In training mode the statistics depend on `x`, so
/// `grad_x = gamma inv_std (g - mean(g) - xhat mean(g xhat))` per channel; in eval mode they
/// are constants and `grad_x = gamma inv_std g`.
///
/// # Panics
/// When the lengths disagree.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    g: &[f32],
    xhat: &[f32],
    c: usize,
    inner: usize,
    gamma: &[f32],
    inv_std: &[f32],
    training: bool,
    grad_x: &mut [f32],
    grad_gamma: &mut [f32],
    grad_beta: &mut [f32],
) {
    assert!(
        c * inner > 0
            && g.len().is_multiple_of(c * inner)
            && xhat.len() == g.len()
            && grad_x.len() == g.len(),
        "batch_norm_backward: g / xhat / grad_x lengths {} / {} / {} are not [N, {c}, {inner}]",
        g.len(),
        xhat.len(),
        grad_x.len()
    );
    for (name, len) in [
        ("gamma", gamma.len()),
        ("inv_std", inv_std.len()),
        ("grad_gamma", grad_gamma.len()),
        ("grad_beta", grad_beta.len()),
    ] {
        assert_eq!(
            len, c,
            "batch_norm_backward: {name} length for {c} channels"
        );
    }
    let sums: Vec<(f64, f64)> = (0..c)
        .into_par_iter()
        .map(|ch| {
            channel_rows(g, c, inner, ch)
                .zip(channel_rows(xhat, c, inner, ch))
                .fold((0.0, 0.0), |(sg, sgx), (gr, xr)| {
                    (
                        sg + lane_sum(gr, |v| v) as f64,
                        sgx + lane_dot(gr, xr) as f64,
                    )
                })
        })
        .collect();
    let count = (g.len() / c) as f64;
    // Per channel: grad_x = a * g + b * xhat + d.
    let coef: Vec<(f32, f32, f32)> = sums
        .iter()
        .enumerate()
        .map(|(ch, &(sg, sgx))| {
            let a = gamma[ch] * inv_std[ch];
            if training {
                (a, -a * (sgx / count) as f32, -a * (sg / count) as f32)
            } else {
                (a, 0.0, 0.0)
            }
        })
        .collect();
    for (ch, &(sg, sgx)) in sums.iter().enumerate() {
        grad_beta[ch] = sg as f32;
        grad_gamma[ch] = sgx as f32;
    }
    let img = c * inner;
    g.par_chunks(img)
        .zip(xhat.par_chunks(img))
        .zip(grad_x.par_chunks_mut(img))
        .for_each(|((g, xh), gx)| {
            for (ch, &(a, b, d)) in coef.iter().enumerate() {
                let r = ch * inner..(ch + 1) * inner;
                for ((gv, hv), o) in g[r.clone()].iter().zip(&xh[r.clone()]).zip(&mut gx[r]) {
                    *o = a * gv + b * hv + d;
                }
            }
        });
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
            let (mut xh, mut y) = (vec![0.0; len], vec![0.0; len]);
            let beta = vec![0.5; c];
            batch_norm_forward(&x, c, inner, &mean, &inv, &gamma, &beta, &mut xh, &mut y);
            let (mut gx, mut gg, mut gb) = (vec![0.0; len], vec![0.0; c], vec![0.0; c]);
            batch_norm_backward(
                &g, &xh, c, inner, &gamma, &inv, true, &mut gx, &mut gg, &mut gb,
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
