//! Timings of the classic learners against scikit-learn's reference workloads
//! (`bench/ref/w5_knn.py`, `bench/ref/w7_ridge.py`): run this and those scripts in one sitting.
//!
//! * kNN k = 3, L2: all 10k MNIST test images against the 60k training images.
//! * kNN k = 3, L1: the first 1000 test images.
//! * OLS and ridge (alpha 1) on a synthetic 200000 x 200 N(0, 1) design, `y = X w + 0.1 e`.
//!
//! Pixels are scaled to [0, 1] as in the Python script. Timed = fit + predict (kNN), fit
//! (linear). Set `BENCH_RUNS` for more repetitions (median reported);
//! `BENCH_ONLY=gemm,l2,l1,linear` picks workloads (gemm: a GEMM ceiling probe); `BENCH_DUMP_LINEAR=dir` also writes the synthetic X, y and our coefficients as raw
//! little-endian f64 files so that scikit-learn can be run on the very same data.
//!
//! `cargo run --profile test -p ferrolearn --example classic_bench`

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use ferrolearn::classic::knn::{KnnClassifier, Metric};
use ferrolearn::classic::linear::{LinearRegression, Ridge};
use ferrolearn::classic::{Classifier, FitClassifier, FitRegressor};
use ndarray::{s, Array1, Array2};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// Reads a gzipped IDX file: (dims, bytes). Private to this example; the library's IDX reader
/// lives in `data`.
fn read_idx(path: &Path) -> Result<(Vec<usize>, Vec<u8>), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut raw)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if raw.len() < 4 || raw[0] != 0 || raw[1] != 0 || raw[2] != 8 {
        return Err(format!("{}: not an unsigned-byte IDX file", path.display()));
    }
    let ndim = raw[3] as usize;
    let header = 4 + 4 * ndim;
    if raw.len() < header {
        return Err(format!("{}: truncated header", path.display()));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| {
            u32::from_be_bytes([
                raw[4 + 4 * i],
                raw[5 + 4 * i],
                raw[6 + 4 * i],
                raw[7 + 4 * i],
            ]) as usize
        })
        .collect();
    let n: usize = dims.iter().product();
    if raw.len() != header + n {
        return Err(format!(
            "{}: {} data bytes, header says {n}",
            path.display(),
            raw.len() - header
        ));
    }
    Ok((dims, raw[header..].to_vec()))
}

fn images(path: &Path) -> Result<Array2<f64>, String> {
    let (dims, bytes) = read_idx(path)?;
    let d = dims[1..].iter().product();
    Array2::from_shape_vec(
        (dims[0], d),
        bytes.iter().map(|&b| f64::from(b as f32 / 255.0)).collect(),
    )
    .map_err(|e| e.to_string())
}

fn labels(path: &Path) -> Result<Array1<usize>, String> {
    Ok(read_idx(path)?.1.into_iter().map(usize::from).collect())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// CPU seconds used by this process so far (user + system, from `/proc/self/stat`; 0 where
/// unavailable). On a shared machine, wall time / CPU time shows how much of it we got.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // f[0] is field 3 (state), so utime (14) and stime (15) are f[11] and f[12].
    (field(11) + field(12)) / 100.0
}

/// Median wall time over `runs`, the CPU seconds per run, and the last result.
fn time_runs<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let mut times = Vec::new();
    let mut out = None;
    let cpu0 = cpu_seconds();
    for _ in 0..runs {
        let t0 = Instant::now();
        out = Some(f());
        times.push(t0.elapsed().as_secs_f64());
    }
    let cpu = (cpu_seconds() - cpu0) / runs as f64;
    (median(times), cpu, out.expect("at least one run"))
}

