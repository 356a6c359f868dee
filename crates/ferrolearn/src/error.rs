//! The crate's error type: every fallible public function returns [`Result`].

use std::path::PathBuf;

use crate::tensor::ShapeError;

/// Everything that can go wrong in ferrolearn, each variant naming what it concerns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two shapes that an operation cannot combine.
    #[error(transparent)]
    Shape(#[from] ShapeError),
    /// A file could not be opened, read or written. The I/O error is part of the message
    /// (not a separate `source`), so a report chaining sources does not print it twice.
    #[error("{path}: {reason}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        reason: std::io::Error,
    },
    /// A file was read but its contents are not what its format requires.
    #[error("{path}: {message}")]
    Format {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong, naming the field, row or column.
        message: String,
    },
    /// A hyperparameter or setting outside its valid range (`k must be >= 1, got 0`).
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Input data that a model cannot use (one class only, NaN values, wrong feature count).
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// Training diverged or an optimizer failed.
    #[error("training failed: {0}")]
    Training(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, reason: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            reason,
        }
    }

    /// A format error in `path` with the given message.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
