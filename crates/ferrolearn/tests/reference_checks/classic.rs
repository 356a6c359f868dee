//! The `classic` family: scikit-learn learners and utilities.

use super::case::Case;

#[path = "classic_b.rs"]
mod classic_b;

/// Checks one classic case, dispatching on its op.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        "logistic_regression_binary" | "logistic_regression_multinomial" | "linear_svm_hinge" => {
            classic_b::check(case)
        }
        other => Err(format!("unknown classic op `{other}`")),
    }
}
