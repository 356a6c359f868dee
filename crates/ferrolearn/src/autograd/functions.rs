//! The differentiable ops on [`Var`]: each computes its value with the tensor kernels and
//! records an [`Op`] holding what its backward rule needs.

use std::ops;

use rand::Rng;

use super::op::{NormMode, Op};
use super::var::Var;
use crate::tensor::kernels::NormActivation;
use crate::tensor::{storage, ShapeError, Tensor};

/// SELU's alpha (Klambauer et al. 2017), as in PyTorch.
pub const SELU_ALPHA: f32 = 1.673_263_2;
/// SELU's scale (Klambauer et al. 2017), as in PyTorch.
pub const SELU_SCALE: f32 = 1.050_701;
/// Above `beta * x` of this, softplus returns `x` (PyTorch's threshold).
const SOFTPLUS_THRESHOLD: f32 = 20.0;

/// Numerically stable logistic function.
pub(crate) fn stable_sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The shape PReLU's per-channel alpha `[C]` broadcasts as against an input of `x_shape`
/// (channels on axis 1): `[1, C, 1, ...]`.
pub(crate) fn prelu_alpha_shape(x_shape: &[usize]) -> Vec<usize> {
    let mut shape = vec![1; x_shape.len()];
    if x_shape.len() > 1 {
        shape[1] = x_shape[1];
    }
    shape
}

impl Var {
    /// `self + other`, broadcasting.
    pub fn add(&self, other: &Var) -> Var {
        Var::from_op(
            self.value().add(other.value()),
            Op::Add(self.clone(), other.clone()),
        )
    }

    /// `self - other`, broadcasting.
    pub fn sub(&self, other: &Var) -> Var {
        Var::from_op(
            self.value().sub(other.value()),
            Op::Sub(self.clone(), other.clone()),
        )
    }

    /// `self * other` elementwise, broadcasting.
    pub fn mul(&self, other: &Var) -> Var {
        Var::from_op(
            self.value().mul(other.value()),
            Op::Mul(self.clone(), other.clone()),
        )
    }

    /// `self / other` elementwise, broadcasting.
    pub fn div(&self, other: &Var) -> Var {
        Var::from_op(
            self.value().div(other.value()),
            Op::Div(self.clone(), other.clone()),
        )
    }

    /// `-self`.
    pub fn neg(&self) -> Var {
        Var::from_op(self.value().neg(), Op::Neg(self.clone()))
    }

    /// `self + s`.
    pub fn add_scalar(&self, s: f32) -> Var {
        Var::from_op(self.value().add_scalar(s), Op::AddScalar(self.clone()))
    }

    /// `self * s`.
    pub fn mul_scalar(&self, s: f32) -> Var {
        Var::from_op(self.value().mul_scalar(s), Op::MulScalar(self.clone(), s))
    }

    /// `self ^ p` elementwise.
    pub fn powf(&self, p: f32) -> Var {
        Var::from_op(self.value().powf(p), Op::PowScalar(self.clone(), p))
    }

    /// `e^self`.
    pub fn exp(&self) -> Var {
        Var::from_op(self.value().exp(), Op::Exp(self.clone()))
    }

    /// Natural logarithm.
    pub fn ln(&self) -> Var {
        Var::from_op(self.value().ln(), Op::Ln(self.clone()))
    }

    /// Square root.
    pub fn sqrt(&self) -> Var {
        Var::from_op(self.value().sqrt(), Op::Sqrt(self.clone()))
    }

    /// Absolute value (gradient sign(x), 0 at 0).
    pub fn abs(&self) -> Var {
        Var::from_op(self.value().abs(), Op::Abs(self.clone()))
    }

    /// Clamps into `[min, max]`; the gradient is 1 inside the range, 0 outside.
    pub fn clamp(&self, min: f32, max: f32) -> Var {
        Var::from_op(
            self.value().clamp(min, max),
            Op::Clamp(self.clone(), min, max),
        )
    }

    /// Sum over `axes`, dropping them.
    pub fn sum_axes(&self, axes: &[usize]) -> Var {
        Var::from_op(
            self.value().sum_axes(axes, false),
            Op::Sum(self.clone(), axes.to_vec()),
        )
    }

