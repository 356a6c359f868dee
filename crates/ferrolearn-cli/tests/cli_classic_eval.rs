//! `eval` of a classic run on a CSV with its target column: per-class figures, the confusion
//! matrix and `confusion.png` for classifiers; MSE, RMSE, MAE and R^2 for regressors.

mod common;

use std::path::Path;

use common::{fails, json, num, run, saved_model, tabular, text, Scratch};

#[test]
fn a_classifier_run_gets_per_class_figures_and_a_confusion_matrix() {
    let dir = Scratch::new("eval-class");
    let model = saved_model(&dir, "logistic", "iris.csv");
    let iris = tabular("iris.csv");
    let v = json(&["eval", "--run", &model, "--data", &iris, "--json"]);
    assert_eq!(v["command"], "eval");
    let predicted = json(&["predict", "--run", &model, &iris, "--json"]);
    assert_eq!(
        num(&v, &["accuracy"]),
        num(&predicted, &["metrics", "accuracy"])
    );
    let classes = v["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 3);
    assert_eq!(classes[2]["class"], "2");
    assert_eq!(classes[0]["support"], 50);
    let total: u64 = v["confusion_matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(total, 150);
    assert!(Path::new(&model).join("confusion.png").is_file());

    let out = run(&["eval", "--run", &model, "--data", &iris]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("precision  recall") && stdout.contains("macro"),
        "{stdout}"
    );
}

#[test]
fn a_regressor_run_gets_error_figures() {
    let dir = Scratch::new("eval-reg");
    let model = saved_model(&dir, "ridge", "diabetes.csv");
    let diabetes = tabular("diabetes.csv");
    let v = json(&["eval", "--run", &model, "--data", &diabetes, "--json"]);
    let predicted = json(&["predict", "--run", &model, &diabetes, "--json"]);
    assert_eq!(num(&v, &["r2"]), num(&predicted, &["metrics", "r2"]));
    assert_eq!(num(&v, &["mse"]), num(&predicted, &["metrics", "mse"]));
    assert!((num(&v, &["rmse"]) - num(&v, &["mse"]).sqrt()).abs() < 1e-9);
    assert!(num(&v, &["mae"]) > 0.0 && num(&v, &["mae"]) < num(&v, &["rmse"]));
}

#[test]
fn a_refitted_search_is_evaluated_and_mistakes_are_named() {
    let dir = Scratch::new("eval-refit");
    let best = dir.path("best");
    let wine = tabular("wine.csv");
    json(&[
        "search", "--model", "knn", "--data", &wine, "--grid", "k=1,5", "--refit", "--out", &best,
        "--json",
    ]);
    let v = json(&["eval", "--run", &best, "--data", &wine, "--json"]);
    assert!(num(&v, &["accuracy"]) > 0.7, "{v}");

    fails(
        &["eval", "--run", &best],
        &["holds a classic model", "--data"],
    );
    fails(
        &["eval", "--run", &best, "--data", &wine, "--tta", "flip"],
        &["--tta", "network runs"],
    );
    let no_target = dir.file("x.csv", "a,b\n1,2\n");
    fails(
        &["eval", "--run", &best, "--data", &no_target],
        &["x.csv", "no target column `target`"],
    );
    fails(
        &["eval", "--run", &dir.path("nothing"), "--data", &wine],
        &["--data", "is not one"],
    );
}
