//! `ferrolearn train` killed (SIGKILL) or interrupted (SIGINT) at random moments and resumed
//! ends with the same weights, byte for byte, as an uninterrupted run; SIGTERM checkpoints,
//! says how to resume and clears the progress bar of a terminal; checkpoints are also written
//! after a duration (`--checkpoint-every 0.02s`); run directories are never mixed (a
//! directory holding a run is refused, or the default name moves on); a finished run says so
//! or trains further with a larger `--epochs`.
//!
//! The moments are drawn from the clock and printed, so a failure can be replayed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

mod common;

use common::terminal::{screen, OnTerminal};

/// A small MLP with dropout on 1,440 MNIST images (160 held out), 2 epochs of 180 steps.
const RUN: &[&str] = &[
    "--threads",
    "1",
    "train",
    "--model",
    "mlp",
    "--hidden",
    "128",
    "--dropout",
    "0.2",
    "--limit",
    "1600",
    "--epochs",
    "2",
    "--batch-size",
    "8",
    "--val-fraction",
    "0.1",
    "--test-limit",
    "200",
    "--json",
];

fn command(args: &[&str], extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferrolearn"));
    c.args(args).args(extra).env_remove("FERROLEARN_DATA");
    c
}

fn run(args: &[&str], extra: &[&str]) -> Output {
    command(args, extra)
        .output()
        .expect("the ferrolearn binary runs")
}

fn spawn(extra: &[&str]) -> Child {
    command(RUN, extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ferrolearn binary starts")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrolearn-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {stderr}");
    stderr
}

/// A delay drawn from the clock's nanoseconds, below `max_ms`.
fn random_ms(max_ms: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos() as u64;
    nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15) % max_ms
}

/// Optimizer steps in the run's last checkpoint, if it has one.
fn checkpointed_steps(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("checkpoint/state.json")).ok()?;
    let state: serde_json::Value = serde_json::from_str(&text).expect("state.json is whole");
    state["steps_done"].as_u64()
}

