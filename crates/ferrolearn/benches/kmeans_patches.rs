//! Lloyd k-means on CIFAR-10 patches, the speed target against scikit-learn
//! (`benches/kmeans_patches_sklearn.py`, the same work): k = 200 on 100,000 6x6x3 patches of
//! the training images, 10 iterations from the first 200 patches as initial centres, `tol` 0.
//!
//! The patches are drawn by a multiplicative hash both sides compute (see the Python script),
//! so both cluster the very same rows from the very same centres and must end at the same
//! inertia. Prints one JSON object: inertia, iterations, the seconds spent in `fit` and the
//! whole process's (`KMEANS_ITERS=N` runs N iterations instead, as the Python script does). Run
//! with `FERROLEARN_DATA` set:
//! `cargo bench --bench kmeans_patches` (or the built binary under `target/release/deps`, to
//! time the whole process without cargo).

use std::time::Instant;

use ferrolearn::classic::kmeans::{KMeans, KMeansInit};
use ferrolearn::data::{load, DatasetName};
use ndarray::{s, Array2};

const N: usize = 100_000;
const K: usize = 200;
const SIDE: usize = 6;
/// Iterations unless `KMEANS_ITERS` says otherwise.
const ITERS: usize = 10;

/// Row `i` is patch `i`: CHW pixels / 255 of the window the hash of `i` picks.
fn patches(images: &[u8], n_images: usize) -> Array2<f64> {
    let mut x = Array2::zeros((N, 3 * SIDE * SIDE));
    for (i, mut row) in x.outer_iter_mut().enumerate() {
        let h = (i as u64 * 2_654_435_761) % (1 << 32);
        let (img, r0, c0) = (
            (h % 50_000) as usize,
            ((h / 50_000) % 27) as usize,
            ((h / 1_350_000) % 27) as usize,
        );
        assert!(img < n_images, "CIFAR-10 has 50,000 training images");
        let image = &images[img * 3072..(img + 1) * 3072];
        let mut j = 0;
        for c in 0..3 {
            for r in r0..r0 + SIDE {
                for col in c0..c0 + SIDE {
                    row[j] = f64::from(image[c * 1024 + r * 32 + col]) / 255.0;
                    j += 1;
                }
            }
        }
    }
    x
}

fn main() {
    let start = Instant::now();
    let sets = load(DatasetName::Cifar10, None).expect("CIFAR-10 (set FERROLEARN_DATA)");
    let x = patches(sets.train.images(), sets.train.len());
    let kmeans = KMeans {
        k: K,
        init: KMeansInit::Centres(x.slice(s![..K, ..]).to_owned()),
        max_iter: std::env::var("KMEANS_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(ITERS),
        tol: 0.0,
        ..KMeans::default()
    };
    let fit_start = Instant::now();
    let fitted = kmeans.fit(x.view()).expect("k-means fit");
    let fit_seconds = fit_start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "inertia": fitted.inertia,
            "n_iter": fitted.n_iter,
            "fit_seconds": fit_seconds,
            "threads": rayon::current_num_threads(),
            "wall_seconds": start.elapsed().as_secs_f64(),
        })
    );
}
