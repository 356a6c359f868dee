//! Runs the `ferrolearn` binary's network commands end to end on a slice of the bundled MNIST:
//! train, eval, predict, resume, gradcheck, and the errors a user can provoke; a copy of the
//! binary finding the data beside it; `predict --save-input` on a (tiny, generated) CIFAR-10
//! run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ferrolearn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrolearn"))
        .args(args)
        .env_remove("FERROLEARN_DATA")
        .output()
        .expect("the ferrolearn binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrolearn-cli-{name}-{}", std::process::id()));
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

/// Asserts a clean failure: non-zero exit, one `error:` naming `needle`, no panic.
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

fn write_digit_png(path: &Path) {
    // A dark "1" on white paper, as a user would draw it.
    let mut img = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
    for y in 12..52 {
        for x in 29..35 {
            img.put_pixel(x, y, image::Luma([0]));
        }
    }
    img.save(path).unwrap();
}

fn write_transparent_digit_png(path: &Path) {
    // A black "1" on a transparent background, low in the picture and to the left.
    let mut img = image::RgbaImage::from_pixel(80, 60, image::Rgba([0, 0, 0, 0]));
    for y in 30..58 {
        for x in 8..12 {
            img.put_pixel(x, y, image::Rgba([0, 0, 0, 255]));
        }
    }
    img.save(path).unwrap();
}

