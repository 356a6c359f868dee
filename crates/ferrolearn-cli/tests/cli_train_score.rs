//! `fit` scores the training rows only when asked (`--train-score`), as scikit-learn scores
//! only what it is asked to: for kNN that scoring is a distance from every row to every other.

mod common;

use common::{json, num, run, tabular, text};

#[test]
fn no_model_scores_its_training_rows_unless_asked() {
    let cases = [
        ("knn", "iris.csv", "accuracy"),
        ("logistic", "iris.csv", "accuracy"),
        ("softmax", "iris.csv", "accuracy"),
        ("svm", "breast_cancer.csv", "accuracy"),
        ("multisvm", "iris.csv", "accuracy"),
        ("perceptron", "iris.csv", "accuracy"),
        ("linear", "diabetes.csv", "r2"),
        ("ridge", "diabetes.csv", "r2"),
        ("poly", "diabetes.csv", "r2"),
    ];
    for (model, data, metric) in cases {
        let path = tabular(data);
        let quiet = json(&["fit", "--model", model, "--data", &path, "--json"]);
        assert!(quiet["train"].is_null(), "{model}: {quiet}");
        assert!(
            num(&quiet, &["test", metric]).is_finite(),
            "{model}: {quiet}"
        );
        let asked = json(&[
            "fit",
            "--model",
            model,
            "--data",
            &path,
            "--train-score",
            "--json",
        ]);
        assert!(
            num(&asked, &["train", metric]).is_finite(),
            "{model}: {asked}"
        );
        assert_eq!(asked["test"], quiet["test"], "{model}");
    }
}

#[test]
fn the_text_report_says_when_nothing_was_scored() {
    let iris = tabular("iris.csv");
    let out = run(&["fit", "--model", "knn", "--data", &iris]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("test: accuracy"), "{stdout}");
    assert!(!stdout.contains("train: accuracy"), "{stdout}");

    let out = run(&[
        "fit",
        "--model",
        "knn",
        "--data",
        &iris,
        "--test-fraction",
        "0",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("no rows scored: give --train-score"),
        "{stdout}"
    );

    let out = run(&["fit", "--model", "knn", "--data", &iris, "--train-score"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("train: accuracy"), "{stdout}");
}
