//! Loss functions: each reduces to a scalar [`Var`] (the mean over samples) whose backward
//! rule is written directly, not composed from smaller ops.

use super::op::Op;
use super::var::Var;
use crate::tensor::{ShapeError, Tensor};

fn check_same(op: &'static str, input: &Var, target: &Tensor) {
    if input.shape() != target.shape() {
        ShapeError::new(
            op,
            format!(
                "input {:?} and target {:?} must have the same shape",
                input.shape(),
                target.shape()
            ),
        )
        .raise();
    }
}

/// Checks `[N, C]` scores against `N` labels in `0..C`.
fn check_labels(op: &'static str, scores: &Var, labels: &[usize]) -> (usize, usize) {
    let shape = scores.shape();
    if shape.len() != 2 || shape[0] != labels.len() {
        ShapeError::new(
            op,
            format!(
                "scores {shape:?} and {} labels: expected scores [N, C] with N = {}",
                labels.len(),
                labels.len()
            ),
        )
        .raise();
    }
    let c = shape[1];
    if let Some(&bad) = labels.iter().find(|&&y| y >= c) {
        ShapeError::new(op, format!("label {bad} out of range for {c} classes")).raise();
    }
    (shape[0], c)
}

/// Per-sample multiclass hinge terms `sum_{j != y} max(0, margin + s_j - s_y)` and the mask of
/// positive terms (1.0 where a margin is violated).
pub fn multiclass_hinge_terms(scores: &Tensor, labels: &[usize], margin: f32) -> (Tensor, Tensor) {
    let (n, c) = (scores.dim(0), scores.dim(1));
    let mut per_example = vec![0.0; n];
    let mut active = vec![0.0; n * c];
    for (row, (&y, s)) in labels.iter().zip(scores.data().chunks_exact(c)).enumerate() {
        for (j, &sj) in s.iter().enumerate() {
            let m = margin + sj - s[y];
            if j != y && m > 0.0 {
                per_example[row] += m;
                active[row * c + j] = 1.0;
            }
        }
    }
    (
        Tensor::from_vec(per_example, &[n]),
        Tensor::from_vec(active, &[n, c]),
    )
}

impl Var {
    /// Mean squared error over all elements, `mean((x - target)^2)`.
    pub fn mse_loss(&self, target: &Tensor) -> Var {
        check_same("mse_loss", self, target);
        let sum: f64 = self
            .value()
            .data()
            .iter()
            .zip(target.data())
            .map(|(&x, &t)| ((x - t) as f64).powi(2))
            .sum();
        let value = Tensor::scalar((sum / self.value().numel() as f64) as f32);
        Var::from_op(value, Op::Mse(self.clone(), target.clone()))
    }

    /// Binary cross-entropy on logits, averaged over all elements, in the stable form
    /// `max(x, 0) - x t + ln(1 + e^-|x|)`; targets may be soft (in `[0, 1]`).
    pub fn bce_with_logits_loss(&self, target: &Tensor) -> Var {
        check_same("bce_with_logits_loss", self, target);
        let sum: f64 = self
            .value()
            .data()
            .iter()
            .zip(target.data())
            .map(|(&x, &t)| (x.max(0.0) - x * t + (-x.abs()).exp().ln_1p()) as f64)
            .sum();
        let value = Tensor::scalar((sum / self.value().numel() as f64) as f32);
        Var::from_op(value, Op::BceWithLogits(self.clone(), target.clone()))
    }

    /// Cross-entropy of `[N, C]` logits against integer labels, averaged over samples, with a
    /// max-shifted log-sum-exp so large logits do not overflow.
    pub fn cross_entropy_loss(&self, labels: &[usize]) -> Var {
        self.cross_entropy_loss_smoothed(labels, 0.0)
    }

