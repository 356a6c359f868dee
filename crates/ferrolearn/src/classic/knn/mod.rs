//! k-nearest neighbours: brute-force classifier and regressor with L2 or L1 distance.
//!
//! # Conventions (as scikit-learn's `algorithm="brute"`, `weights="uniform"`)
//! * The training rows are stored in `f32`; distances are computed in `f32` and reported in
//!   `f64`. L2 uses `||q||^2 - 2 q.t + ||t||^2` with an `f32` GEMM over blocks of queries and
//!   training rows, so memory stays bounded whatever the data size; L1 uses a vectorised
//!   kernel blocked over training rows for cache reuse. Query blocks run in parallel (rayon).
//! * The k nearest are picked by partial selection (no full sort). **Distance ties are
//!   broken by the lower training index**, so the neighbour list is ordered by
//!   `(distance, index)`.
//! * **Vote ties: among the labels with the most votes the smallest label wins**
//!   (scikit-learn's argmax over sorted classes).
//! * Class probabilities ([`FittedKnnClassifier::predict_proba`], in `proba`) are the
//!   share of the k neighbours in each class.
//! * The regressor predicts the mean target of the k neighbours.
//!
//! [`scores_per_k`] and [`cv_scores_per_k`] choose k on a validation split or by k-fold
//! cross-validation, computing each query's neighbours once for the largest k.
//!
//! One concept per file: `learner` (the hyperparameters, checked and fitted), `index` (the
//! brute-force neighbour search), `topk` (the k smallest per query), `distance` (the L1
//! SIMD kernels), `fitted` (the fitted classifier and regressor), `proba` (class
//! probabilities) and `choose_k` (scores per k).

mod choose_k;
mod distance;
mod fitted;
mod index;
mod learner;
mod proba;
mod topk;

pub use choose_k::{best_k, cv_scores_per_k, scores_per_k, KScore};
pub use fitted::{FittedKnnClassifier, FittedKnnRegressor};
pub use index::{KnnIndex, Neighbours};
pub use learner::{CheckedKnn, KnnClassifier, KnnRegressor, Metric};
