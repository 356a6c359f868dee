//! The training loop: epochs, early stopping, checkpoints, resume and progress.
