//! The one place that formats shape errors, and the boundary that turns them into `Result`s.

use std::cell::RefCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

thread_local! {
    /// The shape error being raised on this thread, if any: lets [`catch_shape_error`] tell a
    /// shape error from other panics while the panic message stays readable text.
    static RAISED: RefCell<Option<ShapeError>> = const { RefCell::new(None) };
}

/// Two or more shapes that an op cannot combine: names the op and what was wrong, e.g.
/// `matmul: [64, 784] x [500, 10]: inner dimensions 784 != 500`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    op: &'static str,
    message: String,
}

impl ShapeError {
    /// A shape error in `op`, whose message should name the shapes involved.
    pub fn new(op: &'static str, message: impl Into<String>) -> Self {
        ShapeError {
            op,
            message: message.into(),
        }
    }

    /// The op that refused its inputs.
    pub fn op(&self) -> &str {
        self.op
    }

    /// Panics with this error's message, so that [`catch_shape_error`] can recover it.
    pub fn raise(self) -> ! {
        let message = self.to_string();
        RAISED.with(|r| *r.borrow_mut() = Some(self));
        panic!("{message}")
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.message)
    }
}

impl std::error::Error for ShapeError {}

/// Runs `f`, turning a [`ShapeError`] raised inside it (on this thread) into `Err`.
///
/// Use it where shapes come from user input (a model file, a data file), so a mismatch is
/// reported as an error instead of ending the program. Other panics are resumed unchanged.
/// The default panic hook would still print the message; callers that catch shape errors
/// routinely should install [`quiet_shape_panics`] once.
pub fn catch_shape_error<T>(f: impl FnOnce() -> T) -> Result<T, ShapeError> {
    RAISED.with(|r| r.borrow_mut().take());
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => Ok(v),
        Err(payload) => match RAISED.with(|r| r.borrow_mut().take()) {
            Some(e) => Err(e),
            None => panic::resume_unwind(payload),
        },
    }
}

/// Installs a panic hook that stays silent for shape errors (they are caught and reported by
/// [`catch_shape_error`]) and defers to the previous hook for everything else.
pub fn quiet_shape_panics() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !is_raising_shape_error() {
            previous(info);
        }
    }));
}

/// Whether a shape error is being raised on this thread (for panic hooks that report it
/// differently from other panics).
pub fn is_raising_shape_error() -> bool {
    RAISED.with(|r| r.borrow().is_some())
}

/// Formats a shape as `[a, b, c]`.
pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    format!("{shape:?}")
}
