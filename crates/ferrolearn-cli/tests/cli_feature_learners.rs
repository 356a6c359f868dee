//! Classic learners on cached features (`--features DIR`) and the MLP learner: fitted on the
//! cache's train split, scored on its test split, saved with what they were fitted on, and
//! refused other inputs in one line.

mod common;

use common::{fails, json, num, run, text, Scratch};
use ferrolearn::features::{parse_kinds, CacheKey, FeatureKind, FeatureSet, Vocabulary};
use ndarray::Array2;

/// Writes a small two-class cache of `kinds` features of 4x4 colour images in `dir`: the
/// class shifts the first half of the columns, so a model can learn it.
fn cache(dir: &str, kinds: &str) {
    let kinds = parse_kinds(kinds).unwrap();
    cache_splits(dir, &kinds, &kinds);
}

/// As [`cache`], with the train and test splits computed with these kinds.
fn cache_splits(dir: &str, train_kinds: &[FeatureKind], test_kinds: &[FeatureKind]) {
    for (split, n, kinds) in [("train", 80, train_kinds), ("test", 40, test_kinds)] {
        let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
        let d = ferrolearn::features::feature_len(kinds, [3, 4, 4]).unwrap();
        let features = Array2::from_shape_fn((n, d), |(i, j)| {
            let noise = ((i * 7 + j * 13) % 11) as f32 / 11.0;
            noise
                + if j < d / 2 {
                    2.0 * f32::from(labels[i])
                } else {
                    0.0
                }
        });
        let set = FeatureSet {
            key: CacheKey {
                dataset: "cifar-10".into(),
                split: split.into(),
                kinds: kinds.to_vec(),
            },
            item_shape: [3, 4, 4],
            features,
            labels,
        };
        std::fs::create_dir_all(dir).unwrap();
        set.save(&std::path::Path::new(dir).join(format!("{split}.safetensors")))
            .unwrap();
    }
}

#[test]
fn learners_fit_on_cached_features_and_eval_checks_them() {
    let dir = Scratch::new("feature-learners");
    let feats = dir.path("feats");
    cache(&feats, "color(space=rgb,bins=4)");
    let model = dir.path("mlp");
    let fit = json(&[
        "fit",
        "--model",
        "mlp",
        "--features",
        &feats,
        "--hidden",
        "16,8",
        "--lr",
        "0.01",
        "--max-iter",
        "60",
        "--out",
        &model,
        "--json",
    ]);
    assert_eq!(
        (fit["n_train"].as_u64(), fit["n_test"].as_u64()),
        (Some(80), Some(40))
    );
    assert_eq!(fit["n_features"], 12);
    let accuracy = num(&fit, &["test", "accuracy"]);
    assert!(accuracy >= 0.9, "{fit}");
    let saved = std::fs::read_to_string(std::path::Path::new(&model).join("classic.json")).unwrap();
    assert!(
        saved.contains("\"kinds\": \"color(space=rgb,bins=4)\""),
        "{saved}"
    );
    assert!(saved.contains("train_checksum"), "{saved}");

    let eval = json(&["eval", "--run", &model, "--features", &feats, "--json"]);
    assert_eq!(num(&eval, &["accuracy"]), accuracy, "{eval}");
    assert_eq!(eval["rows"], 40);

    let limited = json(&[
        "fit",
        "--model",
        "softmax",
        "--features",
        &feats,
        "--limit",
        "30",
        "--json",
    ]);
    assert_eq!(limited["n_train"], 30);
    let cv = json(&[
        "cv",
        "--model",
        "knn",
        "--features",
        &feats,
        "--k",
        "3",
        "--json",
    ]);
    assert!(num(&cv, &["mean"]) >= 0.9, "{cv}");

    let other = dir.path("other");
    cache(&other, "color(space=rgb,bins=8)");
    fails(
        &["eval", "--run", &model, "--features", &other],
        &[
            "fitted on color(space=rgb,bins=4) features",
            "holds color(space=rgb,bins=8)",
        ],
    );
    let csv = dir.file("rows.csv", "a,b\n1,2\n");
    fails(
        &["predict", "--run", &model, &csv],
        &[
            "was fitted on cached color(space=rgb,bins=4) features",
            "--features DIR",
        ],
    );
    fails(
        &["eval", "--run", &model, "--data", &csv],
        &["fitted on cached"],
    );
}

#[test]
fn missing_and_corrupt_caches_are_refused() {
    let dir = Scratch::new("feature-learners-bad");
    let feats = dir.path("feats");
    fails(
        &["fit", "--model", "knn", "--features", &feats],
        &["train.safetensors not found", "ferrolearn features"],
    );
    cache(&feats, "color");
    let test = std::path::Path::new(&feats).join("test.safetensors");
    let bytes = std::fs::read(&test).unwrap();
    std::fs::write(&test, &bytes[..bytes.len() - 5]).unwrap();
    fails(
        &["fit", "--model", "knn", "--features", &feats],
        &["test.safetensors", "truncated"],
    );
    let out = run(&[
        "fit",
        "--model",
        "knn",
        "--features",
        &feats,
        "--dataset",
        "mnist",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cannot be used with"),
        "{}",
        text(&out.stderr)
    );
}

/// `bovw(words=2,patch=2)` with the vocabulary whose two words are all `a` and all `b`.
fn words(a: f64, b: f64) -> FeatureKind {
    let centres = Array2::from_shape_fn((2, 12), |(w, _)| if w == 0 { a } else { b });
    let vocabulary = Vocabulary::new([3, 2, 2], centres.view()).unwrap();
    match &parse_kinds("bovw(words=2,patch=2)").unwrap()[0] {
        FeatureKind::Bovw(bovw) => FeatureKind::Bovw(bovw.with_vocabulary(vocabulary).unwrap()),
        other => panic!("not a bag of visual words: {other:?}"),
    }
}

#[test]
fn splits_over_different_visual_words_are_refused() {
    let dir = Scratch::new("feature-learners-words");
    let same = dir.path("same");
    cache_splits(&same, &[words(0.1, 0.9)], &[words(0.1, 0.9)]);
    let out = run(&["fit", "--model", "knn", "--features", &same, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let other = dir.path("other");
    cache_splits(&other, &[words(0.1, 0.9)], &[words(0.2, 0.8)]);
    fails(
        &["fit", "--model", "knn", "--features", &other],
        &[
            "different vocabularies",
            "kind 1",
            "one `ferrolearn features --out",
        ],
    );
}
