//! The long fuzz run of the file readers (see `tests/fuzz/mod.rs`):
//!
//! ```text
//! cargo run --release --example fuzz_readers -- --inputs 1000000 --reader idx
//! cargo run --release --example fuzz_readers -- --reader all --seed 7 --save findings/
//! cargo run --release --example fuzz_readers -- --reader csv --replay 123456
//! ```
//!
//! Prints, per reader, the inputs tried, accepted and refused, the failures (panics and
//! allocations beyond the bounds) with the first few messages, the peak memory of one read
//! and the time taken; exits non-zero when there is any failure. `--save DIR` writes each
//! kept finding's files to `DIR/<reader>-<input>-<file>`.

#[path = "../tests/fuzz/mod.rs"]
mod fuzz;

use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static ALLOC: fuzz::alloc::Counting = fuzz::alloc::Counting;

struct Args {
    inputs: u64,
    reader: String,
    seed: u64,
    replay: Option<u64>,
    save: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        inputs: 1_000_000,
        reader: "all".into(),
        seed: 0,
        replay: None,
        save: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: `{v}` is not a count"))
        };
        match flag.as_str() {
            "--inputs" => args.inputs = number(value()?)?,
            "--reader" => args.reader = value()?,
            "--seed" => args.seed = number(value()?)?,
            "--replay" => args.replay = Some(number(value()?)?),
            "--save" => args.save = Some(PathBuf::from(value()?)),
            _ => {
                return Err(format!(
                    "unknown argument {flag}; see the example's doc comment"
                ))
            }
        }
    }
    Ok(args)
}

/// A scratch directory in memory when the system has one.
fn scratch_dir(reader: &str) -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    let base = if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    };
    base.join(format!("ferrolearn-fuzz-{reader}-{}", std::process::id()))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let readers: Vec<_> = fuzz::readers::readers()
        .into_iter()
        .filter(|r| args.reader == "all" || r.name == args.reader)
        .collect();
    if readers.is_empty() {
        let names: Vec<_> = fuzz::readers::readers().iter().map(|r| r.name).collect();
        eprintln!(
            "error: unknown reader {}; known: all, {}",
            args.reader,
            names.join(", ")
        );
        return ExitCode::FAILURE;
    }
    fuzz::install_panic_hook();
    let mut failed = 0;
    for reader in &readers {
        let dir = scratch_dir(reader.name);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        if let Some(index) = args.replay {
            let case = fuzz::make_case(reader, &(reader.seeds)(), args.seed, index);
            let outcome = fuzz::check(reader, &case, &dir);
            let _ = std::fs::remove_dir_all(&dir);
            println!("{} input {index}: {outcome:?}", reader.name);
            failed += u64::from(outcome.is_err());
            continue;
        }
        let report = fuzz::run(reader, args.inputs, args.seed, &dir, 5);
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "{:<10} {} inputs: {} accepted, {} refused, {} failed; peak {:.1} MiB; {:.1} s",
            report.reader,
            report.inputs,
            report.accepted,
            report.refused,
            report.failed,
            report.peak_bytes as f64 / (1 << 20) as f64,
            report.elapsed.as_secs_f64()
        );
        for f in &report.findings {
            println!("  input {}: {}", f.index, f.message);
            if let Some(save) = &args.save {
                std::fs::create_dir_all(save).expect("--save directory");
                for (name, data) in &f.case {
                    let path = save.join(format!("{}-{}-{name}", report.reader, f.index));
                    std::fs::write(&path, data).expect("writing a finding");
                }
            }
        }
        failed += report.failed;
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
