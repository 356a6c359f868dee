//! Runs every reference case (PyTorch / scikit-learn vectors) through ferrolearn.
//!
//! Reads every `*.json` in `tests/reference/`, or in `FERROLEARN_REFERENCE_DIR` when set, and
//! dispatches each case by its file's family. A case whose op a covered family does not know
//! fails by name. Families not covered yet are reported as such and never counted as passed.

#[path = "reference_checks/bovw.rs"]
mod bovw;
#[path = "reference_checks/case.rs"]
mod case;
#[path = "reference_checks/classic.rs"]
mod classic;
#[path = "reference_checks/features.rs"]
mod features;
#[path = "reference_checks/init.rs"]
mod init;
#[path = "reference_checks/kmeans.rs"]
mod kmeans;
#[path = "reference_checks/mlp.rs"]
mod mlp;
#[path = "reference_checks/ops.rs"]
mod ops;
#[path = "reference_checks/optim.rs"]
mod optim;
#[path = "reference_checks/sgd.rs"]
mod sgd;

use std::collections::BTreeMap;
use std::path::PathBuf;

use case::Case;

/// Checks one case: `Err` says what differs.
type Checker = fn(&Case) -> Result<(), String>;

/// The checker for a family, or `None` when no issue has covered it yet.
fn checker(family: &str) -> Option<Checker> {
    match family {
        "linear" | "conv2d" | "pool" | "batchnorm" | "activations" | "losses" | "branching" => {
            Some(ops::check)
        }
        "bovw" => Some(bovw::check),
        "classic" => Some(classic::check),
        "features" => Some(features::check),
        "init" => Some(init::check),
        "kmeans" => Some(kmeans::check),
        "mlp" => Some(mlp::check),
        "optimizers" | "schedules" => Some(optim::check),
        "sgd" => Some(sgd::check),
        _ => None,
    }
}

fn reference_dir() -> PathBuf {
    match std::env::var_os("FERROLEARN_REFERENCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference"),
    }
}

#[test]
fn reference_vectors() {
    let dir = reference_dir();
    let files = case::read_dir(&dir);
    assert!(!files.is_empty(), "no *.json files in {}", dir.display());
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_covered: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (path, file) in &files {
        let Some(check) = checker(&file.family) else {
            *not_covered.entry(file.family.clone()).or_default() += file.cases.len();
            continue;
        };
        for case in &file.cases {
            *checked.entry(file.family.clone()).or_default() += 1;
            if let Err(msg) = check(case) {
                failures.push(format!("{path}: {} ({}): {msg}", case.name, case.op));
            }
        }
    }
    println!("reference directory: {}", dir.display());
    for (family, n) in &checked {
        println!("  {family:<12} {n:>3} cases checked");
    }
    for (family, n) in &not_covered {
        println!("  {family:<12} {n:>3} cases NOT YET COVERED (not counted as passed)");
    }
    assert!(
        failures.is_empty(),
        "{} reference case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
