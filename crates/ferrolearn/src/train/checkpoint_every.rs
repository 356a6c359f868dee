//! How often a run checkpoints inside an epoch (`--checkpoint-every 500` steps or `5m`), so a
//! killed run loses at most that much work.

use std::fmt;
use std::str::FromStr;
use std::time::Instant;

use crate::{Error, Result};

/// The interval between checkpoints taken inside an epoch (one is always taken at the end of
/// each epoch too).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CheckpointEvery {
    /// Every this many optimizer steps (>= 1).
    Steps(u64),
    /// Every this many seconds of wall-clock time (> 0).
    Seconds(f64),
}

impl Default for CheckpointEvery {
    /// Five minutes: a CIFAR-10 epoch of a ResNet takes several on a CPU, and a checkpoint
    /// of a model that size takes well under a second to write.
    fn default() -> CheckpointEvery {
        CheckpointEvery::Seconds(300.0)
    }
}

impl FromStr for CheckpointEvery {
    type Err = Error;

    /// `500` (steps), `90s`, `5m` or `1h`.
    fn from_str(s: &str) -> Result<CheckpointEvery> {
        let bad = || {
            Error::InvalidParameter(format!(
                "--checkpoint-every must be a step count >= 1 (500) or a duration > 0 (90s, 5m, 1h), got {s:?}"
            ))
        };
        let s = s.trim();
        let unit = match s.chars().last() {
            Some('s') => 1.0,
            Some('m') => 60.0,
            Some('h') => 3600.0,
            _ => {
                let steps: u64 = s.parse().map_err(|_| bad())?;
                return if steps == 0 {
                    Err(bad())
                } else {
                    Ok(CheckpointEvery::Steps(steps))
                };
            }
        };
        let value: f64 = s[..s.len() - 1].parse().map_err(|_| bad())?;
        if !(value.is_finite() && value > 0.0) {
            return Err(bad());
        }
        Ok(CheckpointEvery::Seconds(value * unit))
    }
}

impl fmt::Display for CheckpointEvery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointEvery::Steps(n) => write!(f, "{n} steps"),
            CheckpointEvery::Seconds(s) => write!(f, "{s}s"),
        }
    }
}

/// Decides after each step whether a checkpoint is due.
pub(super) struct CheckpointClock {
    every: CheckpointEvery,
    last_step: u64,
    last_time: Instant,
}

impl CheckpointClock {
    /// A clock counting from step `steps_done`, now.
    pub(super) fn new(every: CheckpointEvery, steps_done: u64) -> CheckpointClock {
        CheckpointClock {
            every,
            last_step: steps_done,
            last_time: Instant::now(),
        }
    }

    /// Whether a checkpoint is due after step `steps_done`.
    pub(super) fn due(&self, steps_done: u64) -> bool {
        match self.every {
            CheckpointEvery::Steps(n) => steps_done >= self.last_step + n,
            CheckpointEvery::Seconds(s) => self.last_time.elapsed().as_secs_f64() >= s,
        }
    }

    /// Records a checkpoint written after step `steps_done`.
    pub(super) fn written(&mut self, steps_done: u64) {
        self.last_step = steps_done;
        self.last_time = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_durations_parse_and_mistakes_are_named() {
        assert_eq!(
            "500".parse::<CheckpointEvery>().ok(),
            Some(CheckpointEvery::Steps(500))
        );
        assert_eq!(
            "5m".parse::<CheckpointEvery>().ok(),
            Some(CheckpointEvery::Seconds(300.0))
        );
        assert_eq!(
            "1.5h".parse::<CheckpointEvery>().ok(),
            Some(CheckpointEvery::Seconds(5400.0))
        );
        assert_eq!(
            "90s".parse::<CheckpointEvery>().ok(),
            Some(CheckpointEvery::Seconds(90.0))
        );
        for bad in ["0", "0m", "-5m", "five", "5d", ""] {
            let e = bad.parse::<CheckpointEvery>().unwrap_err().to_string();
            assert!(e.contains("--checkpoint-every"), "{bad}: {e}");
        }
        let mut clock = CheckpointClock::new(CheckpointEvery::Steps(3), 10);
        assert!(!clock.due(12));
        assert!(clock.due(13));
        clock.written(13);
        assert!(!clock.due(15));
    }
}
