//! The ops recorded in the graph: each variant holds its inputs and what its backward rule
//! needs (cached in forward). The rules themselves are in [`super::backprop`].

use super::var::Var;
use crate::tensor::kernels::NormActivation;
use crate::tensor::{PoolWindow, Tensor};

/// How batch norm treats its statistics on this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NormMode {
    /// Batch statistics: gradients flow through the mean and variance.
    Training,
    /// Running statistics: constants, so the op is an affine map of the input.
    Eval,
}

/// A recorded op. Indices and labels are plain `usize`s; targets of losses are constants.
pub(crate) enum Op {
    Add(Var, Var),
    Sub(Var, Var),
    Mul(Var, Var),
    Div(Var, Var),
    Neg(Var),
    AddScalar(Var),
    MulScalar(Var, f32),
    PowScalar(Var, f32),
    Exp(Var),
    Ln(Var),
    Sqrt(Var),
    Abs(Var),
    Clamp(Var, f32, f32),
    Sum(Var, Vec<usize>),
    Mean(Var, Vec<usize>),
    SumAll(Var),
    MeanAll(Var),
    /// Max or min along one axis: the gradient goes to `index` (the first extremum).
    Extremum {
        x: Var,
        axis: usize,
        index: Vec<usize>,
    },
    Variance {
        x: Var,
        axes: Vec<usize>,
        unbiased: bool,
    },
    Reshape(Var),
    Permute(Var, Vec<usize>),
    Narrow {
        x: Var,
        axis: usize,
        start: usize,
    },
    Cat(Vec<Var>, usize),
    Gather {
        x: Var,
        axis: usize,
        index: Vec<usize>,
    },
    IndexSelect {
        x: Var,
        axis: usize,
        index: Vec<usize>,
    },
    BroadcastTo(Var),
    Matmul(Var, Var),
    Linear(Var, Var, Option<Var>),
    Conv2d {
        x: Var,
        weight: Var,
        bias: Option<Var>,
        stride: usize,
        padding: usize,
        /// Max pooling applied in the same op, whose input (the convolution's output) is
        /// then never kept.
        pool: Option<PoolAfter>,
    },
    MaxPool2d {
        x: Var,
        window: PoolWindow,
        argmax: Vec<u32>,
    },
    AvgPool2d {
        x: Var,
        window: PoolWindow,
    },
    GlobalAvgPool(Var),
    ShortcutPad {
        x: Var,
        stride: usize,
    },
    Sigmoid(Var),
    Tanh(Var),
    Relu(Var),
    Gelu(Var),
    LeakyRelu(Var, f32),
    Prelu(Var, Var),
    Elu(Var, f32),
    Selu(Var),
    Softplus(Var, f32),
    Maxout {
        x: Var,
        pieces: usize,
        argmax: Vec<usize>,
    },
    Softmax(Var, usize),
    LogSoftmax(Var, usize),
    Mse(Var, Tensor),
    BceWithLogits(Var, Tensor),
    /// Cross-entropy from logits; `probs` is the softmax cached in forward, `smoothing` the
    /// label-smoothing factor (0 for none).
    CrossEntropy {
        logits: Var,
        labels: Vec<usize>,
        probs: Tensor,
        smoothing: f32,
    },
    /// Multiclass hinge, `sum_{j != y} max(0, margin + s_j - s_y) / divisor`, averaged over
    /// samples; `active` marks the positive margins (computed in forward).
    MulticlassHinge {
        scores: Var,
        labels: Vec<usize>,
        active: Tensor,
        divisor: f32,
    },
    BinaryHinge {
        x: Var,
        target: Tensor,
    },
    BatchNorm {
        x: Var,
        gamma: Var,
        beta: Var,
        /// The mean the input was normalised with, `[C]`.
        mean: Tensor,
        /// `1 / sqrt(var + eps)` per channel, shaped for broadcasting.
        inv_std: Tensor,
        axes: Vec<usize>,
        mode: NormMode,
        /// The activation applied to the output in the same pass, if any.
        activation: Option<NormActivation>,
    },
    Dropout(Var, Tensor),
}

/// The max pooling a [`Op::Conv2d`] applies to its output: the window, the winners' positions
/// and the shape of the (discarded) convolution output.
pub(crate) struct PoolAfter {
    pub(crate) window: PoolWindow,
    pub(crate) argmax: Vec<u32>,
    pub(crate) conv_shape: Vec<usize>,
}

