//! What cannot work is refused before any training, in one `error:` line naming the flag or
//! file: zero or negative settings, empty sets, empty or header-only dataset files, flags the
//! chosen model ignores, a continuous target given to a classifier.

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
    // A validation split that leaves either side empty.
    refused(
        &["train", "--limit", "1", "--val-fraction", "0.5"],
        "--val-fraction: invalid parameter: validation fraction 0.5 of 1 items leaves no training item",
    );
    refused(
        &["train", "--limit", "2", "--val-fraction", "0.2"],
        "--val-fraction 0.2 of 2 training images leaves 2 for training and 0 for validation",
    );
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

/// An IDX header (unsigned bytes) with these dimensions, followed by `data`.
fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, dims.len() as u8];
    dims.iter().for_each(|d| bytes.extend(d.to_be_bytes()));
    bytes.extend(data);
    bytes
}

#[test]
fn empty_and_header_only_dataset_files_are_refused_naming_the_file() {
    let root =
        std::env::temp_dir().join(format!("ferrolearn-cli-empty-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (mnist, cifar) = (root.join("mnist"), root.join("cifar-10"));
    std::fs::create_dir_all(&mnist).expect("mkdir");
    std::fs::create_dir_all(&cifar).expect("mkdir");
    let root_s = root.to_str().expect("utf-8");
    std::fs::write(mnist.join("train-labels-idx1-ubyte"), idx(&[0], &[])).expect("write");
    let images = "train-images-idx3-ubyte";
    let idx_cases = [
        (Vec::new(), "0 bytes of data, too short for an IDX header"),
        (idx(&[0, 28, 28], &[]), "holds no image"),
        (idx(&[60000, 28, 28], &[]), "truncated"),
    ];
    for (bytes, message) in idx_cases {
        std::fs::write(mnist.join(images), bytes).expect("write");
        let needle = format!("{images}: {message}");
        refused(&["train", "--data-dir", root_s, "--limit", "10"], &needle);
        refused(
            &[
                "fit",
                "--model",
                "knn",
                "--dataset",
                "mnist",
                "--data-dir",
                root_s,
            ],
            &needle,
        );
    }
    // A CIFAR-10 batch has no header: an empty file, or a label byte without its pixels.
    let batch = "data_batch_1.bin";
    let cifar_cases = [
        (Vec::new(), "holds no record"),
        (
            vec![3],
            "1 bytes is not a whole number of 3073-byte records",
        ),
    ];
    for (bytes, message) in cifar_cases {
        std::fs::write(cifar.join(batch), bytes).expect("write");
        let needle = format!("{batch}: {message}");
        let train = [
            "train",
            "--dataset",
            "cifar-10",
            "--data-dir",
            root_s,
            "--limit",
            "10",
        ];
        refused(&train, &needle);
    }
    std::fs::remove_dir_all(root).expect("cleanup");
}