    /// Mean over `axes`, dropping them.
    pub fn mean_axes(&self, axes: &[usize]) -> Var {
        Var::from_op(
            self.value().mean_axes(axes, false),
            Op::Mean(self.clone(), axes.to_vec()),
        )
    }

    /// Sum of all elements (a scalar).
    pub fn sum(&self) -> Var {
        Var::from_op(self.value().sum_all(), Op::SumAll(self.clone()))
    }

    /// Mean of all elements (a scalar).
    pub fn mean(&self) -> Var {
        Var::from_op(self.value().mean_all(), Op::MeanAll(self.clone()))
    }

    /// Maximum along `axis` (dropped); the gradient goes to the first maximal element.
    pub fn max_axis(&self, axis: usize) -> Var {
        let value = self.value().max_axis(axis, false);
        let index = self.value().argmax_axis(axis);
        Var::from_op(
            value,
            Op::Extremum {
                x: self.clone(),
                axis,
                index,
            },
        )
    }

    /// Minimum along `axis` (dropped); the gradient goes to the first minimal element.
    pub fn min_axis(&self, axis: usize) -> Var {
        let value = self.value().min_axis(axis, false);
        let index = self.value().neg().argmax_axis(axis);
        Var::from_op(
            value,
            Op::Extremum {
                x: self.clone(),
                axis,
                index,
            },
        )
    }

    /// Variance over `axes` (dropped), unbiased (`m - 1`) or biased (`m`).
    pub fn var_axes(&self, axes: &[usize], unbiased: bool) -> Var {
        let value = self.value().var_axes(axes, unbiased, false);
        let op = Op::Variance {
            x: self.clone(),
            axes: axes.to_vec(),
            unbiased,
        };
        Var::from_op(value, op)
    }

    /// The same elements under a new shape.
    pub fn reshape(&self, shape: &[usize]) -> Var {
        Var::from_op(self.value().reshape(shape), Op::Reshape(self.clone()))
    }

    /// `[N, ...]` flattened to `[N, rest]`.
    pub fn flatten(&self) -> Var {
        let n = self.shape().first().copied().unwrap_or(1);
        let rest = self.value().numel().checked_div(n).unwrap_or(0);
        self.reshape(&[n, rest])
    }

    /// Reorders dimensions (output dim `i` is input dim `perm[i]`).
    pub fn permute(&self, perm: &[usize]) -> Var {
        Var::from_op(
            self.value().permute(perm),
            Op::Permute(self.clone(), perm.to_vec()),
        )
    }

    /// Swaps two dimensions.
    pub fn transpose(&self, a: usize, b: usize) -> Var {
        let mut perm: Vec<usize> = (0..self.shape().len()).collect();
        if a < perm.len() && b < perm.len() {
            perm.swap(a, b);
        }
        self.permute(&perm)
    }

