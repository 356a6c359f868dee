//! End-to-end tests of the classic commands (`fit`, `predict`, `cv`, `search`): the built
//! binary on the bundled tabular sets, and every kind of bad input the CLI must refuse with a
//! one-line error instead of a panic.

mod common;

use std::path::Path;

use common::{fails, json, num, run, tabular, text, Scratch};

#[test]
fn iris_logistic_fits_saves_and_predicts() {
    let dir = Scratch::new("iris");
    let model = dir.path("model");
    let iris = tabular("iris.csv");
    let fit = json(&[
        "fit", "--model", "logistic", "--data", &iris, "--out", &model, "--json",
    ]);
    assert!(num(&fit, &["test", "accuracy"]) >= 0.9, "{fit}");
    assert_eq!(fit["n_train"], 120);
    assert_eq!(fit["n_test"], 30);
    assert!(Path::new(&model).join("classic.json").is_file());
    assert!(Path::new(&model).join("classic.safetensors").is_file());

    let csv = dir.path("pred.csv");
    let out = run(&["predict", "--run", &model, &iris, "--out", &csv]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&csv).unwrap();
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some("prediction,proba_0,proba_1,proba_2"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 150);
    let truth: Vec<f64> = std::fs::read_to_string(&iris)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    let correct = rows.iter().zip(&truth).filter(|(r, t)| r[0] == **t).count();
    assert!(correct as f64 / 150.0 >= 0.9, "{correct} of 150 correct");
    for r in &rows {
        let total: f64 = r[1..].iter().sum();
        assert!((total - 1.0).abs() < 1e-9, "probabilities sum to {total}");
        let argmax = (1..4).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap() - 1;
        assert_eq!(argmax as f64, r[0]);
    }

    let pj = json(&["predict", "--run", &model, &iris, "--json"]);
    assert_eq!(pj["predictions"].as_array().map(Vec::len), Some(150));
    let acc = num(&pj, &["metrics", "accuracy"]);
    assert!((acc - correct as f64 / 150.0).abs() < 1e-12);
}

#[test]
fn reloaded_models_reproduce_their_training_figures() {
    // Fitted on every row, the saved model must score the same rows exactly as `fit` did.
    let cases = [
        ("knn", "digits.csv", "accuracy", 0.98),
        ("softmax", "wine.csv", "accuracy", 0.95),
        ("svm", "breast_cancer.csv", "accuracy", 0.95),
        ("multisvm", "wine.csv", "accuracy", 0.9),
        ("perceptron", "iris.csv", "accuracy", 0.8),
        ("ridge", "diabetes.csv", "r2", 0.45),
        ("poly", "diabetes.csv", "r2", 0.5),
    ];
    for (model, data, metric, floor) in cases {
        let dir = Scratch::new(model);
        let out = dir.path("m");
        let path = tabular(data);
        let fit = json(&[
            "fit",
            "--model",
            model,
            "--data",
            &path,
            "--test-fraction",
            "0",
            "--train-score",
            "--out",
            &out,
            "--json",
        ]);
        let train = num(&fit, &["train", metric]);
        assert!(
            train >= floor,
            "{model} on {data}: {metric} {train} < {floor}"
        );
        let pred = json(&["predict", "--run", &out, &path, "--json"]);
        assert_eq!(num(&pred, &["metrics", metric]), train, "{model} on {data}");
    }
}

