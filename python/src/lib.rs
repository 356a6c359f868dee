//! `ferrolearn._native`: the Rust half of the Python package. It holds no learning code of
//! its own: each function converts NumPy arrays to the library's views, releases the GIL,
//! calls `ferrolearn`, and turns the library's errors into Python exceptions with the
//! messages the CLI prints. The scikit-learn conventions (parameter names, label encoding,
//! input validation) live in the Python modules beside it.

use pyo3::prelude::*;

mod arrays;
mod classic;
mod errors;

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    classic::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
