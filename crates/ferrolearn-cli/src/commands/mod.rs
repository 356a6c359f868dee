//! One module per subcommand: each parses its flags into an `Args` and has a `run`.

pub mod bench;
pub mod eval;
pub mod gradcheck;
pub mod predict;
pub mod train;
