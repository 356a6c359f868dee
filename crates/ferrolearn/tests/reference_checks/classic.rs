//! The `classic` family: scikit-learn learners and utilities.

use super::case::Case;

/// Checks one classic case, dispatching on its op.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        other => Err(format!("unknown classic op `{other}`")),
    }
}
