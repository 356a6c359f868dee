//! The `features` family: scikit-image's HOG and CS231n's colour histograms on real CIFAR-10
//! and MNIST images (`generate_features.py`).

use ferrolearn::features::FeatureKind;

use super::case::{widen, Case, RefTensor};

/// Checks one `features` case.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        "hog" => check_hog(case),
        "color_histogram" => check_color(case),
        other => Err(format!("unknown features op `{other}`")),
    }
}

/// The text form of a setting: a number, a string, a bool, or `[r, c]` as `RxC`.
fn setting(case: &Case, key: &str) -> Result<String, String> {
    let value = case
        .params
        .get(key)
        .ok_or_else(|| format!("param `{key}` missing"))?;
    Ok(match value {
        serde_json::Value::Array(pair) => pair
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("x"),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn kind(case: &Case, name: &str, keys: &[&str]) -> Result<FeatureKind, String> {
    let settings = keys
        .iter()
        .map(|k| Ok(format!("{k}={}", setting(case, k)?)))
        .collect::<Result<Vec<_>, String>>()?;
    format!("{name}({})", settings.join(","))
        .parse()
        .map_err(|e: ferrolearn::Error| e.to_string())
}

/// `[C, H, W]` of a tensor's last three dimensions, and its values as bytes.
fn images(t: &RefTensor) -> Result<([usize; 3], Vec<u8>), String> {
    let s = &t.shape;
    if s.len() < 3 {
        return Err(format!("image shape {s:?} has fewer than 3 dimensions"));
    }
    let shape = [s[s.len() - 3], s[s.len() - 2], s[s.len() - 1]];
    Ok((shape, t.data.iter().map(|&v| v as u8).collect()))
}

fn check_hog(case: &Case) -> Result<(), String> {
    let keys = [
        "orientations",
        "pixels_per_cell",
        "cells_per_block",
        "block_norm",
        "transform_sqrt",
        "channels",
    ];
    let FeatureKind::Hog(hog) = kind(case, "hog", &keys)? else {
        return Err("hog params did not give a hog".into());
    };
    let (shape, pixels) = images(case.input("image")?)?;
    let got = hog.compute(&pixels, shape).map_err(|e| e.to_string())?;
    case.check_output("features", &widen(&got), &[got.len()])
}

fn check_color(case: &Case) -> Result<(), String> {
    let FeatureKind::Color(hist) = kind(case, "color", &["space", "bins"])? else {
        return Err("color params did not give a colour histogram".into());
    };
    let (shape, pixels) = images(case.input("images")?)?;
    let len: usize = shape.iter().product();
    let mut got = Vec::new();
    for image in pixels.chunks(len) {
        got.extend(hist.compute(image, shape).map_err(|e| e.to_string())?);
    }
    let n = pixels.len() / len;
    case.check_output("histograms", &widen(&got), &[n, got.len() / n])
}
