//! `ferrolearn visualize`: a picture of what a saved run learned. Network runs here; classic
//! runs (`fit --out`) in [`super::visualize_classic`]; the visual words of a feature cache
//! (`features --out`) in [`super::visualize_features`]. Each picture is one library call.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::ValueEnum;
use ferrolearn::classic::persist;
use ferrolearn::data::{load, DatasetName};
use ferrolearn::train::{class_probabilities, first_items, load_run};
use ferrolearn::viz::{most_confident_mistakes, plot_filters, plot_mistakes, Mistake};
use serde_json::{json, Value};

use super::stdout::{print, print_json};
use super::{visualize_classic, visualize_features};

/// The pictures `--what` selects.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// One template per class of a linear model fitted on images (classic softmax,
    /// logistic, svm, multisvm and perceptron runs on mnist, fashion-mnist or cifar-10).
    Templates,
    /// The first-layer convolution filters of a network run.
    Filters,
    /// The most confident mistakes on the test set, with true and predicted classes
    /// (network runs; classic logistic and softmax runs on images).
    Errors,
    /// k-means centres as pictures: the visual words of a bag-of-visual-words feature cache
    /// (`--features DIR`), or the centres of a classic k-means run fitted on images.
    Centroids,
}

impl What {
    /// The command-line name, also the default picture's file name.
    pub fn name(self) -> &'static str {
        match self {
            What::Templates => "templates",
            What::Filters => "filters",
            What::Errors => "errors",
            What::Centroids => "centroids",
        }
    }
}

/// Flags of `ferrolearn visualize`.
#[derive(clap::Args)]
pub struct Args {
    /// The run directory written by `ferrolearn train`, or a classic run (`fit --out`,
    /// `search --refit --out`).
    #[arg(long, value_name = "DIR", required_unless_present = "features")]
    pub run: Option<PathBuf>,
    /// centroids: a feature cache directory written by `ferrolearn features --out` (its
    /// train.safetensors) or one cache file, instead of --run.
    #[arg(long, value_name = "DIR", conflicts_with = "run")]
    pub features: Option<PathBuf>,
    /// Which picture to draw.
    #[arg(long, value_enum)]
    pub what: What,
    /// Where to write the PNG (default: `DIR/<what>.png`, DIR the run or feature cache).
    #[arg(long, value_name = "FILE.png")]
    pub out: Option<PathBuf>,
    /// errors: how many mistakes to show, most confident first.
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub top: usize,
    /// Directory holding the dataset's directory (default: $FERROLEARN_DATA, then the
    /// bundled data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// errors: look for mistakes among the first N test images only.
    #[arg(long, value_name = "N")]
    pub test_limit: Option<usize>,
    /// Print one JSON object instead of a line.
    #[arg(long)]
    pub json: bool,
}

/// What was drawn: a one-line description and the figures `--json` reports.
pub struct Drawn {
    /// For the line printed without `--json`, e.g. `templates of softmax on mnist`.
    pub description: String,
    /// Extra fields of the JSON object.
    pub details: Value,
}

