//! A chain of modules.

use std::fmt;

use super::{prefixed, Context, Module};
use crate::autograd::Var;
use crate::tensor::Tensor;

/// Modules applied in order. Each has a name that prefixes its parameters' names: its index
/// by default (`0.weight`, as `nn.Sequential`), or one given with
/// [`push_named`](Self::push_named) (`conv1.weight`, `layer1.0.conv1.weight`).
#[derive(Default)]
pub struct Sequential {
    layers: Vec<(String, Box<dyn Module>)>,
}

impl Sequential {
    /// An empty chain.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a layer named by its index.
    pub fn push(&mut self, layer: impl Module + 'static) -> &mut Sequential {
        self.push_boxed(Box::new(layer))
    }

    /// Appends a boxed layer named by its index.
    pub fn push_boxed(&mut self, layer: Box<dyn Module>) -> &mut Sequential {
        let name = self.layers.len().to_string();
        self.push_named(name, layer)
    }

    /// Appends a boxed layer under `name`.
    pub fn push_named(&mut self, name: String, layer: Box<dyn Module>) -> &mut Sequential {
        self.layers.push((name, layer));
        self
    }

    /// The layers' names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.layers.iter().map(|(name, _)| name.as_str())
    }

    /// Whether the chain has no layers (then it is the identity).
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    fn forward(&mut self, x: &Var, ctx: &mut Context) -> Var {
        self.layers
            .iter_mut()
            .fold(x.clone(), |h, (_, layer)| layer.forward(&h, ctx))
    }

    fn parameters(&self) -> Vec<(String, &Var)> {
        self.layers
            .iter()
            .flat_map(|(name, l)| prefixed(name, l.parameters()))
            .collect()
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Var)> {
        self.layers
            .iter_mut()
            .flat_map(|(name, l)| prefixed(name, l.parameters_mut()))
            .collect()
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        self.layers
            .iter_mut()
            .flat_map(|(name, l)| prefixed(name, l.buffers_mut()))
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
        for (name, layer) in &self.layers {
            for (i, line) in layer.to_string().lines().enumerate() {
                if i == 0 {
                    writeln!(f, "  ({name}) {line}")?;
                } else {
                    writeln!(f, "  {line}")?;
                }
            }
        }
        Ok(())
    }
}
