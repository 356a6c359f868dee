//! Turning a [`ModelSpec`] into modules: each layer's input shape is inferred from the one
//! before it, checked, and a mistake is reported with the path to the layer
//! (`layer 4 (parallel) > branch 1 > layer 0 (conv2d): input [16, 32, 32]: ...`). The same
//! pass without allocating any weight ([`ModelSpec::estimate`]) gives each layer's size, so
//! a model too big for the machine is refused before it is built.

use rand::Rng;

use super::{Layer, LayerSpec, ModelSpec};
use crate::nn::{
    Activation, AvgPool2d, BatchNorm, Conv2d, Dropout, Flatten, GlobalAvgPool, Linear, MaxPool2d,
    Maxout, Merge, Module, Parallel, PatchWhitening, Prelu, ResidualBlock, Scale, Sequential,
    ShortcutPad,
};
use crate::{Error, Result};

/// One layer's share of a model's memory, from [`ModelSpec::estimate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerCost {
    /// Where the layer is (`layer 4 (parallel) > branch 1 > layer 0 (conv2d)`).
    pub path: String,
    /// Its parameters and buffers (values, not bytes).
    pub parameters: usize,
    /// The values of its output for one sample.
    pub activations: usize,
}

/// What a build pass makes: the modules (with `rng`), or only their costs (without).
struct Builder<'a, R> {
    rng: Option<&'a mut R>,
    costs: Vec<LayerCost>,
}

impl<R: Rng> Builder<'_, R> {
    /// Records the layer at `here` (`parameters`, output `out`) and makes it with `make`,
    /// or a stand-in when only estimating.
    fn make(
        &mut self,
        here: &str,
        parameters: usize,
        out: &[usize],
        make: impl FnOnce(&mut R) -> Box<dyn Module>,
    ) -> Box<dyn Module> {
        self.costs.push(LayerCost {
            path: here.to_string(),
            parameters,
            activations: sat(out),
        });
        match &mut self.rng {
            Some(rng) => make(rng),
            None => Box::new(Flatten),
        }
    }
}

impl ModelSpec {
    /// Builds the model for inputs of `input_shape` (one sample, e.g. `[1, 28, 28]`), checking
    /// that every layer fits its input and that the output has `num_classes` entries.
    pub fn build<R: Rng>(
        &self,
        input_shape: &[usize],
        num_classes: usize,
        rng: &mut R,
    ) -> Result<Sequential> {
        let mut builder = Builder {
            rng: Some(rng),
            costs: Vec::new(),
        };
        self.build_with(input_shape, num_classes, &mut builder)
    }

    /// Every layer's parameter count and per-sample output size, checked as
    /// [`ModelSpec::build`] checks them, without allocating any weight.
    pub fn estimate(&self, input_shape: &[usize], num_classes: usize) -> Result<Vec<LayerCost>> {
        let mut builder: Builder<'_, rand::rngs::mock::StepRng> = Builder {
            rng: None,
            costs: Vec::new(),
        };
        self.build_with(input_shape, num_classes, &mut builder)?;
        Ok(builder.costs)
    }

    fn build_with<R: Rng>(
        &self,
        input_shape: &[usize],
        num_classes: usize,
        builder: &mut Builder<'_, R>,
    ) -> Result<Sequential> {
        let (model, shape) =
            build_sequence(&self.layers, input_shape, "", |j| j.to_string(), builder)?;
        if shape != [num_classes] {
            return Err(Error::InvalidParameter(format!(
                "the model's output has shape {shape:?} but the data has {num_classes} classes: end with a linear layer of {num_classes} outputs"
            )));
        }
        Ok(model)
    }
}

/// Builds `layers` in order from `input`; an unnamed layer `j` is named `default_name(j)`.
/// `path` locates the list in error messages.
fn build_sequence<R: Rng>(
    layers: &[Layer],
    input: &[usize],
    path: &str,
    default_name: impl Fn(usize) -> String,
    rng: &mut Builder<'_, R>,
) -> Result<(Sequential, Vec<usize>)> {
    let mut model = Sequential::new();
    let mut shape = input.to_vec();
    for (j, layer) in layers.iter().enumerate() {
        let here = format!("{path}layer {j} ({})", layer.spec.name());
        if matches!(layer.spec, LayerSpec::PatchWhitening { .. }) && !(path.is_empty() && j == 0) {
            return Err(Error::InvalidParameter(format!(
                "{here}: patch whitening must be the model's first layer (it is fitted on the input images)"
            )));
        }
        let (module, next) = build_layer(&layer.spec, &shape, &here, rng)?;
        let name = layer.name.clone().unwrap_or_else(|| default_name(j));
        model.push_named(name, module);
        shape = next;
    }
    Ok((model, shape))
}

/// The product of `factors`, saturating: sizes from a model file may be anything, and a
/// saturated count is then refused by the memory check instead of wrapping to a small one.
fn sat(factors: &[usize]) -> usize {
    factors.iter().fold(1, |acc, &f| acc.saturating_mul(f))
}

