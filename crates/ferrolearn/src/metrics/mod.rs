//! Classification and regression metrics shared by both halves of the crate.