#[test]
fn held_out_scores_beat_floors() {
    // Wine's columns span four orders of magnitude: kNN needs them standardised.
    let wine = tabular("wine.csv");
    let raw = json(&[
        "fit", "--model", "knn", "--k", "3", "--data", &wine, "--json",
    ]);
    let knn = json(&[
        "fit", "--model", "knn", "--k", "3", "--scale", "standard", "--data", &wine, "--json",
    ]);
    assert!(num(&knn, &["test", "accuracy"]) > num(&raw, &["test", "accuracy"]) + 0.1);
    assert!(num(&knn, &["test", "accuracy"]) >= 0.9, "{knn}");
    let svm = json(&[
        "fit",
        "--model",
        "svm",
        "--data",
        &tabular("breast_cancer.csv"),
        "--json",
    ]);
    assert!(num(&svm, &["test", "accuracy"]) >= 0.93, "{svm}");
    let linear = json(&[
        "fit",
        "--model",
        "linear",
        "--data",
        &tabular("diabetes.csv"),
        "--json",
    ]);
    assert!(num(&linear, &["test", "r2"]) >= 0.4, "{linear}");
    let gd = json(&[
        "fit",
        "--model",
        "ridge",
        "--solver",
        "gd",
        "--epochs",
        "200",
        "--data",
        &tabular("diabetes.csv"),
        "--json",
    ]);
    assert!(num(&gd, &["test", "r2"]) >= 0.4, "{gd}");
    let l1 = json(&[
        "fit",
        "--model",
        "logistic",
        "--penalty",
        "l1",
        "--data",
        &tabular("breast_cancer.csv"),
        "--json",
    ]);
    assert!(num(&l1, &["test", "accuracy"]) >= 0.93, "{l1}");
}

#[test]
fn text_report_shows_confusion_matrix() {
    let out = run(&["fit", "--model", "knn", "--data", &tabular("iris.csv")]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("confusion matrix"), "{stdout}");
    assert!(stdout.contains("test: accuracy"), "{stdout}");
}

#[test]
fn cv_reports_each_fold_with_mean_and_std() {
    let v = json(&[
        "cv",
        "--model",
        "knn",
        "--data",
        &tabular("iris.csv"),
        "--folds",
        "5",
        "--stratified",
        "--json",
    ]);
    let scores: Vec<f64> = v["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_f64().unwrap())
        .collect();
    assert_eq!(scores.len(), 5);
    let mean = scores.iter().sum::<f64>() / 5.0;
    assert!((num(&v, &["mean"]) - mean).abs() < 1e-12);
    assert!(mean >= 0.9, "{v}");
    let std = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / 5.0).sqrt();
    assert!((num(&v, &["std"]) - std).abs() < 1e-12);
    let r = json(&[
        "cv",
        "--model",
        "ridge",
        "--data",
        &tabular("diabetes.csv"),
        "--folds",
        "4",
        "--shuffle",
        "--json",
    ]);
    assert_eq!(r["metric"], "r2");
    assert_eq!(r["scores"].as_array().map(Vec::len), Some(4));
}

#[test]
fn grid_and_random_search_sort_best_first() {
    let v = json(&[
        "search",
        "--model",
        "knn",
        "--data",
        &tabular("iris.csv"),
        "--grid",
        "k=1,3,5",
        "--grid",
        "metric=l1,l2",
        "--folds",
        "3",
        "--stratified",
        "--json",
    ]);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let means: Vec<f64> = rows.iter().map(|r| r["mean"].as_f64().unwrap()).collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "{means:?}");
    assert_eq!(v["best"], rows[0]);
    assert!(means[0] >= 0.9);

    let r = json(&[
        "search",
        "--model",
        "logistic",
        "--data",
        &tabular("breast_cancer.csv"),
        "--random",
        "4",
        "--range",
        "c=log:1e-3:1e3",
        "--folds",
        "3",
        "--json",
    ]);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for row in rows {
        let c = row["params"]["c"].as_f64().unwrap();
        assert!((1e-3..1e3).contains(&c), "{c}");
    }
}

#[test]
fn bad_csv_input_gets_one_line_errors() {
    let dir = Scratch::new("bad");
    let missing = dir.file("missing.csv", "a,b,label\n1,2,0\n3,4,1\n");
    fails(
        &["fit", "--model", "knn", "--data", &missing],
        &["missing.csv", "no target column `target`", "a, b, label"],
    );
    let word = dir.file("word.csv", "a,b,target\n1,2,0\n3,oops,1\n");
    fails(
        &["fit", "--model", "knn", "--data", &word],
        &["word.csv", "line 3", "column `b`", "`oops` is not a number"],
    );
    let ragged = dir.file("ragged.csv", "a,b,target\n1,2,0\n3,1\n");
    fails(
        &["cv", "--model", "knn", "--data", &ragged],
        &["ragged.csv", "line 3", "2 fields", "header has 3"],
    );
    let nan = dir.file("nan.csv", "a,b,target\n1,2,0\n3,NaN,1\n");
    fails(
        &["fit", "--model", "logistic", "--data", &nan],
        &["nan.csv", "line 3", "column `b`", "NaN"],
    );
    let one = dir.file("one.csv", "a,b,target\n1,2,4\n3,4,4\n5,6,4\n");
    fails(
        &["fit", "--model", "softmax", "--data", &one],
        &["one.csv", "at least two classes", "4"],
    );
}