/// Builds one layer for an input of `shape`; returns it with its output shape.
fn build_layer<R: Rng>(
    layer: &LayerSpec,
    shape: &[usize],
    here: &str,
    b: &mut Builder<'_, R>,
) -> Result<(Box<dyn Module>, Vec<usize>)> {
    let fail = |why: String| Error::InvalidParameter(format!("{here}: input {shape:?}: {why}"));
    let image = || match shape {
        &[c, h, w] => Ok((c, h, w)),
        _ => Err(fail("needs an image input [C, H, W]".into())),
    };
    let positive = |value: usize, name: &str| {
        if value == 0 {
            Err(fail(format!("{name} must be >= 1")))
        } else {
            Ok(())
        }
    };
    Ok(match *layer {
        LayerSpec::Linear {
            out_features,
            bias,
            init,
        } => {
            let [features] = shape[..] else {
                return Err(fail(
                    "needs a flat input; add a flatten or global_avg_pool layer before it".into(),
                ));
            };
            positive(out_features, "out_features")?;
            let params =
                sat(&[features, out_features]).saturating_add(usize::from(bias) * out_features);
            let out = vec![out_features];
            let module = b.make(here, params, &out, |rng| {
                Box::new(Linear::new(features, out_features, bias, init, rng))
            });
            (module, out)
        }
        LayerSpec::Conv2d {
            out_channels,
            kernel,
            stride,
            padding,
            bias,
            init,
        } => {
            let (c, h, w) = image()?;
            positive(out_channels, "out_channels")?;
            positive(kernel, "kernel")?;
            positive(stride, "stride")?;
            let padded = |s: usize| s.saturating_add(padding.saturating_mul(2));
            if padded(h) < kernel || padded(w) < kernel {
                return Err(fail(format!(
                    "kernel {kernel} larger than the padded input"
                )));
            }
            let side = |s: usize| (padded(s) - kernel) / stride + 1;
            let out = vec![out_channels, side(h), side(w)];
            let params = sat(&[c, out_channels, kernel, kernel])
                .saturating_add(usize::from(bias) * out_channels);
            let module = b.make(here, params, &out, |rng| {
                Box::new(Conv2d::new(
                    c,
                    out_channels,
                    kernel,
                    stride,
                    padding,
                    bias,
                    init,
                    rng,
                ))
            });
            (module, out)
        }
        LayerSpec::PatchWhitening { kernel, eps } => {
            let (c, h, w) = image()?;
            positive(kernel, "kernel")?;
            if h < kernel || w < kernel {
                return Err(fail(format!("kernel {kernel} larger than the input")));
            }
            if !(eps > 0.0 && eps.is_finite()) {
                return Err(fail(format!("eps must be > 0, got {eps}")));
            }
            let dim = sat(&[c, kernel, kernel]);
            let out = vec![dim.saturating_mul(2), h - kernel + 1, w - kernel + 1];
            let params = sat(&[2, dim, dim]).saturating_add(dim.saturating_mul(2));
            let module = b.make(here, params, &out, |rng| {
                Box::new(PatchWhitening::new(c, kernel, eps, rng))
            });
            (module, out)
        }
        LayerSpec::MaxPool2d {
            kernel,
            stride,
            padding,
        }
        | LayerSpec::AvgPool2d {
            kernel,
            stride,
            padding,
        } => {
            let stride = stride.unwrap_or(kernel);
            let (c, h, w) = image()?;
            positive(kernel, "kernel")?;
            positive(stride, "stride")?;
            if padding > kernel / 2 {
                return Err(fail(format!(
                    "padding {padding} is more than half the window {kernel}"
                )));
            }
            // padding <= kernel / 2 here, so these sums cannot overflow on a real input.
            let padded = |s: usize| s.saturating_add(2 * padding);
            if kernel > padded(h) || kernel > padded(w) {
                return Err(fail(format!("window {kernel} larger than the input")));
            }
            let side = |s: usize| (padded(s) - kernel) / stride + 1;
            let out = vec![c, side(h), side(w)];
            let module = b.make(here, 0, &out, |_| {
                if matches!(layer, LayerSpec::MaxPool2d { .. }) {
                    Box::new(MaxPool2d::padded(kernel, stride, padding))
                } else {
                    Box::new(AvgPool2d::padded(kernel, stride, padding))
                }
            });
            (module, out)
        }
        LayerSpec::GlobalAvgPool => {
            let (c, _, _) = image()?;
            (b.make(here, 0, &[c], |_| Box::new(GlobalAvgPool)), vec![c])
        }
        LayerSpec::Flatten => {
            let out = vec![sat(shape)];
            (b.make(here, 0, &out, |_| Box::new(Flatten)), out)
        }
        LayerSpec::BatchNorm {
            eps,
            momentum,
            freeze_weight,
        } => {
            if !(eps > 0.0 && eps.is_finite()) {
                return Err(fail(format!("eps must be > 0, got {eps}")));
            }
            if !(0.0..=1.0).contains(&momentum) {
                return Err(fail(format!("momentum must be in [0, 1], got {momentum}")));
            }
            let channels = *shape.first().ok_or_else(|| fail("needs channels".into()))?;
            let module = b.make(here, channels.saturating_mul(4), shape, |_| {
                Box::new(BatchNorm::with_options(
                    channels,
                    eps as f32,
                    momentum as f32,
                    freeze_weight,
                ))
            });
            (module, shape.to_vec())
        }
        LayerSpec::Dropout { p } => {
            if !(0.0..1.0).contains(&p) {
                return Err(fail(format!("p must be in [0, 1), got {p}")));
            }
            (
                b.make(here, 0, shape, |_| Box::new(Dropout::new(p))),
                shape.to_vec(),
            )
        }
        LayerSpec::Prelu => {
            let channels = *shape.first().ok_or_else(|| fail("needs channels".into()))?;
            (
                b.make(here, channels, shape, |_| Box::new(Prelu::new(channels))),
                shape.to_vec(),
            )
        }
        LayerSpec::Maxout { pieces } => {
            let [features] = shape[..] else {
                return Err(fail(
                    "needs a flat input; add a flatten layer before it".into(),
                ));
            };
            if pieces == 0 || features % pieces != 0 {
                return Err(fail(format!(
                    "{features} features do not split into groups of {pieces}"
                )));
            }
            let out = vec![features / pieces];
            (
                b.make(here, 0, &out, |_| Box::new(Maxout::new(pieces))),
                out,
            )
        }
        LayerSpec::Scale { factor } => {
            if !factor.is_finite() {
                return Err(fail(format!("factor must be finite, got {factor}")));
            }
            (
                b.make(here, 0, shape, |_| Box::new(Scale(factor))),
                shape.to_vec(),
            )
        }
        LayerSpec::ShortcutPad {
            stride,
            out_channels,
        } => {
            let (c, h, w) = image()?;
            positive(stride, "stride")?;
            if out_channels < c {
                return Err(fail(format!(
                    "out_channels {out_channels} is fewer than the input's {c} channels"
                )));
            }
            let out = vec![out_channels, h.div_ceil(stride), w.div_ceil(stride)];
            let module = b.make(here, 0, &out, |_| {
                Box::new(ShortcutPad::new(stride, out_channels))
            });
            (module, out)
        }
        LayerSpec::Residual {
            out_channels,
            stride,
        } => {
            let (c, h, w) = image()?;
            positive(out_channels, "out_channels")?;
            positive(stride, "stride")?;
            let side = |s: usize| (s - 1) / stride + 1;
            let out = vec![out_channels, side(h), side(w)];
            // Two 3x3 convolutions and batch norms, and a 1x1 projection where shapes change.
            let o = out_channels;
            let projection = if stride != 1 || c != o {
                sat(&[c, o]).saturating_add(sat(&[4, o]))
            } else {
                0
            };
            let params = [sat(&[9, c, o]), sat(&[9, o, o]), sat(&[8, o]), projection]
                .into_iter()
                .fold(0, usize::saturating_add);
            let module = b.make(here, params, &out, |rng| {
                Box::new(ResidualBlock::new(c, out_channels, stride, rng))
            });
            (module, out)
        }
        LayerSpec::Sequential { ref layers } => {
            let (model, out) =
                build_sequence(layers, shape, &format!("{here} > "), |j| j.to_string(), b)?;
            (Box::new(model), out)
        }
        LayerSpec::Parallel {
            merge,
            ref branches,
            activation,
        } => {
            if branches.is_empty() {
                return Err(fail("needs at least one branch".into()));
            }
            let mut built = Vec::with_capacity(branches.len());
            let mut shapes: Vec<Vec<usize>> = Vec::with_capacity(branches.len());
            for (k, branch) in branches.iter().enumerate() {
                let (model, out) = build_sequence(
                    branch,
                    shape,
                    &format!("{here} > branch {k} > "),
                    |j| format!("{k}.{j}"),
                    b,
                )?;
                built.push(model);
                shapes.push(out);
            }
            let out = merged_shape(merge, &shapes).map_err(fail)?;
            let module = b.make(here, 0, &out, |_| {
                Box::new(Parallel::new(built, merge, activation))
            });
            (module, out)
        }
        LayerSpec::Activation(kind) => (
            b.make(here, 0, shape, |_| Box::new(Activation(kind))),
            shape.to_vec(),
        ),
    })
}

/// The shape of the merged branches' outputs, or why they cannot be merged.
fn merged_shape(merge: Merge, shapes: &[Vec<usize>]) -> std::result::Result<Vec<usize>, String> {
    let first = &shapes[0];
    match merge {
        Merge::Sum => match shapes.iter().position(|s| s != first) {
            None => Ok(first.clone()),
            Some(k) => Err(format!(
                "cannot sum branch 0's output {first:?} and branch {k}'s {:?}",
                shapes[k]
            )),
        },
        Merge::Concat => {
            for (k, s) in shapes.iter().enumerate() {
                if s.is_empty() || s.len() != first.len() || s[1..] != first[1..] {
                    return Err(format!(
                        "cannot concatenate branch 0's output {first:?} and branch {k}'s {s:?}: all but the channels must agree"
                    ));
                }
            }
            let mut out = first.clone();
            out[0] = shapes.iter().map(|s| s[0]).fold(0, usize::saturating_add);
            Ok(out)
        }
    }
}