    /// The slice `start..start + len` of `axis`.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Var {
        let op = Op::Narrow {
            x: self.clone(),
            axis,
            start,
        };
        Var::from_op(self.value().narrow(axis, start, len), op)
    }

    /// Concatenates along `axis`.
    pub fn cat(vars: &[Var], axis: usize) -> Var {
        let values: Vec<Tensor> = vars.iter().map(|v| v.value().clone()).collect();
        Var::from_op(Tensor::cat(&values, axis), Op::Cat(vars.to_vec(), axis))
    }

    /// One element along `axis` per position of the other dims (see [`Tensor::gather`]).
    pub fn gather(&self, axis: usize, index: &[usize]) -> Var {
        let op = Op::Gather {
            x: self.clone(),
            axis,
            index: index.to_vec(),
        };
        Var::from_op(self.value().gather(axis, index), op)
    }

    /// The entries `index` of `axis`, in order; repeated entries get summed gradients.
    pub fn index_select(&self, axis: usize, index: &[usize]) -> Var {
        let op = Op::IndexSelect {
            x: self.clone(),
            axis,
            index: index.to_vec(),
        };
        Var::from_op(self.value().index_select(axis, index), op)
    }

    /// Broadcasts to `shape`, materialised.
    pub fn broadcast_to(&self, shape: &[usize]) -> Var {
        Var::from_op(
            self.value().broadcast_to(shape),
            Op::BroadcastTo(self.clone()),
        )
    }

    /// Matrix product (2-d, or batched 3-d with a shared 2-d operand).
    pub fn matmul(&self, other: &Var) -> Var {
        Var::from_op(
            self.value().matmul(other.value()),
            Op::Matmul(self.clone(), other.clone()),
        )
    }

    /// The affine map `x W^T + b` of a linear layer.
    ///
    /// # Shapes
    /// `x [N, in]`, `weight [out, in]` (PyTorch layout), `bias [out]` -> `[N, out]`.
    pub fn linear(&self, weight: &Var, bias: Option<&Var>) -> Var {
        let mut y = self.value().matmul_t(weight.value(), false, true);
        if let Some(b) = bias {
            if b.shape() != [weight.shape()[0]] {
                ShapeError::new(
                    "linear",
                    format!(
                        "bias {:?} does not match weight {:?}",
                        b.shape(),
                        weight.shape()
                    ),
                )
                .raise();
            }
            y = y.add(b.value());
        }
        Var::from_op(y, Op::Linear(self.clone(), weight.clone(), bias.cloned()))
    }

    /// 2-d cross-correlation with zero padding, as PyTorch's `conv2d` (dilation 1, groups 1).
    ///
    /// # Shapes
    /// `x [N, Cin, H, W]`, `weight [Cout, Cin, kH, kW]`, `bias [Cout]` ->
    /// `[N, Cout, (H + 2p - kH)/s + 1, (W + 2p - kW)/s + 1]`.
    pub fn conv2d(&self, weight: &Var, bias: Option<&Var>, stride: usize, padding: usize) -> Var {
        let value = self
            .value()
            .conv2d(weight.value(), bias.map(Var::value), stride, padding);
        let op = Op::Conv2d {
            x: self.clone(),
            weight: weight.clone(),
            bias: bias.cloned(),
            stride,
            padding,
            pool: None,
        };
        Var::from_op(value, op)
    }

    /// Logistic sigmoid, computed without overflow for large |x|.
    pub fn sigmoid(&self) -> Var {
        Var::from_op(self.value().map(stable_sigmoid), Op::Sigmoid(self.clone()))
    }

    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Var {
        Var::from_op(self.value().map(f32::tanh), Op::Tanh(self.clone()))
    }

    /// `max(x, 0)`.
    pub fn relu(&self) -> Var {
        Var::from_op(self.value().map(|x| x.max(0.0)), Op::Relu(self.clone()))
    }

    /// GELU, `x * Phi(x)` (the exact erf form, as PyTorch's `nn.GELU()`).
    pub fn gelu(&self) -> Var {
        Var::from_op(self.value().gelu(), Op::Gelu(self.clone()))
    }

    /// `x` for positive inputs, `slope * x` otherwise.
    pub fn leaky_relu(&self, slope: f32) -> Var {
        let value = self.value().map(|x| if x > 0.0 { x } else { slope * x });
        Var::from_op(value, Op::LeakyRelu(self.clone(), slope))
    }

    /// PReLU: a learned slope per channel (axis 1) for negative inputs.
    ///
    /// # Shapes
    /// `x [N, C, ...]`, `alpha [C]` -> like `x`.
    pub fn prelu(&self, alpha: &Var) -> Var {
        let shape = prelu_alpha_shape(self.shape());
        if alpha.shape() != [shape.get(1).copied().unwrap_or(1)] {
            ShapeError::new(
                "prelu",
                format!(
                    "alpha {:?} does not match input {:?} (one alpha per channel on axis 1)",
                    alpha.shape(),
                    self.shape()
                ),
            )
            .raise();
        }
        let a = alpha.value().reshape(&shape);
        let value = self
            .value()
            .zip_broadcast(&a, "prelu", |x, a| if x > 0.0 { x } else { a * x });
        Var::from_op(value, Op::Prelu(self.clone(), alpha.clone()))
    }

    /// ELU: `x` for positive inputs, `alpha * (e^x - 1)` otherwise.
    pub fn elu(&self, alpha: f32) -> Var {
        let value = self
            .value()
            .map(|x| if x > 0.0 { x } else { alpha * x.exp_m1() });
        Var::from_op(value, Op::Elu(self.clone(), alpha))
    }

    /// SELU: `scale * elu(x, alpha)` with the self-normalising constants.
    pub fn selu(&self) -> Var {
        let value = self
            .value()
            .map(|x| SELU_SCALE * if x > 0.0 { x } else { SELU_ALPHA * x.exp_m1() });
        Var::from_op(value, Op::Selu(self.clone()))
    }

    /// Softplus `ln(1 + e^(beta x)) / beta`, returning `x` where `beta x > 20` (as PyTorch).
    pub fn softplus(&self, beta: f32) -> Var {
        let value = self.value().map(|x| {
            let bx = beta * x;
            if bx > SOFTPLUS_THRESHOLD {
                x
            } else {
                (bx.max(0.0) + (-bx.abs()).exp().ln_1p()) / beta
            }
        });
        Var::from_op(value, Op::Softplus(self.clone(), beta))
    }

    /// Maxout: the maximum of each group of `pieces` consecutive features.
    ///
    /// # Shapes
    /// `[N, J * pieces]` -> `[N, J]`.
    pub fn maxout(&self, pieces: usize) -> Var {
        let shape = self.shape();
        if shape.len() != 2 || pieces == 0 || !shape[1].is_multiple_of(pieces) {
            ShapeError::new(
                "maxout",
                format!("input {shape:?} is not [N, J * {pieces}]"),
            )
            .raise();
        }
        let groups = self.value().numel() / pieces;
        let mut value = Vec::with_capacity(groups);
        let mut argmax = Vec::with_capacity(groups);
        for group in self.value().data().chunks_exact(pieces) {
            let (best, v) =
                group
                    .iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |acc, (i, &v)| {
                        if v > acc.1 || i == 0 {
                            (i, v)
                        } else {
                            acc
                        }
                    });
            value.push(v);
            argmax.push(best);
        }
        let out = Tensor::from_vec(value, &[shape[0], shape[1] / pieces]);
        Var::from_op(
            out,
            Op::Maxout {
                x: self.clone(),
                pieces,
                argmax,
            },
        )
    }

    /// Softmax along `axis`, shifted by the maximum so large logits do not overflow.
    pub fn softmax(&self, axis: usize) -> Var {
        let x = self.value();
        let shifted = x.sub(&x.max_axis(axis, true));
        let e = shifted.exp();
        let value = e.div(&e.sum_axes(&[axis], true));
        Var::from_op(value, Op::Softmax(self.clone(), axis))
    }

    /// Log-softmax along `axis` via log-sum-exp.
    pub fn log_softmax(&self, axis: usize) -> Var {
        let x = self.value();
        let shifted = x.sub(&x.max_axis(axis, true));
        let lse = shifted.exp().sum_axes(&[axis], true).ln();
        Var::from_op(shifted.sub(&lse), Op::LogSoftmax(self.clone(), axis))
    }

    /// Inverted dropout: in training, zeroes each element with probability `p` and scales
    /// the rest by `1 / (1 - p)`; the identity otherwise.
    pub fn dropout(&self, p: f32, training: bool, rng: &mut impl Rng) -> Var {
        if !training || p == 0.0 {
            return self.clone();
        }
        let keep = 1.0 - p;
        let mask: Vec<f32> = (0..self.value().numel())
            .map(|_| {
                if rng.gen::<f32>() < keep {
                    1.0 / keep
                } else {
                    0.0
                }
            })
            .collect();
        let mask = Tensor::from_vec(mask, self.shape());
        Var::from_op(self.value().mul(&mask), Op::Dropout(self.clone(), mask))
    }
}

