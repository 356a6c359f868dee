//! Layers, initialisation, losses and models built on [`crate::autograd`].