#[test]
fn bad_model_input_gets_one_line_errors() {
    let dir = Scratch::new("badmodel");
    fails(
        &[
            "fit",
            "--model",
            "knn",
            "--k",
            "500",
            "--data",
            &tabular("iris.csv"),
        ],
        &["k = 500", "training set (n_samples = 120)"],
    );
    fails(
        &[
            "cv",
            "--model",
            "knn",
            "--k",
            "150",
            "--data",
            &tabular("iris.csv"),
        ],
        &["k = 150", "n_samples = 120"],
    );
    let data = dir.file("d.csv", "a,b,target\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n");
    let model = dir.path("m");
    let out = run(&[
        "fit",
        "--model",
        "knn",
        "--k",
        "1",
        "--data",
        &data,
        "--test-fraction",
        "0",
        "--out",
        &model,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let wide = dir.file("wide.csv", "a,b,c\n1,2,3\n");
    fails(
        &["predict", "--run", &model, &wide],
        &[
            "wide.csv",
            "fitted with 2 features",
            "3 feature columns",
            "`c`",
        ],
    );
    let narrow = dir.file("narrow.csv", "a,target\n1,0\n");
    fails(
        &["predict", "--run", &model, &narrow],
        &[
            "narrow.csv",
            "fitted with 2 features",
            "1 feature columns",
            "missing",
            "`b`",
        ],
    );
    fails(
        &["predict", "--run", &dir.path("nothing"), &data],
        &["nothing", "classic.json"],
    );
    let unseen = dir.file("unseen.csv", "a,b,target\n1,2,0\n3,4,9\n");
    fails(
        &[
            "fit", "--model", "knn", "--k", "1", "--data", &data, "--test", &unseen,
        ],
        &["unseen.csv", "data row 2", "class 9"],
    );
    fails(
        &[
            "search", "--model", "knn", "--data", &data, "--grid", "kk=1,2",
        ],
        &["unknown hyperparameter `kk`"],
    );
    fails(
        &[
            "fit",
            "--model",
            "linear",
            "--solver",
            "lbfgs",
            "--data",
            &tabular("diabetes.csv"),
        ],
        &["--solver lbfgs", "--model linear"],
    );
}

#[test]
fn help_documents_every_flag() {
    let expected: &[(&str, &[&str])] = &[
        (
            "fit",
            &[
                "--model",
                "--data",
                "--target",
                "--test ",
                "--test-fraction",
                "--dataset",
                "--features",
                "--data-dir",
                "--limit",
                "--hidden",
                "--k ",
                "--metric",
                "--alpha",
                "--degree",
                "--c ",
                "--penalty",
                "--l1-ratio",
                "--solver",
                "--lr",
                "--epochs",
                "--batch-size",
                "--max-iter",
                "--scale",
                "--seed",
                "--train-score",
                "--out",
                "--json",
            ],
        ),
        (
            "cv",
            &[
                "--folds",
                "--stratified",
                "--no-stratify",
                "--shuffle",
                "--scoring",
                "--json",
            ],
        ),
        (
            "search",
            &[
                "--grid",
                "--random",
                "--range",
                "--folds",
                "--scoring",
                "--refit",
                "--out",
                "--json",
            ],
        ),
        ("predict", &["--run", "--out", "--json"]),
    ];
    for (command, flags) in expected {
        let out = run(&[command, "--help"]);
        assert!(out.status.success());
        let help = text(&out.stdout);
        for flag in *flags {
            assert!(
                help.contains(flag),
                "`{command} --help` lacks {flag}:\n{help}"
            );
        }
    }
}
