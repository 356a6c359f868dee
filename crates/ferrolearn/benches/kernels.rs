//! Benchmarks of the compute kernels, shaped after the reference workloads in
//! `shared/bench/ref` (`w1_gemm.py`, `w4_conv.py`, the convolutions of `w3_lenet.py`).
//!
//! Throughput is given in elements = floating-point operations, so criterion's `Gelem/s` reads
//! as GFLOP/s: `2 n^3` per square matmul, `2 N C_out H' W' C_in kH kW` per convolution forward
//! and three times that for forward + backward (input and weight gradients), as the reference
//! scripts count. Run with `cargo bench --bench kernels`; compare against the reference scripts
//! run in the same sitting, since the machine is shared.

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ferrolearn::tensor::kernels::{conv2d_backward, conv2d_forward, matmul, Conv2dGeometry};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;

fn random(len: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

/// `C = A B` for square `n x n` matrices, as `torch.mm(a, b, out=c)` in `w1_gemm.py`.
fn bench_matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for n in [256usize, 512, 1024, 2048] {
        let a = random(n * n, &mut rng);
        let b = random(n * n, &mut rng);
        let mut out = vec![0.0f32; n * n];
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, &n| {
            bench.iter(|| {
                matmul(
                    n,
                    n,
                    n,
                    black_box(&a),
                    false,
                    black_box(&b),
                    false,
                    &mut out,
                    false,
                )
            })
        });
    }
    group.finish();
}

/// Forward and forward + backward (input, weight and bias gradients) of one convolution.
fn bench_conv(c: &mut Criterion, name: &str, g: Conv2dGeometry, with_grad_input: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = random(g.input_len(), &mut rng);
    let w = random(g.weight_len(), &mut rng);
    let b = random(g.c_out, &mut rng);
    let dy = random(g.output_len(), &mut rng);
    let mut y = vec![0.0f32; g.output_len()];
    let mut gx = vec![0.0f32; g.input_len()];
    let mut gw = vec![0.0f32; g.weight_len()];
    let mut gb = vec![0.0f32; g.c_out];
    let flops = g.forward_flops();

    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(flops));
    group.bench_function("forward", |bench| {
        bench.iter(|| conv2d_forward(&g, black_box(&x), &w, Some(&b), &mut y))
    });
    // Backward without the input gradient costs one forward less.
    group.throughput(Throughput::Elements(if with_grad_input {
        3 * flops
    } else {
        2 * flops
    }));
    group.bench_function("forward_backward", |bench| {
        bench.iter(|| {
            conv2d_forward(&g, black_box(&x), &w, Some(&b), &mut y);
            let gx = with_grad_input.then_some(&mut gx[..]);
            conv2d_backward(&g, &x, &w, black_box(&dy), gx, Some(&mut gw), Some(&mut gb));
        })
    });
    group.finish();
}

fn bench_convs(c: &mut Criterion) {
    // w4_conv.py: 128 x 64 x 32 x 32, 64 filters of 3x3, padding 1.
    let layer = Conv2dGeometry::new(128, 64, (32, 32), 64, (3, 3)).padding(1);
    bench_conv(c, "conv2d_w4_b128_64to64_3x3_32x32", layer, true);
    // The two convolutions of LeNet-5 (w3_lenet.py), batch 64; the first layer's input gradient
    // is never needed.
    let conv1 = Conv2dGeometry::new(64, 1, (28, 28), 20, (5, 5)).padding(2);
    bench_conv(c, "conv2d_lenet1_b64_1to20_5x5_28x28", conv1, false);
    let conv2 = Conv2dGeometry::new(64, 20, (14, 14), 50, (5, 5)).padding(2);
    bench_conv(c, "conv2d_lenet2_b64_20to50_5x5_14x14", conv2, true);
}

criterion_group!(benches, bench_matmul, bench_convs);
criterion_main!(benches);
