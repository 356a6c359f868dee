//! Reverse-mode automatic differentiation over tensor ops.
