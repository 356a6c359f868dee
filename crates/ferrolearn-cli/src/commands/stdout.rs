//! Writing results to stdout: a reader that closes the pipe early (`| head -1`) ends the
//! command quietly with status 0, and every JSON object names the command that printed it.

use std::io::{ErrorKind, Write};

/// The reader of stdout closed the pipe: `main` exits with status 0 and prints nothing.
#[derive(Debug)]
pub struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the reader of stdout closed the pipe")
    }
}

impl std::error::Error for StdoutClosed {}

/// Writes `text` to stdout and flushes it; a closed pipe is a [`StdoutClosed`] error.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to stdout")),
        Ok(()) => Ok(()),
    }
}

/// Prints the JSON object `value` on one line, with `"command": command` added.
pub fn print_json(command: &str, mut value: serde_json::Value) -> anyhow::Result<()> {
    if let Some(object) = value.as_object_mut() {
        object.insert("command".into(), command.into());
    }
    print(&format!("{value}\n"))
}
