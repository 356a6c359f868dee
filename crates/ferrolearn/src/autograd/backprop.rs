//! Reverse mode: [`Var::backward`] sorts the graph once and walks it in reverse, turning each
//! node's upstream gradient into gradients for its inputs. Every backward rule is in
//! [`input_grads`], one arm per op.

use std::collections::{HashMap, HashSet};

use super::op::{NormMode, Op};
use super::var::{Var, VarId};
use crate::tensor::special::gelu_derivative;
use crate::tensor::{storage, ShapeError, Tensor};

/// Gradients of a scalar with respect to the leaves that require them, keyed by [`VarId`].
#[derive(Debug, Default)]
pub struct Gradients(HashMap<VarId, Tensor>);

impl Gradients {
    /// The gradient for `var`, if it was reached.
    pub fn get(&self, var: &Var) -> Option<&Tensor> {
        self.0.get(&var.id())
    }

    /// The gradient for the variable with id `id`.
    pub fn get_id(&self, id: VarId) -> Option<&Tensor> {
        self.0.get(&id)
    }

    /// Removes and returns the gradient for `id` (no copy).
    pub fn take(&mut self, id: VarId) -> Option<Tensor> {
        self.0.remove(&id)
    }

    /// The number of gradients held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no gradient was computed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Var {
    /// Gradients of this scalar with respect to every leaf that requires grad.
    ///
    /// # Panics
    /// With a [`ShapeError`] when `self` holds more than one element.
    pub fn backward(&self) -> Gradients {
        if self.value().numel() != 1 {
            ShapeError::new(
                "backward",
                format!("needs a scalar, got shape {:?}", self.shape()),
            )
            .raise();
        }
        self.backward_with(Tensor::ones(self.shape()))
    }

    /// Gradients of `sum(self * upstream)`: backpropagates a given upstream gradient.
    pub fn backward_with(&self, upstream: Tensor) -> Gradients {
        if upstream.shape() != self.shape() {
            ShapeError::new(
                "backward",
                format!(
                    "upstream {:?} does not match output {:?}",
                    upstream.shape(),
                    self.shape()
                ),
            )
            .raise();
        }
        let mut grads: HashMap<VarId, Tensor> = HashMap::new();
        if !self.requires_grad() {
            return Gradients(grads);
        }
        grads.insert(self.id(), upstream);
        for node in topological_order(self).into_iter().rev() {
            let Some(op) = node.op() else { continue };
            // Interior gradients are consumed here; only leaves' gradients are returned.
            let Some(grad) = grads.remove(&node.id()) else {
                continue;
            };
            let inputs = op.inputs();
            let input_grads = input_grads(op, node.value(), &grad);
            debug_assert_eq!(inputs.len(), input_grads.len());
            for (input, g) in inputs.into_iter().zip(input_grads) {
                let Some(g) = g else { continue };
                if !input.requires_grad() {
                    continue;
                }
                debug_assert_eq!(g.shape(), input.shape(), "gradient shape of {}", op.name());
                // Fan-out: a value used several times receives the sum of its gradients.
                match grads.remove(&input.id()) {
                    Some(prev) => grads.insert(input.id(), prev.add(&g)),
                    None => grads.insert(input.id(), g),
                };
            }
        }
        Gradients(grads)
    }
}

/// Nodes that lead to `root` through gradient-requiring paths, each after all its inputs.
fn topological_order(root: &Var) -> Vec<Var> {
    let mut order = Vec::new();
    let mut visited = HashSet::new();
    // Iterative DFS: (node, inputs already pushed).
    let mut stack = vec![(root.clone(), false)];
    while let Some((node, expanded)) = stack.pop() {
        if expanded {
            order.push(node);
            continue;
        }
        if !visited.insert(node.id()) {
            continue;
        }
        stack.push((node.clone(), true));
        if let Some(op) = node.op() {
            for input in op.inputs() {
                if input.requires_grad() && !visited.contains(&input.id()) {
                    stack.push((input.clone(), false));
                }
            }
        }
    }
    order
}

/// `g * f'(x)` for an elementwise op whose derivative is a function of the input `x`.
fn chain_input(x: &Var, g: &Tensor, df: impl Fn(f32) -> f32 + Sync) -> Tensor {
    x.value().zip_same(g, "backward", |x, g| g * df(x))
}

/// `g * f'(y)` for an elementwise op whose derivative is a function of its output `y`.
fn chain_output(y: &Tensor, g: &Tensor, df: impl Fn(f32) -> f32 + Sync) -> Tensor {
    y.zip_same(g, "backward", |y, g| g * df(y))
}

