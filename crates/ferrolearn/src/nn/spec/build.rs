//! Turning a [`ModelSpec`] into modules: each layer's input shape is inferred from the one
//! before it, checked, and a mistake is reported with the path to the layer
//! (`layer 4 (parallel) > branch 1 > layer 0 (conv2d): input [16, 32, 32]: ...`).

use rand::Rng;

use super::{Layer, LayerSpec, ModelSpec};
use crate::nn::{
    Activation, AvgPool2d, BatchNorm, Conv2d, Dropout, Flatten, GlobalAvgPool, Linear, MaxPool2d,
    Maxout, Merge, Module, Parallel, Prelu, ResidualBlock, Scale, Sequential, ShortcutPad,
};
use crate::{Error, Result};

impl ModelSpec {
    /// Builds the model for inputs of `input_shape` (one sample, e.g. `[1, 28, 28]`), checking
    /// that every layer fits its input and that the output has `num_classes` entries.
    pub fn build(
        &self,
        input_shape: &[usize],
        num_classes: usize,
        rng: &mut impl Rng,
    ) -> Result<Sequential> {
        let (model, shape) = build_sequence(&self.layers, input_shape, "", |j| j.to_string(), rng)?;
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
fn build_sequence(
    layers: &[Layer],
    input: &[usize],
    path: &str,
    default_name: impl Fn(usize) -> String,
    rng: &mut impl Rng,
) -> Result<(Sequential, Vec<usize>)> {
    let mut model = Sequential::new();
    let mut shape = input.to_vec();
    for (j, layer) in layers.iter().enumerate() {
        let here = format!("{path}layer {j} ({})", layer.spec.name());
        let (module, next) = build_layer(&layer.spec, &shape, &here, rng)?;
        let name = layer.name.clone().unwrap_or_else(|| default_name(j));
        model.push_named(name, module);
        shape = next;
    }
    Ok((model, shape))
}

/// Builds one layer for an input of `shape`; returns it with its output shape.
fn build_layer(
    layer: &LayerSpec,
    shape: &[usize],
    here: &str,
    rng: &mut impl Rng,
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
            (
                Box::new(Linear::new(features, out_features, bias, init, rng)),
                vec![out_features],
            )
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
            if h + 2 * padding < kernel || w + 2 * padding < kernel {
                return Err(fail(format!(
                    "kernel {kernel} larger than the padded input"
                )));
            }
            let out = |s: usize| (s + 2 * padding - kernel) / stride + 1;
            let conv = Conv2d::new(c, out_channels, kernel, stride, padding, bias, init, rng);
            (Box::new(conv), vec![out_channels, out(h), out(w)])
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
            if 2 * padding > kernel {
                return Err(fail(format!(
                    "padding {padding} is more than half the window {kernel}"
                )));
            }
            if kernel > h + 2 * padding || kernel > w + 2 * padding {
                return Err(fail(format!("window {kernel} larger than the input")));
            }
            let module: Box<dyn Module> = if matches!(layer, LayerSpec::MaxPool2d { .. }) {
                Box::new(MaxPool2d::padded(kernel, stride, padding))
            } else {
                Box::new(AvgPool2d::padded(kernel, stride, padding))
            };
            let out = |s: usize| (s + 2 * padding - kernel) / stride + 1;
            (module, vec![c, out(h), out(w)])
        }
        LayerSpec::GlobalAvgPool => {
            let (c, _, _) = image()?;
            (Box::new(GlobalAvgPool), vec![c])
        }
        LayerSpec::Flatten => (Box::new(Flatten), vec![shape.iter().product()]),
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
            let bn = BatchNorm::with_options(channels, eps as f32, momentum as f32, freeze_weight);
            (Box::new(bn), shape.to_vec())
        }
        LayerSpec::Dropout { p } => {
            if !(0.0..1.0).contains(&p) {
                return Err(fail(format!("p must be in [0, 1), got {p}")));
            }
            (Box::new(Dropout::new(p)), shape.to_vec())
        }
        LayerSpec::Prelu => {
            let channels = *shape.first().ok_or_else(|| fail("needs channels".into()))?;
            (Box::new(Prelu::new(channels)), shape.to_vec())
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
            (Box::new(Maxout::new(pieces)), vec![features / pieces])
        }
        LayerSpec::Scale { factor } => {
            if !factor.is_finite() {
                return Err(fail(format!("factor must be finite, got {factor}")));
            }
            (Box::new(Scale(factor)), shape.to_vec())
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
            let out = |s: usize| s.div_ceil(stride);
            (
                Box::new(ShortcutPad::new(stride, out_channels)),
                vec![out_channels, out(h), out(w)],
            )
        }
        LayerSpec::Residual {
            out_channels,
            stride,
        } => {
            let (c, h, w) = image()?;
            positive(out_channels, "out_channels")?;
            positive(stride, "stride")?;
            let out = |s: usize| (s - 1) / stride + 1;
            (
                Box::new(ResidualBlock::new(c, out_channels, stride, rng)),
                vec![out_channels, out(h), out(w)],
            )
        }
        LayerSpec::Sequential { ref layers } => {
            let (model, out) =
                build_sequence(layers, shape, &format!("{here} > "), |j| j.to_string(), rng)?;
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
                    rng,
                )?;
                built.push(model);
                shapes.push(out);
            }
            let out = merged_shape(merge, &shapes).map_err(fail)?;
            (Box::new(Parallel::new(built, merge, activation)), out)
        }
        LayerSpec::Activation(kind) => (Box::new(Activation(kind)), shape.to_vec()),
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
            out[0] = shapes.iter().map(|s| s[0]).sum();
            Ok(out)
        }
    }
}
