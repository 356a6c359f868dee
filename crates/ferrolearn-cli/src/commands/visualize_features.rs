//! `ferrolearn visualize --features DIR --what centroids`: the visual words of a
//! bag-of-visual-words feature cache (`ferrolearn features --kind bovw --out DIR`), most used
//! first.

use std::path::Path;

use anyhow::{bail, Context};
use ferrolearn::features::{kinds_text, FeatureKind, FeatureSet};
use ferrolearn::viz::plot_centroids;
use serde_json::json;

use super::visualize::{Args, Drawn, What};

/// Draws the words of the first bag of visual words in the cache at `source` (a directory's
/// `train.safetensors`, or a cache file) into `picture`.
pub fn draw(args: &Args, source: &Path, picture: &Path) -> anyhow::Result<Drawn> {
    if args.what != What::Centroids {
        bail!(
            "--what {} does not apply to a feature cache ({}); --what centroids applies to \
             bag-of-visual-words caches",
            args.what.name(),
            source.display()
        );
    }
    let path = if source.is_dir() {
        source.join("train.safetensors")
    } else {
        source.to_path_buf()
    };
    let set = FeatureSet::read(&path)?;
    let mut column = 0;
    let mut found = None;
    for kind in &set.key.kinds {
        if let (FeatureKind::Bovw(b), None) = (kind, &found) {
            found = Some((b, column));
        }
        column += kind.output_len(set.item_shape)?;
    }
    let Some((bovw, start)) = found else {
        bail!(
            "{} holds {} features: no visual words to draw; --what centroids needs a bag of \
             visual words (ferrolearn features --kind bovw)",
            path.display(),
            kinds_text(&set.key.kinds)
        );
    };
    let vocabulary = bovw
        .vocabulary()
        .with_context(|| format!("{}: the bag of visual words has no words", path.display()))?;
    let centres = vocabulary.centres();
    let k = vocabulary.words();
    let [channels, side, _] = vocabulary.patch_shape();
    // How much each word is used over the cached images: the sum of its histogram column.
    let usage: Vec<f64> = (start..start + k)
        .map(|j| set.features.column(j).iter().map(|&v| f64::from(v)).sum())
        .collect();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| usage[b].total_cmp(&usage[a]).then(a.cmp(&b)));
    let flat: Vec<f32> = order
        .iter()
        .flat_map(|&w| centres.row(w).to_vec())
        .map(|v| v as f32)
        .collect();
    let title = format!(
        "{k} visual words ({side}x{side} patches) of {} {}, most used first",
        set.key.dataset, set.key.split
    );
    plot_centroids(picture, &flat, [k, channels, side, side], &title)?;
    let total: f64 = usage.iter().sum();
    let shares: Vec<f64> = order
        .iter()
        .map(|&w| if total > 0.0 { usage[w] / total } else { 0.0 })
        .collect();
    Ok(Drawn {
        description: format!(
            "{k} visual words of {} on {} {}",
            bovw.params(),
            set.key.dataset,
            set.key.split
        ),
        details: json!({
            "cache": path,
            "kind": bovw.params().to_string(),
            "words": k,
            "patch_shape": [channels, side, side],
            "order": order,
            "usage": shares,
        }),
    })
}
