//! Sequential models described as data (`--model-file`, and the `config.json` of every run):
//! a list of layers whose input sizes are inferred from the data's shape.
//!
//! ```json
//! {"layers": [
//!   {"type": "conv2d", "out_channels": 20, "kernel": 5, "padding": 2},
//!   {"type": "relu"},
//!   {"type": "max_pool2d", "kernel": 2},
//!   {"type": "flatten"},
//!   {"type": "linear", "out_features": 10}
//! ]}
//! ```

use std::path::Path;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::init::Init;
use super::{
    Activation, ActivationKind, AvgPool2d, BatchNorm, Conv2d, Dropout, Flatten, Linear, MaxPool2d,
    Maxout, Module, Prelu, ResidualBlock, Sequential,
};
use crate::{Error, Result};

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// One layer of a [`ModelSpec`]; input sizes are not given, they follow from the input shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    /// A fully connected layer on a flat input.
    Linear {
        /// Output size.
        out_features: usize,
        /// Whether to add a bias (default true).
        #[serde(default = "yes")]
        bias: bool,
        /// Weight initialisation (default: PyTorch's).
        #[serde(default)]
        init: Init,
    },
    /// A 2-d convolution on `[C, H, W]` inputs.
    Conv2d {
        /// Number of filters.
        out_channels: usize,
        /// Square kernel side.
        kernel: usize,
        /// Stride (default 1).
        #[serde(default = "one")]
        stride: usize,
        /// Zero padding on every side (default 0).
        #[serde(default)]
        padding: usize,
        /// Whether to add a bias (default true).
        #[serde(default = "yes")]
        bias: bool,
        /// Weight initialisation (default: PyTorch's).
        #[serde(default)]
        init: Init,
    },
    /// Max pooling; `stride` defaults to `kernel`.
    MaxPool2d {
        /// Window side.
        kernel: usize,
        /// Step (default: the window side).
        stride: Option<usize>,
    },
    /// Average pooling; `stride` defaults to `kernel`.
    AvgPool2d {
        /// Window side.
        kernel: usize,
        /// Step (default: the window side).
        stride: Option<usize>,
    },
    /// `[C, H, W]` -> `[C * H * W]`.
    Flatten,
    /// Batch norm over the channel (or feature) axis.
    BatchNorm,
    /// Inverted dropout.
    Dropout {
        /// Drop probability.
        p: f32,
    },
    /// PReLU with one slope per channel.
    Prelu,
    /// Maxout over groups of `pieces` features.
    Maxout {
        /// Group size.
        pieces: usize,
    },
    /// A ResNet basic block.
    Residual {
        /// Output channels.
        out_channels: usize,
        /// Downsampling stride (default 1).
        #[serde(default = "one")]
        stride: usize,
    },
    /// A parameter-free activation (`relu`, `leaky_relu`, `elu`, `selu`, `sigmoid`, `tanh`,
    /// `softplus`).
    #[serde(untagged)]
    Activation(ActivationKind),
}

/// A sequential model as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The layers, in order.
    pub layers: Vec<LayerSpec>,
}