/// The gradient of each input of `op` (in [`Op::inputs`] order) given the node's output
/// `out` and the upstream gradient `g` (same shape as `out`).
fn input_grads(op: &Op, out: &Tensor, g: &Tensor) -> Vec<Option<Tensor>> {
    use Op::*;
    let unbroadcast = |t: Tensor, v: &Var| t.sum_to_shape(v.shape());
    match op {
        Add(a, b) => vec![
            Some(unbroadcast(g.clone(), a)),
            Some(unbroadcast(g.clone(), b)),
        ],
        Sub(a, b) => vec![
            Some(unbroadcast(g.clone(), a)),
            Some(unbroadcast(g.neg(), b)),
        ],
        Mul(a, b) => vec![
            Some(unbroadcast(g.mul(b.value()), a)),
            Some(unbroadcast(g.mul(a.value()), b)),
        ],
        Div(a, b) => {
            let ga = g.div(b.value());
            let gb = ga.mul(out).neg();
            vec![Some(unbroadcast(ga, a)), Some(unbroadcast(gb, b))]
        }
        Neg(_) => vec![Some(g.neg())],
        AddScalar(_) => vec![Some(g.clone())],
        MulScalar(_, s) => vec![Some(g.mul_scalar(*s))],
        PowScalar(x, p) => {
            let p = *p;
            vec![Some(chain_input(x, g, |x| p * x.powf(p - 1.0)))]
        }
        Exp(_) => vec![Some(chain_output(out, g, |y| y))],
        Ln(x) => vec![Some(chain_input(x, g, |x| 1.0 / x))],
        Sqrt(_) => vec![Some(chain_output(out, g, |y| 0.5 / y))],
        Abs(x) => vec![Some(chain_input(x, g, f32::signum))],
        Clamp(x, lo, hi) => {
            let (lo, hi) = (*lo, *hi);
            vec![Some(chain_input(x, g, |x| f32::from(x >= lo && x <= hi)))]
        }
        Sum(x, axes) => vec![Some(expand_reduced(g, x.shape(), axes))],
        Mean(x, axes) => {
            let count: usize = axes.iter().map(|&a| x.shape()[a]).product();
            vec![Some(
                expand_reduced(g, x.shape(), axes).mul_scalar(1.0 / count as f32),
            )]
        }
        SumAll(x) => vec![Some(Tensor::full(x.shape(), g.item()))],
        MeanAll(x) => {
            let n = x.value().numel() as f32;
            vec![Some(Tensor::full(x.shape(), g.item() / n))]
        }
        Extremum { x, axis, index } => {
            vec![Some(g.scatter(x.shape(), *axis, index))]
        }
        Variance { x, axes, unbiased } => {
            let m: usize = axes.iter().map(|&a| x.shape()[a]).product();
            let denom = if *unbiased { m - 1 } else { m } as f32;
            let centred = x.value().sub(&x.value().mean_axes(axes, true));
            let g = expand_reduced(g, x.shape(), axes);
            vec![Some(centred.mul(&g).mul_scalar(2.0 / denom))]
        }
        Reshape(x) => vec![Some(g.reshape(x.shape()))],
        BroadcastTo(x) => vec![Some(g.sum_to_shape(x.shape()))],
        Permute(_, perm) => {
            let mut inverse = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i;
            }
            vec![Some(g.permute(&inverse))]
        }
        Narrow { x, axis, start } => {
            let before = *start;
            let after = x.shape()[*axis] - start - g.shape()[*axis];
            let mut parts = Vec::new();
            let pad = |n: usize| {
                let mut s = x.shape().to_vec();
                s[*axis] = n;
                Tensor::zeros(&s)
            };
            if before > 0 {
                parts.push(pad(before));
            }
            parts.push(g.clone());
            if after > 0 {
                parts.push(pad(after));
            }
            vec![Some(Tensor::cat(&parts, *axis))]
        }
        Cat(xs, axis) => {
            let mut start = 0;
            xs.iter()
                .map(|x| {
                    let len = x.shape()[*axis];
                    let part = g.narrow(*axis, start, len);
                    start += len;
                    Some(part)
                })
                .collect()
        }
        Gather { x, axis, index } => vec![Some(g.scatter(x.shape(), *axis, index))],
        IndexSelect { x, axis, index } => vec![Some(index_add(g, x.shape(), *axis, index))],
        Matmul(a, b) => {
            let ga = a
                .requires_grad()
                .then(|| g.matmul_t(b.value(), false, true).sum_to_shape(a.shape()));
            let gb = b
                .requires_grad()
                .then(|| a.value().matmul_t(g, true, false).sum_to_shape(b.shape()));
            vec![ga, gb]
        }
        Linear(x, w, b) => {
            // y = x W^T + b: dx = g W, dW = g^T x, db = sum over rows of g.
            let gx = x
                .requires_grad()
                .then(|| g.matmul_t(w.value(), false, false));
            let gw = w
                .requires_grad()
                .then(|| g.matmul_t(x.value(), true, false));
            let mut grads = vec![gx, gw];
            if b.is_some() {
                grads.push(Some(g.sum_axes(&[0], false)));
            }
            grads
        }
        Conv2d {
            x,
            weight,
            bias,
            stride,
            padding,
            pool,
        } => {
            let unpooled = pool
                .as_ref()
                .map(|p| Tensor::max_pool2d_backward(g, &p.argmax, &p.conv_shape, &p.window));
            let (gx, gw, gb) = Tensor::conv2d_backward(
                x.value(),
                weight.value(),
                unpooled.as_ref().unwrap_or(g),
                *stride,
                *padding,
                x.requires_grad(),
            );
            let mut grads = vec![gx, Some(gw)];
            if bias.is_some() {
                grads.push(Some(gb));
            }
            grads
        }
        MaxPool2d { x, window, argmax } => {
            vec![Some(Tensor::max_pool2d_backward(
                g,
                argmax,
                x.shape(),
                window,
            ))]
        }
        AvgPool2d { x, window } => {
            vec![Some(Tensor::avg_pool2d_backward(g, x.shape(), window))]
        }
        GlobalAvgPool(x) => {
            let s = x.shape();
            let hw = (s[2] * s[3]) as f32;
            let g = g.mul_scalar(1.0 / hw).reshape(&[s[0], s[1], 1, 1]);
            vec![Some(g.broadcast_to(s))]
        }
        ShortcutPad { x, stride } => {
            vec![Some(Tensor::shortcut_pad_backward(g, x.shape(), *stride))]
        }
        Sigmoid(_) => vec![Some(chain_output(out, g, |y| y * (1.0 - y)))],
        Tanh(_) => vec![Some(chain_output(out, g, |y| 1.0 - y * y))],
        Relu(x) => vec![Some(chain_input(x, g, |x| f32::from(x > 0.0)))],
        Gelu(x) => vec![Some(chain_input(x, g, gelu_derivative))],
        LeakyRelu(x, slope) => {
            let s = *slope;
            vec![Some(chain_input(x, g, |x| if x > 0.0 { 1.0 } else { s }))]
        }
        Prelu(x, alpha) => {
            let shape = super::functions::prelu_alpha_shape(x.shape());
            let a = alpha.value().reshape(&shape);
            let negative = x.value().map(|v| f32::from(v <= 0.0));
            // dx = g where x > 0, g * alpha elsewhere; dalpha = sum of g * x where x <= 0.
            let slope = negative.mul(&a.add_scalar(-1.0)).add_scalar(1.0);
            let gx = g.mul(&slope);
            let galpha = g
                .mul(x.value())
                .mul(&negative)
                .sum_to_shape(&shape)
                .reshape(alpha.shape());
            vec![Some(gx), Some(galpha)]
        }
        Elu(x, alpha) => {
            let a = *alpha;
            vec![Some(x.value().zip_same(g, "backward", |x, g| {
                if x > 0.0 {
                    g
                } else {
                    g * a * x.exp()
                }
            }))]
        }
        Selu(x) => {
            use super::functions::{SELU_ALPHA, SELU_SCALE};
            vec![Some(x.value().zip_same(g, "backward", |x, g| {
                if x > 0.0 {
                    g * SELU_SCALE
                } else {
                    g * SELU_SCALE * SELU_ALPHA * x.exp()
                }
            }))]
        }
        Softplus(x, beta) => {
            let b = *beta;
            vec![Some(chain_input(x, g, |x| 1.0 / (1.0 + (-b * x).exp())))]
        }
        Maxout { x, pieces, argmax } => {
            let k = *pieces;
            let mut gx = storage::zeroed(x.value().numel());
            for (j, (&gv, &p)) in g.data().iter().zip(argmax).enumerate() {
                gx[j * k + p] = gv;
            }
            vec![Some(Tensor::from_vec(gx, x.shape()))]
        }
        Softmax(_, axis) => {
            // dx = y * (g - sum(g * y)).
            let dot = g.mul(out).sum_axes(&[*axis], true);
            vec![Some(out.mul(&g.sub(&dot)))]
        }
        LogSoftmax(_, axis) => {
            // dx = g - softmax * sum(g).
            let total = g.sum_axes(&[*axis], true);
            vec![Some(g.sub(&out.exp().mul(&total)))]
        }
        Mse(x, target) => {
            let scale = 2.0 * g.item() / x.value().numel() as f32;
            vec![Some(
                x.value().zip_same(target, "mse", |x, t| scale * (x - t)),
            )]
        }
        BceWithLogits(x, target) => {
            let scale = g.item() / x.value().numel() as f32;
            vec![Some(x.value().zip_same(
                target,
                "bce_with_logits",
                |x, t| scale * (1.0 / (1.0 + (-x).exp()) - t),
            ))]
        }
        CrossEntropy {
            logits,
            labels,
            probs,
            smoothing,
        } => {
            // d = p - ((1 - eps) onehot + eps / C), scaled by g / N.
            let n = logits.shape()[0];
            let c = logits.shape()[1];
            let scale = g.item() / n as f32;
            let spread = smoothing / c as f32;
            let mut d = probs.data().to_vec();
            for (row, &y) in labels.iter().enumerate() {
                let r = &mut d[row * c..(row + 1) * c];
                if spread != 0.0 {
                    r.iter_mut().for_each(|v| *v -= spread);
                }
                r[y] -= 1.0 - smoothing;
            }
            d.iter_mut().for_each(|v| *v *= scale);
            vec![Some(Tensor::from_vec(d, logits.shape()))]
        }
        MulticlassHinge {
            scores,
            labels,
            active,
            divisor,
        } => {
            let (n, c) = (scores.shape()[0], scores.shape()[1]);
            let scale = g.item() / (n as f32 * divisor);
            let mut d = active.data().to_vec();
            for (row, &y) in labels.iter().enumerate() {
                let r = &mut d[row * c..(row + 1) * c];
                let count: f32 = r.iter().sum();
                r[y] = -count;
                r.iter_mut().for_each(|v| *v *= scale);
            }
            vec![Some(Tensor::from_vec(d, scores.shape()))]
        }
        BinaryHinge { x, target } => {
            let scale = g.item() / x.value().numel() as f32;
            vec![Some(x.value().zip_same(target, "binary_hinge", |x, t| {
                if 1.0 - t * x > 0.0 {
                    -t * scale
                } else {
                    0.0
                }
            }))]
        }
        BatchNorm {
            x,
            gamma,
            beta,
            mean,
            inv_std,
            axes,
            mode,
            activation,
        } => {
            // One parallel pass for the per-channel sums, one for grad_x
            // (crate::tensor::kernels::batch_norm); `axes` are 0 and the spatial axes.
            let shape = x.shape();
            let c = shape[1];
            let inner: usize = axes[1..].iter().map(|&a| shape[a]).product();
            let (mut gx, mut ggamma, mut gbeta) =
                (storage::take(g.numel()), vec![0.0; c], vec![0.0; c]);
            crate::tensor::kernels::batch_norm_backward(
                g.data(),
                x.value().data(),
                c,
                inner,
                mean.data(),
                inv_std.data(),
                gamma.value().data(),
                beta.value().data(),
                matches!(mode, NormMode::Training),
                *activation,
                &mut gx,
                &mut ggamma,
                &mut gbeta,
            );
            let gx = Tensor::from_vec(gx, shape);
            let ggamma = Tensor::from_vec(ggamma, gamma.shape());
            let gbeta = Tensor::from_vec(gbeta, beta.shape());
            vec![Some(gx), Some(ggamma), Some(gbeta)]
        }
        Dropout(_, mask) => vec![Some(g.mul(mask))],
    }
}

/// Re-inserts reduced `axes` (as size 1) into `g` and broadcasts it back to `shape`.
fn expand_reduced(g: &Tensor, shape: &[usize], axes: &[usize]) -> Tensor {
    let kept: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    g.reshape(&kept).broadcast_to(shape)
}

/// Adds the rows of `g` into a zero tensor of `shape` at positions `index` along `axis`
/// (repeated indices accumulate): the backward of index-select.
fn index_add(g: &Tensor, shape: &[usize], axis: usize, index: &[usize]) -> Tensor {
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let size = shape[axis];
    let mut out = storage::zeroed(shape.iter().product());
    let gd = g.data();
    for o in 0..outer {
        for (j, &k) in index.iter().enumerate() {
            let src = &gd[(o * index.len() + j) * inner..][..inner];
            let dst = &mut out[(o * size + k) * inner..][..inner];
            dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
        }
    }
    Tensor::from_vec(out, shape)
}
