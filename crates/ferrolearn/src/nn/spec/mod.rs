//! Models described as data (`--model-file`, and the `config.json` of every run): a list of
//! layers whose input sizes are inferred from the data's shape. Layers may branch: a
//! `parallel` layer feeds one input to several branches and merges them by sum (residual
//! blocks) or channel concatenation (Inception modules). [`ModelSpec::build`] makes the modules.
//!
//! ```json
//! {"layers": [
//!   {"type": "conv2d", "name": "conv1", "out_channels": 16, "kernel": 3, "padding": 1},
//!   {"type": "batch_norm", "name": "bn1"},
//!   {"type": "relu"},
//!   {"type": "parallel", "name": "block", "merge": "sum", "activation": "relu", "branches": [
//!     [{"type": "conv2d", "name": "conv1", "out_channels": 32, "kernel": 3, "stride": 2,
//!       "padding": 1, "bias": false},
//!      {"type": "batch_norm", "name": "bn1"}],
//!     [{"type": "shortcut_pad", "stride": 2, "out_channels": 32}]]},
//!   {"type": "global_avg_pool"},
//!   {"type": "linear", "name": "fc", "out_features": 10}
//! ]}
//! ```
//!
//! # Names
//! A layer's parameters are named as in PyTorch's `state_dict`: the path of layer names down to
//! it, then `weight`, `bias`, `running_mean`... A layer's name is its `name` field, or else its
//! index in its list; inside a parallel layer, an unnamed layer `j` of branch `k` is `k.j`. The
//! example's tensors are `conv1.weight`, `bn1.running_var`, `block.conv1.weight`, `fc.bias`.

mod build;
pub use build::LayerCost;
mod check;

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::init::Init;
use super::{ActivationKind, Merge};
use crate::{Error, Result};

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

fn whitening_eps() -> f64 {
    5e-4
}

fn bn_eps() -> f64 {
    1e-5
}

fn bn_momentum() -> f64 {
    0.1
}

/// One layer of a [`ModelSpec`] with its optional name (see the module docs for naming).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The layer's segment in parameter names (default: its position).
    pub name: Option<String>,
    /// What the layer is.
    pub spec: LayerSpec,
}

impl Layer {
    /// A layer named `name`.
    pub fn named(name: &str, spec: LayerSpec) -> Layer {
        Layer {
            name: Some(name.to_string()),
            spec,
        }
    }
}

impl From<LayerSpec> for Layer {
    fn from(spec: LayerSpec) -> Layer {
        Layer { name: None, spec }
    }
}

impl Serialize for Layer {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.spec).map_err(serde::ser::Error::custom)?;
        if let (Some(name), Some(map)) = (&self.name, value.as_object_mut()) {
            map.insert("name".into(), name.clone().into());
        }
        value.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Layer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Layer, D::Error> {
        use serde::de::Error as _;
        let mut value = serde_json::Value::deserialize(deserializer)?;
        let name = match value.as_object_mut().and_then(|m| m.remove("name")) {
            None => None,
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "a layer's name must be a non-empty string, got {other}"
                )))
            }
        };
        let spec = LayerSpec::deserialize(value).map_err(D::Error::custom)?;
        Ok(Layer { name, spec })
    }
}

/// What one layer is; input sizes are not given, they follow from the input shape.
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
    /// Patch whitening (must be the first layer): a `kernel x kernel` convolution to
    /// `2 C kernel^2` channels whose filters are fitted on the training images when a run
    /// starts and then frozen; the bias is trained.
    PatchWhitening {
        /// Patch side.
        kernel: usize,
        /// Added to each eigenvalue before its square root (default 5e-4, airbench's).
        #[serde(default = "whitening_eps")]
        eps: f64,
    },
    /// Max pooling; `stride` defaults to `kernel`.
    MaxPool2d {
        /// Window side.
        kernel: usize,
        /// Step (default: the window side).
        stride: Option<usize>,
        /// Padding on every side, at most half the window (default 0); never wins a window.
        #[serde(default)]
        padding: usize,
    },
    /// Average pooling; `stride` defaults to `kernel`.
    AvgPool2d {
        /// Window side.
        kernel: usize,
        /// Step (default: the window side).
        stride: Option<usize>,
        /// Padding on every side, at most half the window (default 0); counted as zeros.
        #[serde(default)]
        padding: usize,
    },
    /// `[C, H, W]` -> `[C]`: the mean of each feature map.
    GlobalAvgPool,
    /// `[C, H, W]` -> `[C * H * W]`.
    Flatten,
    /// Batch norm over the channel (or feature) axis.
    BatchNorm {
        /// Added to the variance (default 1e-5).
        #[serde(default = "bn_eps")]
        eps: f64,
        /// How far the running statistics move towards each batch's (default 0.1).
        #[serde(default = "bn_momentum")]
        momentum: f64,
        /// Keep the scale at 1, untrained (default false).
        #[serde(default)]
        freeze_weight: bool,
    },
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
    /// Multiplies by a constant.
    Scale {
        /// The factor.
        factor: f32,
    },
    /// He et al.'s option-A shortcut: subsample by `stride`, zero-pad channels to
    /// `out_channels` (half before, half after).
    ShortcutPad {
        /// Spatial subsampling step.
        stride: usize,
        /// Output channels.
        out_channels: usize,
    },
    /// A ResNet basic block with a 1x1 convolution + batch norm shortcut where the shape
    /// changes (kept for runs saved before `parallel` existed; new models spell it out).
    Residual {
        /// Output channels.
        out_channels: usize,
        /// Downsampling stride (default 1).
        #[serde(default = "one")]
        stride: usize,
    },
    /// Layers in order, as one named group (PyTorch's `nn.Sequential`).
    Sequential {
        /// The layers.
        layers: Vec<Layer>,
    },
    /// Branches on the same input, merged by `sum` or `concat` (along channels), then an
    /// optional activation.
    Parallel {
        /// How the branches' outputs are combined.
        merge: Merge,
        /// Each branch is a list of layers; an empty list is the identity.
        branches: Vec<Vec<Layer>>,
        /// Applied after the merge: an activation name (`"relu"`) or object.
        #[serde(
            default,
            deserialize_with = "activation_by_name",
            skip_serializing_if = "Option::is_none"
        )]
        activation: Option<ActivationKind>,
    },
    /// A parameter-free activation (`relu`, `gelu`, `leaky_relu`, `elu`, `selu`, `sigmoid`,
    /// `tanh`, `softplus`).
    #[serde(untagged)]
    Activation(ActivationKind),
}

