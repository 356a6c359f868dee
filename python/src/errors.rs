//! The library's errors as Python exceptions: `ValueError` for bad parameters, data and
//! shapes, `OSError` for files, each with the message the CLI prints after `error:`.

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

use ferrolearn::tensor::catch_shape_error;
use ferrolearn::Error;

/// The exception a library error becomes.
pub fn to_py(e: Error) -> PyErr {
    match e {
        Error::Io { .. } => PyOSError::new_err(e.to_string()),
        Error::Training(_) => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// Runs library work, turning its errors and the shape errors it raises (panics carrying a
/// `ShapeError`) into exceptions.
pub fn run<T>(work: impl FnOnce() -> ferrolearn::Result<T>) -> Result<T, PyErr> {
    match catch_shape_error(work) {
        Ok(result) => result.map_err(to_py),
        Err(shape) => Err(PyValueError::new_err(shape.to_string())),
    }
}
