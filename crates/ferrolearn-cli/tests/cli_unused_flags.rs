//! `train` refuses flags typed on the command line that the chosen optimizer, schedule or
//! model would ignore, naming each and why, before loading any data; a recipe's own defaults
//! never trigger it. `fit` refuses a fit the machine cannot hold, in GiB, naming the flag.

use std::process::{Command, Output};

fn ferrolearn(args: &[&str]) -> Output {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/tabular/");
    let args: Vec<String> = args.iter().map(|a| a.replace("DATA/", data)).collect();
    let dir = std::env::temp_dir();
    Command::new(env!("CARGO_BIN_EXE_ferrolearn"))
        .args(&args)
        .current_dir(&dir)
        .output()
        .expect("runs")
}

fn refused(args: &[&str], needle: &str) {
    let out = ferrolearn(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} was accepted: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {needle:?} not in {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The flags pass the check: the command fails later, on the missing data directory.
fn flags_pass(args: &[&str]) {
    let mut args = args.to_vec();
    args.extend(["--data-dir", "/nonexistent-ferrolearn-data"]);
    let out = ferrolearn(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("has no effect"), "{args:?}: {stderr}");
    assert!(
        stderr.contains("nonexistent-ferrolearn-data"),
        "{args:?}: {stderr}"
    );
}

#[test]
fn flags_the_optimizer_or_schedule_ignores_are_refused() {
    refused(
        &["train", "--optimizer", "adam", "--momentum", "0.5"],
        "--momentum has no effect: only SGD has momentum, not --optimizer adam",
    );
    refused(
        &[
            "train",
            "--optimizer",
            "sgd",
            "--momentum",
            "0",
            "--nesterov",
        ],
        "--nesterov has no effect: Nesterov momentum needs --momentum > 0",
    );
    refused(
        &["train", "--warmup", "0.1"],
        "--warmup has no effect: only --schedule warmup-linear, warmup-cosine and one-cycle warm up, not --schedule none",
    );
    refused(
        &["train", "--schedule", "cosine", "--gamma", "0.5"],
        "--gamma has no effect: only --schedule step, exponential, plateau and multi-step use it, not --schedule cosine",
    );
    refused(
        &[
            "train",
            "--schedule",
            "one-cycle",
            "--final-lr-factor",
            "0.1",
        ],
        "--final-lr-factor has no effect",
    );
    // Two at once: both named.
    refused(
        &["train", "--optimizer", "rmsprop", "--nesterov", "--step-size", "3"],
        "--nesterov has no effect: only SGD has Nesterov momentum, not --optimizer rmsprop; --step-size has no effect: it is --schedule step's, not --schedule none's",
    );
}

#[test]
fn flags_the_model_or_settings_ignore_are_refused() {
    refused(
        &["train", "--ema-every", "5"],
        "--ema-every has no effect: there is no moving average without --ema-decay",
    );
    refused(
        &["train", "--ema-lookahead"],
        "--ema-lookahead has no effect: there is no moving average without --ema-decay",
    );
    refused(
        &["train", "--whitening-bias-epochs", "3"],
        "--whitening-bias-epochs has no effect: --model lenet5 does not start with a patch_whitening layer",
    );
    refused(
        &["train", "--model", "lenet5", "--hidden", "64"],
        "--hidden has no effect: it shapes --model mlp, not --model lenet5",
    );
    refused(
        &["train", "--model", "mlp", "--depth", "32"],
        "--depth has no effect: it is the depth of --model resnet20, not of --model mlp",
    );
    refused(
        &["train", "--padding-mode", "reflect"],
        "--padding-mode has no effect: it fills the crop padding, and --crop-padding is 0",
    );
    refused(
        &["train", "--alternating-flip"],
        "--alternating-flip has no effect",
    );
    refused(
        &["train", "--val-fraction", "0", "--patience", "2"],
        "--patience has no effect: early stopping watches the validation loss",
    );
    refused(
        &["train", "--model", "lenet5", "--norm-bias-grad-scale", "64"],
        "--norm-bias-grad-scale has no effect: it scales batch-norm shifts, and --model lenet5 has no batch norm",
    );
    refused(
        &["train", "--no-decay-norm-bias"],
        "--no-decay-norm-bias has no effect: it exempts parameters from weight decay, and --weight-decay is 0",
    );
}

#[test]
fn recipe_defaults_and_used_flags_pass() {
    // resnet20's recipe sets momentum and Nesterov; with Adam they are simply not used.
    flags_pass(&[
        "train",
        "--model",
        "resnet20",
        "--dataset",
        "cifar-10",
        "--optimizer",
        "adam",
    ]);
    // airbench's recipe sets the warm-up start and the lookahead average.
    flags_pass(&[
        "train",
        "--model",
        "airbench",
        "--dataset",
        "cifar-10",
        "--schedule",
        "cosine",
    ]);
    flags_pass(&[
        "train",
        "--model",
        "airbench",
        "--dataset",
        "cifar-10",
        "--ema-every",
        "3",
        "--whitening-bias-epochs",
        "2",
    ]);
    flags_pass(&[
        "train",
        "--optimizer",
        "sgd",
        "--momentum",
        "0.5",
        "--nesterov",
    ]);
    flags_pass(&[
        "train",
        "--schedule",
        "one-cycle",
        "--warmup",
        "0.2",
        "--div-factor",
        "10",
    ]);
    flags_pass(&[
        "train",
        "--model",
        "mlp",
        "--hidden",
        "32",
        "--batch-norm",
        "--norm-bias-grad-scale",
        "2",
    ]);
}

#[test]
fn a_fit_the_machine_cannot_hold_is_refused_in_gib() {
    // 646,646 monomials of degree 12 in 10 features: a Gram matrix of terabytes.
    refused(
        &[
            "fit",
            "--model",
            "poly",
            "--degree",
            "12",
            "--data",
            "DATA/diabetes.csv",
        ],
        "fitting --model poly would need about",
    );
    refused(
        &[
            "fit",
            "--model",
            "poly",
            "--degree",
            "12",
            "--data",
            "DATA/diabetes.csv",
        ],
        "set by --degree 12 on 10 features",
    );
}
