//! Which hyperparameter flags each classic model uses, so a flag the chosen model would
//! ignore (`--alpha` for kNN) is refused instead of silently doing nothing.

use clap::parser::ValueSource;
use clap::ArgMatches;
use ferrolearn::classic::pipeline::{Choice, ModelKind};

/// The hyperparameter flags (clap ids) of `HyperArgs` that `kind` uses; `--scale` and `--seed`
/// concern every model.
fn used_by(kind: ModelKind) -> &'static [&'static str] {
    const GD: [&str; 4] = ["solver", "lr", "epochs", "batch_size"];
    match kind {
        ModelKind::Knn => &["k", "metric"],
        ModelKind::Linear => &GD,
        ModelKind::Ridge => &["alpha", GD[0], GD[1], GD[2], GD[3]],
        ModelKind::Poly => &["degree", "alpha"],
        ModelKind::Logistic | ModelKind::Softmax => &[
            "c",
            "penalty",
            "l1_ratio",
            "solver",
            "lr",
            "epochs",
            "batch_size",
            "max_iter",
        ],
        ModelKind::Svm => &["c", "max_iter", "loss"],
        ModelKind::Multisvm => &["alpha", "lr", "epochs", "batch_size"],
        ModelKind::Perceptron => &["lr", "epochs"],
        ModelKind::Sgd | ModelKind::SgdRegressor => &[
            "loss",
            "penalty",
            "alpha",
            "l1_ratio",
            "lr_schedule",
            "lr",
            "max_iter",
        ],
        ModelKind::Mlp => &["hidden", "alpha", "lr", "batch_size", "max_iter"],
        ModelKind::Kmeans => &["k", "n_init", "max_iter", "batch_size"],
    }
}

/// Every hyperparameter flag some model uses.
const ALL: &[&str] = &[
    "k",
    "n_init",
    "metric",
    "alpha",
    "degree",
    "c",
    "penalty",
    "l1_ratio",
    "solver",
    "lr",
    "epochs",
    "batch_size",
    "max_iter",
    "hidden",
    "loss",
    "lr_schedule",
];

/// Refuses hyperparameter flags given on the command line that `kind` does not use.
pub fn refuse_unused(kind: ModelKind, matches: Option<&ArgMatches>) -> anyhow::Result<()> {
    let Some(m) = matches else { return Ok(()) };
    let used = used_by(kind);
    let unused: Vec<String> = ALL
        .iter()
        .filter(|id| !used.contains(id))
        .filter(|id| {
            m.try_get_raw(id).is_ok_and(|v| v.is_some())
                && m.value_source(id) == Some(ValueSource::CommandLine)
        })
        .map(|id| format!("--{}", id.replace('_', "-")))
        .collect();
    if unused.is_empty() {
        return Ok(());
    }
    let takes: Vec<String> = used
        .iter()
        .map(|id| format!("--{}", id.replace('_', "-")))
        .collect();
    anyhow::bail!(
        "--model {} does not use {}: its hyperparameters are {} (and --scale, --seed)",
        kind.name(),
        unused.join(", "),
        takes.join(", ")
    )
}
