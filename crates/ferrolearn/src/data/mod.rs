//! Dataset readers (IDX, CIFAR-10 binary, CSV), in-memory datasets, loaders and splits.
pub mod csv;
