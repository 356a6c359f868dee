//! `ferrolearn predict`: the top classes of a trained network for picture files, or the
//! predictions of a saved classic model for a CSV.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::ValueEnum;
use ferrolearn::autograd::{no_grad, Var};
use ferrolearn::classic::persist;
use ferrolearn::data::{load_picture, Invert};
use ferrolearn::nn::{Context, Module};
use ferrolearn::train::load_run;
use ferrolearn::Tensor;

use super::classic_predict::predict_classic;
use super::stdout::{print, print_json};

/// When to invert a picture's brightness.
#[derive(Clone, Copy, ValueEnum)]
pub enum InvertArg {
    /// Invert light-background pictures for models trained on dark backgrounds (MNIST-like).
    Auto,
    /// Always invert.
    Yes,
    /// Never invert.
    No,
}

/// Flags of `ferrolearn predict`.
#[derive(clap::Args)]
pub struct Args {
    /// The run directory written by `ferrolearn train` or `ferrolearn fit --out`.
    #[arg(long, value_name = "DIR")]
    run: PathBuf,
    /// Pictures (PNG or JPEG) for a network, converted and resized to its input; or one CSV
    /// for a classic model (its feature columns, in any order; a target column is scored).
    #[arg(required = true, value_name = "IMAGE|CSV")]
    images: Vec<PathBuf>,
    /// Classic models: write the predictions CSV here instead of to stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// How many classes to show per picture.
    #[arg(long, default_value_t = 3)]
    top: usize,
    /// Brightness inversion of grey pictures.
    #[arg(long, value_enum, default_value = "auto")]
    invert: InvertArg,
    /// Print one JSON object instead of the listing.
    #[arg(long)]
    json: bool,
}

/// Prints the top classes with their probabilities for every picture, or hands a classic
/// model's directory to [`predict_classic`].
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.top == 0 {
        bail!("--top must be >= 1, got 0");
    }
    if persist::is_saved_model(&args.run) {
        let [csv] = &args.images[..] else {
            bail!(
                "a classic model predicts one CSV file, got {} inputs",
                args.images.len()
            );
        };
        return predict_classic(&args.run, csv, args.out.as_deref(), args.json);
    }
    if !args.run.join("config.json").is_file() {
        bail!(
            "{} holds no saved model: expected config.json (from `ferrolearn train`) or {} (from `ferrolearn fit --out`)",
            args.run.display(),
            persist::JSON_FILE
        );
    }
    let mut run = load_run(&args.run)?;
    let shape: [usize; 3] = match run.config.input_shape[..] {
        [c, h, w] => [c, h, w],
        _ => bail!(
            "the model's input shape {:?} is not [C, H, W]",
            run.config.input_shape
        ),
    };
    let invert = match args.invert {
        InvertArg::Auto => Invert::Auto,
        InvertArg::Yes => Invert::Yes,
        InvertArg::No => Invert::No,
    };
    let item_len: usize = shape.iter().product();
    let mut pixels = Vec::with_capacity(args.images.len() * item_len);
    for path in &args.images {
        let item = load_picture(path, shape, invert)?;
        let start = pixels.len();
        pixels.resize(start + item_len, 0.0);
        match &run.normalizer {
            Some(n) => n.apply(&item, &mut pixels[start..]),
            None => pixels[start..]
                .iter_mut()
                .zip(&item)
                .for_each(|(o, &v)| *o = f32::from(v) / 255.0),
        }
    }
    let batch = Tensor::from_vec(pixels, &[args.images.len(), shape[0], shape[1], shape[2]]);
    let probs = no_grad(|| {
        run.model
            .forward(&Var::constant(batch), &mut Context::eval())
            .softmax(1)
            .value()
            .clone()
    });
    let names = &run.config.class_names;
    let k = names.len();
    let mut results = Vec::new();
    for (path, p) in args.images.iter().zip(probs.data().chunks_exact(k)) {
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
        let top: Vec<(String, f32)> = order
            .iter()
            .take(args.top)
            .map(|&c| (names[c].clone(), p[c]))
            .collect();
        results.push((path, top));
    }
    if args.json {
        let items: Vec<_> = results
            .iter()
            .map(|(path, top)| {
                let top: Vec<_> = top
                    .iter()
                    .map(|(c, p)| serde_json::json!({"class": c, "probability": p}))
                    .collect();
                serde_json::json!({"image": path, "top": top})
            })
            .collect();
        print_json(
            "predict",
            serde_json::json!({ "run": args.run, "predictions": items }),
        )?;
    } else {
        for (path, top) in results {
            let line: Vec<String> = top
                .iter()
                .map(|(c, p)| format!("{c} {:.1}%", 100.0 * p))
                .collect();
            print(&format!("{}: {}\n", path.display(), line.join(", ")))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
