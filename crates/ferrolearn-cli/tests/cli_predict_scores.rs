//! `predict` on a classic run gives class probabilities or decision scores where
//! scikit-learn does: kNN's `proba_<class>` columns (the share of the k neighbours in each
//! class), the SVMs' decision scores (`score` for a two-class svm, `score_<class>`
//! otherwise), each beside the prediction it agrees with, and the same in `--json`; its
//! `--help` says so, and how pictures are framed.

mod common;

use std::path::Path;

use common::{json, run, text, Scratch};
use serde_json::Value;

/// Twelve rows of three classes named by strings (sorted: blue, green, red), each class with
/// one row near another class, so kNN's shares are not all 0 or 1.
const THREE: &str = "x1,x2,target
0.0,0.0,red
0.3,0.2,red
0.1,0.5,red
0.9,0.8,red
2.0,2.1,green
2.2,1.8,green
1.7,2.3,green
1.2,1.1,green
4.0,0.1,blue
4.3,0.4,blue
3.8,-0.2,blue
2.9,1.0,blue
";

/// The red and green rows only: a two-class problem (sorted: green, red).
fn two(three: &str) -> String {
    three
        .lines()
        .filter(|l| !l.ends_with("blue"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Fits `model` (with `extra` flags) on every row of `data` and returns the run directory.
fn fitted(dir: &Scratch, model: &str, data: &str, extra: &[&str]) -> String {
    let stem = Path::new(data)
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a name");
    let out = dir.path(&format!("{model}-{stem}"));
    let head = [
        "fit",
        "--model",
        model,
        "--data",
        data,
        "--test-fraction",
        "0",
    ];
    let tail = ["--out", &out, "--json"];
    json(&[&head[..], extra, &tail[..]].concat());
    out
}

/// The predictions CSV `predict --out` writes: header and rows.
fn predict_csv(dir: &Scratch, run_dir: &str, data: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let path = dir.path("predictions.csv");
    let out = run(&["predict", "--run", run_dir, data, "--out", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&path).expect("predictions written");
    let mut lines = written
        .lines()
        .map(|l| l.split(',').map(String::from).collect());
    let header = lines.next().expect("a header");
    (header, lines.collect())
}

fn numbers(fields: &[String]) -> Vec<f64> {
    fields
        .iter()
        .map(|f| f.parse().expect("a number"))
        .collect()
}

/// The index of the first largest value (scikit-learn's argmax).
fn argmax(values: &[f64]) -> usize {
    let best = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values.iter().position(|&v| v == best).expect("non-empty")
}

#[test]
fn knn_gives_the_share_of_neighbours_per_class() {
    let dir = Scratch::new("knn-proba");
    let data = dir.file("three.csv", THREE);
    let knn = fitted(&dir, "knn", &data, &["--k", "3"]);
    let (header, rows) = predict_csv(&dir, &knn, &data);
    assert_eq!(
        header,
        ["prediction", "proba_blue", "proba_green", "proba_red"]
    );
    let classes = ["blue", "green", "red"];
    let mut mixed = 0;
    for row in &rows {
        let p = numbers(&row[1..]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{row:?}");
        for v in &p {
            let thirds = v * 3.0;
            assert!(
                (thirds - thirds.round()).abs() < 1e-12,
                "{v} is not a share of 3"
            );
        }
        mixed += usize::from(p.iter().all(|&v| v < 1.0));
        assert_eq!(row[0], classes[argmax(&p)], "{row:?}");
    }
    assert!(mixed > 0, "no row has neighbours of two classes: {rows:?}");

    let out = json(&["predict", "--run", &knn, &data, "--json"]);
    let proba = out["probabilities"].as_array().expect("probabilities");
    assert_eq!(proba.len(), 12);
    assert!(proba.iter().all(|r| r.as_array().map(Vec::len) == Some(3)));
    assert_eq!(out["decision_scores"], Value::Null);
}

#[test]
fn svms_give_decision_scores_whose_sign_or_argmax_is_the_prediction() {
    let dir = Scratch::new("svm-scores");
    let three = dir.file("three.csv", THREE);
    let binary = dir.file("two.csv", &two(THREE));
    let classes = ["blue", "green", "red"];

    // One-vs-rest svm and multisvm: one score per class, the highest is the prediction.
    for model in ["svm", "multisvm"] {
        let run_dir = fitted(&dir, model, &three, &[]);
        let (header, rows) = predict_csv(&dir, &run_dir, &three);
        assert_eq!(
            header,
            ["prediction", "score_blue", "score_green", "score_red"],
            "{model}"
        );
        for row in &rows {
            assert_eq!(
                row[0],
                classes[argmax(&numbers(&row[1..]))],
                "{model}: {row:?}"
            );
        }
        let out = json(&["predict", "--run", &run_dir, &three, "--json"]);
        let scores = out["decision_scores"].as_array().expect("decision_scores");
        assert_eq!(scores.len(), 12);
        assert!(scores.iter().all(|r| r.as_array().map(Vec::len) == Some(3)));
        assert_eq!(out["probabilities"], Value::Null, "{model}");
    }

    // A two-class svm has one score per row, as scikit-learn's LinearSVC: positive means
    // the second class (red).
    let svm = fitted(&dir, "svm", &binary, &[]);
    let (header, rows) = predict_csv(&dir, &svm, &binary);
    assert_eq!(header, ["prediction", "score"]);
    assert_eq!(rows.len(), 8);
    for row in &rows {
        let score: f64 = row[1].parse().expect("a number");
        let want = if score > 0.0 { "red" } else { "green" };
        assert_eq!(row[0], want, "{row:?}");
    }
    let out = json(&["predict", "--run", &svm, &binary, "--json"]);
    let scores = out["decision_scores"].as_array().expect("decision_scores");
    assert_eq!(scores.len(), 8);
    assert!(
        scores.iter().all(Value::is_number),
        "one number per row: {out}"
    );

    // multisvm keeps a weight row per class even for two, so two scores.
    let multisvm = fitted(&dir, "multisvm", &binary, &[]);
    let (header, _) = predict_csv(&dir, &multisvm, &binary);
    assert_eq!(header, ["prediction", "score_green", "score_red"]);
}

#[test]
fn predict_help_says_which_models_give_scores_and_how_pictures_are_framed() {
    let out = run(&["predict", "--help"]);
    let help = text(&out.stdout);
    let needles = [
        "proba_<class>",
        "knn",
        "score_<class>",
        "multisvm",
        "decision_scores",
        "centred by its centre of mass",
        "Transparent pixels are composited on white",
    ];
    for needle in needles {
        assert!(
            help.contains(needle),
            "predict --help lacks {needle}:\n{help}"
        );
    }
}

#[test]
fn sgd_gives_probabilities_for_log_loss_and_decision_scores_for_hinge() {
    let dir = Scratch::new("sgd-scores");
    let three = dir.file("three.csv", THREE);
    let classes = ["blue", "green", "red"];

    // log_loss: one-vs-rest logistic scores normalised over the classes, then the scores
    // (scikit-learn's SGDClassifier has both).
    let logistic = fitted(&dir, "sgd", &three, &["--loss", "log_loss"]);
    let (header, rows) = predict_csv(&dir, &logistic, &three);
    assert_eq!(
        header,
        [
            "prediction",
            "proba_blue",
            "proba_green",
            "proba_red",
            "score_blue",
            "score_green",
            "score_red"
        ]
    );
    for row in &rows {
        let p = numbers(&row[1..4]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{row:?}");
        assert_eq!(row[0], classes[argmax(&p)], "{row:?}");
        assert_eq!(argmax(&p), argmax(&numbers(&row[4..])), "{row:?}");
    }

    // hinge (the default): no probabilities, one decision score per class.
    let hinge = fitted(&dir, "sgd", &three, &[]);
    let (header, rows) = predict_csv(&dir, &hinge, &three);
    assert_eq!(
        header,
        ["prediction", "score_blue", "score_green", "score_red"]
    );
    for row in &rows {
        assert_eq!(row[0], classes[argmax(&numbers(&row[1..]))], "{row:?}");
    }
}
