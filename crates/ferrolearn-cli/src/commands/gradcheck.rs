//! `ferrolearn gradcheck`: every differentiable op against centred finite differences.

use std::process::ExitCode;

use ferrolearn::autograd::suite;
use serde::Serialize;

/// Flags of `ferrolearn gradcheck`.
#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Only check ops whose name contains this text.
    #[arg(long)]
    op: Option<String>,
}

#[derive(Serialize)]
struct Row {
    op: &'static str,
    input: String,
    max_relative_error: f64,
    passed: bool,
}

/// Runs the suite; exits non-zero when any gradient fails.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cases: Vec<_> = suite::cases()
        .into_iter()
        .filter(|c| args.op.as_ref().is_none_or(|f| c.op.contains(f.as_str())))
        .collect();
    if cases.is_empty() {
        anyhow::bail!("no op matches {:?}", args.op.unwrap_or_default());
    }
    let mut rows = Vec::new();
    for case in &cases {
        for input in case.run().inputs {
            rows.push(Row {
                op: case.op,
                input: input.input,
                max_relative_error: input.max_relative_error,
                passed: input.passed,
            });
        }
    }
    let failed = rows.iter().filter(|r| !r.passed).count();
    if args.json {
        let out = serde_json::json!({
            "checked": rows.len(),
            "failed": failed,
            "passed": failed == 0,
            "rows": rows,
        });
        super::stdout::print_json("gradcheck", out)?;
    } else {
        let width = rows.iter().map(|r| r.op.len()).max().unwrap_or(2).max(2);
        println!(
            "{:<width$}  {:<8}  {:>13}  result",
            "op", "input", "max rel error"
        );
        for r in &rows {
            let verdict = if r.passed { "pass" } else { "FAIL" };
            println!(
                "{:<width$}  {:<8}  {:>13.3e}  {verdict}",
                r.op, r.input, r.max_relative_error
            );
        }
        println!(
            "{} gradients checked in {} ops: {} passed, {failed} failed",
            rows.len(),
            cases.len(),
            rows.len() - failed
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
