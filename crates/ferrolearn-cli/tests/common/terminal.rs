//! Running the binary with stderr on a pseudo-terminal, as a user's shell would (so progress
//! bars are drawn), and reading back what the terminal would show.

use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The width of the terminal the child writes to.
pub const COLUMNS: u16 = 120;

/// A child process whose stderr is a terminal, and everything it has written there so far.
pub struct OnTerminal {
    pub child: Child,
    written: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl OnTerminal {
    /// Starts `command` with stdin and stdout closed and stderr on a new terminal of
    /// [`COLUMNS`] columns.
    pub fn spawn(mut command: Command) -> OnTerminal {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 24,
            ws_col: COLUMNS,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors into the integers it is given; the name and
        // terminal settings are optional (null).
        let opened = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and nothing else owns them.
        let (master, slave) = unsafe { (File::from_raw_fd(master), File::from_raw_fd(slave)) };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(slave))
            .spawn()
            .expect("the ferrolearn binary starts");
        // The command held the only other copy of the terminal's child end: with it gone,
        // reading fails (EIO) once the child has exited.
        drop(command);
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = written.clone();
        let reader = std::thread::spawn(move || {
            let mut master = master;
            let mut buf = [0u8; 4096];
            loop {
                match master.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink
                        .lock()
                        .expect("not poisoned")
                        .extend_from_slice(&buf[..n]),
                }
            }
        });
        OnTerminal {
            child,
            written,
            reader,
        }
    }

    /// What the child has written to the terminal so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.written.lock().expect("not poisoned")).into_owned()
    }

    /// Waits for the child to exit; returns its exit code and all it wrote.
    pub fn wait(mut self) -> (Option<i32>, Vec<u8>) {
        let status = self.child.wait().expect("reaped");
        self.reader.join().expect("the reader ends");
        let written = std::mem::take(&mut *self.written.lock().expect("not poisoned"));
        (status.code(), written)
    }
}

/// The lines a terminal of [`COLUMNS`] columns shows after receiving `bytes`: carriage
/// returns, line feeds, wrapping, cursor movement up and down and line clearing (what
/// progress bars use) applied, other escape sequences ignored, trailing blanks trimmed.
pub fn screen(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => row += 1,
            '\x1b' => {
                if chars.next() != Some('[') {
                    continue;
                }
                let mut param = String::new();
                let end = loop {
                    match chars.next() {
                        Some(ch) if ch.is_ascii_alphabetic() => break ch,
                        Some(ch) => param.push(ch),
                        None => break ' ',
                    }
                };
                let n: usize = param.parse().unwrap_or(1);
                lines.resize(lines.len().max(row + 1), Vec::new());
                match (end, param.as_str()) {
                    ('A', _) => row = row.saturating_sub(n),
                    ('B', _) => row += n,
                    ('G', _) => col = n.saturating_sub(1),
                    ('K', "2") => lines[row].clear(),
                    ('K', "" | "0") => lines[row].truncate(col),
                    ('J', "" | "0") => {
                        lines[row].truncate(col);
                        lines.truncate(row + 1);
                    }
                    _ => {}
                }
            }
            c => {
                // A character past the last column starts the next row, as terminals wrap.
                if col == COLUMNS as usize {
                    (row, col) = (row + 1, 0);
                }
                lines.resize(lines.len().max(row + 1), Vec::new());
                let line = &mut lines[row];
                if line.len() <= col {
                    line.resize(col + 1, ' ');
                }
                line[col] = c;
                col += 1;
            }
        }
    }
    lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .collect()
}