impl Op {
    /// The op's name, for messages.
    pub(crate) fn name(&self) -> &'static str {
        use Op::*;
        match self {
            Add(..) => "add",
            Sub(..) => "sub",
            Mul(..) => "mul",
            Div(..) => "div",
            Neg(..) => "neg",
            AddScalar(..) => "add_scalar",
            MulScalar(..) => "mul_scalar",
            PowScalar(..) => "powf",
            Exp(..) => "exp",
            Ln(..) => "ln",
            Sqrt(..) => "sqrt",
            Abs(..) => "abs",
            Clamp(..) => "clamp",
            Sum(..) | SumAll(..) => "sum",
            Mean(..) | MeanAll(..) => "mean",
            Extremum { .. } => "max/min",
            Variance { .. } => "var",
            Reshape(..) => "reshape",
            Permute(..) => "permute",
            Narrow { .. } => "narrow",
            Cat(..) => "cat",
            Gather { .. } => "gather",
            IndexSelect { .. } => "index_select",
            BroadcastTo(..) => "broadcast_to",
            Matmul(..) => "matmul",
            Linear(..) => "linear",
            Conv2d { pool: None, .. } => "conv2d",
            Conv2d { pool: Some(_), .. } => "conv2d_max_pool2d",
            MaxPool2d { .. } => "max_pool2d",
            AvgPool2d { .. } => "avg_pool2d",
            GlobalAvgPool(..) => "global_avg_pool",
            ShortcutPad { .. } => "shortcut_pad",
            Sigmoid(..) => "sigmoid",
            Tanh(..) => "tanh",
            Relu(..) => "relu",
            Gelu(..) => "gelu",
            LeakyRelu(..) => "leaky_relu",
            Prelu(..) => "prelu",
            Elu(..) => "elu",
            Selu(..) => "selu",
            Softplus(..) => "softplus",
            Maxout { .. } => "maxout",
            Softmax(..) => "softmax",
            LogSoftmax(..) => "log_softmax",
            Mse(..) => "mse",
            BceWithLogits(..) => "bce_with_logits",
            CrossEntropy { .. } => "cross_entropy",
            MulticlassHinge { .. } => "multiclass_hinge",
            BinaryHinge { .. } => "binary_hinge",
            BatchNorm {
                activation: Some(NormActivation::Relu),
                ..
            } => "batch_norm_relu",
            BatchNorm {
                activation: Some(NormActivation::Gelu),
                ..
            } => "batch_norm_gelu",
            BatchNorm { .. } => "batch_norm",
            Dropout(..) => "dropout",
        }
    }

    /// The inputs, in the order [`super::backprop`] returns their gradients.
    pub(crate) fn inputs(&self) -> Vec<&Var> {
        use Op::*;
        match self {
            Add(a, b) | Sub(a, b) | Mul(a, b) | Div(a, b) | Matmul(a, b) | Prelu(a, b) => {
                vec![a, b]
            }
            Neg(x)
            | AddScalar(x)
            | MulScalar(x, _)
            | PowScalar(x, _)
            | Exp(x)
            | Ln(x)
            | Sqrt(x)
            | Abs(x)
            | Clamp(x, ..)
            | Sum(x, _)
            | Mean(x, _)
            | SumAll(x)
            | MeanAll(x)
            | Reshape(x)
            | Permute(x, _)
            | BroadcastTo(x)
            | Sigmoid(x)
            | Tanh(x)
            | Relu(x)
            | Gelu(x)
            | GlobalAvgPool(x)
            | LeakyRelu(x, _)
            | Elu(x, _)
            | Selu(x)
            | Softplus(x, _)
            | Softmax(x, _)
            | LogSoftmax(x, _)
            | Mse(x, _)
            | BceWithLogits(x, _)
            | Dropout(x, _) => vec![x],
            Extremum { x, .. }
            | Variance { x, .. }
            | Narrow { x, .. }
            | Gather { x, .. }
            | IndexSelect { x, .. }
            | MaxPool2d { x, .. }
            | AvgPool2d { x, .. }
            | ShortcutPad { x, .. }
            | Maxout { x, .. }
            | BinaryHinge { x, .. } => vec![x],
            CrossEntropy { logits, .. } => vec![logits],
            MulticlassHinge { scores, .. } => vec![scores],
            Cat(xs, _) => xs.iter().collect(),
            Linear(x, w, b) => [Some(x), Some(w), b.as_ref()]
                .into_iter()
                .flatten()
                .collect(),
            Conv2d {
                x, weight, bias, ..
            } => [Some(x), Some(weight), bias.as_ref()]
                .into_iter()
                .flatten()
                .collect(),
            BatchNorm { x, gamma, beta, .. } => vec![x, gamma, beta],
        }
    }
}
