//! Model selection: train/validation/test splits, k-fold and stratified k-fold,
//! cross-validated scores, and grid / random search over hyperparameters.
//!
//! Splits are index lists (select rows with `x.select(Axis(0), &split.train)`), so one
//! split serves features, labels and any side data. Every random choice comes from a
//! `ChaCha8Rng` seeded by the caller.
//!
//! Hyperparameters for search are described by name and value ([`ParamSet`]), so that a
//! command line can state a grid as strings (`k=1,3,5 metric=l1,l2`); a closure turns each
//! [`ParamSet`] into a learner.
//!
//! One concept per file: `split` (train/test, train/validation/test), `kfold`,
//! `cross_val` (scores per fold), `params` (named values), `grid`, `random_search`, and
//! `search` (candidates scored and ranked).

mod cross_val;
mod grid;
mod kfold;
mod params;
mod random_search;
mod search;
mod split;

pub use cross_val::{cross_val_score_classifier, cross_val_score_regressor, CvScores};
pub(crate) use cross_val::{mean_std, score_folds};
pub use grid::ParamGrid;
pub use kfold::{KFold, StratifiedKFold};
pub use params::{ParamSet, ParamValue};
pub use random_search::{ParamDistribution, RandomSearch};
pub use search::{search, search_classifier, search_regressor, SearchResults, SearchRow};
pub use split::{train_test_split, train_val_test_split, Fold, ThreeWaySplit};
