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

/// `y = (x - mean) * inv_std * gamma + beta` per channel, then `max(y, 0)` when `relu` (batch
/// norm and a following ReLU in one pass), for `x` and `y` `[N, C, inner]` and the rest `[C]`.
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
    relu: bool,
    y: &mut [f32],
) {
    assert!(
        c * inner > 0 && x.len().is_multiple_of(c * inner) && y.len() == x.len(),
        "batch_norm_forward: x / y lengths {} / {} are not [N, {c}, {inner}]",
        x.len(),
        y.len()
    );
    check_channels("batch_norm_forward", c, [mean, inv_std, gamma, beta]);
    let img = c * inner;
    x.par_chunks(img)
        .zip(y.par_chunks_mut(img))
        .for_each(|(x, y)| {
            for ch in 0..c {
                let r = ch * inner..(ch + 1) * inner;
                let (m, s, ga, be) = (mean[ch], inv_std[ch], gamma[ch], beta[ch]);
                for (xv, yv) in x[r.clone()].iter().zip(&mut y[r]) {
                    let v = (xv - m) * s * ga + be;
                    *yv = if relu { v.max(0.0) } else { v };
                }
            }
        });
}

/// Gradients of batch norm from the upstream gradient `g` and the input `x` (both
/// `[N, C, inner]`; `xhat = (x - mean) * inv_std` is recomputed rather than kept from
/// forward): writes `grad_x` (like `g`) and `grad_gamma`, `grad_beta` (`[C]`).
///
/// `relu_out` is the output of a fused ReLU ([`batch_norm_forward`] with `relu`): the gradient
/// is first cut to zero where that output is not positive. In training mode the statistics
/// depend on `x`, so `grad_x = gamma inv_std (g - mean(g) - xhat mean(g xhat))` per channel;
/// in eval mode they are constants and `grad_x = gamma inv_std g`.
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
    training: bool,
    relu_out: Option<&[f32]>,
    grad_x: &mut [f32],
    grad_gamma: &mut [f32],
    grad_beta: &mut [f32],
) {
    assert!(
        c * inner > 0
            && g.len().is_multiple_of(c * inner)
            && x.len() == g.len()
            && grad_x.len() == g.len()
            && relu_out.is_none_or(|o| o.len() == g.len()),
        "batch_norm_backward: g / x / grad_x lengths {} / {} / {} are not [N, {c}, {inner}]",
        g.len(),
        x.len(),
        grad_x.len()
    );
    check_channels("batch_norm_backward", c, [mean, inv_std, gamma]);
    check_channels("batch_norm_backward", c, [&*grad_gamma, &*grad_beta]);
    // Without a fused ReLU the mask reads `g` itself and is ignored.
    let (relu, out) = (relu_out.is_some(), relu_out.unwrap_or(g));
    let sums: Vec<(f64, f64)> = (0..c)
        .into_par_iter()
        .map(|ch| {
            let (m, s) = (mean[ch], inv_std[ch]);
            channel_rows(g, c, inner, ch)
                .zip(channel_rows(x, c, inner, ch))
                .zip(channel_rows(out, c, inner, ch))
                .fold((0.0, 0.0), |(sg, sgx), ((gr, xr), or)| {
                    let (a, b) = row_sums(gr, xr, or, relu, m, s);
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
        .zip(x.par_chunks(img))
        .zip(out.par_chunks(img))
        .zip(grad_x.par_chunks_mut(img))
        .for_each(|(((g, x), out), gx)| {
            for (ch, &(a, b, d)) in coef.iter().enumerate() {
                let r = ch * inner..(ch + 1) * inner;
                let (m, s) = (mean[ch], inv_std[ch]);
                let rows = g[r.clone()].iter().zip(&x[r.clone()]).zip(&out[r.clone()]);
                for (((gv, xv), ov), o) in rows.zip(&mut gx[r]) {
                    let ge = if !relu | (*ov > 0.0) { *gv } else { 0.0 };
                    *o = a * ge + b * ((xv - m) * s) + d;
                }
            }
        });
}

/// Sums of `ge` and `ge * xhat` over one row in 16 lanes, where `ge` is `g` cut to zero where
/// a fused ReLU's output `out` is not positive (when `relu`) and `xhat = (x - m) * s`.
fn row_sums(g: &[f32], x: &[f32], out: &[f32], relu: bool, m: f32, s: f32) -> (f32, f32) {
    let (mut sg, mut sgx) = ([0.0f32; 16], [0.0f32; 16]);
    let term = |gv: f32, xv: f32, ov: f32| {
        // `|`, not `||`: no branch, so the loop vectorises.
        let ge = if !relu | (ov > 0.0) { gv } else { 0.0 };
        (ge, ge * ((xv - m) * s))
    };
    let (mut cg, mut cx, mut co) = (g.chunks_exact(16), x.chunks_exact(16), out.chunks_exact(16));
    for ((gc, xc), oc) in (&mut cg).zip(&mut cx).zip(&mut co) {
        for k in 0..16 {
            let (a, b) = term(gc[k], xc[k], oc[k]);
            sg[k] += a;
            sgx[k] += b;
        }
    }
    let (mut tg, mut tgx) = (0.0f32, 0.0f32);
    for ((gv, xv), ov) in cg
        .remainder()
        .iter()
        .zip(cx.remainder())
        .zip(co.remainder())
    {
        let (a, b) = term(*gv, *xv, *ov);
        tg += a;
        tgx += b;
    }
    (sg.iter().sum::<f32>() + tg, sgx.iter().sum::<f32>() + tgx)
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
    fn fused_relu_is_relu_after_batch_norm_in_both_directions() {
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
        let (mut y, mut out) = (vec![0.0; len], vec![0.0; len]);
        batch_norm_forward(&x, c, inner, &mean, &inv, &gamma, &beta, false, &mut y);
        batch_norm_forward(&x, c, inner, &mean, &inv, &gamma, &beta, true, &mut out);
        let relu: Vec<f32> = y.iter().map(|v| v.max(0.0)).collect();
        assert_eq!(out, relu);
        assert!(y.iter().any(|&v| v < 0.0) && y.iter().any(|&v| v > 0.0));
        // Backward through the fused op = backward of plain batch norm with the ReLU's
        // gradient mask applied to g first.
        let masked: Vec<f32> = g
            .iter()
            .zip(&y)
            .map(|(g, y)| if *y > 0.0 { *g } else { 0.0 })
            .collect();
        let mut want = (vec![0.0; len], vec![0.0; c], vec![0.0; c]);
        let (wx, wg, wb) = (&mut want.0, &mut want.1, &mut want.2);
        batch_norm_backward(
            &masked, &x, c, inner, &mean, &inv, &gamma, true, None, wx, wg, wb,
        );
        let mut got = (vec![0.0; len], vec![0.0; c], vec![0.0; c]);
        let (gx, gg, gb) = (&mut got.0, &mut got.1, &mut got.2);
        batch_norm_backward(
            &g,
            &x,
            c,
            inner,
            &mean,
            &inv,
            &gamma,
            true,
            Some(&out),
            gx,
            gg,
            gb,
        );
        assert_eq!(got, want);
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
            batch_norm_forward(&x, c, inner, &mean, &inv, &gamma, &beta, false, &mut y);
            let (mut gx, mut gg, mut gb) = (vec![0.0; len], vec![0.0; c], vec![0.0; c]);
            batch_norm_backward(
                &g, &x, c, inner, &mean, &inv, &gamma, true, None, &mut gx, &mut gg, &mut gb,
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