/// Reads an activation written as its name (`"relu"`) or as a layer object
/// (`{"type": "leaky_relu", "slope": 0.2}`).
fn activation_by_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<ActivationKind>, D::Error> {
    use serde::de::Error as _;
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    match value {
        None => Ok(None),
        Some(serde_json::Value::String(name)) => ActivationKind::from_name(&name)
            .map(Some)
            .ok_or_else(|| {
                D::Error::custom(format!(
                    "unknown activation {name:?}; expected relu, gelu, leaky_relu, elu, selu, sigmoid, tanh or softplus"
                ))
            }),
        Some(other) => ActivationKind::deserialize(other)
            .map(Some)
            .map_err(D::Error::custom),
    }
}

/// A model as data: layers in order, some of which may branch.
///
/// Reading one checks every layer first: an unknown type or field, or a missing one, is
/// refused with the layer's path, the fields its type takes and the nearest valid name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSpec {
    /// The layers, in order.
    pub layers: Vec<Layer>,
}

impl<'de> Deserialize<'de> for ModelSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(deserializer)?;
        check::check_model(&value).map_err(D::Error::custom)?;
        let layers = match value {
            serde_json::Value::Object(mut map) => map.remove("layers").unwrap_or_default(),
            _ => serde_json::Value::Null,
        };
        Ok(ModelSpec {
            layers: Vec::<Layer>::deserialize(layers).map_err(D::Error::custom)?,
        })
    }
}

impl ModelSpec {
    /// A model of unnamed layers (named by their positions).
    pub fn sequence(layers: Vec<LayerSpec>) -> ModelSpec {
        ModelSpec {
            layers: layers.into_iter().map(Layer::from).collect(),
        }
    }

    /// Reads a spec from a JSON file.
    pub fn from_file(path: &Path) -> Result<ModelSpec> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::format(path, e.to_string()))
    }

    /// Writes the spec as pretty JSON (what `--model-file` reads back).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model spec is plain data")
    }
}

impl LayerSpec {
    /// The layer's type name as written in model files.
    pub fn name(&self) -> &'static str {
        match self {
            LayerSpec::Linear { .. } => "linear",
            LayerSpec::Conv2d { .. } => "conv2d",
            LayerSpec::PatchWhitening { .. } => "patch_whitening",
            LayerSpec::MaxPool2d { .. } => "max_pool2d",
            LayerSpec::AvgPool2d { .. } => "avg_pool2d",
            LayerSpec::GlobalAvgPool => "global_avg_pool",
            LayerSpec::Flatten => "flatten",
            LayerSpec::BatchNorm { .. } => "batch_norm",
            LayerSpec::Dropout { .. } => "dropout",
            LayerSpec::Prelu => "prelu",
            LayerSpec::Maxout { .. } => "maxout",
            LayerSpec::Scale { .. } => "scale",
            LayerSpec::ShortcutPad { .. } => "shortcut_pad",
            LayerSpec::Residual { .. } => "residual",
            LayerSpec::Sequential { .. } => "sequential",
            LayerSpec::Parallel { .. } => "parallel",
            LayerSpec::Activation(_) => "activation",
        }
    }

    /// Batch norm with PyTorch's defaults.
    pub fn batch_norm() -> LayerSpec {
        LayerSpec::BatchNorm {
            eps: bn_eps(),
            momentum: bn_momentum(),
            freeze_weight: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Module;
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
    fn huge_sizes_saturate_instead_of_overflowing() {
        // Sizes near u64::MAX in a model file (the fuzzer's JSON mutations write them) once
        // overflowed `2 * padding`, `kernel * kernel` and `9 * c * o`: a panic in debug
        // builds, and in release a wrapped, small count that let the memory check pass.
        let spec: ModelSpec = serde_json::from_str(&format!(
            r#"{{"layers": [
                {{"type": "conv2d", "out_channels": 2, "kernel": 3, "padding": {big}}},
                {{"type": "residual", "out_channels": {big}}},
                {{"type": "max_pool2d", "kernel": 2}},
                {{"type": "flatten"}},
                {{"type": "linear", "out_features": 10}}
            ]}}"#,
            big = u64::MAX / 2
        ))
        .unwrap();
        let costs = spec.estimate(&[1, 8, 8], 10).expect("estimates saturate");
        assert_eq!(costs[0].activations, usize::MAX);
        assert_eq!(costs[1].parameters, usize::MAX);
        assert_eq!(costs[3].activations, usize::MAX);
        assert_eq!(costs[4].parameters, usize::MAX);
    }

    #[test]
    fn mistakes_are_named() {
        let spec = ModelSpec::sequence(vec![LayerSpec::Linear {
            out_features: 10,
            bias: true,
            init: Init::default(),
        }]);
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
        let flat = ModelSpec::sequence(vec![LayerSpec::Flatten]);
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
