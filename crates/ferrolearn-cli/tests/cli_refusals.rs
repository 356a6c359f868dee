//! What cannot work is refused before any training, in one `error:` line naming the flag or
//! file: zero or negative settings, empty sets, flags the chosen model ignores, a continuous
//! target given to a classifier.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

fn refused(args: &[&str], needle: &str) {
    // One directory per call: the tests of this file run in parallel threads.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "ferrolearn-cli-refusals-{}-{call}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/tabular/");
    let args: Vec<String> = args.iter().map(|a| a.replace("DATA/", data)).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_ferrolearn"))
        .args(&args)
        .current_dir(&dir)
        .env_remove("FERROLEARN_DATA")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} was accepted: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {needle:?} not in {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !dir.join("runs").exists() || needle.contains("test-limit"),
        "{args:?} trained"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn impossible_settings_are_refused_naming_the_flag() {
    refused(&["train", "--lr", "-0.1"], "lr must be > 0, got -0.1");
    refused(
        &["--threads", "0", "train"],
        "--threads must be >= 1, got 0",
    );
    refused(&["train", "--limit", "0"], "--limit must be >= 1, got 0");
    refused(
        &["train", "--limit", "50", "--test-limit", "0"],
        "--test-limit must be >= 1",
    );
    refused(
        &["predict", "--run", "nowhere", "--top", "0", "a.png"],
        "--top must be >= 1, got 0",
    );
    refused(&["train", "--epochs", "-1"], "--epochs");
    // 784 x 1e11 weights: refused in GiB before anything is allocated.
    refused(
        &["train", "--model", "mlp", "--hidden", "100000000000"],
        "the largest is layer 1 (linear)",
    );
}

#[test]
fn flags_the_model_ignores_and_continuous_targets_are_refused() {
    refused(
        &[
            "fit",
            "--model",
            "knn",
            "--alpha",
            "0.1",
            "--data",
            "DATA/iris.csv",
        ],
        "--model knn does not use --alpha: its hyperparameters are --k, --metric",
    );
    refused(
        &[
            "cv",
            "--model",
            "svm",
            "--k",
            "3",
            "--data",
            "DATA/iris.csv",
        ],
        "--model svm does not use --k",
    );
    refused(
        &["fit", "--model", "knn", "--data", "DATA/diabetes.csv"],
        "diabetes.csv: target: 214 distinct values in 442 rows looks continuous",
    );
}
