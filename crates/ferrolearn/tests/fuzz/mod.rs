//! A mutation fuzzer for the file readers, on stable Rust: each input is a valid seed file
//! mutated a few times (bytes, or for JSON files half the time nodes of the parsed tree;
//! for the IDX and CIFAR readers, gzip'd before or after), written
//! into a scratch directory and read back. A reader may refuse an input (`Err`) but must
//! never panic, and never allocate more than [`alloc::MAX_ALLOCATION`] at once or
//! [`MAX_LIVE`] in all. Input `i` of a run depends only on the seed and `i`, so a finding is
//! reproduced by `--replay i`.
//!
//! Shared by the `fuzz_readers` test (a short run of each reader) and the `fuzz_readers`
//! example (a million inputs per reader), each of which installs [`alloc::Counting`] as its
//! global allocator.

pub mod alloc;
pub mod mutate;
pub mod readers;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use readers::{gzip, Case, Reader};

/// The most a reader may hold allocated at once while reading one input (128 MiB).
pub const MAX_LIVE: usize = 128 << 20;

/// What went wrong on one input.
#[derive(Debug)]
pub struct Finding {
    /// The input's index (for `--replay`).
    pub index: u64,
    /// A panic's message, or the allocation that exceeded a bound.
    pub message: String,
    /// The files that caused it.
    pub case: Case,
}

/// The outcome of a run of one reader.
#[derive(Debug)]
pub struct Report {
    /// The reader's name.
    pub reader: &'static str,
    /// Inputs tried.
    pub inputs: u64,
    /// Inputs the reader accepted (`Ok`).
    pub accepted: u64,
    /// Inputs it refused with an error.
    pub refused: u64,
    /// Inputs that panicked or allocated beyond a bound (the first few are in `findings`).
    pub failed: u64,
    /// The most allocated at once above the harness's own memory, over all inputs.
    pub peak_bytes: usize,
    /// Panics and allocations beyond the bounds.
    pub findings: Vec<Finding>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// The last panic's message, recorded by the hook [`install_panic_hook`] sets.
static PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Replaces the panic hook with one that records the message (with its location) instead of
/// printing it.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        *PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("panic{at}: {payload}"));
    }));
}

/// Input `index` of a run with `seed`: a seed case mutated.
pub fn make_case(reader: &Reader, seeds: &[Case], seed: u64, index: u64) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut case = seeds[rng.gen_range(0..seeds.len())].clone();
    let file = rng.gen_range(0..case.len());
    let data = &mut case[file].1;
    let max_len = data.len() * 2 + 1024;
    let gzip_mode = if reader.gzip && file == 0 {
        rng.gen_range(0..5)
    } else {
        0
    };
    match gzip_mode {
        3 => {
            mutate::mutate(data, &mut rng, max_len);
            *data = gzip(data);
        }
        4 => {
            *data = gzip(data);
            mutate::mutate(data, &mut rng, max_len);
        }
        _ => {
            // JSON files: half the time through their tree, to get past the parser.
            let json = data.first().is_some_and(|b| matches!(b, b'{' | b'['));
            if !(json && rng.gen_bool(0.5) && mutate::mutate_json(data, &mut rng)) {
                mutate::mutate(data, &mut rng, max_len);
            }
        }
    }
    if let Some(fixup) = reader.fixup {
        if rng.gen_bool(0.5) {
            fixup(&mut case);
        }
    }
    case
}

/// Writes `case` into `dir` and reads it: `Ok(accepted)` or the finding's message.
pub fn check(reader: &Reader, case: &Case, dir: &Path) -> Result<bool, String> {
    for (name, data) in case {
        std::fs::write(dir.join(name), data)
            .map_err(|e| format!("harness: writing {name}: {e}"))?;
    }
    let baseline = alloc::start();
    let result = catch_unwind(AssertUnwindSafe(|| (reader.read)(dir)));
    let (peak, refused) = alloc::finish(baseline);
    if refused > 0 {
        return Err(format!("asked for a single allocation of {refused} bytes"));
    }
    if peak > MAX_LIVE {
        return Err(format!("held {peak} bytes at once"));
    }
    match result {
        Ok(outcome) => Ok(outcome.is_ok()),
        Err(_) => Err(PANIC
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(|| "panic".into())),
    }
}

/// Runs `inputs` inputs of `reader` from `seed` in `dir`, keeping the first `keep` findings
/// (all are counted).
pub fn run(reader: &Reader, inputs: u64, seed: u64, dir: &Path, keep: usize) -> Report {
    let seeds = (reader.seeds)();
    let start = Instant::now();
    let mut report = Report {
        reader: reader.name,
        inputs,
        accepted: 0,
        refused: 0,
        failed: 0,
        peak_bytes: 0,
        findings: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for index in 0..inputs {
        let case = make_case(reader, &seeds, seed, index);
        let baseline = alloc::start();
        let outcome = check(reader, &case, dir);
        report.peak_bytes = report.peak_bytes.max(alloc::finish(baseline).0);
        match outcome {
            Ok(true) => report.accepted += 1,
            Ok(false) => report.refused += 1,
            Err(message) => {
                report.failed += 1;
                if report.findings.len() < keep {
                    report.findings.push(Finding {
                        index,
                        message,
                        case,
                    });
                }
            }
        }
    }
    report.elapsed = start.elapsed();
    report
}
