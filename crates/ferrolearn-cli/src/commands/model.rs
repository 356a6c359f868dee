//! `ferrolearn model`: writes a built-in architecture as a model file, the starting point for
//! `train --model-file`, and prints its layers and parameter count.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use ferrolearn::data::DatasetName;
use ferrolearn::nn::models::named;
use ferrolearn::nn::Module;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Flags of `ferrolearn model`.
#[derive(clap::Args)]
pub struct Args {
    /// The architecture: lenet5, mlp, resnet20 (resnet32, resnet44, resnet56: any 6n+2),
    /// alexnet, inception, fastnet, airbench.
    name: String,
    /// The dataset whose images and classes the model is built for (sizes are checked).
    #[arg(long, default_value = "cifar-10")]
    dataset: DatasetName,
    /// Write the model file here instead of printing it.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Builds the model to check it, then prints or writes its description.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (shape, classes) = args.dataset.item_shape_and_classes();
    let spec = named(&args.name, classes)?;
    let model = spec.build(&shape, classes, &mut StdRng::seed_from_u64(0))?;
    eprint!("{model}");
    eprintln!(
        "{}: {} parameters, input {shape:?} -> {classes} classes",
        args.name,
        model.num_parameters()
    );
    let json = spec.to_json();
    match args.out {
        Some(path) => {
            std::fs::write(&path, json + "\n")
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("model file written to {}", path.display());
        }
        None => println!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}
