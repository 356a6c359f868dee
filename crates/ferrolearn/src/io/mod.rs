//! File output shared by every part of the crate: [`atomic`] writes (a temporary file
//! renamed into place, flushed to disk) and [`safetensors_file`] encoding and reading, so
//! checkpoints, saved classic models, feature caches and pictures are written one way.

pub mod atomic;
pub mod safetensors_file;

pub use atomic::write_atomic;
