//! CSV reading (written in another branch).
