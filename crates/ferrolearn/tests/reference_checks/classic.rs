//! The `classic` family: scikit-learn learners and utilities.
//!
//! A pure dispatcher: part A's ops (linear models, scalers, kNN, k-fold) are checked in
//! `classic_a.rs`; part B's (logistic, softmax, SVM) in `classic_b.rs`.

use super::case::Case;

#[path = "classic_a.rs"]
mod classic_a;
#[path = "classic_b.rs"]
mod classic_b;

/// Checks one classic case, dispatching on its op.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        "linear_regression" => classic_a::linear_regression(case),
        "ridge" => classic_a::ridge(case),
        "polynomial_features" => classic_a::polynomial_features(case),
        "standard_scaler" => classic_a::standard_scaler(case),
        "knn_classifier" => classic_a::knn_classifier(case),
        "kfold" => classic_a::kfold(case),
        "logistic_regression_binary" | "logistic_regression_multinomial" | "linear_svm_hinge" => {
            classic_b::check(case)
        }
        other => Err(format!("unknown classic op `{other}`")),
    }
}
