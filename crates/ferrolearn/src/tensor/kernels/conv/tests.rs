//! Convolution kernels against a direct-loop f64 reference.

use super::im2col::{merged_rows, valid_range};
use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rounding allowance of Winograd F(4x4, 3x3) relative to the sum of the absolute values of
/// an element's terms: its transforms multiply by up to 8 and divide by 24, so f32 rounding
/// grows to a few times 1e-6 of that sum (worst measured on these tests: 3.4e-6).
const WINOGRAD_TERMS_REL: f64 = 1e-5;

fn random(len: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

/// Checks `got` against `want` element by element, within `1e-4 (1 + |want|)` plus, for
/// Winograd's transforms, `terms_rel` times the sum of the absolute values of the terms behind
/// the element (`terms`, or zero without).
fn assert_close(got: &[f32], want: &[f64], terms: Option<&[f64]>, terms_rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let scale = terms.map_or(0.0, |t| t[i]);
        let tol = 1e-4 * (1.0 + w.abs()) + terms_rel * scale;
        assert!(
            (g as f64 - w).abs() <= tol,
            "{what}: element {i}: got {g}, want {w}"
        );
    }
}

/// Calls `f(n, co, oy, ox, ci, ky, kx, input_index)` for every term of the direct
/// convolution sum that reads a real (non-padding) input element.
fn each_term(g: &Conv2dGeometry, mut f: impl FnMut([usize; 7], usize)) {
    let (oh, ow) = (g.out_h(), g.out_w());
    for n in 0..g.n {
        for co in 0..g.c_out {
            for oy in 0..oh {
                for ox in 0..ow {
                    for ci in 0..g.c_in {
                        for ky in 0..g.kh {
                            for kx in 0..g.kw {
                                let iy = (oy * g.stride.0 + ky) as isize - g.padding.0 as isize;
                                let ix = (ox * g.stride.1 + kx) as isize - g.padding.1 as isize;
                                if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize {
                                    continue;
                                }
                                let xi =
                                    ((n * g.c_in + ci) * g.h + iy as usize) * g.w + ix as usize;
                                f([n, co, oy, ox, ci, ky, kx], xi);
                            }
                        }
                    }
                }
            }
        }
    }
}

struct Naive {
    y: Vec<f64>,
    gx: Vec<f64>,
    gw: Vec<f64>,
    gb: Vec<f64>,
    /// Sums of the absolute values of the terms behind each element of `y`, `gx` and `gw`:
    /// the scale of the rounding error of any summation order.
    y_abs: Vec<f64>,
    gx_abs: Vec<f64>,
    gw_abs: Vec<f64>,
}

/// Direct-loop convolution and its gradients, in f64.
fn naive(g: &Conv2dGeometry, x: &[f32], w: &[f32], b: &[f32], dy: &[f32]) -> Naive {
    let (oh, ow) = (g.out_h(), g.out_w());
    let mut r = Naive {
        y: vec![0.0; g.output_len()],
        gx: vec![0.0; g.input_len()],
        gw: vec![0.0; g.weight_len()],
        gb: vec![0.0; g.c_out],
        y_abs: vec![0.0; g.output_len()],
        gx_abs: vec![0.0; g.input_len()],
        gw_abs: vec![0.0; g.weight_len()],
    };
    for n in 0..g.n {
        for (co, &bc) in b.iter().enumerate() {
            for p in 0..oh * ow {
                let yi = (n * g.c_out + co) * oh * ow + p;
                r.y[yi] = bc as f64;
                r.gb[co] += dy[yi] as f64;
            }
        }
    }
    each_term(g, |[n, co, oy, ox, ci, ky, kx], xi| {
        let yi = ((n * g.c_out + co) * oh + oy) * ow + ox;
        let wi = ((co * g.c_in + ci) * g.kh + ky) * g.kw + kx;
        r.y[yi] += x[xi] as f64 * w[wi] as f64;
        r.gx[xi] += w[wi] as f64 * dy[yi] as f64;
        r.gw[wi] += x[xi] as f64 * dy[yi] as f64;
        r.y_abs[yi] += (x[xi] as f64 * w[wi] as f64).abs();
        r.gx_abs[xi] += (w[wi] as f64 * dy[yi] as f64).abs();
        r.gw_abs[wi] += (x[xi] as f64 * dy[yi] as f64).abs();
    });
    r
}

/// A convolution forward and backward with the signatures of [`conv2d_forward`] and
/// [`conv2d_backward`].
type ForwardFn = fn(&Conv2dGeometry, &[f32], &[f32], Option<&[f32]>, &mut [f32]);
type BackwardFn = fn(
    &Conv2dGeometry,
    &[f32],
    &[f32],
    &[f32],
    Option<&mut [f32]>,
    Option<&mut [f32]>,
    Option<&mut [f32]>,
);

fn check(g: Conv2dGeometry, seed: u64) {
    check_with(g, seed, conv2d_forward, conv2d_backward, WINOGRAD_TERMS_REL);
}