/// Draws the picture `--what` names and prints where it was written.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.top == 0 {
        bail!("--top must be >= 1, got 0");
    }
    let (source, is_cache) = match (&args.run, &args.features) {
        (Some(run), _) => (run.clone(), false),
        (None, Some(cache)) => (cache.clone(), true),
        (None, None) => bail!("give --run DIR (a saved run) or --features DIR (a feature cache)"),
    };
    let picture = args.out.clone().unwrap_or_else(|| {
        let dir = if source.is_file() {
            source.parent().unwrap_or(Path::new(".")).to_path_buf()
        } else {
            source.clone()
        };
        dir.join(format!("{}.png", args.what.name()))
    });
    let drawn = if is_cache {
        visualize_features::draw(&args, &source, &picture)?
    } else if persist::is_saved_model(&source) {
        visualize_classic::draw(&args, &source, &picture)?
    } else if source.join("config.json").is_file() {
        draw_network(&args, &source, &picture)?
    } else {
        bail!(
            "{} holds no saved model: expected config.json (from `ferrolearn train`) or {} (from `ferrolearn fit --out`); for the words of a feature cache use --features DIR",
            source.display(),
            persist::JSON_FILE
        );
    };
    if args.json {
        let mut value = json!({
            "run": source,
            "what": args.what.name(),
            "png": picture,
        });
        if let (Some(object), Value::Object(details)) = (value.as_object_mut(), drawn.details) {
            object.extend(details);
        }
        print_json("visualize", value)?;
    } else {
        print(&format!(
            "{}: wrote {}\n",
            drawn.description,
            picture.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The `--what` values that apply to a network run: `filters` when it convolves its input.
fn network_error(args: &Args, run: &Path, has_filters: bool, model: &str) -> anyhow::Error {
    let applicable = if has_filters {
        "--what filters or errors"
    } else {
        "--what errors"
    };
    let reason = match args.what {
        What::Templates => "templates are drawn for classic linear models on images",
        What::Centroids => {
            "centroids are drawn for k-means runs and bag-of-visual-words feature caches"
        }
        _ => "it has no convolution on its input images",
    };
    anyhow::anyhow!(
        "--what {} does not apply to {} (a {model} network: {reason}); {applicable} applies to it",
        args.what.name(),
        run.display()
    )
}

/// Filters or mistakes of a network run.
fn draw_network(args: &Args, dir: &Path, picture: &Path) -> anyhow::Result<Drawn> {
    let mut run = load_run(dir)?;
    let [channels, height, width] = match run.config.input_shape[..] {
        [c, h, w] => [c, h, w],
        _ => bail!(
            "the model's input shape {:?} is not [C, H, W]",
            run.config.input_shape
        ),
    };
    let filters = run.model.first_filters(channels);
    let model = run.config.model_name.clone();
    match args.what {
        What::Templates | What::Centroids => {
            Err(network_error(args, dir, filters.is_some(), &model))
        }
        What::Filters => {
            let Some((layer, weights)) = filters else {
                return Err(network_error(args, dir, false, &model));
            };
            let shape: [usize; 4] = weights.shape().try_into()?;
            plot_filters(picture, weights.data(), shape)?;
            Ok(Drawn {
                description: format!("{} first-layer filters {shape:?} of {model}", shape[0]),
                details: json!({ "layer": layer, "shape": shape }),
            })
        }
        What::Errors => {
            let dataset = DatasetName::of_run(&run.config.dataset)?;
            let all = load(dataset, args.data_dir.as_deref())?.test;
            let test = first_items(&all, args.test_limit);
            let tta = run.config.final_tta;
            let normalizer = run.normalizer.as_ref();
            let probabilities = class_probabilities(&mut run.model, &test, normalizer, tta)?;
            let labels: Vec<usize> = test.labels().iter().map(|&y| usize::from(y)).collect();
            let names = test.class_names();
            let found = most_confident_mistakes(&probabilities, names.len(), &labels, usize::MAX)?;
            let title = format!("{model} on the {dataset} test set");
            let shape = (channels, height, width);
            draw_mistakes(
                picture,
                test.images(),
                shape,
                &found,
                names,
                &title,
                args.top,
            )
        }
    }
}

/// Draws the `top` most confident of `found` (every mistake on `test_images`, most confident
/// first) under `title`, or errors when there are none; shared by network and classic runs.
pub fn draw_mistakes(
    picture: &Path,
    test_images: &[u8],
    shape: (usize, usize, usize),
    found: &[Mistake],
    names: &[String],
    title: &str,
    top: usize,
) -> anyhow::Result<Drawn> {
    let n_test = test_images.len() / (shape.0 * shape.1 * shape.2).max(1);
    if found.is_empty() {
        bail!("{title}: no mistakes among the {n_test} test images, nothing to draw");
    }
    let shown = &found[..top.min(found.len())];
    let heading = format!(
        "Most confident mistakes: {title} ({} of {n_test} wrong)",
        found.len()
    );
    plot_mistakes(picture, test_images, shape, shown, names, &heading)?;
    let listed: Vec<Value> = shown
        .iter()
        .map(|m| {
            json!({
                "index": m.index,
                "true": names[m.truth],
                "predicted": names[m.predicted],
                "confidence": m.confidence,
            })
        })
        .collect();
    Ok(Drawn {
        description: format!(
            "{} most confident of {} mistakes on {n_test} test images, {title}",
            shown.len(),
            found.len()
        ),
        details: json!({ "test_images": n_test, "mistakes": found.len(), "shown": listed }),
    })
}
