//! `ferrolearn eval`: test accuracy, per-class precision and recall, and a confusion matrix
//! (text and `confusion.png`) for a trained run; a classic run is handed to
//! [`eval_classic`] with the CSV of `--data` or the feature cache of `--features`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use ferrolearn::classic::persist;
use ferrolearn::data::{load, DatasetName};
use ferrolearn::metrics::{ClassReport, ConfusionMatrix};
use ferrolearn::train::{evaluate_with, first_items, load_run, Tta};

use super::classic_eval::{eval_classic, EvalInput};
use super::recipe_args::TtaArg;
use super::stdout::print_json;
use ferrolearn::viz::{format_confusion_matrix, plot_confusion_matrix};

/// Flags of `ferrolearn eval`.
#[derive(clap::Args)]
pub struct Args {
    /// The run directory written by `ferrolearn train`, or a classic run (`fit --out`,
    /// `search --refit --out`).
    #[arg(long, value_name = "DIR")]
    run: PathBuf,
    /// Classic runs: the CSV to evaluate on, with the target column (classifiers: per-class
    /// precision, recall, F1, confusion matrix; regressors: MSE, RMSE, MAE, R^2).
    #[arg(long, value_name = "CSV", conflicts_with = "features")]
    data: Option<PathBuf>,
    /// Classic runs fitted on cached features (`fit --features`): the feature cache
    /// directory, whose test split is scored; refused when it holds other features.
    #[arg(long, value_name = "DIR")]
    features: Option<PathBuf>,
    /// Directory holding the dataset's directory (default: $FERROLEARN_DATA, then the bundled data).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Test-time augmentation (default: the run's `--tta` of training).
    #[arg(long, value_enum)]
    tta: Option<TtaArg>,
    /// Evaluate only the first N test images.
    #[arg(long, value_name = "N")]
    test_limit: Option<usize>,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    json: bool,
}

/// Evaluates the run's model on its dataset's test split.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if persist::is_saved_model(&args.run) {
        if args.data_dir.is_some() || args.tta.is_some() || args.test_limit.is_some() {
            bail!(
                "--data-dir, --tta and --test-limit concern network runs; {} holds a classic model",
                args.run.display()
            );
        }
        if let Some(dir) = &args.features {
            return eval_classic(&args.run, EvalInput::Features(dir), args.json);
        }
        let data = args.data.as_deref().with_context(|| {
            format!(
                "{} holds a classic model: give the CSV to evaluate it on, --data FILE.csv \
                 (or --features DIR for a run fitted on cached features)",
                args.run.display()
            )
        })?;
        return eval_classic(&args.run, EvalInput::Csv(data), args.json);
    }
    if let Some(data) = &args.data {
        bail!(
            "--data {} evaluates a classic run; {} is not one (a network run is evaluated on its dataset's test split)",
            data.display(),
            args.run.display()
        );
    }
    if let Some(dir) = &args.features {
        bail!(
            "--features {} evaluates a classic run fitted on cached features; {} is a network run",
            dir.display(),
            args.run.display()
        );
    }
    let mut run = load_run(&args.run)?;
    let dataset = DatasetName::of_run(&run.config.dataset)?;
    let all = load(dataset, args.data_dir.as_deref())?.test;
    let test = first_items(&all, args.test_limit);
    let tta: Tta = args.tta.map_or(run.config.final_tta, Tta::from);
    let result = evaluate_with(&mut run.model, &test, run.normalizer.as_ref(), tta)?;
    let truth: Vec<usize> = test.labels().iter().map(|&y| y as usize).collect();
    let names = &run.config.class_names;
    let confusion = ConfusionMatrix::new(&truth, &result.predictions, names.len())?;
    let report = confusion.report();
    let picture = args.run.join("confusion.png");
    plot_confusion_matrix(
        &picture,
        &confusion.rows(),
        names,
        &format!(
            "{} on {} test set",
            run.config.model_name, run.config.dataset
        ),
    )?;
    if args.json {
        let classes: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(k, name)| {
                serde_json::json!({
                    "class": name,
                    "precision": report.precision[k],
                    "recall": report.recall[k],
                    "f1": report.f1[k],
                    "support": report.support[k],
                })
            })
            .collect();
        print_json(
            "eval",
            serde_json::json!({
                "run": args.run,
                "test_accuracy": result.accuracy,
                "test_loss": result.loss,
                "test_images": test.len(),
                "tta": tta.name(),
                "macro_f1": report.macro_f1(),
                "classes": classes,
                "confusion_matrix": confusion.rows(),
                "confusion_png": picture,
            }),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "test accuracy {:.2}% (loss {:.4}) on {} images, tta {tta}",
        100.0 * result.accuracy,
        result.loss,
        test.len()
    );
    print_class_report(names, &report, &confusion, &picture)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the per-class precision, recall, F1 and support, their macro averages, the
/// confusion matrix as text and where its picture is (network and classic `eval`).
pub(super) fn print_class_report(
    names: &[String],
    report: &ClassReport,
    confusion: &ConfusionMatrix,
    picture: &std::path::Path,
) -> anyhow::Result<()> {
    let width = names.iter().map(String::len).max().unwrap_or(5).max(5);
    println!("\n{:<width$}  precision  recall     f1  support", "class");
    for (k, name) in names.iter().enumerate() {
        println!(
            "{name:<width$}  {:>9.4}  {:>6.4}  {:>5.4}  {:>7}",
            report.precision[k], report.recall[k], report.f1[k], report.support[k]
        );
    }
    println!(
        "{:<width$}  {:>9.4}  {:>6.4}  {:>5.4}",
        "macro",
        report.macro_precision(),
        report.macro_recall(),
        report.macro_f1()
    );
    println!("\n{}", format_confusion_matrix(&confusion.rows(), names)?);
    println!("confusion matrix picture: {}", picture.display());
    Ok(())
}
