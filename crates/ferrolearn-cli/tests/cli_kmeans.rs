//! End-to-end tests of `fit --model kmeans`: fit, save, predict cluster ids, the elbow table,
//! and the commands that refuse a clustering model.

mod common;

use common::{fails, json, num, run, tabular, text, Scratch};

#[test]
fn iris_kmeans_fits_saves_and_predicts_cluster_ids() {
    let dir = Scratch::new("kmeans");
    let model = dir.path("model");
    let iris = tabular("iris.csv");
    let fit = json(&[
        "fit", "--model", "kmeans", "--k", "3", "--n-init", "4", "--data", &iris, "--out", &model,
        "--json",
    ]);
    // scikit-learn's best 3-means inertia on iris is 78.85.
    assert!(num(&fit, &["inertia"]) < 79.0, "{fit}");
    let sizes: Vec<u64> = fit["sizes"]
        .as_array()
        .expect("sizes")
        .iter()
        .filter_map(|v| v.as_u64())
        .collect();
    assert_eq!(sizes.len(), 3);
    assert_eq!(sizes.iter().sum::<u64>(), 150);
    assert!(num(&fit, &["n_iter"]) >= 1.0);

    let out = run(&["predict", "--run", &model, &iris]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("prediction"));
    let ids: Vec<u64> = lines.map(|l| l.parse().expect("cluster id")).collect();
    assert_eq!(ids.len(), 150);
    for c in 0..3 {
        let n = ids.iter().filter(|&&i| i == c).count() as u64;
        assert_eq!(n, sizes[c as usize], "cluster {c}");
    }
    fails(
        &["eval", "--run", &model, "--data", &iris],
        &["kmeans", "ferrolearn predict"],
    );
}

#[test]
fn elbow_table_lists_inertia_for_each_k() {
    let iris = tabular("iris.csv");
    let out = json(&[
        "fit", "--model", "kmeans", "--data", &iris, "--elbow", "1..4", "--json",
    ]);
    let rows = out["elbow"].as_array().expect("elbow rows");
    assert_eq!(rows.len(), 4);
    let inertia: Vec<f64> = rows.iter().map(|r| num(r, &["inertia"])).collect();
    assert!(inertia.windows(2).all(|w| w[1] < w[0]), "{inertia:?}");
}

#[test]
fn clustering_refusals_name_the_problem() {
    let iris = tabular("iris.csv");
    fails(
        &["cv", "--model", "kmeans", "--data", &iris],
        &["unsupervised"],
    );
    fails(
        &["fit", "--model", "knn", "--data", &iris, "--elbow", "2..3"],
        &["--elbow", "kmeans"],
    );
    fails(
        &[
            "fit", "--model", "kmeans", "--data", &iris, "--elbow", "4..2",
        ],
        &["FROM..TO"],
    );
    fails(
        &["fit", "--model", "kmeans", "--data", &iris, "--k", "151"],
        &["1..=150"],
    );
    fails(
        &["fit", "--model", "kmeans", "--data", &iris, "--alpha", "1"],
        &["--alpha"],
    );
}
