//! `ferrolearn features`: computes hand-crafted features (HOG, colour histograms, bags of
//! visual words) of a dataset's train and test images and caches them as
//! `OUT/train.safetensors` and `OUT/test.safetensors`. A bag of visual words learns its words
//! from the training images first; both caches hold those words.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use ferrolearn::data::{load, Dataset, DatasetName};
use ferrolearn::features::{
    extract, fit_vocabularies, kinds_text, parse_kinds, CacheKey, FeatureKind, FeatureSet,
};
use ferrolearn::train::first_items;
use indicatif::ProgressBar;

use super::classic_report::progress;

/// Flags of `ferrolearn features`.
#[derive(clap::Args)]
pub struct Args {
    /// The dataset: mnist (bundled), fashion-mnist or cifar-10.
    #[arg(long, default_value = "cifar-10")]
    dataset: DatasetName,
    /// Directory holding the dataset's directory (default: $FERROLEARN_DATA, then the bundled data).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Feature kinds, concatenated in this order: hog, color, bovw, each with optional
    /// settings, e.g. 'hog(orientations=12,pixels_per_cell=4x4,cells_per_block=2,block_norm=L1),
    /// color(space=rgb,bins=16),bovw(words=100,patch=6,stride=2)' (see the README for every
    /// setting and its default).
    #[arg(long, default_value = "hog,color", value_name = "KINDS")]
    kind: String,
    /// Directory for train.safetensors and test.safetensors (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Use only the first N images of each split (for a quick look).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Print one JSON object instead of the summary (and no progress bar).
    #[arg(long)]
    json: bool,
}

/// What one split's cache holds.
#[derive(serde::Serialize)]
struct Written {
    split: &'static str,
    path: String,
    images: usize,
    dims: usize,
    seconds: f64,
}

/// Loads the dataset, computes each split's features and writes the caches.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let kinds = parse_kinds(&args.kind)?;
    if args.limit == Some(0) {
        anyhow::bail!("--limit must be >= 1, got 0");
    }
    let sets = load(args.dataset, args.data_dir.as_deref())?;
    let train = first_items(&sets.train, args.limit);
    let test = first_items(&sets.test, args.limit);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let start = Instant::now();
    let learning = kinds.iter().any(|k| matches!(k, FeatureKind::Bovw(_)));
    let spinner = spinner(args.json || !learning);
    let kinds = fit_vocabularies(&kinds, &train)?;
    spinner.finish_and_clear();
    let vocabulary_seconds = start.elapsed().as_secs_f64();
    let mut written = Vec::new();
    for (split, data) in [("train", &*train), ("test", &*test)] {
        written.push(write_split(&args, &kinds, split, data)?);
    }
    if args.json {
        let out = serde_json::json!({
            "dataset": args.dataset.as_str(),
            "kinds": kinds_text(&kinds),
            "vocabulary_seconds": vocabulary_seconds,
            "files": written,
        });
        super::stdout::print_json("features", out)?;
    } else {
        let mut text = format!(
            "{} features of {}:\n",
            kinds_text(&kinds),
            args.dataset.as_str()
        );
        if kinds.iter().any(|k| matches!(k, FeatureKind::Bovw(_))) {
            text.push_str(&format!(
                "  words learned from the training images in {vocabulary_seconds:.1}s\n"
            ));
        }
        for w in &written {
            text.push_str(&format!(
                "  {:<5} {} images x {} values in {:.1}s -> {}\n",
                w.split, w.images, w.dims, w.seconds, w.path
            ));
        }
        super::stdout::print(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A spinner while the visual words are learned (hidden with `--json`, off a terminal, or
/// when no bag of visual words is asked).
fn spinner(hidden: bool) -> ProgressBar {
    if hidden || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message("learning the visual words from the training images");
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Computes one split's features with a progress bar and caches them.
fn write_split(
    args: &Args,
    kinds: &[FeatureKind],
    split: &'static str,
    data: &Dataset,
) -> anyhow::Result<Written> {
    let start = Instant::now();
    let bar = progress(data.len(), args.json, &format!("{split} features"));
    let report = |done: usize| bar.inc(done as u64);
    let features = extract(data, kinds, Some(&report))?;
    bar.finish_and_clear();
    let path = args.out.join(format!("{split}.safetensors"));
    let set = FeatureSet {
        key: CacheKey {
            dataset: args.dataset.as_str().to_string(),
            split: split.to_string(),
            kinds: kinds.to_vec(),
        },
        item_shape: data.item_shape(),
        features,
        labels: data.labels().to_vec(),
    };
    set.save(&path)?;
    Ok(Written {
        split,
        path: path.display().to_string(),
        images: data.len(),
        dims: set.features.ncols(),
        seconds: start.elapsed().as_secs_f64(),
    })
}