/// Compares `forward` and `backward` (every gradient, together and alone) with [`naive`].
fn check_with(
    g: Conv2dGeometry,
    seed: u64,
    forward: ForwardFn,
    backward: BackwardFn,
    terms_rel: f64,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = random(g.input_len(), &mut rng);
    let w = random(g.weight_len(), &mut rng);
    let b = random(g.c_out, &mut rng);
    let dy = random(g.output_len(), &mut rng);
    let want = naive(&g, &x, &w, &b, &dy);

    // Outputs start as garbage to prove that everything is overwritten.
    let mut y = vec![f32::NAN; g.output_len()];
    forward(&g, &x, &w, Some(&b), &mut y);
    assert_close(
        &y,
        &want.y,
        Some(&want.y_abs),
        terms_rel,
        &format!("forward {g:?}"),
    );

    let mut y0 = vec![f32::NAN; g.output_len()];
    forward(&g, &x, &w, None, &mut y0);
    let want_nobias: Vec<f64> = want
        .y
        .iter()
        .enumerate()
        .map(|(i, v)| v - b[(i / (g.out_h() * g.out_w())) % g.c_out] as f64)
        .collect();
    assert_close(
        &y0,
        &want_nobias,
        Some(&want.y_abs),
        terms_rel,
        &format!("forward without bias {g:?}"),
    );

    let mut gx = vec![f32::NAN; g.input_len()];
    let mut gw = vec![f32::NAN; g.weight_len()];
    let mut gb = vec![f32::NAN; g.c_out];
    backward(&g, &x, &w, &dy, Some(&mut gx), Some(&mut gw), Some(&mut gb));
    assert_close(
        &gx,
        &want.gx,
        Some(&want.gx_abs),
        terms_rel,
        &format!("grad_input {g:?}"),
    );
    assert_close(
        &gw,
        &want.gw,
        Some(&want.gw_abs),
        terms_rel,
        &format!("grad_weight {g:?}"),
    );
    assert_close(&gb, &want.gb, None, 0.0, &format!("grad_bias {g:?}"));

    // Each gradient on its own gives the same numbers.
    let mut gx1 = vec![f32::NAN; g.input_len()];
    backward(&g, &x, &w, &dy, Some(&mut gx1), None, None);
    assert_close(
        &gx1,
        &want.gx,
        Some(&want.gx_abs),
        terms_rel,
        &format!("grad_input alone {g:?}"),
    );
    let mut gw1 = vec![f32::NAN; g.weight_len()];
    backward(&g, &x, &w, &dy, None, Some(&mut gw1), None);
    assert_close(
        &gw1,
        &want.gw,
        Some(&want.gw_abs),
        terms_rel,
        &format!("grad_weight alone {g:?}"),
    );
}

#[test]
fn square_kernel_same_padding_batch() {
    check(Conv2dGeometry::new(2, 3, (7, 6), 4, (3, 3)).padding(1), 10);
}

#[test]
fn pointwise_kernel_uses_plain_gemm() {
    let g = Conv2dGeometry::new(3, 5, (4, 5), 6, (1, 1));
    assert!(g.is_pointwise());
    check(g, 11);
}

#[test]
fn strided_pointwise_and_padded_pointwise() {
    check(Conv2dGeometry::new(2, 3, (7, 8), 2, (1, 1)).stride(2), 12);
    check(Conv2dGeometry::new(2, 3, (5, 4), 2, (1, 1)).padding(1), 13);
}

#[test]
fn stride_two_with_and_without_padding() {
    check(Conv2dGeometry::new(2, 3, (9, 8), 4, (3, 3)).stride(2), 14);
    check(
        Conv2dGeometry::new(2, 3, (9, 8), 4, (3, 3))
            .stride(2)
            .padding(1),
        15,
    );
    check(
        Conv2dGeometry::new(1, 2, (10, 10), 3, (4, 4))
            .stride(3)
            .padding(1),
        16,
    );
}

#[test]
fn padding_wider_than_half_the_kernel() {
    check(Conv2dGeometry::new(2, 2, (5, 6), 3, (3, 3)).padding(2), 17);
    check(
        Conv2dGeometry::new(1, 2, (3, 3), 2, (2, 2))
            .padding(3)
            .stride(2),
        18,
    );
}

#[test]
fn rectangular_kernel_stride_and_padding_on_non_square_input() {
    let g = Conv2dGeometry {
        stride: (2, 1),
        padding: (1, 0),
        ..Conv2dGeometry::new(2, 3, (6, 9), 4, (2, 3))
    };
    check(g, 19);
    let g = Conv2dGeometry {
        stride: (1, 3),
        padding: (0, 2),
        ..Conv2dGeometry::new(1, 2, (5, 7), 3, (3, 2))
    };
    check(g, 20);
}

#[test]
fn same_padding_rectangular_kernels_copy_whole_row_runs() {
    // Stride 1 with output rows as wide as input rows takes the merged-row im2col path.
    for (i, (kh, kw)) in [(3, 5), (3, 1), (1, 3), (5, 3)].into_iter().enumerate() {
        let g = Conv2dGeometry {
            padding: (kh / 2, kw / 2),
            ..Conv2dGeometry::new(2, 3, (6, 7), 4, (kh, kw))
        };
        assert!(merged_rows(&g, 0, 0, g.out_h()).is_some());
        check(g, 30 + i as u64);
    }
}

