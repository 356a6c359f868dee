//! A chain of modules.

use std::fmt;

use super::{prefixed, Context, Module};
use crate::autograd::Var;
use crate::tensor::Tensor;

/// Modules applied in order; parameter names are prefixed by the layer index (`0.weight`).
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty chain.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a layer.
    pub fn push(&mut self, layer: impl Module + 'static) -> &mut Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends a boxed layer.
    pub fn push_boxed(&mut self, layer: Box<dyn Module>) -> &mut Sequential {
        self.layers.push(layer);
        self
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }
}

impl Module for Sequential {
    fn forward(&mut self, x: &Var, ctx: &mut Context) -> Var {
        self.layers
            .iter_mut()
            .fold(x.clone(), |h, layer| layer.forward(&h, ctx))
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.parameters()))
            .collect()
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        self.layers
            .iter_mut()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.parameters_mut()))
            .collect()
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        self.layers
            .iter_mut()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.buffers_mut()))
            .collect()
    }
}

impl fmt::Debug for Sequential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Sequential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Sequential [{} params]", self.num_parameters())?;
        for (i, layer) in self.layers.iter().enumerate() {
            writeln!(f, "  ({i}) {layer}")?;
        }
        Ok(())
    }
}