fn write_f64(path: &Path, data: impl Iterator<Item = f64>) -> Result<(), String> {
    let bytes: Vec<u8> = data.flat_map(f64::to_le_bytes).collect();
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The f32 GEMM ceiling of the moment (n = 2048, one thread and all threads), so the kNN
/// L2 time can be read against what the machine currently delivers.
fn gemm_probe() {
    let n = 2048;
    let a = vec![1.0f32; n * n];
    let b = vec![0.5f32; n * n];
    let mut c = vec![0.0f32; n * n];
    for threads in [1, rayon::current_num_threads()] {
        let par = if threads == 1 {
            gemm::Parallelism::None
        } else {
            gemm::Parallelism::Rayon(threads)
        };
        let (t, cpu, ()) = time_runs(3, || {
            // SAFETY: three n x n row-major buffers that outlive the call; c does not alias.
            unsafe {
                gemm::gemm(
                    n,
                    n,
                    n,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    1,
                    n as isize,
                    b.as_ptr(),
                    1,
                    n as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    par,
                )
            }
        });
        let flop = 2.0 * (n as f64).powi(3);
        println!(
            "gemm f32 {n}^3, {threads} thread(s): {:.1} GFLOP/s wall, {:.1} GFLOP per CPU s",
            flop / t / 1e9,
            flop / cpu.max(1e-9) / 1e9
        );
    }
}

fn main() -> Result<(), String> {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    println!("rayon threads: {}", rayon::current_num_threads());
    let mnist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist");
    let xtr = images(&mnist.join("train-images-idx3-ubyte.gz"))?;
    let ytr = labels(&mnist.join("train-labels-idx1-ubyte.gz"))?;
    let xte = images(&mnist.join("t10k-images-idx3-ubyte.gz"))?;
    let yte = labels(&mnist.join("t10k-labels-idx1-ubyte.gz"))?;

    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.split(',').any(|o| o == name);
    if wanted("gemm") {
        gemm_probe();
    }
    for (name, metric, n_test) in [
        ("l2", Metric::Euclidean, 10_000),
        ("l1", Metric::Manhattan, 1000),
    ] {
        if !wanted(name) {
            continue;
        }
        let xq = xte.slice(s![..n_test, ..]);
        let (t, cpu, pred) = time_runs(runs, || {
            let model = KnnClassifier { k: 3, metric }.fit(xtr.view(), ytr.view())?;
            model.predict(xq)
        });
        let pred = pred.map_err(|e| e.to_string())?;
        let correct = pred.iter().zip(&yte).filter(|(p, t)| p == t).count();
        println!(
            "knn k=3 {metric:?}: {n_test} x 60000 in {t:.3} s (median of {runs}; {cpu:.2} CPU s \
             per run), accuracy {:.4}",
            correct as f64 / n_test as f64
        );
    }

    if !wanted("linear") {
        return Ok(());
    }
    let (n, d) = (200_000, 200);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let x = Array2::from_shape_simple_fn((n, d), || StandardNormal.sample(&mut rng));
    let w: Array1<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
    let noise: Array1<f64> = (0..n)
        .map(|_| {
            let e: f64 = StandardNormal.sample(&mut rng);
            0.1 * e
        })
        .collect();
    let y = x.dot(&w) + noise;
    let (t_ols, cpu_ols, ols) = time_runs(runs.max(3), || {
        LinearRegression::default().fit(x.view(), y.view())
    });
    let ols = ols.map_err(|e| e.to_string())?;
    let (t_ridge, cpu_ridge, ridge) =
        time_runs(runs.max(3), || Ridge::default().fit(x.view(), y.view()));
    let ridge = ridge.map_err(|e| e.to_string())?;
    let err = |c: ndarray::ArrayView1<f64>| (&c - &w).iter().fold(0.0f64, |m, v| m.max(v.abs()));
    println!(
        "ols   {n} x {d}: fit {t_ols:.3} s (median; {cpu_ols:.2} CPU s), max |coef - w| {:.2e}",
        err(ols.coef())
    );
    println!(
        "ridge {n} x {d}: fit {t_ridge:.3} s (median; {cpu_ridge:.2} CPU s), max |coef - w| {:.2e}",
        err(ridge.coef())
    );
    if let Ok(dir) = std::env::var("BENCH_DUMP_LINEAR") {
        let dir = Path::new(&dir);
        write_f64(&dir.join("x.f64"), x.iter().copied())?;
        write_f64(&dir.join("y.f64"), y.iter().copied())?;
        write_f64(
            &dir.join("ols.f64"),
            ols.coef().iter().copied().chain([ols.intercept()]),
        )?;
        write_f64(
            &dir.join("ridge.f64"),
            ridge.coef().iter().copied().chain([ridge.intercept()]),
        )?;
        println!("wrote x, y and coefficients to {}", dir.display());
    }
    Ok(())
}
