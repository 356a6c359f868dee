//! Every convolution and batch-norm shape of ResNet-20 (batch 128) and fastnet (batch 512),
//! timed layer by layer and printed as a table, to read side by side with
//! `benches/cifar_layers.py` (the same shapes in PyTorch) run in the same sitting.
//!
//! Run with `cargo bench --bench cifar_layers [-- FILTER] [--runs R]`; FILTER keeps the rows
//! whose name contains it (`fastnet`, `r20`, `bn`). Each row is the median of R runs (default 7)
//! after two warm-ups: `fwd` the forward, `f+b` forward + backward (input gradient too, except
//! for a first layer whose input is data). GFLOP/s counts `2 N C_out H' W' C_in kH kW` per
//! forward and 3x (2x without input gradient) for f+b. Batch-norm rows time training-mode batch
//! norm followed by ReLU through autograd (forward, and forward + backward), times only.
//! Runs on a rayon pool of 2 threads (`RAYON_NUM_THREADS` overrides).

use ferrolearn::autograd::{batch_norm, Var};
use ferrolearn::tensor::kernels::{conv2d_backward, conv2d_forward, Conv2dGeometry};
use ferrolearn::tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// One convolution layer: name, geometry, bias, whether its input gradient is needed.
struct ConvRow {
    name: &'static str,
    g: Conv2dGeometry,
    bias: bool,
    grad_input: bool,
}

fn conv_rows() -> Vec<ConvRow> {
    let c3 = |n, cin, h, cout, s| {
        Conv2dGeometry::new(n, cin, (h, h), cout, (3, 3))
            .stride(s)
            .padding(1)
    };
    let row = |name, g, grad_input| ConvRow {
        name,
        g,
        bias: false,
        grad_input,
    };
    vec![
        row("r20.conv 3->16 32x32", c3(128, 3, 32, 16, 1), false),
        row("r20.conv 16->16 32x32", c3(128, 16, 32, 16, 1), true),
        row("r20.conv 16->32 s2 32x32", c3(128, 16, 32, 32, 2), true),
        row("r20.conv 32->32 16x16", c3(128, 32, 16, 32, 1), true),
        row("r20.conv 32->64 s2 16x16", c3(128, 32, 16, 64, 2), true),
        row("r20.conv 64->64 8x8", c3(128, 64, 8, 64, 1), true),
        ConvRow {
            name: "fastnet.conv 3->24 k2 32x32",
            g: Conv2dGeometry::new(512, 3, (32, 32), 24, (2, 2)),
            bias: true,
            grad_input: false,
        },
        row("fastnet.conv 24->64 31x31", c3(512, 24, 31, 64, 1), true),
        row("fastnet.conv 64->64 15x15", c3(512, 64, 15, 64, 1), true),
        row("fastnet.conv 64->256 15x15", c3(512, 64, 15, 256, 1), true),
        row("fastnet.conv 256->256 7x7", c3(512, 256, 7, 256, 1), true),
        row("fastnet.conv 256->256 3x3", c3(512, 256, 3, 256, 1), true),
    ]
}

const BN_ROWS: [(&str, [usize; 4]); 5] = [
    ("r20.bn+relu [128,16,32,32]", [128, 16, 32, 32]),
    ("r20.bn+relu [128,32,16,16]", [128, 32, 16, 16]),
    ("r20.bn+relu [128,64,8,8]", [128, 64, 8, 8]),
    ("fastnet.bn+relu [512,64,15,15]", [512, 64, 15, 15]),
    ("fastnet.bn+relu [512,256,7,7]", [512, 256, 7, 7]),
];

fn random(len: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

/// Median wall time in seconds of `runs` calls of `f` after two warm-up calls.
fn median_s(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    f();
    let mut ts: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    ts.sort_by(f64::total_cmp);
    ts[ts.len() / 2]
}

fn bench_conv(r: &ConvRow, runs: usize) {
    let g = r.g;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = random(g.input_len(), &mut rng);
    let w = random(g.weight_len(), &mut rng);
    let b = random(g.c_out, &mut rng);
    let dy = random(g.output_len(), &mut rng);
    let bias = r.bias.then_some(&b[..]);
    let mut y = vec![0.0f32; g.output_len()];
    let mut gx = vec![0.0f32; g.input_len()];
    let mut gw = vec![0.0f32; g.weight_len()];
    let mut gb = vec![0.0f32; g.c_out];
    let tf = median_s(runs, || conv2d_forward(&g, &x, &w, bias, &mut y));
    let tb = median_s(runs, || {
        conv2d_forward(&g, &x, &w, bias, &mut y);
        let gx = r.grad_input.then_some(&mut gx[..]);
        let gb = r.bias.then_some(&mut gb[..]);
        conv2d_backward(&g, &x, &w, &dy, gx, Some(&mut gw), gb);
    });
    let flops = g.forward_flops() as f64;
    let mult = if r.grad_input { 3.0 } else { 2.0 };
    println!(
        "{:<32} {:8.2} {:8.1} {:8.2} {:8.1}",
        r.name,
        tf * 1e3,
        flops / tf / 1e9,
        tb * 1e3,
        mult * flops / tb / 1e9
    );
}

fn bench_bn(name: &str, shape: [usize; 4], runs: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let len: usize = shape.iter().product();
    let c = shape[1];
    let x = Var::parameter(Tensor::from_vec(random(len, &mut rng), &shape));
    let gamma = Var::parameter(Tensor::from_vec(vec![1.0; c], &[c]));
    let beta = Var::parameter(Tensor::from_vec(vec![0.0; c], &[c]));
    let gy = Tensor::from_vec(random(len, &mut rng), &shape);
    let mut rm = Tensor::from_vec(vec![0.0; c], &[c]);
    let mut rv = Tensor::from_vec(vec![1.0; c], &[c]);
    let mut forward = || batch_norm(&x, &gamma, &beta, &mut rm, &mut rv, true, 0.1, 1e-5).relu();
    let tf = median_s(runs, || {
        std::hint::black_box(forward());
    });
    let tb = median_s(runs, || {
        std::hint::black_box(forward().backward_with(gy.clone()));
    });
    println!("{:<32} {:8.2} {:>8} {:8.2}", name, tf * 1e3, "", tb * 1e3);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut filter, mut runs) = (String::new(), 7usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            s if s.starts_with("--") => {}
            s => filter = s.to_string(),
        }
    }
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool");
    pool.install(|| {
        println!(
            "{:<32} {:>8} {:>8} {:>8} {:>8}",
            "layer", "fwd ms", "GFLOP/s", "f+b ms", "GFLOP/s"
        );
        for r in conv_rows().iter().filter(|r| r.name.contains(&filter)) {
            bench_conv(r, runs);
        }
        for (name, shape) in BN_ROWS.iter().filter(|(n, _)| n.contains(&filter)) {
            bench_bn(name, *shape, runs);
        }
    });
}