    /// Cross-entropy with label smoothing `eps`, as PyTorch's
    /// `F.cross_entropy(logits, labels, label_smoothing=eps)`: the target is
    /// `(1 - eps) onehot(y) + eps / C`, so per sample
    /// `loss = (1 - eps) (-log p_y) + eps mean_k(-log p_k)`, averaged over samples; its gradient
    /// is `p - target`. `eps = 0` is the plain cross-entropy. Smoothing keeps the logits from
    /// growing without bound on a separable batch, which fast recipes rely on.
    ///
    /// # Shapes
    /// `self` `[N, C]`, `labels` `N` values in `0..C` -> a scalar.
    ///
    /// # Panics
    /// With a [`ShapeError`] on mismatched shapes, a label out of range, or `eps` outside
    /// `[0, 1]`.
    pub fn cross_entropy_loss_smoothed(&self, labels: &[usize], eps: f32) -> Var {
        let (n, c) = check_labels("cross_entropy_loss", self, labels);
        if !(0.0..=1.0).contains(&eps) {
            ShapeError::new(
                "cross_entropy_loss",
                format!("label_smoothing must be in [0, 1], got {eps}"),
            )
            .raise();
        }
        let mut probs = vec![0.0; n * c];
        let mut total = 0.0f64;
        for (row, (x, &y)) in self.value().data().chunks_exact(c).zip(labels).enumerate() {
            let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let p = &mut probs[row * c..(row + 1) * c];
            let mut sum = 0.0f32;
            for (p, &v) in p.iter_mut().zip(x) {
                *p = (v - max).exp();
                sum += *p;
            }
            p.iter_mut().for_each(|p| *p /= sum);
            let nll = (sum.ln() - (x[y] - max)) as f64;
            total += if eps == 0.0 {
                nll
            } else {
                // mean_k(-log p_k) = log-sum-exp - mean_k(x_k), both shifted by the max.
                let mean_shifted = x.iter().map(|&v| (v - max) as f64).sum::<f64>() / c as f64;
                (1.0 - eps as f64) * nll + eps as f64 * (sum.ln() as f64 - mean_shifted)
            };
        }
        let value = Tensor::scalar((total / n as f64) as f32);
        let op = Op::CrossEntropy {
            logits: self.clone(),
            labels: labels.to_vec(),
            probs: Tensor::from_vec(probs, &[n, c]),
            smoothing: eps,
        };
        Var::from_op(value, op)
    }

    /// PyTorch's `MultiMarginLoss(p=1, margin)`: per sample
    /// `sum_{j != y} max(0, margin - s_y + s_j) / C`, averaged over samples.
    pub fn multi_margin_loss(&self, labels: &[usize], margin: f32) -> Var {
        let (_, c) = check_labels("multi_margin_loss", self, labels);
        self.multiclass_hinge(labels, margin, c as f32)
    }

    /// The CS231n multiclass SVM loss: per sample `sum_{j != y} max(0, s_j - s_y + 1)`
    /// (no division by the number of classes), averaged over samples.
    pub fn svm_hinge_loss(&self, labels: &[usize]) -> Var {
        check_labels("svm_hinge_loss", self, labels);
        self.multiclass_hinge(labels, 1.0, 1.0)
    }

    fn multiclass_hinge(&self, labels: &[usize], margin: f32, divisor: f32) -> Var {
        let (per_example, active) = multiclass_hinge_terms(self.value(), labels, margin);
        let n = labels.len() as f32;
        let value = Tensor::scalar(per_example.sum_all().item() / (divisor * n));
        let op = Op::MulticlassHinge {
            scores: self.clone(),
            labels: labels.to_vec(),
            active,
            divisor,
        };
        Var::from_op(value, op)
    }

    /// Binary hinge `mean(max(0, 1 - t x))` with targets `t` in {-1, +1}.
    pub fn binary_hinge_loss(&self, target: &Tensor) -> Var {
        check_same("binary_hinge_loss", self, target);
        let sum: f64 = self
            .value()
            .data()
            .iter()
            .zip(target.data())
            .map(|(&x, &t)| (1.0 - t * x).max(0.0) as f64)
            .sum();
        let value = Tensor::scalar((sum / self.value().numel() as f64) as f32);
        Var::from_op(
            value,
            Op::BinaryHinge {
                x: self.clone(),
                target: target.clone(),
            },
        )
    }
}
