//! `ferrolearn._native`: the Rust half of the Python package. It holds no learning code of
//! its own: each function converts NumPy arrays to the library's views, releases the GIL,
//! calls `ferrolearn`, and turns the library's errors into Python exceptions with the
//! messages the CLI prints. The scikit-learn conventions (parameter names, label encoding,
//! input validation) live in the Python modules beside it.

use pyo3::prelude::*;

mod arrays;
mod classic;
mod errors;
mod network;

/// The library allocates and frees large arrays at every solver iteration; mimalloc keeps
/// those pages mapped instead of returning them to the kernel after each free (as the CLI
/// does), which otherwise costs more system time than the arithmetic.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (position 15 of `mi_option_e` in mimalloc 2).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Keep freed pages (as the CLI): fresh pages must be zeroed by the kernel.
    // SAFETY: sets a plain integer option; mimalloc reads options atomically.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    classic::register(m)?;
    network::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
