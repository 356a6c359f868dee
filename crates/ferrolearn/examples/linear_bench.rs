//! Timing harness for the linear classifiers on MNIST, to run beside scikit-learn's
//! `w6_logreg.py` (LogisticRegression, lbfgs, 100 iterations, 60k images) and `w8_linsvc.py`
//! (LinearSVC defaults, first 20k images).
//!
//! ```text
//! cargo run --release -p ferrolearn --example linear_bench -- [softmax|svm|all] [runs]
//! ```
//! Pixels are scaled to `[0, 1]` (`/255`) in f64; only `fit` is timed; accuracy is on all 10k
//! test images. `MNIST_DIR` overrides the data directory (default: the repository's
//! `data/mnist`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ferrolearn::classic::softmax::SoftmaxRegression;
use ferrolearn::classic::svm::LinearSvm;
use ferrolearn::classic::{Classifier, FitClassifier};
use ndarray::{s, Array1, Array2};

/// Reads a gzipped IDX file: returns its dimensions and bytes, checking the size.
fn read_idx(path: &Path) -> Result<(Vec<usize>, Vec<u8>), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() < 4 || bytes[2] != 0x08 {
        return Err(format!("{}: not an unsigned-byte IDX file", path.display()));
    }
    let n_dims = bytes[3] as usize;
    let header = 4 + 4 * n_dims;
    if bytes.len() < header {
        return Err(format!("{}: truncated header", path.display()));
    }
    let dims: Vec<usize> = (0..n_dims)
        .map(|i| {
            u32::from_be_bytes([
                bytes[4 + 4 * i],
                bytes[5 + 4 * i],
                bytes[6 + 4 * i],
                bytes[7 + 4 * i],
            ]) as usize
        })
        .collect();
    let expected: usize = dims.iter().product();
    if bytes.len() - header != expected {
        return Err(format!(
            "{}: header says {expected} bytes of data, file has {}",
            path.display(),
            bytes.len() - header
        ));
    }
    Ok((dims, bytes[header..].to_vec()))
}

/// Images as `[N, 784]` f64 in `[0, 1]` and labels.
fn load(dir: &Path, prefix: &str) -> Result<(Array2<f64>, Array1<usize>), String> {
    let (dims, pixels) = read_idx(&dir.join(format!("{prefix}-images-idx3-ubyte.gz")))?;
    let (_, labels) = read_idx(&dir.join(format!("{prefix}-labels-idx1-ubyte.gz")))?;
    let n = dims[0];
    let d = pixels.len() / n.max(1);
    let x = Array2::from_shape_vec((n, d), pixels.iter().map(|&p| p as f64 / 255.0).collect())
        .map_err(|e| e.to_string())?;
    Ok((x, labels.iter().map(|&l| l as usize).collect()))
}

fn accuracy(pred: &Array1<usize>, y: &Array1<usize>) -> f64 {
    pred.iter().zip(y).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
}

fn stats(times: &[f64]) -> String {
    let mut t = times.to_vec();
    t.sort_by(f64::total_cmp);
    format!(
        "min {:.3} s, median {:.3} s, runs {:?}",
        t[0],
        t[t.len() / 2],
        times
    )
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("all", String::as_str);
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(3);
    let dir = std::env::var_os("MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist"));
    let (xtr, ytr) = load(&dir, "train")?;
    let (xte, yte) = load(&dir, "t10k")?;
    println!("threads: {}", rayon::current_num_threads());
    if which == "softmax" || which == "all" {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let t0 = Instant::now();
            let model = SoftmaxRegression::default()
                .fit(xtr.view(), ytr.view())
                .map_err(|e| e.to_string())?;
            times.push(t0.elapsed().as_secs_f64());
            last = Some(model);
        }
        let model = last.ok_or("no runs")?;
        let acc = accuracy(&model.predict(xte.view()).map_err(|e| e.to_string())?, &yte);
        println!(
            "softmax (lbfgs, C=1, 100 iter, 60k): fit {}; test acc {:.4}; n_iter {}; converged {}",
            stats(&times),
            acc,
            model.n_iter(),
            model.converged()
        );
    }
    if which == "svm" || which == "all" {
        let (x20, y20) = (xtr.slice(s![..20000, ..]), ytr.slice(s![..20000]));
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let t0 = Instant::now();
            let model = LinearSvm::default()
                .fit(x20, y20)
                .map_err(|e| e.to_string())?;
            times.push(t0.elapsed().as_secs_f64());
            last = Some(model);
        }
        let model = last.ok_or("no runs")?;
        let acc = accuracy(&model.predict(xte.view()).map_err(|e| e.to_string())?, &yte);
        println!(
            "linear SVM (squared hinge, C=1, OvR, 20k): fit {}; test acc {:.4}; max passes {}; converged {}",
            stats(&times),
            acc,
            model.n_iter(),
            model.converged()
        );
    }
    Ok(())
}
