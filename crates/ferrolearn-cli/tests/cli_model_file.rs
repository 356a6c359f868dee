//! A mistake in a model file given to `ferrolearn train` is one clean error naming the file,
//! the layer's path and type, the field, the valid fields and the nearest valid name; an
//! unknown key is refused whatever the layer's type.

use std::path::Path;
use std::process::Command;

/// Runs `train --model-file` on a file holding `json`; returns stderr, asserting a clean
/// failure.
fn refused(file: &Path, json: &str) -> String {
    std::fs::write(file, json).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_ferrolearn"))
        .args([
            "train",
            "--model-file",
            file.to_str().expect("utf-8"),
            "--out",
        ])
        .arg(file.with_extension("run"))
        .env_remove("FERROLEARN_DATA")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{json} was accepted: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ferrolearn-cli-modelfile-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

#[test]
fn model_file_mistakes_name_layer_field_and_nearest_name() {
    let dir = scratch("mistakes");
    let file = dir.join("net.json");
    let cases = [
        (
            r#"{"layers": [{"type": "flatten"}, {"type": "linear", "out_feature": 10}]}"#,
            r#"net.json: layer 1 (linear): unknown field "out_feature"; did you mean "out_features"?; valid fields: out_features, bias (optional), init (optional), name (optional)"#,
        ),
        (
            r#"{"layers": [{"type": "parallel", "merge": "sum", "branches": [[], [{"type": "conv2d", "kernel": 3}]]}]}"#,
            r#"layer 0 (parallel) > branch 1 > layer 0 (conv2d): missing field "out_channels""#,
        ),
        (
            r#"{"layers": [{"type": "maxpool2d", "kernel": 2}]}"#,
            r#"layer 0: unknown layer type "maxpool2d"; did you mean "max_pool2d"?"#,
        ),
    ];
    for (json, needle) in cases {
        let stderr = refused(&file, json);
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn unknown_keys_are_refused_for_every_layer_type() {
    let dir = scratch("unknown-keys");
    let file = dir.join("net.json");
    // The layer types as the binary lists them for an unknown type, so a new type is
    // covered without editing this test.
    let stderr = refused(&file, r#"{"layers": [{"type": "no_such_layer"}]}"#);
    let list = stderr
        .split("layer types: ")
        .nth(1)
        .expect("the error lists the layer types");
    let types: Vec<&str> = list.trim().split(", ").collect();
    assert!(types.len() >= 20 && types.contains(&"conv2d"), "{types:?}");
    for t in types {
        // Top level, and inside a sequential layer.
        let layer = format!(r#"{{"type": "{t}", "colour": 1}}"#);
        let nested = format!(r#"{{"layers": [{{"type": "sequential", "layers": [{layer}]}}]}}"#);
        for (json, path) in [
            (
                format!(r#"{{"layers": [{layer}]}}"#),
                format!("layer 0 ({t})"),
            ),
            (nested, format!("layer 0 (sequential) > layer 0 ({t})")),
        ] {
            let stderr = refused(&file, &json);
            let needle = format!(r#"{path}: unknown field "colour""#);
            assert!(stderr.contains(&needle), "{needle:?} not in {stderr}");
            assert!(stderr.contains("valid fields:"), "{stderr}");
        }
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
