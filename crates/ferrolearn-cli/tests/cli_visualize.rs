//! `ferrolearn visualize` on tiny runs over the bundled MNIST: each `--what` writes a PNG of
//! the expected size with real content, and a `--what` that does not fit the run is refused
//! with the values that do.

mod common;

use common::{fails, json, num, Scratch};

/// Reads the PNG at `path`, checking it decodes, and returns it as RGB.
fn picture(path: &str) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .to_rgb8()
}

/// The number of distinct colours in `picture`.
fn colours(picture: &image::RgbImage) -> usize {
    let mut all: Vec<[u8; 3]> = picture.pixels().map(|p| p.0).collect();
    all.sort_unstable();
    all.dedup();
    all.len()
}

#[test]
fn network_filters_and_mistakes() {
    let dir = Scratch::new("visualize-net");
    let run = dir.path("lenet");
    json(&[
        "train",
        "--limit",
        "300",
        "--epochs",
        "1",
        "--test-limit",
        "200",
        "--out",
        &run,
        "--json",
    ]);

    let filters = json(&["visualize", "--run", &run, "--what", "filters", "--json"]);
    assert_eq!(filters["command"], "visualize");
    assert_eq!(filters["layer"], "0.weight");
    assert_eq!(filters["shape"], serde_json::json!([20, 1, 5, 5]));
    let png = filters["png"].as_str().expect("png path");
    assert!(png.ends_with("filters.png"), "{png}");
    let p = picture(png);
    // 20 greyscale 5 x 5 filters at scale 12 in a 5 x 4 grid with 2-pixel separators.
    assert_eq!(p.dimensions(), (5 * 62 + 2, 4 * 62 + 2));
    assert!(colours(&p) > 20);

    let out = dir.path("mistakes.png");
    let errors = json(&[
        "visualize",
        "--run",
        &run,
        "--what",
        "errors",
        "--top",
        "5",
        "--test-limit",
        "100",
        "--out",
        &out,
        "--json",
    ]);
    assert_eq!(errors["png"], out.as_str());
    assert_eq!(errors["test_images"], 100);
    let shown = errors["shown"].as_array().expect("shown");
    assert!(!shown.is_empty() && shown.len() <= 5, "{errors}");
    let confidence: Vec<f64> = shown
        .iter()
        .map(|m| m["confidence"].as_f64().expect("confidence"))
        .collect();
    assert!(
        confidence.windows(2).all(|w| w[0] >= w[1]),
        "{confidence:?}"
    );
    for m in shown {
        assert_ne!(m["true"], m["predicted"], "{m}");
    }
    let p = picture(&out);
    // Images of 28 pixels at scale 4 (112) in one row, labels underneath, title above.
    assert!(
        p.width() >= 112 * shown.len() as u32,
        "{:?}",
        p.dimensions()
    );
    assert_eq!(p.height(), 16 + 40 + 112 + 44 + 16);
    assert!(colours(&p) > 50);

    fails(
        &["visualize", "--run", &run, "--what", "templates"],
        &[
            "--what templates does not apply",
            "--what filters or errors applies",
        ],
    );
}

#[test]
fn classic_templates_and_mistakes() {
    let dir = Scratch::new("visualize-classic");
    let run = dir.path("softmax");
    json(&[
        "fit",
        "--model",
        "softmax",
        "--dataset",
        "mnist",
        "--limit",
        "500",
        "--out",
        &run,
        "--json",
    ]);

    let templates = json(&["visualize", "--run", &run, "--what", "templates", "--json"]);
    let names = templates["classes"].as_array().expect("classes");
    assert_eq!(names.len(), 10);
    let p = picture(templates["png"].as_str().expect("png"));
    // Ten 28 x 28 templates at scale 4 (112) in two rows of five.
    assert_eq!(
        p.dimensions(),
        (2 * 16 + 5 * 112 + 4 * 16, 2 * 16 + 2 * (112 + 28) + 8)
    );
    assert!(colours(&p) > 50);

    let errors = json(&[
        "visualize",
        "--run",
        &run,
        "--what",
        "errors",
        "--test-limit",
        "300",
        "--json",
    ]);
    assert_eq!(errors["test_images"], 300);
    assert!(errors["mistakes"].as_u64().expect("mistakes") > 0);
    picture(errors["png"].as_str().expect("png"));

    fails(
        &["visualize", "--run", &run, "--what", "filters"],
        &[
            "--what filters does not apply",
            "--what templates or errors applies",
        ],
    );

    // kNN has no weights and no probabilities: nothing applies.
    let knn = dir.path("knn");
    json(&[
        "fit",
        "--model",
        "knn",
        "--dataset",
        "mnist",
        "--limit",
        "200",
        "--out",
        &knn,
        "--json",
    ]);
    fails(
        &["visualize", "--run", &knn, "--what", "templates"],
        &["a classic knn model", "no --what applies"],
    );
    // A perceptron has templates but no probabilities to rank mistakes by.
    let perceptron = dir.path("perceptron");
    json(&[
        "fit",
        "--model",
        "perceptron",
        "--dataset",
        "mnist",
        "--limit",
        "200",
        "--epochs",
        "2",
        "--out",
        &perceptron,
        "--json",
    ]);
    fails(
        &["visualize", "--run", &perceptron, "--what", "errors"],
        &["class probabilities", "--what templates applies"],
    );
}

