//! A short fuzz run of every file reader (see `tests/fuzz/mod.rs`): a few thousand mutated
//! inputs each, none of which may panic or allocate beyond the harness's bounds. The long
//! run is the `fuzz_readers` example.

mod fuzz;

#[global_allocator]
static ALLOC: fuzz::alloc::Counting = fuzz::alloc::Counting;

/// Inputs per reader: enough to reach every header field, a few seconds in all.
const INPUTS: u64 = 3_000;

/// One test: the allocator's counters and the panic hook are process-wide, so the harness
/// check and the readers' run must not share the process with another test thread.
#[test]
fn no_reader_panics_or_over_allocates_on_mutated_files() {
    harness_reports_panics_and_over_allocation();
    fuzz::install_panic_hook();
    let dir = std::env::temp_dir().join(format!("ferrolearn-fuzz-test-{}", std::process::id()));
    let mut failures = Vec::new();
    for reader in fuzz::readers::readers() {
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let report = fuzz::run(&reader, INPUTS, 1, &dir, 3);
        eprintln!(
            "{}: {} accepted, {} refused, {} failed, peak {} bytes, {:?}",
            report.reader,
            report.accepted,
            report.refused,
            report.failed,
            report.peak_bytes,
            report.elapsed
        );
        assert_eq!(report.inputs, INPUTS);
        assert_eq!(report.accepted + report.refused + report.failed, INPUTS);
        assert!(
            report.refused > 0,
            "{}: no mutated input was refused",
            reader.name
        );
        for f in report.findings {
            let files: Vec<_> = f
                .case
                .iter()
                .map(|(name, data)| format!("{name}: {} bytes", data.len()))
                .collect();
            failures.push(format!(
                "{} input {} ({}): {}",
                reader.name,
                f.index,
                files.join(", "),
                f.message
            ));
        }
        std::fs::remove_dir_all(&dir).expect("scratch cleanup");
    }
    drop(std::panic::take_hook());
    assert!(failures.is_empty(), "findings:\n{}", failures.join("\n"));
}

/// The harness itself: a reader that panics, one that asks for too much at once (with
/// `try_reserve`, so the refusal is an error rather than an abort) and one that holds too
/// much are each reported as findings.
fn harness_reports_panics_and_over_allocation() {
    fuzz::install_panic_hook();
    fn seeds() -> Vec<fuzz::readers::Case> {
        vec![vec![("data", b"seed".to_vec())]]
    }
    fn panics(_: &std::path::Path) -> Result<(), String> {
        panic!("reader bug")
    }
    fn asks_too_much(_: &std::path::Path) -> Result<(), String> {
        let mut v: Vec<u8> = Vec::new();
        v.try_reserve_exact(fuzz::alloc::MAX_ALLOCATION + 1)
            .map_err(|e| e.to_string())
    }
    fn holds_too_much(_: &std::path::Path) -> Result<(), String> {
        let chunks: Vec<Vec<u8>> = (0..3).map(|_| vec![1u8; 60 << 20]).collect();
        std::hint::black_box(&chunks);
        Ok(())
    }
    let dir = std::env::temp_dir().join(format!("ferrolearn-fuzz-self-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let cases: [(fuzz::readers::ReadFn, &str); 3] = [
        (panics, "reader bug"),
        (asks_too_much, "single allocation of 67108865 bytes"),
        (holds_too_much, "bytes at once"),
    ];
    let mut reports = Vec::new();
    for (read, message) in cases {
        let reader = fuzz::readers::Reader {
            name: "self-test",
            seeds,
            read,
            gzip: false,
            fixup: None,
        };
        reports.push((fuzz::run(&reader, 4, 0, &dir, 1), message));
    }
    drop(std::panic::take_hook());
    std::fs::remove_dir_all(&dir).expect("scratch cleanup");
    for (report, message) in reports {
        assert_eq!(report.failed, 4, "{message}: {:?}", report.findings);
        assert!(
            report.findings[0].message.contains(message),
            "{:?}",
            report.findings[0]
        );
    }
}
