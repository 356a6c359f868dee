//! The `ferrolearn` command-line tool: a thin layer over the library.

use clap::{Parser, Subcommand};

/// Supervised machine learning on the CPU, from k-nearest neighbours to convolutional networks.
#[derive(Parser)]
#[command(name = "ferrolearn", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {}

fn main() {
    let _cli = Cli::parse();
}
