//! Helpers of the CLI tests that run the built binary on the bundled tabular sets. Each test
//! binary uses a subset of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

pub mod terminal;

/// A bundled CSV under `data/tabular`.
pub fn tabular(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/tabular")
        .join(name)
        .display()
        .to_string()
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "ferrolearn-cli-classic-{}-{n}-{tag}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    /// Writes a file and returns its path.
    pub fn file(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write scratch file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrolearn"))
        .args(args)
        .output()
        .expect("run the ferrolearn binary")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must succeed and print exactly one JSON object on stdout.
pub fn json(args: &[&str]) -> Value {
    let out = run(args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{args:?} failed:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "one JSON line expected:\n{stdout}"
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("stdout is JSON");
    assert!(v.is_object(), "{v}");
    v
}

/// Runs a command that must fail with a one-line `error: ...` naming every `needle`.
pub fn fails(args: &[&str], needles: &[&str]) {
    let out = run(args);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert_ne!(out.status.code(), Some(0));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("internal error"), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one line expected:\n{stderr}"
    );
    for n in needles {
        assert!(stderr.contains(n), "stderr should name `{n}`:\n{stderr}");
    }
}

pub fn num(v: &Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number in {v}"))
}

/// Fits `model` on every row of the bundled `data` and saves it in `dir/model`.
pub fn saved_model(dir: &Scratch, model: &str, data: &str) -> String {
    let out = dir.path(model);
    json(&[
        "fit",
        "--model",
        model,
        "--data",
        &tabular(data),
        "--test-fraction",
        "0",
        "--out",
        &out,
        "--json",
    ]);
    out
}