#[test]
fn train_eval_predict_resume() {
    let run = temp_dir("run");
    let run_s = run.to_str().unwrap();
    let out = ferrolearn(&[
        "train",
        "--model",
        "mlp",
        "--hidden",
        "64",
        "--optimizer",
        "adam",
        "--lr",
        "0.001",
        "--limit",
        "2000",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--out",
        run_s,
        "--json",
    ]);
    let trained = json(&out);
    assert_eq!(trained["epochs"], 2);
    let acc = trained["test_accuracy"].as_f64().unwrap();
    assert!(
        acc > 0.80,
        "test accuracy {acc} after 2 epochs on 1800 images"
    );
    for file in [
        "config.json",
        "model.safetensors",
        "metrics.csv",
        "curves.png",
        "checkpoint/state.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 3, "{metrics}");

    let eval = json(&ferrolearn(&["eval", "--run", run_s, "--json"]));
    assert_eq!(eval["command"], "eval");
    assert!((eval["test_accuracy"].as_f64().unwrap() - acc).abs() < 1e-9);
    assert_eq!(eval["classes"].as_array().unwrap().len(), 10);
    assert!(run.join("confusion.png").is_file());

    let png = run.join("one.png");
    write_digit_png(&png);
    let pred = json(&ferrolearn(&[
        "predict",
        "--run",
        run_s,
        png.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(pred["command"], "predict");
    let top = pred["predictions"][0]["top"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    let p0 = top[0]["probability"].as_f64().unwrap();
    let p1 = top[1]["probability"].as_f64().unwrap();
    assert!(p0 >= p1 && p0 <= 1.0);

    // A batch with an unreadable file and a transparent drawing: the others are still
    // predicted, the bad one is reported, the exit status says something failed.
    let corrupt = run.join("corrupt.png");
    std::fs::write(&corrupt, b"\x89PNG not really").unwrap();
    let transparent = run.join("transparent.png");
    write_transparent_digit_png(&transparent);
    let seen = run.join("seen");
    let out = ferrolearn(&[
        "predict",
        "--run",
        run_s,
        png.to_str().unwrap(),
        corrupt.to_str().unwrap(),
        transparent.to_str().unwrap(),
        "--save-input",
        seen.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("corrupt.png") && !stderr.contains("panicked"),
        "{stderr}"
    );
    let batch: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(batch["predictions"].as_array().unwrap().len(), 2);
    assert!(batch["errors"][0]["error"]
        .as_str()
        .unwrap()
        .contains("corrupt.png"));
    // What the model saw: 28x28, the stroke bright on black, boxed to MNIST's 20 pixels
    // and centred.
    for name in ["one", "transparent"] {
        let saw = image::open(seen.join(format!("{name}.input.png")))
            .unwrap()
            .to_luma8();
        assert_eq!(saw.dimensions(), (28, 28));
        assert_eq!(saw.get_pixel(0, 0).0, [0], "{name}: dark background");
        let rows: Vec<u32> = (0..28)
            .filter(|&y| (0..28).any(|x| saw.get_pixel(x, y).0[0] > 128))
            .collect();
        let (top, bottom) = (rows[0], *rows.last().unwrap());
        assert!(
            (19..=21).contains(&(bottom - top + 1)),
            "{name}: {top}..{bottom}"
        );
        assert!(
            (3..=5).contains(&top),
            "{name}: centred vertically, top {top}"
        );
    }

    // Resuming a finished run trains nothing more and reports the same figures.
    let resumed = json(&ferrolearn(&[
        "train", "--resume", "--out", run_s, "--json",
    ]));
    assert_eq!(resumed["epochs"], 2);
    assert_eq!(resumed["test_accuracy"], trained["test_accuracy"]);

    let missing = run.join("missing.png");
    assert_clean_error(
        &ferrolearn(&["predict", "--run", run_s, missing.to_str().unwrap()]),
        "missing.png",
    );
    std::fs::remove_dir_all(&run).unwrap();
}

#[test]
fn user_mistakes_are_clean_errors() {
    let dir = temp_dir("mistakes");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.json");
    std::fs::write(
        &model,
        r#"{"layers": [{"type": "linear", "out_features": 10}]}"#,
    )
    .unwrap();
    let out = dir.join("run");
    let out_s = out.to_str().unwrap();
    assert_clean_error(
        &ferrolearn(&[
            "train",
            "--model-file",
            model.to_str().unwrap(),
            "--limit",
            "100",
            "--out",
            out_s,
        ]),
        "layer 0 (linear): input [1, 28, 28]: needs a flat input",
    );
    std::fs::write(&model, r#"{"layers": [{"type": "conv3d"}]}"#).unwrap();
    assert_clean_error(
        &ferrolearn(&[
            "train",
            "--model-file",
            model.to_str().unwrap(),
            "--out",
            out_s,
        ]),
        "model.json",
    );
    assert_clean_error(
        &ferrolearn(&["train", "--lr=-1", "--limit", "100", "--out", out_s]),
        "lr must be > 0",
    );
    assert_clean_error(
        &ferrolearn(&[
            "train",
            "--dataset",
            "cifar-10",
            "--data-dir",
            dir.to_str().unwrap(),
            "--out",
            out_s,
        ]),
        "cifar-10",
    );
    assert_clean_error(
        &ferrolearn(&["eval", "--run", dir.join("nowhere").to_str().unwrap()]),
        "config.json",
    );
    // A learning rate this high blows the loss up: training stops and says why.
    assert_clean_error(
        &ferrolearn(&[
            "train",
            "--model",
            "mlp",
            "--lr",
            "1e12",
            "--momentum",
            "0.99",
            "--limit",
            "640",
            "--epochs",
            "2",
            "--val-fraction",
            "0",
            "--out",
            out_s,
        ]),
        "lower",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gradcheck_passes_every_op() {
    let report = json(&ferrolearn(&["gradcheck", "--json"]));
    assert_eq!(report["passed"], true, "{report}");
    assert_eq!(report["command"], "gradcheck");
    assert!(report["checked"].as_u64().unwrap() >= 60);
}

/// Writes an IDX file of unsigned bytes with these dimensions.
fn write_idx(path: &Path, dims: &[u32], data: &[u8]) {
    let mut bytes = vec![0, 0, 8, dims.len() as u8];
    dims.iter().for_each(|d| bytes.extend(d.to_be_bytes()));
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}

/// An MNIST-shaped set of `n` training and `n / 4` test images (labels `i % 10`) in `dir`.
fn write_small_mnist(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for (prefix, count) in [("train", n), ("t10k", n / 4)] {
        let pixels: Vec<u8> = (0..count * 784).map(|i| (i % 251) as u8).collect();
        let labels: Vec<u8> = (0..count).map(|i| (i % 10) as u8).collect();
        let images = dir.join(format!("{prefix}-images-idx3-ubyte"));
        write_idx(&images, &[count, 28, 28], &pixels);
        write_idx(
            &dir.join(format!("{prefix}-labels-idx1-ubyte")),
            &[count],
            &labels,
        );
    }
}

#[test]
fn a_copied_binary_finds_the_data_beside_it_or_says_how_to_point_at_data() {
    let root = temp_dir("copied");
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let copied = bin.join("ferrolearn");
    std::fs::copy(env!("CARGO_BIN_EXE_ferrolearn"), &copied).unwrap();
    // 40 training and 10 test images in data/mnist beside the copy: the counts show that
    // this set was read, not the repository's 60,000.
    write_small_mnist(&bin.join("data/mnist"), 40);
    let elsewhere = root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let from_elsewhere = |args: &[&str]| {
        Command::new(&copied)
            .args(args)
            .current_dir(&elsewhere)
            .env_remove("FERROLEARN_DATA")
            .output()
            .unwrap()
    };
    let fit = json(&from_elsewhere(&[
        "fit",
        "--model",
        "knn",
        "--k",
        "1",
        "--dataset",
        "mnist",
        "--json",
    ]));
    assert_eq!(
        (fit["n_train"].as_u64(), fit["n_test"].as_u64()),
        (Some(40), Some(10))
    );
    // No copy of Fashion-MNIST anywhere: the error says how to point the binary at data.
    let missing = from_elsewhere(&["fit", "--model", "knn", "--dataset", "fashion-mnist"]);
    for needle in [
        "cannot find the fashion-mnist files",
        "FERROLEARN_DATA is not set",
        "a `fashion-mnist` folder",
        "`--data-dir DIR`",
        "`export FERROLEARN_DATA=DIR`",
    ] {
        assert_clean_error(&missing, needle);
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn predict_on_a_cifar_run_saves_the_32x32_colour_picture_it_saw() {
    let root = temp_dir("cifar-input");
    let data = root.join("cifar-10");
    std::fs::create_dir_all(&data).unwrap();
    // Five training batches and a test batch of 10 records each (label, then 3072 pixels).
    for name in (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(["test_batch.bin".to_string()])
    {
        let mut bytes = Vec::new();
        for r in 0..10u32 {
            bytes.push(r as u8);
            bytes.extend((0..3072u32).map(|i| ((i * 7 + r * 31) % 256) as u8));
        }
        std::fs::write(data.join(name), bytes).unwrap();
    }
    let run = root.join("run");
    let run_s = run.to_str().unwrap();
    json(&ferrolearn(&[
        "train",
        "--dataset",
        "cifar-10",
        "--data-dir",
        root.to_str().unwrap(),
        "--model",
        "mlp",
        "--hidden",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "10",
        "--val-fraction",
        "0",
        "--out",
        run_s,
        "--json",
    ]));
    // A wide picture, red on the left and blue on the right.
    let picture = root.join("wide.png");
    image::RgbImage::from_fn(60, 40, |x, _| match x < 30 {
        true => image::Rgb([220, 20, 20]),
        false => image::Rgb([20, 20, 220]),
    })
    .save(&picture)
    .unwrap();
    let seen = root.join("seen");
    json(&ferrolearn(&[
        "predict",
        "--run",
        run_s,
        picture.to_str().unwrap(),
        "--save-input",
        seen.to_str().unwrap(),
        "--json",
    ]));
    let saw = image::open(seen.join("wide.input.png")).unwrap().to_rgb8();
    assert_eq!(saw.dimensions(), (32, 32));
    // Scaled and centre-cropped: still red on the left, blue on the right.
    let (left, right) = (saw.get_pixel(2, 16).0, saw.get_pixel(29, 16).0);
    assert!(left[0] > 150 && left[2] < 100, "left {left:?}");
    assert!(right[2] > 150 && right[0] < 100, "right {right:?}");
    std::fs::remove_dir_all(&root).unwrap();
}
