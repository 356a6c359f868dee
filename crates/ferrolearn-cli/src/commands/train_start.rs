//! How `ferrolearn train` starts a run in its directory: fresh, started again from the
//! `config.json` of a run killed before its first checkpoint, or resumed from the last
//! checkpoint (and extended to a larger `--epochs`).

use std::path::Path;

use anyhow::{bail, Context as _};
use clap::parser::ValueSource;
use ferrolearn::train::checkpoint::{existing_checkpoint, read_json};
use ferrolearn::train::{prepare_run_dir, TrainConfig, Trainer};

use super::train::Args;

/// Where a run starts from.
pub enum Start {
    /// A new run from the flags (its directory prepared).
    Fresh,
    /// A run whose directory holds `config.json` but no checkpoint yet (killed while
    /// writing the first one): started again from that configuration.
    Restart(Box<TrainConfig>),
    /// A run restored from its last checkpoint.
    Resume(Box<Trainer>),
}

/// Decides how the run in `out` starts: resumed (or restarted, or started when there is no
/// run yet) with `--resume`, else fresh in a directory that holds no other run.
pub fn start_or_resume(args: &Args, out: &Path) -> anyhow::Result<Start> {
    if !args.resume {
        prepare_run_dir(out, args.overwrite)?;
        return Ok(Start::Fresh);
    }
    let config_path = out.join("config.json");
    if !config_path.is_file() {
        eprintln!(
            "note: {} holds no run yet: starting one from the flags",
            out.display()
        );
        // Only the files of a run killed before it wrote its configuration can be there.
        prepare_run_dir(out, true)?;
        return Ok(Start::Fresh);
    }
    if existing_checkpoint(&out.join("checkpoint")).is_none() {
        eprintln!(
            "note: {} has no checkpoint yet (the run was stopped before its first step): starting it again from its config.json",
            out.display()
        );
        return Ok(Start::Restart(Box::new(read_json(&config_path)?)));
    }
    let trainer =
        Trainer::resume(out).with_context(|| format!("cannot resume from {}", out.display()))?;
    Ok(Start::Resume(Box::new(trainer)))
}

/// For a resumed run: a larger `--epochs` given on the command line trains further; a
/// finished run otherwise says it is complete (and is only evaluated).
pub fn extend_or_report(
    trainer: &mut Trainer,
    args: &Args,
    matches: Option<&clap::ArgMatches>,
    out: &Path,
) -> anyhow::Result<()> {
    let planned = trainer.config().epochs;
    let given = matches.is_some_and(|m| m.value_source("epochs") == Some(ValueSource::CommandLine));
    if given && args.epochs < planned {
        bail!(
            "--epochs {} is fewer than the {planned} epochs of the run in {}: a run can be extended, not shortened",
            args.epochs,
            out.display()
        );
    }
    if given && args.epochs > planned {
        eprintln!(
            "continuing the run in {} from {} to {} epochs",
            out.display(),
            trainer.epochs_done(),
            args.epochs
        );
        trainer.extend_epochs(args.epochs);
    } else if trainer.is_finished() {
        eprintln!(
            "the run in {} is complete ({} epochs); pass --epochs N with N > {planned} to train it further",
            out.display(),
            trainer.epochs_done()
        );
    }
    Ok(())
}