/// Waits (up to a minute) until the run's checkpoint holds at least `steps` steps.
fn wait_for_checkpoint(dir: &Path, steps: u64, child: &mut Child) {
    let start = Instant::now();
    while checkpointed_steps(dir).is_none_or(|s| s < steps) {
        assert!(
            child.try_wait().expect("status").is_none(),
            "the run ended before checkpointing {steps} steps"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn assert_same_weights(a: &Path, b: &Path) {
    for file in ["model.safetensors", "checkpoint/model.safetensors"] {
        let read = |d: &Path| std::fs::read(d.join(file)).expect("weights saved");
        assert!(
            read(a) == read(b),
            "{file} differs from the uninterrupted run"
        );
    }
}

#[test]
fn killed_at_random_moments_and_resumed_ends_with_the_same_weights() {
    let reference = temp_dir("kill-reference");
    ok(&run(RUN, &["--out", reference.to_str().expect("utf-8")]));
    let dir = temp_dir("killed");
    let dir_s = dir.to_str().expect("utf-8");
    let resume = ["--resume", "--out", dir_s, "--checkpoint-every", "4"];

    // Before the first checkpoint (the data is still loading).
    let delay = random_ms(30);
    let mut child = spawn(&resume);
    std::thread::sleep(Duration::from_millis(delay));
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    eprintln!("killed {delay} ms after the start");
    assert!(
        checkpointed_steps(&dir).unwrap_or(0) == 0,
        "killed too late"
    );

    // Twice after a checkpoint inside the run, at a random moment after it.
    for (after, max) in [(4, 40), (100, 300)] {
        let mut child = spawn(&resume);
        wait_for_checkpoint(&dir, after, &mut child);
        let delay = random_ms(max);
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let steps = checkpointed_steps(&dir).expect("a checkpoint");
        eprintln!("killed {delay} ms after checkpoint {after}: resuming from step {steps}");
        assert!(steps >= after, "{steps}");
    }
    ok(&run(RUN, &resume));
    assert_same_weights(&reference, &dir);
    for d in [reference, dir] {
        std::fs::remove_dir_all(d).expect("cleanup");
    }
}

#[test]
fn sigint_checkpoints_says_how_to_resume_and_resumes_to_the_same_weights() {
    let reference = temp_dir("int-reference");
    ok(&run(RUN, &["--out", reference.to_str().expect("utf-8")]));
    let dir = temp_dir("interrupted");
    let dir_s = dir.to_str().expect("utf-8");
    let mut child = spawn(&["--out", dir_s, "--checkpoint-every", "3"]);
    wait_for_checkpoint(&dir, 0, &mut child);
    let delay = random_ms(200);
    std::thread::sleep(Duration::from_millis(delay));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let out = child.wait_with_output().expect("reaped");
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("SIGINT {delay} ms after the first checkpoint: {stderr}");
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "resume with: ferrolearn train --resume --out {dir_s}"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("error") && !stderr.contains("panicked"),
        "{stderr}"
    );
    let steps = checkpointed_steps(&dir).expect("a checkpoint");
    assert!(
        stderr.contains(&format!("interrupted after step {steps} ")),
        "the checkpoint holds step {steps}: {stderr}"
    );
    ok(&run(RUN, &["--resume", "--out", dir_s]));
    assert_same_weights(&reference, &dir);
    for d in [reference, dir] {
        std::fs::remove_dir_all(d).expect("cleanup");
    }
}

#[test]
fn run_directories_are_never_mixed_and_finished_runs_extend() {
    let root = temp_dir("dirs");
    std::fs::create_dir_all(&root).expect("mkdir");
    let quick = [
        "train",
        "--model",
        "mlp",
        "--hidden",
        "16",
        "--limit",
        "200",
        "--test-limit",
        "50",
        "--json",
    ];
    let in_root = |extra: &[&str]| {
        let epochs: &[&str] = if extra.contains(&"--epochs") {
            &[]
        } else {
            &["--epochs", "1"]
        };
        command(&quick, &[extra, epochs].concat())
            .current_dir(&root)
            .output()
            .expect("runs")
    };
    // Without --out the default name moves on instead of mixing runs.
    ok(&in_root(&[]));
    ok(&in_root(&[]));
    assert!(root.join("runs/mlp-mnist/config.json").is_file());
    assert!(root.join("runs/mlp-mnist-2/config.json").is_file());
    // A named directory holding a run is refused, and replaced with --overwrite.
    let refused = in_root(&["--out", "runs/mlp-mnist"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("already holds a run (mlp on mnist, 1 epochs)")
            && stderr.contains("--overwrite"),
        "{stderr}"
    );
    std::fs::write(root.join("runs/mlp-mnist/confusion.png"), b"stale").expect("write");
    ok(&in_root(&["--out", "runs/mlp-mnist", "--overwrite"]));
    assert!(
        !root.join("runs/mlp-mnist/confusion.png").exists(),
        "stale file kept"
    );
    // A finished run says it is complete; a larger --epochs trains it further.
    let again = ok(&in_root(&["--out", "runs/mlp-mnist", "--resume"]));
    assert!(again.contains("is complete (1 epochs)"), "{again}");
    let more = in_root(&["--out", "runs/mlp-mnist", "--resume", "--epochs", "2"]);
    let stderr = ok(&more);
    assert!(stderr.contains("from 1 to 2 epochs"), "{stderr}");
    let figures: serde_json::Value = serde_json::from_slice(&more.stdout).expect("JSON");
    assert_eq!(figures["epochs"], 2);
    std::fs::remove_dir_all(root).expect("cleanup");
}

#[test]
fn curves_are_redrawn_after_each_epoch_so_a_killed_run_keeps_them() {
    let dir = temp_dir("curves");
    let dir_s = dir.to_str().expect("utf-8");
    let mut child = spawn(&["--out", dir_s, "--checkpoint-every", "4"]);
    // 1,440 training images in batches of 8: epoch 1 ends at step 180, and the curves are
    // drawn before epoch 2's first checkpoint (step 184).
    wait_for_checkpoint(&dir, 184, &mut child);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let picture = image::open(dir.join("curves.png")).expect("curves.png after epoch 1");
    assert_eq!(picture.width(), 1200);
    std::fs::remove_dir_all(dir).expect("cleanup");
}

#[test]
fn sigterm_checkpoints_says_how_to_resume_and_clears_the_progress_bar() {
    let dir = temp_dir("terminated");
    let dir_s = dir.to_str().expect("utf-8");
    // Without --json, on a terminal, as a user runs it: the progress bar is drawn.
    let args: Vec<&str> = RUN.iter().copied().filter(|a| *a != "--json").collect();
    let terminal = OnTerminal::spawn(command(&args, &["--out", dir_s]));
    let start = Instant::now();
    while !terminal.text().contains("batches") {
        assert!(start.elapsed() < Duration::from_secs(60), "no progress bar");
        std::thread::sleep(Duration::from_millis(2));
    }
    let sent = Command::new("kill")
        .args(["-TERM", &terminal.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let (code, written) = terminal.wait();
    let raw = String::from_utf8_lossy(&written);
    assert_ne!(code, Some(0), "{raw}");
    assert!(!raw.contains("error") && !raw.contains("panicked"), "{raw}");
    let steps = checkpointed_steps(&dir).expect("a checkpoint");
    assert!(
        raw.contains(&format!("interrupted after step {steps} ")),
        "the checkpoint holds step {steps}: {raw}"
    );
    let resume = format!("resume with: ferrolearn train --resume --out {dir_s}");
    assert!(raw.contains(&resume), "{raw}");
    // The bar was drawn, then cleared: the screen keeps the message and no bar.
    let shown = screen(&written);
    let text = shown.join("\n");
    assert!(
        shown
            .iter()
            .any(|l| l.starts_with("interrupted after step")),
        "{text}"
    );
    assert!(shown.iter().any(|l| l == &resume), "{text}");
    assert!(
        shown.iter().all(|l| !l.contains("batches")),
        "a progress bar is left on the screen:\n{text}"
    );
    ok(&run(RUN, &["--resume", "--out", dir_s]));
    std::fs::remove_dir_all(dir).expect("cleanup");
}

#[test]
fn checkpoints_are_also_written_after_a_duration_inside_an_epoch() {
    let dir = temp_dir("every-duration");
    let dir_s = dir.to_str().expect("utf-8");
    let mut child = spawn(&["--out", dir_s, "--checkpoint-every", "0.02s"]);
    // Epochs end at steps 180 and 360 (each also checkpointed): a checkpoint at any other
    // step was written because the duration had passed.
    let start = Instant::now();
    let mut inside = None;
    while inside.is_none() && child.try_wait().expect("status").is_none() {
        inside = checkpointed_steps(&dir).filter(|s| s % 180 != 0);
        assert!(start.elapsed() < Duration::from_secs(60), "the run hangs");
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    child.wait().expect("reaped");
    let steps = inside.expect("no checkpoint inside an epoch with --checkpoint-every 0.02s");
    eprintln!("a checkpoint after 0.02 s held step {steps}");
    std::fs::remove_dir_all(dir).expect("cleanup");
}

#[test]
fn resume_starts_a_run_killed_before_its_config_or_first_checkpoint_with_a_note() {
    let dir = temp_dir("restart");
    let dir_s = dir.to_str().expect("utf-8");
    let quick = [
        "train",
        "--model",
        "mlp",
        "--hidden",
        "16",
        "--limit",
        "200",
        "--test-limit",
        "50",
        "--epochs",
        "1",
        "--json",
        "--resume",
        "--out",
        dir_s,
    ];
    // Killed before it wrote config.json: nothing to resume, so it starts from the flags.
    let stderr = ok(&run(&quick, &[]));
    assert!(
        stderr.contains(&format!(
            "note: {dir_s} holds no run yet: starting one from the flags"
        )),
        "{stderr}"
    );
    // Killed after config.json but before the first checkpoint: started again from it.
    std::fs::remove_dir_all(dir.join("checkpoint")).expect("a checkpoint to remove");
    let again = run(&quick, &[]);
    let stderr = ok(&again);
    assert!(
        stderr.contains("has no checkpoint yet (the run was stopped before its first step): starting it again from its config.json"),
        "{stderr}"
    );
    let figures: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(figures["epochs"], 1);
    assert!(
        checkpointed_steps(&dir).is_some(),
        "the restarted run checkpoints"
    );
    std::fs::remove_dir_all(dir).expect("cleanup");
}