/// Batch normalisation over every axis but 1 (`[N, D]` or `[N, C, H, W]`), as PyTorch's
/// `batch_norm`.
///
/// In training mode it normalises with the batch mean and biased variance and updates the
/// running statistics in place: `running = (1 - momentum) * running + momentum * batch`, with
/// the unbiased variance for `running_var`. In eval mode it uses the running statistics.
///
/// # Shapes
/// `x [N, C, ...]`, `gamma`, `beta`, `running_mean`, `running_var` all `[C]` -> like `x`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    x: &Var,
    gamma: &Var,
    beta: &Var,
    running_mean: &mut Tensor,
    running_var: &mut Tensor,
    training: bool,
    momentum: f32,
    eps: f32,
) -> Var {
    let stats = (running_mean, running_var, training, momentum, eps);
    batch_norm_activation(x, gamma, beta, stats, None)
}

/// Running statistics, training flag, momentum and eps of a batch norm call.
pub type NormStats<'a> = (&'a mut Tensor, &'a mut Tensor, bool, f32, f32);

/// [`batch_norm`] (its statistics and options in `stats`) followed by the activation `act`
/// (`.relu()`, `.gelu()`) in one pass forward and one backward, with no tensor in between:
/// what `Sequential` runs for a batch norm layer followed by that activation.
///
/// # Shapes
/// As [`batch_norm`].
pub fn batch_norm_activation(
    x: &Var,
    gamma: &Var,
    beta: &Var,
    stats: NormStats,
    act: Option<NormActivation>,
) -> Var {
    let (running_mean, running_var, training, momentum, eps) = stats;
    let shape = x.shape().to_vec();
    if shape.len() < 2 {
        ShapeError::new("batch_norm", format!("input {shape:?} has no channel axis")).raise();
    }
    let c = shape[1];
    for (name, t) in [
        ("gamma", gamma.value()),
        ("beta", beta.value()),
        ("running_mean", &*running_mean),
        ("running_var", &*running_var),
    ] {
        if t.shape() != [c] {
            ShapeError::new(
                "batch_norm",
                format!(
                    "{name} {:?} does not match input {shape:?}: expected [{c}]",
                    t.shape()
                ),
            )
            .raise();
        }
    }
    let axes: Vec<usize> = (0..shape.len()).filter(|&a| a != 1).collect();
    let mut param_shape = vec![1; shape.len()];
    param_shape[1] = c;
    // The kernels see the data as [N, C, inner]; statistics and normalisation run in one
    // parallel pass each (crate::tensor::kernels::batch_norm).
    let inner: usize = shape[2..].iter().product();
    let (mean, var, mode) = if training {
        let (mut mean, mut var) = (vec![0.0; c], vec![0.0; c]);
        crate::tensor::kernels::batch_norm_stats(x.value().data(), c, inner, &mut mean, &mut var);
        let m: usize = axes.iter().map(|&a| shape[a]).product();
        let (mean, var) = (Tensor::from_vec(mean, &[c]), Tensor::from_vec(var, &[c]));
        let unbiased = var.mul_scalar(m as f32 / (m.max(2) - 1) as f32);
        *running_mean = running_mean
            .mul_scalar(1.0 - momentum)
            .add(&mean.mul_scalar(momentum));
        *running_var = running_var
            .mul_scalar(1.0 - momentum)
            .add(&unbiased.mul_scalar(momentum));
        (mean, var, NormMode::Training)
    } else {
        (running_mean.clone(), running_var.clone(), NormMode::Eval)
    };
    let inv_std: Vec<f32> = var.data().iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let mut y = storage::take(x.value().numel());
    crate::tensor::kernels::batch_norm_forward(
        x.value().data(),
        c,
        inner,
        mean.data(),
        &inv_std,
        gamma.value().data(),
        beta.value().data(),
        act,
        &mut y,
    );
    let y = Tensor::from_vec(y, &shape);
    let inv_std = Tensor::from_vec(inv_std, &param_shape);
    let op = Op::BatchNorm {
        x: x.clone(),
        gamma: gamma.clone(),
        beta: beta.clone(),
        mean,
        inv_std,
        axes,
        mode,
        activation: act,
    };
    Var::from_op(y, op)
}

macro_rules! binary_operator {
    ($trait:ident, $method:ident) => {
        impl ops::$trait<&Var> for &Var {
            type Output = Var;
            fn $method(self, rhs: &Var) -> Var {
                Var::$method(self, rhs)
            }
        }
    };
}

binary_operator!(Add, add);
binary_operator!(Sub, sub);
binary_operator!(Mul, mul);
binary_operator!(Div, div);

impl ops::Neg for &Var {
    type Output = Var;
    fn neg(self) -> Var {
        Var::neg(self)
    }
}
