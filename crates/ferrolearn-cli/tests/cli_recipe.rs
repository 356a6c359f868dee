//! The fast-recipe flags of `ferrolearn train` and `eval` end to end on a slice of the bundled
//! MNIST: label smoothing, a per-step schedule, decay exclusion, the weight average,
//! test-time augmentation, the test limit and the time budget, and their user errors.

use std::path::PathBuf;
use std::process::{Command, Output};

fn ferrolearn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrolearn"))
        .args(args)
        .env_remove("FERROLEARN_DATA")
        .output()
        .expect("the ferrolearn binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ferrolearn-cli-recipe-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn assert_clean_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {stderr}");
    assert!(stderr.contains("error:"), "no error line: {stderr}");
    assert!(
        stderr.contains(needle),
        "error does not mention {needle:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "panic leaked: {stderr}");
}

const MLP: &[&str] = &[
    "train",
    "--model",
    "mlp",
    "--hidden",
    "32",
    "--batch-norm",
    "--limit",
    "1000",
    "--val-fraction",
    "0",
    "--batch-size",
    "50",
];

#[test]
fn recipe_flags_train_and_evaluate() {
    let run = temp_dir("run");
    let run_s = run.to_str().unwrap();
    let mut args = MLP.to_vec();
    args.extend([
        "--epochs",
        "2",
        "--lr",
        "0.05",
        "--nesterov",
        "--weight-decay",
        "5e-4",
        "--no-decay-norm-bias",
        "--schedule",
        "warmup-linear",
        "--label-smoothing",
        "0.1",
        "--ema-decay",
        "0.9",
        "--tta",
        "flip",
        "--test-limit",
        "200",
        "--out",
        run_s,
        "--json",
    ]);
    let v = json(&ferrolearn(&args));
    assert_eq!(v["test_images"], 200);
    assert_eq!(v["tta"], "flip");
    assert_eq!(v["steps"], 40);
    assert!(v["test_accuracy"].as_f64().unwrap() > 0.5, "{v}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["label_smoothing"], 0.1);
    assert_eq!(config["schedule"]["name"], "warmup_linear");
    assert_eq!(config["ema"]["decay"], 0.9);
    assert!(run.join("checkpoint/ema.safetensors").is_file());

    // eval follows the run's TTA unless told otherwise, on as many images as asked.
    let e = json(&ferrolearn(&[
        "eval",
        "--run",
        run_s,
        "--test-limit",
        "200",
        "--json",
    ]));
    assert_eq!(e["tta"], "flip");
    assert_eq!(e["test_accuracy"], v["test_accuracy"]);
    let e = json(&ferrolearn(&[
        "eval",
        "--run",
        run_s,
        "--tta",
        "flip-translate",
        "--test-limit",
        "100",
        "--json",
    ]));
    assert_eq!(e["tta"], "flip-translate");
    assert_eq!(e["confusion_matrix"].as_array().unwrap().len(), 10);
    let total: u64 = e["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["support"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 100);
    std::fs::remove_dir_all(&run).unwrap();
}

#[test]
fn time_budget_run_reports_its_fitted_steps() {
    let run = temp_dir("budget");
    let mut args = MLP.to_vec();
    args.extend([
        "--schedule",
        "one-cycle",
        "--time-budget",
        "6s",
        "--test-limit",
        "100",
        "--out",
        run.to_str().unwrap(),
        "--json",
    ]);
    let v = json(&ferrolearn(&args));
    assert_eq!(v["time_budget_s"], 6.0);
    assert!(v["steps"].as_u64().unwrap() >= 13, "{v}");
    std::fs::remove_dir_all(&run).unwrap();
}

#[test]
fn recipe_mistakes_are_clean_errors() {
    let mut bad_budget = MLP.to_vec();
    bad_budget.extend(["--time-budget", "30x"]);
    assert_clean_error(&ferrolearn(&bad_budget), "expected a duration");
    let mut bad_smoothing = MLP.to_vec();
    bad_smoothing.extend(["--label-smoothing", "1.5"]);
    assert_clean_error(
        &ferrolearn(&bad_smoothing),
        "label_smoothing must be in [0, 1], got 1.5",
    );
    let mut bad_mask = MLP.to_vec();
    bad_mask.extend([
        "--optimizer",
        "adagrad",
        "--weight-decay",
        "0.01",
        "--no-decay-norm-bias",
    ]);
    assert_clean_error(&ferrolearn(&bad_mask), "adagrad cannot exclude parameters");
    let mut bad_warmup = MLP.to_vec();
    bad_warmup.extend(["--schedule", "warmup-cosine", "--warmup", "1"]);
    assert_clean_error(&ferrolearn(&bad_warmup), "warmup must be in [0, 1), got 1");
}