impl ModelSpec {
    /// Reads a spec from a JSON file.
    pub fn from_file(path: &Path) -> Result<ModelSpec> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::format(path, format!("not a model description: {e}")))
    }

    /// Builds the model for inputs of `input_shape` (one sample, e.g. `[1, 28, 28]`), checking
    /// that every layer fits its input and that the output has `num_classes` entries.
    pub fn build(
        &self,
        input_shape: &[usize],
        num_classes: usize,
        rng: &mut impl Rng,
    ) -> Result<Sequential> {
        let mut model = Sequential::new();
        let mut shape = input_shape.to_vec();
        for (i, layer) in self.layers.iter().enumerate() {
            let fail = |why: String| {
                Error::InvalidParameter(format!(
                    "layer {i} ({}): input {shape:?}: {why}",
                    layer.name()
                ))
            };
            let (module, next): (Box<dyn Module>, Vec<usize>) = match *layer {
                LayerSpec::Linear {
                    out_features,
                    bias,
                    init,
                } => {
                    let [features] = shape[..] else {
                        return Err(fail(
                            "needs a flat input; add a flatten layer before it".into(),
                        ));
                    };
                    check_positive(out_features, "out_features").map_err(fail)?;
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
                    let [c, h, w] = shape[..] else {
                        return Err(fail("needs an image input [C, H, W]".into()));
                    };
                    for (v, name) in [
                        (out_channels, "out_channels"),
                        (kernel, "kernel"),
                        (stride, "stride"),
                    ] {
                        check_positive(v, name).map_err(fail)?;
                    }
                    if h + 2 * padding < kernel || w + 2 * padding < kernel {
                        return Err(fail(format!(
                            "kernel {kernel} larger than the padded input"
                        )));
                    }
                    let out = |s: usize| (s + 2 * padding - kernel) / stride + 1;
                    (
                        Box::new(Conv2d::new(
                            c,
                            out_channels,
                            kernel,
                            stride,
                            padding,
                            bias,
                            init,
                            rng,
                        )),
                        vec![out_channels, out(h), out(w)],
                    )
                }
                LayerSpec::MaxPool2d { kernel, stride }
                | LayerSpec::AvgPool2d { kernel, stride } => {
                    let stride = stride.unwrap_or(kernel);
                    let [c, h, w] = shape[..] else {
                        return Err(fail("needs an image input [C, H, W]".into()));
                    };
                    check_positive(kernel, "kernel").map_err(fail)?;
                    check_positive(stride, "stride").map_err(fail)?;
                    if kernel > h || kernel > w {
                        return Err(fail(format!("window {kernel} larger than the input")));
                    }
                    let module: Box<dyn Module> = if matches!(layer, LayerSpec::MaxPool2d { .. }) {
                        Box::new(MaxPool2d::new(kernel, stride))
                    } else {
                        Box::new(AvgPool2d::new(kernel, stride))
                    };
                    (
                        module,
                        vec![c, (h - kernel) / stride + 1, (w - kernel) / stride + 1],
                    )
                }
                LayerSpec::Flatten => (Box::new(Flatten), vec![shape.iter().product()]),
                LayerSpec::BatchNorm => (Box::new(BatchNorm::new(shape[0])), shape.clone()),
                LayerSpec::Dropout { p } => {
                    if !(0.0..1.0).contains(&p) {
                        return Err(fail(format!("p must be in [0, 1), got {p}")));
                    }
                    (Box::new(Dropout::new(p)), shape.clone())
                }
                LayerSpec::Prelu => (Box::new(Prelu::new(shape[0])), shape.clone()),
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
                LayerSpec::Residual {
                    out_channels,
                    stride,
                } => {
                    let [c, h, w] = shape[..] else {
                        return Err(fail("needs an image input [C, H, W]".into()));
                    };
                    check_positive(out_channels, "out_channels").map_err(fail)?;
                    check_positive(stride, "stride").map_err(fail)?;
                    let out = |s: usize| (s - 1) / stride + 1;
                    (
                        Box::new(ResidualBlock::new(c, out_channels, stride, rng)),
                        vec![out_channels, out(h), out(w)],
                    )
                }
                LayerSpec::Activation(kind) => (Box::new(Activation(kind)), shape.clone()),
            };
            model.push_boxed(module);
            shape = next;
        }
        if shape != [num_classes] {
            return Err(Error::InvalidParameter(format!(
                "the model's output has shape {shape:?} but the data has {num_classes} classes: end with a linear layer of {num_classes} outputs"
            )));
        }
        Ok(model)
    }
}

impl LayerSpec {
    /// The layer's type name as written in model files.
    pub fn name(&self) -> &'static str {
        match self {
            LayerSpec::Linear { .. } => "linear",
            LayerSpec::Conv2d { .. } => "conv2d",
            LayerSpec::MaxPool2d { .. } => "max_pool2d",
            LayerSpec::AvgPool2d { .. } => "avg_pool2d",
            LayerSpec::Flatten => "flatten",
            LayerSpec::BatchNorm => "batch_norm",
            LayerSpec::Dropout { .. } => "dropout",
            LayerSpec::Prelu => "prelu",
            LayerSpec::Maxout { .. } => "maxout",
            LayerSpec::Residual { .. } => "residual",
            LayerSpec::Activation(_) => "activation",
        }
    }
}

fn check_positive(value: usize, name: &str) -> std::result::Result<(), String> {
    if value == 0 {
        Err(format!("{name} must be >= 1"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn parses_and_builds_with_inferred_sizes() {
        let spec: ModelSpec = serde_json::from_str(
            r#"{"layers": [
                {"type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
                {"type": "relu"},
                {"type": "max_pool2d", "kernel": 2},
                {"type": "flatten"},
                {"type": "leaky_relu", "slope": 0.2},
                {"type": "linear", "out_features": 10}
            ]}"#,
        )
        .unwrap();
        let model = spec
            .build(&[1, 8, 8], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        assert_eq!(model.num_parameters(), 4 * 9 + 4 + 64 * 10 + 10);
    }

    #[test]
    fn mistakes_are_named() {
        let spec = ModelSpec {
            layers: vec![LayerSpec::Linear {
                out_features: 10,
                bias: true,
                init: Init::default(),
            }],
        };
        let err = spec
            .build(&[1, 28, 28], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("layer 0 (linear): input [1, 28, 28]: needs a flat input"),
            "{err}"
        );
        let err =
            serde_json::from_str::<ModelSpec>(r#"{"layers": [{"type": "conv3d"}]}"#).unwrap_err();
        assert!(
            err.to_string().contains("conv3d") || err.to_string().contains("did not match"),
            "{err}"
        );
        let flat = ModelSpec {
            layers: vec![LayerSpec::Flatten],
        };
        let err = flat
            .build(&[1, 2, 2], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("output has shape [4] but the data has 10 classes"),
            "{err}"
        );
    }
}
