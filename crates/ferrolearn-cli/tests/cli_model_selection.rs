//! `cv` and `search` as scikit-learn's `cv=5`: stratified folds for classifiers, plain
//! k-fold for regressors; `--scoring` chooses the metric; `search --refit --out DIR` saves
//! the best candidate refitted on every row as a run that `predict` loads.

mod common;

use std::path::Path;

use common::{fails, json, num, run, tabular, text, Scratch};

fn scores(v: &serde_json::Value) -> Vec<f64> {
    v["scores"]
        .as_array()
        .unwrap_or_else(|| panic!("no scores in {v}"))
        .iter()
        .map(|s| s.as_f64().unwrap())
        .collect()
}

#[test]
fn classifiers_get_stratified_folds_by_default_and_regressors_plain_ones() {
    // iris.csv is sorted by class: plain 3-fold tests each class on a model that never saw
    // it, so only stratified folds score well.
    let iris = tabular("iris.csv");
    let default = json(&[
        "cv", "--model", "knn", "--data", &iris, "--folds", "3", "--json",
    ]);
    assert_eq!(default["stratified"], true, "{default}");
    assert!(num(&default, &["mean"]) >= 0.9, "{default}");
    let explicit = json(&[
        "cv",
        "--model",
        "knn",
        "--data",
        &iris,
        "--folds",
        "3",
        "--stratified",
        "--json",
    ]);
    assert_eq!(scores(&explicit), scores(&default));
    let plain = json(&[
        "cv",
        "--model",
        "knn",
        "--data",
        &iris,
        "--folds",
        "3",
        "--no-stratify",
        "--json",
    ]);
    assert_eq!(plain["stratified"], false);
    assert_eq!(scores(&plain), vec![0.0, 0.0, 0.0], "{plain}");

    let search = json(&[
        "search", "--model", "knn", "--data", &iris, "--folds", "3", "--grid", "k=5", "--json",
    ]);
    assert_eq!(search["stratified"], true);
    assert_eq!(search["best"]["scores"], default["scores"]);

    let ridge = json(&[
        "cv",
        "--model",
        "ridge",
        "--data",
        &tabular("diabetes.csv"),
        "--json",
    ]);
    assert_eq!(ridge["stratified"], false);
    fails(
        &[
            "cv",
            "--model",
            "ridge",
            "--data",
            &tabular("diabetes.csv"),
            "--stratified",
        ],
        &["--stratified needs a classifier"],
    );
}

#[test]
fn scoring_chooses_the_metric() {
    let wine = tabular("wine.csv");
    // Unscaled, kNN errs on wine's classes unevenly: F1 and accuracy differ in every fold.
    let f1 = json(&[
        "cv",
        "--model",
        "knn",
        "--data",
        &wine,
        "--scoring",
        "f1_macro",
        "--json",
    ]);
    assert_eq!(f1["metric"], "f1_macro");
    let acc = json(&["cv", "--model", "knn", "--data", &wine, "--json"]);
    assert_eq!(acc["metric"], "accuracy");
    for (f, a) in scores(&f1).iter().zip(scores(&acc)) {
        assert!(*f != a && (0.3..1.0).contains(f), "f1 {f}, accuracy {a}");
    }

    let diabetes = tabular("diabetes.csv");
    let mse = json(&[
        "cv",
        "--model",
        "ridge",
        "--data",
        &diabetes,
        "--scoring",
        "neg_mean_squared_error",
        "--json",
    ]);
    assert_eq!(mse["metric"], "neg_mean_squared_error");
    assert!(scores(&mse).iter().all(|s| *s < -1000.0), "{mse}");

    // The best candidate of a search has the smallest error: the greatest negated one.
    let search = json(&[
        "search",
        "--model",
        "ridge",
        "--data",
        &diabetes,
        "--grid",
        "alpha=0.01,1,100",
        "--scoring",
        "neg_mean_absolute_error",
        "--json",
    ]);
    let means: Vec<f64> = search["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mean"].as_f64().unwrap())
        .collect();
    assert!(
        means.windows(2).all(|w| w[0] >= w[1]) && means[0] < 0.0,
        "{means:?}"
    );

    fails(
        &["cv", "--model", "knn", "--data", &wine, "--scoring", "r2"],
        &["--scoring r2", "--model knn", "accuracy", "f1_macro"],
    );
    fails(
        &[
            "search",
            "--model",
            "knn",
            "--data",
            &wine,
            "--grid",
            "k=1",
            "--scoring",
            "f1",
        ],
        &["--scoring", "unknown scoring `f1`", "f1_macro"],
    );
}

#[test]
fn search_refit_saves_the_best_model_for_predict() {
    let dir = Scratch::new("refit");
    let best = dir.path("best");
    let wine = tabular("wine.csv");
    let v = json(&[
        "search",
        "--model",
        "knn",
        "--data",
        &wine,
        "--scale",
        "standard",
        "--grid",
        "k=1,7,25",
        "--scoring",
        "f1_macro",
        "--refit",
        "--out",
        &best,
        "--json",
    ]);
    assert_eq!(v["refit"]["out"], best.as_str(), "{v}");
    assert_eq!(v["refit"]["params"], v["best"]["params"]);
    assert_eq!(v["refit"]["n_rows"], 178);
    let k = v["best"]["params"]["k"].as_u64().unwrap().to_string();
    assert!(Path::new(&best).join("classic.json").is_file());

    // The saved model is the one `fit` makes with the best parameters on every row.
    let same = dir.path("same");
    json(&[
        "fit",
        "--model",
        "knn",
        "--data",
        &wine,
        "--scale",
        "standard",
        "--k",
        &k,
        "--test-fraction",
        "0",
        "--out",
        &same,
        "--json",
    ]);
    let refitted = json(&["predict", "--run", &best, &wine, "--json"]);
    let fitted = json(&["predict", "--run", &same, &wine, "--json"]);
    assert_eq!(refitted["predictions"], fitted["predictions"]);
    assert!(
        num(&refitted, &["metrics", "accuracy"]) >= 0.95,
        "{refitted}"
    );

    let out = run(&[
        "search", "--model", "knn", "--data", &wine, "--grid", "k=1", "--out", &best,
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--refit"),
        "{}",
        text(&out.stderr)
    );
}
