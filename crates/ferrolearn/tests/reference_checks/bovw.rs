//! The `bovw` family: word histograms of real CIFAR-10 and MNIST images with given words,
//! against scikit-learn's `extract_patches_2d` and `pairwise_distances_argmin`
//! (`generate_bovw.py`).

use ferrolearn::features::{FeatureKind, Vocabulary};
use ndarray::Array2;

use super::case::{widen, Case};

/// Checks one `bovw` case.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        "bovw_encode" => check_encode(case),
        other => Err(format!("unknown bovw op `{other}`")),
    }
}

/// A string or number param as text.
fn setting(case: &Case, key: &str) -> Result<String, String> {
    match case.params.get(key) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(format!("param `{key}` missing")),
    }
}

fn check_encode(case: &Case) -> Result<(), String> {
    let images = case.input("images")?;
    let words = case.input("words")?;
    let [n, c, h, w] = images.shape[..] else {
        return Err(format!(
            "images shape {:?} is not [N, C, H, W]",
            images.shape
        ));
    };
    let [k, d] = words.shape[..] else {
        return Err(format!("words shape {:?} is not [K, D]", words.shape));
    };
    let patch = setting(case, "patch")?;
    let text = format!(
        "bovw(words={k},patch={patch},stride={},patches={k},patch_norm={},hist_norm={})",
        setting(case, "stride")?,
        setting(case, "patch_norm")?,
        setting(case, "hist_norm")?
    );
    let FeatureKind::Bovw(bovw) = text.parse().map_err(|e: ferrolearn::Error| e.to_string())?
    else {
        return Err(format!("`{text}` did not give a bag of visual words"));
    };
    let p = bovw.params().patch;
    let centres = Array2::from_shape_vec((k, d), words.data.clone()).map_err(|e| e.to_string())?;
    let vocabulary = Vocabulary::new([c, p, p], centres.view()).map_err(|e| e.to_string())?;
    let bovw = bovw
        .with_vocabulary(vocabulary)
        .map_err(|e| e.to_string())?;
    let pixels: Vec<u8> = images.data.iter().map(|&v| v as u8).collect();
    let mut got = Vec::with_capacity(n * k);
    for image in pixels.chunks_exact(c * h * w) {
        got.extend(bovw.compute(image, [c, h, w]).map_err(|e| e.to_string())?);
    }
    case.check_output("histograms", &widen(&got), &[n, k])
}
