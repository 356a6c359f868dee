//! The `ferrolearn` command-line tool: a thin layer over the library, one module per command.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Supervised machine learning on the CPU, from k-nearest neighbours to convolutional networks.
#[derive(Parser)]
#[command(name = "ferrolearn", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check every differentiable op's gradient against finite differences.
    Gradcheck(commands::gradcheck::Args),
    /// Fit a classic model (kNN, linear, logistic, SVM, ...) on a CSV or an image dataset,
    /// report train/test figures and save it.
    Fit(commands::fit::Args),
    /// Predict with a saved classic model (a directory written by `fit --out`).
    Predict(commands::classic_predict::Args),
    /// k-fold cross-validated score of a classic model.
    Cv(commands::cv::Args),
    /// Grid or random search over a classic model's hyperparameters, scored by cross-validation.
    Search(commands::search::Args),
}

fn main() -> ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    let result = ferrolearn::tensor::catch_shape_error(|| match cli.command {
        Command::Gradcheck(args) => commands::gradcheck::run(args),
        Command::Fit(args) => commands::fit::run(args),
        Command::Predict(args) => commands::classic_predict::run(args),
        Command::Cv(args) => commands::cv::run(args),
        Command::Search(args) => commands::search::run(args),
    });
    match result {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(shape) => {
            eprintln!("error: {shape}");
            ExitCode::FAILURE
        }
    }
}

/// Shape errors are reported by `main`; any other panic is a bug, reported in one line
/// without a backtrace.
fn install_panic_hook() {
    ferrolearn::tensor::quiet_shape_panics();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if ferrolearn::tensor::is_raising_shape_error() {
            return quiet(info);
        }
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown cause");
        eprintln!("error: internal error (please report it): {message}");
    }));
}
