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

    /// The filters of the first layer that convolves the input images, with their name: the
    /// first `[c_out, channels, kh, kw]` weight, trainable (a convolution's) or frozen (a
    /// patch-whitening layer's), of the earliest layer that has one; `None` when no layer
    /// convolves `channels`-channel input (an MLP). What `ferrolearn visualize --what
    /// filters` draws.
    pub fn first_filters(&mut self, channels: usize) -> Option<(String, Tensor)> {
        let is_filter = |t: &Tensor| t.shape().len() == 4 && t.shape()[1] == channels;
        self.layers.iter_mut().find_map(|(name, layer)| {
            let trainable = layer
                .parameters()
                .into_iter()
                .find(|(_, v)| is_filter(v.value()))
                .map(|(n, v)| (n, v.value().clone()));
            let found = trainable.or_else(|| {
                let buffers = layer.buffers_mut().into_iter();
                buffers
                    .map(|(n, t)| (n, t.clone()))
                    .find(|(_, t)| is_filter(t))
            });
            found.map(|(n, t)| (format!("{name}.{n}"), t))
        })
    }

    /// Whether the chain has no layers (then it is the identity).
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    /// Runs the layers in order; a layer followed by one it can fuse (batch norm then ReLU or
    /// GELU, convolution then max pooling) applies both as one op, with the same result.
    fn forward(&mut self, x: &Var, ctx: &mut Context) -> Var {
        let mut h = x.clone();
        let mut i = 0;
        while i < self.layers.len() {
            let next = self.layers.get(i + 1);
            let fused = match next.and_then(|(_, l)| l.as_follower()) {
                Some(act) => self.layers[i].1.forward_then(&h, act, ctx),
                None => None,
            };
            match fused {
                Some(y) => {
                    h = y;
                    i += 2;
                }
                None => {
                    h = self.layers[i].1.forward(&h, ctx);
                    i += 1;
                }
            }
        }
        h
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::init::Init;
    use crate::nn::{Activation, ActivationKind, BatchNorm, Context, Conv2d, MaxPool2d};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn first_filters_are_the_earliest_weight_over_the_input_channels() {
        use crate::nn::init::Init;
        use crate::nn::Conv2d;
        let rng = &mut ChaCha8Rng::seed_from_u64(1);
        let mut chain = Sequential::new();
        chain
            .push(BatchNorm::new(3))
            .push(Conv2d::new(3, 4, 3, 1, 1, true, Init::default(), rng))
            .push(Conv2d::new(4, 3, 3, 1, 1, true, Init::default(), rng));
        let (name, filters) = chain.first_filters(3).expect("a convolution over RGB");
        assert_eq!(
            (name.as_str(), filters.shape()),
            ("1.weight", &[4, 3, 3, 3][..])
        );
        assert!(chain.first_filters(1).is_none());
    }

    #[test]
    fn batch_norm_then_relu_or_gelu_runs_fused_with_the_same_values_and_gradients() {
        let x = Tensor::randn(&[4, 3, 5, 5], 0.0, 1.0, &mut ChaCha8Rng::seed_from_u64(3));
        for (kind, name) in [
            (ActivationKind::Relu, "batch_norm_relu"),
            (ActivationKind::Gelu, "batch_norm_gelu"),
        ] {
            let mut chain = Sequential::new();
            chain.push(BatchNorm::new(3)).push(Activation(kind));
            let xv = Var::parameter(x.clone());
            let fused = chain.forward(&xv, &mut Context::training(0));
            assert_eq!(fused.op().map(|op| op.name()), Some(name));
            let fused_grads = fused.sum().backward();

            let (mut bn, mut act) = (BatchNorm::new(3), Activation(kind));
            let xs = Var::parameter(x.clone());
            let mut ctx = Context::training(0);
            let separate = act.forward(&bn.forward(&xs, &mut ctx), &mut ctx);
            let separate_grads = separate.sum().backward();
            assert_eq!(fused.value().data(), separate.value().data(), "{name}");
            let (gf, gs) = (fused_grads.get(&xv), separate_grads.get(&xs));
            assert_eq!(gf.map(Tensor::data), gs.map(Tensor::data), "{name}");
            assert!(gf.is_some());
        }
    }

    #[test]
    fn conv_then_max_pool_runs_fused_with_the_same_values_and_gradients() {
        let x = Tensor::randn(&[2, 3, 7, 7], 0.0, 1.0, &mut ChaCha8Rng::seed_from_u64(4));
        let conv = || {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            Conv2d::new(3, 4, 3, 1, 1, true, Init::PytorchDefault, &mut rng)
        };
        let mut chain = Sequential::new();
        chain.push(conv()).push(MaxPool2d::new(2, 2));
        let xv = Var::parameter(x.clone());
        let fused = chain.forward(&xv, &mut Context::training(0));
        assert_eq!(fused.op().map(|op| op.name()), Some("conv2d_max_pool2d"));
        assert_eq!(fused.shape(), [2, 4, 3, 3]);
        let fused_grads = fused.sum().backward();

        let (mut c, mut pool) = (conv(), MaxPool2d::new(2, 2));
        let xs = Var::parameter(x.clone());
        let mut ctx = Context::training(0);
        let separate = pool.forward(&c.forward(&xs, &mut ctx), &mut ctx);
        let separate_grads = separate.sum().backward();
        assert_eq!(fused.value().data(), separate.value().data());
        let pairs = [(&xv, &xs)].into_iter().chain(
            chain
                .parameters()
                .into_iter()
                .zip(c.parameters())
                .map(|((_, f), (_, s))| (f, s)),
        );
        let mut checked = 0;
        for (f, s) in pairs {
            let (gf, gs) = (fused_grads.get(f), separate_grads.get(s));
            assert!(gf.is_some());
            assert_eq!(gf.map(Tensor::data), gs.map(Tensor::data));
            checked += 1;
        }
        assert_eq!(checked, 3, "input, weight and bias");
    }
}
