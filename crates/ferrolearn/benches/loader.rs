//! Throughput of the training loader on CIFAR-10-shaped data: augmented, normalised batches
//! of 3x32x32 images built on ONE thread (a rayon pool of 1), in images per second
//! (criterion's `elem/s`). Training consumes 500-1500 images/s, so the loader must reach at
//! least 10x that, and a prefetching thread then takes a small share of one core.
//!
//! The dataset is 50000 random images (CIFAR-10's training set size, so the same share of it
//! fits in the caches); the work per image does not depend on the pixel values. Run with
//! `cargo bench --bench loader`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrolearn::data::{AugmentConfig, Dataset, FlipMode, Loader, Normalizer, PaddingMode};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

fn cifar_like() -> Dataset {
    let n = 50_000;
    let mut images = vec![0u8; n * 3 * 32 * 32];
    ChaCha8Rng::seed_from_u64(0).fill_bytes(&mut images);
    let labels = (0..n).map(|i| (i % 10) as u8).collect();
    let names = (0..10).map(|c| format!("class{c}")).collect();
    Dataset::new(images, [3, 32, 32], labels, names).expect("valid dataset")
}

fn bench_loader(c: &mut Criterion) {
    let data = cifar_like();
    let norm = Normalizer::fit(&data).expect("non-empty");
    let crop_flip = AugmentConfig {
        crop_padding: 4,
        padding_mode: PaddingMode::Zero,
        flip: FlipMode::Random,
        cutout: None,
    };
    let cases = [
        ("normalise_only", AugmentConfig::default()),
        ("crop4_flip", crop_flip),
        (
            "crop4_flip_cutout16",
            AugmentConfig {
                cutout: Some(16),
                ..crop_flip
            },
        ),
        (
            "reflect4_altflip",
            AugmentConfig {
                padding_mode: PaddingMode::Reflect,
                flip: FlipMode::Alternating,
                ..crop_flip
            },
        ),
    ];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("rayon pool");
    let mut group = c.benchmark_group("loader_1thread");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for batch in [128usize, 512] {
        group.throughput(Throughput::Elements(batch as u64));
        for (name, config) in cases {
            let loader = Loader::new(&data, batch)
                .expect("batch >= 1")
                .shuffle(0)
                .normalize(norm.clone())
                .expect("3 channels")
                .augment(config, 0)
                .expect("fits 32x32");
            group.bench_function(BenchmarkId::new(name, batch), |b| {
                pool.install(|| {
                    let mut epoch = 0;
                    let mut batches = loader.epoch(epoch);
                    b.iter(|| {
                        batches.next().unwrap_or_else(|| {
                            epoch += 1;
                            batches = loader.epoch(epoch);
                            batches.next().expect("a batch")
                        })
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_loader);
criterion_main!(benches);
