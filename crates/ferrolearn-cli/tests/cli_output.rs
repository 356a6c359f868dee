//! What the CLI prints on stdout: `predict` into a pipe its reader has closed exits quietly
//! with status 0 (other text output quietly with SIGPIPE's 141), and every `--json` object
//! names the command that printed it.

mod common;

use std::process::{Command, Stdio};

use common::{fails, json, run, saved_model, tabular, text, Scratch};

#[test]
fn predict_into_a_closed_pipe_exits_quietly() {
    let dir = Scratch::new("pipe");
    let model = saved_model(&dir, "logistic", "digits.csv");
    let digits = tabular("digits.csv");
    // The reader is gone before anything is written: the first write fails with EPIPE.
    for extra in [&[][..], &["--json"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ferrolearn"))
            .args(["predict", "--run", &model, &digits])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ferrolearn");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait for ferrolearn");
        assert!(out.status.success(), "{extra:?}: {:?}", out.status);
        assert_eq!(text(&out.stderr), "", "{extra:?}");
    }
    // As a user types it: 1797 rows of ten probabilities overflow the pipe after `head`
    // has gone; pipefail reports predict's own status.
    let script = format!(
        "set -o pipefail; '{}' predict --run '{model}' '{digits}' | head -1",
        env!("CARGO_BIN_EXE_ferrolearn")
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("run bash");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    assert!(text(&out.stdout).starts_with("prediction,proba_0,"));
    assert_eq!(text(&out.stdout).lines().count(), 1);
}

#[test]
fn other_text_into_a_closed_pipe_ends_quietly_as_sigpipe_would() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrolearn"))
        .args(["cv", "--model", "knn", "--data", &tabular("iris.csv")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferrolearn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for ferrolearn");
    assert_eq!(out.status.code(), Some(141));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn every_json_object_names_its_command() {
    let dir = Scratch::new("command");
    let iris = tabular("iris.csv");
    let model = saved_model(&dir, "knn", "iris.csv");
    let run_dir = dir.path("mlp-run");
    let commands: [(&str, Vec<&str>); 5] = [
        (
            "fit",
            vec!["fit", "--model", "knn", "--data", &iris, "--json"],
        ),
        (
            "cv",
            vec!["cv", "--model", "knn", "--data", &iris, "--json"],
        ),
        (
            "search",
            vec![
                "search", "--model", "knn", "--data", &iris, "--grid", "k=1,3", "--json",
            ],
        ),
        ("predict", vec!["predict", "--run", &model, &iris, "--json"]),
        (
            "train",
            vec![
                "train", "--model", "mlp", "--epochs", "1", "--limit", "256", "--out", &run_dir,
                "--json",
            ],
        ),
    ];
    for (name, args) in commands {
        assert_eq!(json(&args)["command"], name, "{args:?}");
    }
}

#[test]
fn bench_accepts_json_and_names_itself() {
    let out = run(&["bench", "--workload", "mlp", "--epochs", "1", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("epoch 1"),
        "{}",
        text(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["command"], "bench");
    assert_eq!(v["workload"], "mlp");
    assert!(v["test_accuracy"].as_f64().is_some_and(|a| a > 0.9), "{v}");
    fails(
        &["bench", "--workload", "mlp", "--epochs", "0"],
        &["--epochs must be >= 1"],
    );
    let help = text(&run(&["bench", "--help"]).stdout);
    assert!(help.contains("--json"), "{help}");
}