#[test]
fn bad_runs_and_flags_are_refused() {
    let dir = Scratch::new("visualize-bad");
    fails(
        &["visualize", "--run", &dir.path(""), "--what", "filters"],
        &["holds no saved model"],
    );
    fails(
        &[
            "visualize",
            "--run",
            &dir.path(""),
            "--what",
            "errors",
            "--top",
            "0",
        ],
        &["--top must be >= 1"],
    );
    let out = common::run(&["visualize", "--run", "x", "--what", "clusters"]);
    assert!(!out.status.success());
    let stderr = common::text(&out.stderr);
    assert!(
        stderr.contains("templates, filters, errors, centroids"),
        "{stderr}"
    );
    let out = common::run(&["visualize", "--what", "centroids"]);
    assert!(!out.status.success());
    assert!(common::text(&out.stderr).contains("--run"));
}

#[test]
fn bovw_words_and_kmeans_centres() {
    let dir = Scratch::new("visualize-centroids");
    let feats = dir.path("feats");
    let kind = "bovw(words=16,patch=5,stride=3,patches=2000,seed=4)";
    let made = json(&[
        "features",
        "--dataset",
        "mnist",
        "--kind",
        kind,
        "--limit",
        "60",
        "--out",
        &feats,
        "--json",
    ]);
    assert_eq!(num(&made["files"][0], &["images"]), 60.0);
    assert_eq!(num(&made["files"][1], &["dims"]), 16.0);

    let words = json(&[
        "visualize",
        "--features",
        &feats,
        "--what",
        "centroids",
        "--json",
    ]);
    assert_eq!(words["words"], 16);
    assert_eq!(words["patch_shape"], serde_json::json!([1, 5, 5]));
    let shares: Vec<f64> = words["usage"]
        .as_array()
        .expect("usage")
        .iter()
        .map(|v| v.as_f64().expect("share"))
        .collect();
    assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(shares.windows(2).all(|w| w[0] >= w[1]), "{shares:?}");
    let png = words["png"].as_str().expect("png");
    assert!(png.ends_with("feats/centroids.png"), "{png}");
    let p = picture(png);
    // Sixteen 5 x 5 words at scale 16 (80 pixels) in a 4 x 4 grid with 2-pixel lines, under
    // a 36-pixel title band, 12-pixel margins; the title may be wider than the grid.
    assert_eq!(p.height(), 2 * 12 + 36 + 4 * 82 + 2);
    assert!(p.width() >= 2 * 12 + 4 * 82 + 2, "{}", p.width());
    assert!(colours(&p) > 16);

    fails(
        &["visualize", "--features", &feats, "--what", "filters"],
        &[
            "--what filters does not apply to a feature cache",
            "--what centroids",
        ],
    );
    let hog = dir.path("hog");
    json(&[
        "features",
        "--dataset",
        "mnist",
        "--kind",
        "color(space=rgb)",
        "--limit",
        "5",
        "--out",
        &hog,
        "--json",
    ]);
    fails(
        &["visualize", "--features", &hog, "--what", "centroids"],
        &["holds color(space=rgb", "no visual words"],
    );

    let run = dir.path("kmeans");
    json(&[
        "fit",
        "--model",
        "kmeans",
        "--dataset",
        "mnist",
        "--limit",
        "300",
        "--k",
        "10",
        "--out",
        &run,
        "--json",
    ]);
    let centres = json(&["visualize", "--run", &run, "--what", "centroids", "--json"]);
    assert_eq!(centres["k"], 10);
    let p = picture(centres["png"].as_str().expect("png"));
    // Ten 28 x 28 centres at scale 3 (84 pixels) in a 4 x 3 grid.
    assert_eq!(p.height(), 2 * 12 + 36 + 3 * 86 + 2);
    assert!(p.width() >= 2 * 12 + 4 * 86 + 2);
    assert!(colours(&p) > 50);
    fails(
        &["visualize", "--run", &run, "--what", "templates"],
        &["a classic kmeans model", "--what centroids applies"],
    );
}
