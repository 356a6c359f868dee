//! The `ferrolearn` command-line tool: a thin layer over the library, one module per command.

mod commands;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Training allocates and frees large tensors every batch; mimalloc keeps those pages mapped
/// instead of returning them to the kernel after each free (glibc's behaviour for big
/// blocks), which otherwise costs more system time than the arithmetic.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Supervised machine learning on the CPU, from k-nearest neighbours to convolutional networks.
#[derive(Parser)]
#[command(
    name = "ferrolearn",
    version,
    about = "Supervised machine learning on the CPU, from k-nearest neighbours to convolutional networks."
)]
struct Cli {
    /// Worker threads for the compute kernels (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a network (LeNet-5 on the bundled MNIST by default).
    Train(commands::train::Args),
    /// Evaluate a trained run on its test set: accuracy, per-class figures, confusion matrix.
    Eval(commands::eval::Args),
    /// Predict with a saved run: top classes of a network for pictures, or a classic model's
    /// predictions for a CSV.
    ///
    /// A classic model's predictions CSV has a `prediction` column and, where scikit-learn
    /// gives them, the class probabilities `proba_<class>` (logistic, softmax, mlp, knn: the
    /// share of the k neighbours in each class) or the decision scores of the SVMs (svm:
    /// one `score` column for two classes, positive for the second, else `score_<class>`;
    /// multisvm: `score_<class>`). `--json` holds them as `probabilities` and
    /// `decision_scores`; sgd gives decision scores, and probabilities too with --loss
    /// log_loss or modified_huber. Perceptron, kmeans and the regressors give the prediction
    /// alone.
    Predict(commands::predict::Args),
    /// Run a reference training workload and print its timings as JSON.
    Bench(commands::bench::Args),
    /// Check every differentiable op's gradient against finite differences.
    Gradcheck(commands::gradcheck::Args),
    /// Write a built-in architecture (resnet20, fastnet, ...) as a model file to edit and
    /// train with `train --model-file`.
    Model(commands::model::Args),
    /// Fit a classic model (kNN, linear, logistic, SVM, ...) on a CSV or an image dataset,
    /// report train/test figures and save it.
    Fit(commands::fit::Args),
    /// k-fold cross-validated score of a classic model.
    Cv(commands::cv::Args),
    /// Grid or random search over a classic model's hyperparameters, scored by cross-validation.
    Search(commands::search::Args),
    /// Draw what a saved run learned: class templates of a linear model, first-layer filters
    /// of a network, or its most confident mistakes on the test set.
    Visualize(commands::visualize::Args),
    /// Compute hand-crafted image features (HOG, colour histograms) of a dataset's train and
    /// test images and cache them on disk.
    Features(commands::features::Args),
}

/// mimalloc's `mi_option_purge_delay` (position 15 of `mi_option_e` in mimalloc 2's
/// `mimalloc.h`; the Rust bindings name only some options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Keep freed pages instead of returning them to the OS: every training batch reallocates
    // the same large buffers, and fresh pages must be zeroed by the kernel.
    // SAFETY: sets a plain integer option; mimalloc reads options atomically.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    install_panic_hook();
    let matches = allow_negative_numbers(Cli::command()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Which flags were given: for the per-model recipes of `train`, and so the classic
    // commands can refuse flags the chosen model does not use.
    let given = |name: &str| matches.subcommand_matches(name).cloned();
    let (train_matches, fit_matches) = (given("train"), given("fit"));
    let (cv_matches, search_matches) = (given("cv"), given("search"));
    if cli.threads == Some(0) {
        eprintln!("error: --threads must be >= 1, got 0 (leave it out for one thread per core)");
        return ExitCode::FAILURE;
    }
    // The command runs on one of the pool's threads, so every parallel kernel starts from
    // inside the pool: rayon then shares work among its threads instead of waking the main
    // thread through a lock after every call, which costs more than small kernels themselves.
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(cli.threads.unwrap_or(0))
        .build()
    {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("error: cannot start the worker threads: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = pool.install(|| {
        ferrolearn::tensor::catch_shape_error(|| match cli.command {
            Command::Train(args) => commands::train::run(args, train_matches.as_ref()),
            Command::Eval(args) => commands::eval::run(args),
            Command::Predict(args) => commands::predict::run(args),
            Command::Bench(args) => commands::bench::run(args),
            Command::Gradcheck(args) => commands::gradcheck::run(args),
            Command::Model(args) => commands::model::run(args),
            Command::Fit(args) => commands::fit::run(args, fit_matches.as_ref()),
            Command::Cv(args) => commands::cv::run(args, cv_matches.as_ref()),
            Command::Search(args) => commands::search::run(args, search_matches.as_ref()),
            Command::Visualize(args) => commands::visualize::run(args),
            Command::Features(args) => commands::features::run(args),
        })
    });
    match result {
        Ok(Ok(code)) => code,
        Ok(Err(e)) if e.is::<commands::stdout::StdoutClosed>() => ExitCode::SUCCESS,
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

/// Lets every flag that takes a value take a negative number (`--lr -0.1`), so the command
/// checks it and names the flag (`lr must be > 0, got -0.1`) instead of clap reading `-0.1`
/// as an unknown flag.
fn allow_negative_numbers(cli: clap::Command) -> clap::Command {
    let names: Vec<String> = cli
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names.into_iter().fold(cli, |cli, name| {
        cli.mut_subcommand(name, |sub| {
            let ids: Vec<clap::Id> = sub
                .get_arguments()
                .filter(|a| a.get_action().takes_values())
                .map(|a| a.get_id().clone())
                .collect();
            ids.into_iter().fold(sub, |sub, id| {
                sub.mut_arg(id, |a| a.allow_negative_numbers(true))
            })
        })
    })
}

/// Shape errors are reported by `main`; printing into a closed pipe ends the process quietly
/// with status 141; any other panic is a bug, reported in one line without a backtrace.
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
        // `println!` into a pipe whose reader has gone (`| head`): the rest was not wanted,
        // but the command did not finish, so the status is a SIGPIPE death's (128 + 13), not
        // success. `predict` checks its writes and exits 0 (`commands::stdout`).
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        eprintln!("error: internal error (please report it): {message}");
    }));
}
