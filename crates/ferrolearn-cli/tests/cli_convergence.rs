//! `fit` warns when a solver stops at its iteration limit before converging, as
//! scikit-learn's `ConvergenceWarning`: one `warning:` line on stderr naming the model, the
//! iterations it ran and `--max-iter`, and the same text in `--json`'s `warnings`. A fit that
//! converges warns of nothing.

mod common;

use common::{run, tabular, text};
use serde_json::Value;

/// Runs `fit --model model --data iris.csv` with `extra` flags (and `--json` when `json`);
/// returns the `warning:` lines of stderr and, with `json`, the JSON object.
fn fit(model: &str, extra: &[&str], json: bool) -> (Vec<String>, Value) {
    let iris = tabular("iris.csv");
    let mut args: Vec<&str> = vec!["fit", "--model", model, "--data", iris.as_str()];
    args.extend(extra);
    if json {
        args.push("--json");
    }
    let out = run(&args);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    let warnings: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains("warning"))
        .map(String::from)
        .collect();
    let value = match json {
        true => serde_json::from_slice(&out.stdout).expect("stdout is JSON"),
        false => Value::Null,
    };
    (warnings, value)
}

#[test]
fn solvers_stopped_by_max_iter_warn_naming_model_iterations_and_flag() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "logistic",
            &["--max-iter", "1"],
            "logistic did not converge in 1 iteration: lbfgs",
        ),
        (
            "logistic",
            &["--max-iter", "2", "--penalty", "l1"],
            "logistic did not converge in 2 iterations: fista",
        ),
        (
            "softmax",
            &["--max-iter", "2"],
            "softmax did not converge in 2 iterations: lbfgs",
        ),
        (
            "svm",
            &["--max-iter", "1"],
            "svm did not converge in 1 iteration",
        ),
        (
            "mlp",
            &["--max-iter", "2"],
            "mlp did not converge in 2 epochs",
        ),
        (
            "kmeans",
            &["--max-iter", "1"],
            "kmeans did not converge in 1 iteration",
        ),
        // Three steps of 50 rows: too few for 10 steps without improvement.
        (
            "kmeans",
            &["--max-iter", "1", "--batch-size", "50"],
            "kmeans did not converge in 1 pass",
        ),
    ];
    for &(model, extra, needle) in cases {
        let (lines, out) = fit(model, extra, true);
        assert_eq!(lines.len(), 1, "{model} {extra:?}: {lines:?}");
        let line = &lines[0];
        assert!(line.starts_with("warning: "), "{line}");
        assert!(
            line.contains(needle),
            "{model} {extra:?}: {needle:?} not in {line}"
        );
        assert!(line.contains("raise --max-iter"), "{line}");
        assert_eq!(
            out["warnings"],
            serde_json::json!([line.trim_start_matches("warning: ")]),
            "{out}"
        );
    }
    // The text report warns alike.
    let (lines, _) = fit("svm", &["--max-iter", "1"], false);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("warning: svm did not converge"),
        "{lines:?}"
    );
}

#[test]
fn converged_fits_and_models_without_a_stopping_test_do_not_warn() {
    let cases: &[(&str, &[&str])] = &[
        ("logistic", &[]),
        ("softmax", &[]),
        ("svm", &[]),
        ("kmeans", &["--k", "3"]),
        // Gradient descent runs the epochs it is given: nothing to converge.
        ("logistic", &["--solver", "gd", "--epochs", "2"]),
        ("knn", &[]),
    ];
    for &(model, extra) in cases {
        let (lines, out) = fit(model, extra, true);
        assert!(lines.is_empty(), "{model} {extra:?}: {lines:?}");
        assert_eq!(
            out["warnings"],
            serde_json::json!([]),
            "{model} {extra:?}: {out}"
        );
    }
}
