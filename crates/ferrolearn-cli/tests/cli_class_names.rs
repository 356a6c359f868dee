//! A target column of strings is taken as class names, as scikit-learn does: classes sorted
//! as `np.unique` sorts them, and predictions, reports and saved models show the names.

mod common;

use std::path::Path;

use common::{fails, json, num, run, tabular, text, Scratch};

/// The bundled iris table with its integer target replaced by `names[target]`.
fn iris_named(dir: &Scratch, file: &str, names: [&str; 3]) -> String {
    let iris = std::fs::read_to_string(tabular("iris.csv")).unwrap();
    let mut lines = iris.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for line in lines {
        let (features, target) = line.rsplit_once(',').unwrap();
        let class: usize = target.parse().unwrap();
        out.push_str(&format!("{features},{}\n", names[class]));
    }
    dir.file(file, &out)
}

#[test]
fn string_labels_are_class_names_in_fit_predict_and_the_saved_model() {
    let dir = Scratch::new("names");
    // "Versicolor" sorts before "setosa" (capitals first), as np.unique sorts strings.
    let data = iris_named(
        &dir,
        "iris_named.csv",
        ["setosa", "Versicolor", "virginica"],
    );
    let model = dir.path("model");
    let fit = json(&[
        "fit", "--model", "logistic", "--data", &data, "--out", &model, "--json",
    ]);
    let classes = serde_json::json!(["Versicolor", "setosa", "virginica"]);
    assert_eq!(fit["classes"], classes, "{fit}");
    assert!(num(&fit, &["test", "accuracy"]) >= 0.9, "{fit}");
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&model).join("classic.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["value"]["classes"], classes);

    let csv = dir.path("pred.csv");
    let out = run(&["predict", "--run", &model, &data, "--out", &csv]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&csv).unwrap();
    let mut lines = written.lines();
    assert_eq!(
        lines.next(),
        Some("prediction,proba_Versicolor,proba_setosa,proba_virginica")
    );
    let truth: Vec<String> = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_string())
        .collect();
    let predicted: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(predicted.len(), 150);
    let correct = predicted
        .iter()
        .zip(&truth)
        .filter(|(p, t)| *p == t)
        .count();
    assert!(correct >= 135, "{correct} of 150 names right");

    let pj = json(&["predict", "--run", &model, &data, "--json"]);
    let names = pj["predictions"].as_array().unwrap();
    assert_eq!(names.len(), 150);
    assert!(names.iter().all(|n| n.is_string()), "{pj}");
    assert!((num(&pj, &["metrics", "accuracy"]) - correct as f64 / 150.0).abs() < 1e-12);

    let report = run(&["fit", "--model", "knn", "--data", &data]);
    let stdout = text(&report.stdout);
    assert!(report.status.success(), "{}", text(&report.stderr));
    for name in ["Versicolor", "setosa", "virginica"] {
        assert!(
            stdout.contains(name),
            "the confusion matrix names {name}:\n{stdout}"
        );
    }
}

#[test]
fn names_in_numeric_order_give_the_numeric_results() {
    let dir = Scratch::new("same");
    let data = iris_named(&dir, "abc.csv", ["a", "b", "c"]);
    for model in ["knn", "softmax", "svm"] {
        let named = json(&["fit", "--model", model, "--data", &data, "--json"]);
        let numeric = json(&[
            "fit",
            "--model",
            model,
            "--data",
            &tabular("iris.csv"),
            "--json",
        ]);
        assert_eq!(named["test"], numeric["test"], "{model}");
        assert_eq!(named["classes"], serde_json::json!(["a", "b", "c"]));
        assert_eq!(numeric["classes"], serde_json::json!([0, 1, 2]));
    }
    let cv = json(&["cv", "--model", "knn", "--data", &data, "--json"]);
    let cv_numeric = json(&[
        "cv",
        "--model",
        "knn",
        "--data",
        &tabular("iris.csv"),
        "--json",
    ]);
    assert_eq!(cv["scores"], cv_numeric["scores"]);
}

#[test]
fn names_are_refused_where_numbers_are_needed_naming_the_row() {
    let dir = Scratch::new("refused");
    let data = dir.file("mixed.csv", "a,target\n1,1.5\n2,2.5\n3,high\n");
    fails(
        &["fit", "--model", "ridge", "--data", &data],
        &[
            "mixed.csv",
            "`high` in data row 3 is not a number",
            "regressor",
        ],
    );
    let empty = dir.file("empty.csv", "a,target\n1,yes\n2,\n");
    fails(
        &["fit", "--model", "knn", "--data", &empty],
        &["empty.csv", "line 3", "column `target`", "empty"],
    );
    let train = dir.file("train.csv", "a,target\n1,no\n2,yes\n3,no\n4,yes\n");
    let test = dir.file("test.csv", "a,target\n1,no\n2,maybe\n");
    fails(
        &[
            "fit", "--model", "knn", "--k", "1", "--data", &train, "--test", &test,
        ],
        &["test.csv", "data row 2", "class maybe", "no, yes"],
    );
}
