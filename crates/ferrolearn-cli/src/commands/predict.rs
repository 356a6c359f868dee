//! `ferrolearn predict`: the top classes of a trained network for picture files, or the
//! predictions of a saved classic model for a CSV.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::ValueEnum;
use ferrolearn::autograd::{no_grad, Var};
use ferrolearn::classic::persist;
use ferrolearn::data::{item_picture, load_picture, Framing, Invert};
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

/// How a picture is placed in the model's input (`--frame`).
#[derive(Clone, Copy, ValueEnum)]
pub enum FrameArg {
    /// As the run's training images were made: `digit` for MNIST, `object` for
    /// Fashion-MNIST, `centre-crop` for CIFAR-10 and others.
    Auto,
    /// MNIST's: the drawing cropped to its bounding box, scaled into a 20x20 box (of 28x28)
    /// keeping its aspect ratio, and centred by its centre of mass.
    Digit,
    /// Fashion-MNIST's: cropped to the bounding box, the longer side filling the frame,
    /// centred.
    Object,
    /// torchvision's Resize + CenterCrop: the shorter side scaled to the frame, the middle
    /// kept.
    CentreCrop,
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
    /// Brightness inversion of grey pictures (auto: when the border is light, as a dark
    /// drawing on white paper). Transparent pixels are composited on white first.
    #[arg(long, value_enum, default_value = "auto")]
    invert: InvertArg,
    /// How each picture is framed in the model's input.
    #[arg(long, value_enum, default_value = "auto")]
    frame: FrameArg,
    /// Write each picture as the model saw it (e.g. 28x28 grey, 32x32 colour) into this
    /// directory, as NAME.input.png.
    #[arg(long, value_name = "DIR")]
    save_input: Option<PathBuf>,
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
    let framing = match args.frame {
        FrameArg::Auto => Framing::for_dataset(&run.config.dataset),
        FrameArg::Digit => Framing::Digit,
        FrameArg::Object => Framing::Object,
        FrameArg::CentreCrop => Framing::CentreCrop,
    };
    if let Some(dir) = &args.save_input {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("--save-input {}: {e}", dir.display()))?;
    }
    // Every readable picture is predicted; the unreadable ones are reported after them.
    let item_len: usize = shape.iter().product();
    let mut pixels = Vec::with_capacity(args.images.len() * item_len);
    let mut read = Vec::new();
    let mut failed = Vec::new();
    for path in &args.images {
        let item = match load_picture(path, shape, invert, framing) {
            Ok(item) => item,
            Err(e) => {
                failed.push((path, e.to_string()));
                continue;
            }
        };
        if let Some(dir) = &args.save_input {
            save_input(dir, path, &item, shape)?;
        }
        let start = pixels.len();
        pixels.resize(start + item_len, 0.0);
        match &run.normalizer {
            Some(n) => n.apply(&item, &mut pixels[start..]),
            None => pixels[start..]
                .iter_mut()
                .zip(&item)
                .for_each(|(o, &v)| *o = f32::from(v) / 255.0),
        }
        read.push(path);
    }
    if read.is_empty() {
        let (path, e) = &failed[0];
        bail!(
            "no picture could be read ({} given); {}: {e}",
            failed.len(),
            path.display()
        );
    }
    let batch = Tensor::from_vec(pixels, &[read.len(), shape[0], shape[1], shape[2]]);
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
    for (path, p) in read.iter().zip(probs.data().chunks_exact(k)) {
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
        let errors: Vec<_> = failed
            .iter()
            .map(|(path, e)| serde_json::json!({"image": path, "error": e}))
            .collect();
        print_json(
            "predict",
            serde_json::json!({ "run": args.run, "predictions": items, "errors": errors }),
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
    for (_, e) in &failed {
        eprintln!("error: {e}");
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Writes `item` (what the model saw of `path`) as `DIR/STEM.input.png`.
fn save_input(
    dir: &std::path::Path,
    path: &std::path::Path,
    item: &[u8],
    shape: [usize; 3],
) -> anyhow::Result<()> {
    let stem = path
        .file_stem()
        .map_or_else(|| "picture".into(), |s| s.to_string_lossy().into_owned());
    let out = dir.join(format!("{stem}.input.png"));
    item_picture(item, shape)?
        .save(&out)
        .map_err(|e| anyhow::anyhow!("--save-input {}: {e}", out.display()))?;
    Ok(())
}
