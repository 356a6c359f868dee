//! One module per subcommand: each parses its flags into an `Args` and has a `run`.

pub mod bench;
pub mod classic_cluster;
pub mod classic_cv;
pub mod classic_data;
pub mod classic_eval;
pub mod classic_flags;
pub mod classic_model;
pub mod classic_predict;
pub mod classic_report;
pub mod classic_saved;
pub mod cv;
pub mod eval;
pub mod features;
pub mod fit;
pub mod gradcheck;
pub mod model;
pub mod model_recipe;
pub mod predict;
pub mod recipe_args;
pub mod search;
pub mod stdout;
pub mod train;
pub mod train_progress;
pub mod visualize;
pub mod visualize_classic;
pub mod visualize_features;