#[test]
fn single_input_channel_lenet_like() {
    check(
        Conv2dGeometry::new(3, 1, (12, 10), 4, (5, 5)).padding(2),
        21,
    );
}

#[test]
fn batch_larger_than_group_count_with_uneven_groups() {
    check(Conv2dGeometry::new(11, 2, (5, 5), 3, (3, 3)).padding(1), 22);
    check(Conv2dGeometry::new(19, 3, (4, 4), 2, (1, 1)), 23);
}

#[test]
fn several_row_blocks_per_image() {
    let g = Conv2dGeometry::new(2, 16, (50, 40), 5, (3, 3)).padding(1);
    assert!(
        g.block_rows() < g.out_h(),
        "the test should cover several row blocks"
    );
    check(g, 24);
}

#[test]
fn kernel_as_large_as_padded_input() {
    check(Conv2dGeometry::new(2, 2, (3, 4), 2, (5, 6)).padding(1), 25);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // The second geometry takes the Winograd path.
    for (seed, g) in [
        (26, Conv2dGeometry::new(10, 4, (9, 9), 6, (3, 3)).padding(1)),
        (
            27,
            Conv2dGeometry::new(10, 128, (5, 5), 128, (3, 3)).padding(1),
        ),
    ] {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = random(g.input_len(), &mut rng);
        let w = random(g.weight_len(), &mut rng);
        let dy = random(g.output_len(), &mut rng);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut y = vec![0.0; g.output_len()];
                let mut gx = vec![0.0; g.input_len()];
                let mut gw = vec![0.0; g.weight_len()];
                conv2d_forward(&g, &x, &w, None, &mut y);
                conv2d_backward(&g, &x, &w, &dy, Some(&mut gx), Some(&mut gw), None);
                (y, gx, gw)
            })
        };
        assert!(
            run(1) == run(3),
            "conv results changed with the number of threads for {g:?}"
        );
    }
}

#[test]
fn winograd_is_chosen_for_wide_layers_through_the_public_functions() {
    let g = Conv2dGeometry::new(2, 128, (5, 4), 128, (3, 3)).padding(1);
    assert!(winograd::pays(&g));
    check(g, 51);
}

#[test]
#[should_panic(expected = "does not fit")]
fn kernel_larger_than_padded_input_is_refused() {
    Conv2dGeometry::new(1, 1, (2, 2), 1, (4, 4))
        .padding(0)
        .out_h();
}

#[test]
#[should_panic(expected = "weight length")]
fn wrong_weight_length_is_refused() {
    let g = Conv2dGeometry::new(1, 2, (4, 4), 3, (3, 3));
    let mut y = vec![0.0; g.output_len()];
    conv2d_forward(&g, &vec![0.0; g.input_len()], &[0.0; 5], None, &mut y);
}

#[test]
fn valid_range_matches_brute_force() {
    for size in 1..7 {
        for k_off in 0..5 {
            for stride in 1..4 {
                for pad in 0..4 {
                    for out in 0..6 {
                        let inside = |ox: usize| {
                            let i = (ox * stride + k_off) as isize - pad as isize;
                            i >= 0 && i < size as isize
                        };
                        let (lo, hi) = valid_range(out, size, k_off, stride, pad);
                        for ox in 0..out {
                            assert_eq!(
                                (lo..hi).contains(&ox),
                                inside(ox),
                                "{size} {k_off} {stride} {pad} {out} {ox}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn winograd_on_odd_and_even_sizes_and_paddings() {
    let cases = [
        Conv2dGeometry::new(3, 16, (7, 7), 17, (3, 3)).padding(1),
        Conv2dGeometry::new(2, 18, (8, 6), 16, (3, 3)).padding(1),
        Conv2dGeometry::new(2, 16, (3, 3), 16, (3, 3)).padding(1),
        Conv2dGeometry::new(2, 16, (6, 7), 16, (3, 3)),
        Conv2dGeometry::new(2, 16, (5, 4), 16, (3, 3)).padding(2),
        Conv2dGeometry::new(1, 16, (1, 1), 16, (3, 3)).padding(1),
        Conv2dGeometry::new(2, 5, (15, 13), 7, (3, 3)).padding(1),
        Conv2dGeometry::new(2, 3, (11, 10), 4, (3, 3)).padding(3),
    ];
    for (i, g) in cases.into_iter().enumerate() {
        assert!(winograd::supports(&g));
        check_with(
            g,
            60 + i as u64,
            winograd::forward,
            winograd::backward,
            WINOGRAD_TERMS_REL,
        );
    }
}

#[test]
fn winograd_with_several_blocks_per_group() {
    let g = Conv2dGeometry::new(20, 16, (32, 32), 64, (3, 3)).padding(1);
    check_with(
        g,
        70,
        winograd::forward,
        winograd::backward,
        WINOGRAD_TERMS_REL,
    );
}
