//! A mistake in a model file given to `ferrolearn train` is one clean error naming the file,
//! the layer's path and type, the field, the valid fields and the nearest valid name.

use std::process::Command;

#[test]
fn model_file_mistakes_name_layer_field_and_nearest_name() {
    let dir = std::env::temp_dir().join(format!("ferrolearn-cli-modelfile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
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
        std::fs::write(&file, json).expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_ferrolearn"))
            .args([
                "train",
                "--model-file",
                file.to_str().expect("utf-8"),
                "--out",
            ])
            .arg(dir.join("run"))
            .env_remove("FERROLEARN_DATA")
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
