//! The gradient-check suite: one case per differentiable op (and per variant worth checking:
//! broadcasting, strides, train/eval modes), shared by the tests and `ferrolearn gradcheck`.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::functions::{batch_norm, batch_norm_activation};
use super::gradcheck::{gradcheck, GradcheckOptions, GradcheckReport};
use super::var::Var;
use crate::tensor::kernels::NormActivation;
use crate::tensor::{PoolWindow, Tensor};

/// A differentiable function under test.
pub type CheckedFn = Box<dyn Fn(&[Var]) -> Var>;

/// One entry of the suite: an op, its inputs, and the function that applies it.
pub struct GradcheckCase {
    /// The op (and variant) checked, e.g. `conv2d stride 2 pad 1`.
    pub op: &'static str,
    /// Named inputs.
    pub inputs: Vec<(&'static str, Tensor)>,
    /// Applies the op to the inputs.
    pub f: CheckedFn,
}

impl GradcheckCase {
    fn new(
        op: &'static str,
        inputs: Vec<(&'static str, Tensor)>,
        f: impl Fn(&[Var]) -> Var + 'static,
    ) -> Self {
        GradcheckCase {
            op,
            inputs,
            f: Box::new(f),
        }
    }

    /// Runs the check with default options.
    pub fn run(&self) -> GradcheckReport {
        gradcheck(&self.f, &self.inputs, GradcheckOptions::default())
    }
}

/// Standard normal values.
fn normal(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, 0.0, 1.0, &mut ChaCha8Rng::seed_from_u64(seed))
}

/// Normal values pushed at least 0.1 away from zero, so kinks at 0 are never straddled.
fn away_from_zero(shape: &[usize], seed: u64) -> Tensor {
    normal(shape, seed).map(|v| if v >= 0.0 { v + 0.1 } else { v - 0.1 })
}

/// Values in `[0.5, 2)`, for ln, sqrt and divisors.
fn positive(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(shape, 0.5, 2.0, &mut ChaCha8Rng::seed_from_u64(seed))
}

/// Distinct values 0.05 apart in random order, so every max/argmax is unique under the
/// finite-difference step.
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut v: Vec<f32> = (0..n).map(|i| (i as f32 - n as f32 / 2.0) * 0.05).collect();
    v.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    Tensor::from_vec(v, shape)
}

/// Scores for `n` samples and `c` classes whose hinge margins all stay 0.1 or more from
/// their kinks (rejection-sampled deterministically).
fn hinge_scores(n: usize, c: usize, labels: &[usize], seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    loop {
        let s: Vec<f32> = (0..n * c).map(|_| rng.gen_range(-2.0..2.0)).collect();
        let clear = labels.iter().enumerate().all(|(i, &y)| {
            (0..c).all(|j| j == y || (1.0 + s[i * c + j] - s[i * c + y]).abs() > 0.1)
        });
        if clear {
            return Tensor::from_vec(s, &[n, c]);
        }
    }
}

/// Every differentiable op, with inputs chosen away from its kinks.
pub fn cases() -> Vec<GradcheckCase> {
    let labels = vec![2usize, 0, 1, 2];
    let l2 = labels.clone();
    let l3 = labels.clone();
    let l4 = labels.clone();
    let l5 = labels.clone();
    let pm_one = Tensor::from_vec(vec![1., -1., -1., 1., 1., -1.], &[6]);
    let pm = pm_one.clone();
    let target = normal(&[3, 4], 11);
    let probs = Tensor::rand_uniform(&[3, 4], 0.0, 1.0, &mut ChaCha8Rng::seed_from_u64(12));
    let binary_scores = {
        // Scores with every |1 - t x| at least 0.1 from the kink.
        normal(&[6], 13).zip_same(&pm_one, "t", |x, t| {
            if (1.0 - t * x).abs() < 0.1 {
                x + 0.3
            } else {
                x
            }
        })
    };
    vec![
        GradcheckCase::new(
            "add (broadcast)",
            vec![("a", normal(&[3, 4], 1)), ("b", normal(&[4], 2))],
            |v| v[0].add(&v[1]),
        ),
        GradcheckCase::new(
            "sub (broadcast)",
            vec![("a", normal(&[3, 1], 1)), ("b", normal(&[2, 1, 4], 2))],
            |v| v[0].sub(&v[1]),
        ),
        GradcheckCase::new(
            "mul (broadcast)",
            vec![("a", normal(&[2, 3], 3)), ("b", normal(&[2, 1], 4))],
            |v| v[0].mul(&v[1]),
        ),
        GradcheckCase::new(
            "div (broadcast)",
            vec![("a", normal(&[2, 3], 5)), ("b", positive(&[3], 6))],
            |v| v[0].div(&v[1]),
        ),
        GradcheckCase::new("mul (fan-out x*x)", vec![("x", normal(&[5], 7))], |v| {
            v[0].mul(&v[0]).add(&v[0])
        }),
        GradcheckCase::new("neg", vec![("x", normal(&[4], 8))], |v| v[0].neg()),
        GradcheckCase::new("add_scalar", vec![("x", normal(&[4], 8))], |v| {
            v[0].add_scalar(3.0)
        }),
        GradcheckCase::new("mul_scalar", vec![("x", normal(&[4], 8))], |v| {
            v[0].mul_scalar(-2.5)
        }),
        GradcheckCase::new("powf", vec![("x", positive(&[5], 9))], |v| v[0].powf(2.5)),
        GradcheckCase::new("exp", vec![("x", normal(&[5], 9))], |v| v[0].exp()),
        GradcheckCase::new("ln", vec![("x", positive(&[5], 9))], |v| v[0].ln()),
        GradcheckCase::new("sqrt", vec![("x", positive(&[5], 9))], |v| v[0].sqrt()),
        GradcheckCase::new("abs", vec![("x", away_from_zero(&[6], 9))], |v| v[0].abs()),
        GradcheckCase::new(
            "clamp",
            vec![("x", Tensor::from_vec(vec![-2.0, -0.5, 0.3, 0.7, 1.8], &[5]))],
            |v| v[0].clamp(-1.0, 1.0),
        ),
        GradcheckCase::new("sum_axes", vec![("x", normal(&[2, 3, 4], 10))], |v| {
            v[0].sum_axes(&[0, 2])
        }),
        GradcheckCase::new("mean_axes", vec![("x", normal(&[2, 3, 4], 10))], |v| {
            v[0].mean_axes(&[1])
        }),
        GradcheckCase::new("sum", vec![("x", normal(&[2, 3], 10))], |v| v[0].sum()),
        GradcheckCase::new("mean", vec![("x", normal(&[2, 3], 10))], |v| v[0].mean()),
        GradcheckCase::new("max_axis", vec![("x", distinct(&[3, 4], 10))], |v| {
            v[0].max_axis(1)
        }),
        GradcheckCase::new("min_axis", vec![("x", distinct(&[3, 4], 10))], |v| {
            v[0].min_axis(0)
        }),
        GradcheckCase::new(
            "var_axes (unbiased)",
            vec![("x", normal(&[3, 4], 10))],
            |v| v[0].var_axes(&[0], true),
        ),
        GradcheckCase::new(
            "var_axes (biased)",
            vec![("x", normal(&[2, 3, 2], 10))],
            |v| v[0].var_axes(&[0, 2], false),
        ),
        GradcheckCase::new("reshape", vec![("x", normal(&[2, 6], 14))], |v| {
            v[0].reshape(&[3, 4]).mul(&v[0].reshape(&[3, 4]))
        }),
        GradcheckCase::new("permute", vec![("x", normal(&[2, 3, 4], 14))], |v| {
            v[0].permute(&[2, 0, 1])
        }),
        GradcheckCase::new("transpose", vec![("x", normal(&[2, 3], 14))], |v| {
            v[0].transpose(0, 1)
        }),
        GradcheckCase::new("narrow", vec![("x", normal(&[3, 5], 14))], |v| {
            v[0].narrow(1, 1, 3)
        }),
        GradcheckCase::new(
            "cat",
            vec![("a", normal(&[2, 3], 15)), ("b", normal(&[2, 2], 16))],
            |v| Var::cat(&[v[0].clone(), v[1].clone()], 1),
        ),
        GradcheckCase::new("gather", vec![("x", normal(&[4, 3], 17))], |v| {
            v[0].gather(1, &[2, 0, 1, 2])
        }),
        GradcheckCase::new(
            "index_select (repeats)",
            vec![("x", normal(&[4, 3], 17))],
            |v| v[0].index_select(0, &[3, 0, 3]),
        ),
        GradcheckCase::new("broadcast_to", vec![("x", normal(&[3, 1], 17))], |v| {
            v[0].broadcast_to(&[2, 3, 4])
        }),
        GradcheckCase::new(
            "matmul",
            vec![("a", normal(&[3, 4], 18)), ("b", normal(&[4, 2], 19))],
            |v| v[0].matmul(&v[1]),
        ),
        GradcheckCase::new(
            "matmul (batched, shared rhs)",
            vec![("a", normal(&[2, 3, 4], 18)), ("b", normal(&[4, 2], 19))],
            |v| v[0].matmul(&v[1]),
        ),
        GradcheckCase::new(
            "matmul (batched)",
            vec![("a", normal(&[2, 3, 4], 18)), ("b", normal(&[2, 4, 2], 19))],
            |v| v[0].matmul(&v[1]),
        ),
        GradcheckCase::new(
            "linear",
            vec![
                ("x", normal(&[3, 4], 20)),
                ("weight", normal(&[2, 4], 21)),
                ("bias", normal(&[2], 22)),
            ],
            |v| v[0].linear(&v[1], Some(&v[2])),
        ),
        GradcheckCase::new(
            "conv2d stride 1 pad 1",
            vec![
                ("x", normal(&[2, 2, 5, 5], 23)),
                ("weight", normal(&[3, 2, 3, 3], 24)),
                ("bias", normal(&[3], 25)),
            ],
            |v| v[0].conv2d(&v[1], Some(&v[2]), 1, 1),
        ),
        GradcheckCase::new(
            "conv2d stride 2 pad 2 (2x3 kernel)",
            vec![
                ("x", normal(&[1, 2, 5, 6], 23)),
                ("weight", normal(&[2, 2, 2, 3], 24)),
                ("bias", normal(&[2], 25)),
            ],
            |v| v[0].conv2d(&v[1], Some(&v[2]), 2, 2),
        ),
        GradcheckCase::new(
            "conv2d 1x1",
            vec![
                ("x", normal(&[2, 3, 3, 3], 23)),
                ("weight", normal(&[2, 3, 1, 1], 24)),
            ],
            |v| v[0].conv2d(&v[1], None, 1, 0),
        ),
        GradcheckCase::new(
            "max_pool2d 2/2",
            vec![("x", distinct(&[2, 2, 4, 5], 26))],
            |v| v[0].max_pool2d(2, 2),
        ),
        GradcheckCase::new(
            "max_pool2d 3/2 (overlapping)",
            vec![("x", distinct(&[1, 2, 5, 5], 27))],
            |v| v[0].max_pool2d(3, 2),
        ),
        GradcheckCase::new(
            "conv2d_max_pool2d 3x3 pad 1, then 2/2 (one op)",
            vec![
                ("x", normal(&[2, 2, 5, 5], 61)),
                ("weight", normal(&[3, 2, 3, 3], 62)),
                ("bias", normal(&[3], 63)),
            ],
            |v| v[0].conv2d_max_pool(&v[1], Some(&v[2]), 1, 1, PoolWindow::new(2, 2)),
        ),
        GradcheckCase::new(
            "avg_pool2d 2/2",
            vec![("x", normal(&[2, 2, 4, 5], 26))],
            |v| v[0].avg_pool2d(2, 2),
        ),
        GradcheckCase::new(
            "avg_pool2d 3/1",
            vec![("x", normal(&[1, 1, 5, 4], 27))],
            |v| v[0].avg_pool2d(3, 1),
        ),
        GradcheckCase::new(
            "max_pool2d 3/1 pad 1 (GoogLeNet's pooling branch)",
            vec![("x", distinct(&[1, 2, 4, 5], 60))],
            |v| v[0].max_pool2d_window(PoolWindow::new(3, 1).padding(1)),
        ),
        GradcheckCase::new(
            "avg_pool2d 3/2 pad 1",
            vec![("x", normal(&[2, 1, 5, 4], 61))],
            |v| v[0].avg_pool2d_window(PoolWindow::new(3, 2).padding(1)),
        ),
        GradcheckCase::new(
            "global_avg_pool",
            vec![("x", normal(&[2, 3, 3, 2], 62))],
            |v| v[0].global_avg_pool(),
        ),
        GradcheckCase::new(
            "shortcut_pad stride 2, 3 -> 6 channels",
            vec![("x", normal(&[2, 3, 5, 4], 63))],
            |v| v[0].shortcut_pad(2, 6),
        ),
        GradcheckCase::new("gelu", vec![("x", normal(&[3, 5], 64))], |v| v[0].gelu()),
        GradcheckCase::new("sigmoid", vec![("x", normal(&[6], 28))], |v| v[0].sigmoid()),
        GradcheckCase::new("tanh", vec![("x", normal(&[6], 28))], |v| v[0].tanh()),
        GradcheckCase::new("relu", vec![("x", away_from_zero(&[8], 29))], |v| {
            v[0].relu()
        }),
        GradcheckCase::new("leaky_relu", vec![("x", away_from_zero(&[8], 29))], |v| {
            v[0].leaky_relu(0.1)
        }),
        GradcheckCase::new(
            "prelu",
            vec![
                ("x", away_from_zero(&[2, 3, 2, 2], 30)),
                ("alpha", positive(&[3], 31).mul_scalar(0.2)),
            ],
            |v| v[0].prelu(&v[1]),
        ),
        GradcheckCase::new("elu", vec![("x", away_from_zero(&[8], 29))], |v| {
            v[0].elu(1.0)
        }),
        GradcheckCase::new("selu", vec![("x", away_from_zero(&[8], 29))], |v| {
            v[0].selu()
        }),
        GradcheckCase::new("softplus", vec![("x", normal(&[8], 29))], |v| {
            v[0].softplus(1.0)
        }),
        GradcheckCase::new("maxout", vec![("x", distinct(&[3, 6], 32))], |v| {
            v[0].maxout(3)
        }),
        GradcheckCase::new("softmax", vec![("x", normal(&[3, 4], 33))], |v| {
            v[0].softmax(1)
        }),
        GradcheckCase::new("log_softmax", vec![("x", normal(&[3, 4], 33))], |v| {
            v[0].log_softmax(1)
        }),
        GradcheckCase::new("mse_loss", vec![("input", normal(&[3, 4], 34))], move |v| {
            v[0].mse_loss(&target)
        }),
        GradcheckCase::new(
            "bce_with_logits_loss",
            vec![("input", normal(&[3, 4], 35))],
            move |v| v[0].bce_with_logits_loss(&probs),
        ),
        GradcheckCase::new(
            "cross_entropy_loss",
            vec![("input", normal(&[4, 3], 36))],
            move |v| v[0].cross_entropy_loss(&labels),
        ),
        GradcheckCase::new(
            "cross_entropy_loss (label smoothing 0.2)",
            vec![("input", normal(&[4, 3], 49))],
            move |v| v[0].cross_entropy_loss_smoothed(&l5, 0.2),
        ),
        GradcheckCase::new(
            "multi_margin_loss",
            vec![("input", hinge_scores(4, 3, &l2, 37))],
            move |v| v[0].multi_margin_loss(&l2, 1.0),
        ),
        GradcheckCase::new(
            "svm_hinge_loss",
            vec![("input", hinge_scores(4, 3, &l3, 38))],
            move |v| v[0].svm_hinge_loss(&l3),
        ),
        GradcheckCase::new(
            "binary_hinge_loss",
            vec![("input", binary_scores)],
            move |v| v[0].binary_hinge_loss(&pm),
        ),
        GradcheckCase::new(
            "batch_norm1d (training)",
            vec![
                ("x", normal(&[5, 3], 39)),
                ("gamma", positive(&[3], 40)),
                ("beta", normal(&[3], 41)),
            ],
            |v| {
                let (mut rm, mut rv) = (Tensor::zeros(&[3]), Tensor::ones(&[3]));
                batch_norm(&v[0], &v[1], &v[2], &mut rm, &mut rv, true, 0.1, 1e-5)
            },
        ),
        GradcheckCase::new(
            "batch_norm2d (training)",
            vec![
                ("x", normal(&[2, 2, 3, 3], 42)),
                ("gamma", positive(&[2], 43)),
                ("beta", normal(&[2], 44)),
            ],
            |v| {
                let (mut rm, mut rv) = (Tensor::zeros(&[2]), Tensor::ones(&[2]));
                batch_norm(&v[0], &v[1], &v[2], &mut rm, &mut rv, true, 0.1, 1e-5)
            },
        ),
        GradcheckCase::new(
            "batch_norm2d (eval)",
            vec![
                ("x", normal(&[2, 2, 3, 3], 42)),
                ("gamma", positive(&[2], 43)),
                ("beta", normal(&[2], 44)),
            ],
            |v| {
                let (mut rm, mut rv) = (
                    Tensor::from_vec(vec![0.2, -0.1], &[2]),
                    Tensor::from_vec(vec![1.5, 0.7], &[2]),
                );
                batch_norm(&v[0], &v[1], &v[2], &mut rm, &mut rv, false, 0.1, 1e-5)
            },
        ),
        GradcheckCase::new(
            "batch_norm2d + relu, fused (training)",
            vec![
                ("x", normal(&[2, 2, 3, 3], 47)),
                ("gamma", positive(&[2], 48)),
                ("beta", normal(&[2], 49)),
            ],
            |v| {
                let (mut rm, mut rv) = (Tensor::zeros(&[2]), Tensor::ones(&[2]));
                let (stats, relu) = ((&mut rm, &mut rv, true, 0.1, 1e-5), NormActivation::Relu);
                batch_norm_activation(&v[0], &v[1], &v[2], stats, Some(relu))
            },
        ),
        GradcheckCase::new(
            "batch_norm2d + gelu, fused (training)",
            vec![
                ("x", normal(&[2, 2, 3, 3], 50)),
                ("gamma", positive(&[2], 51)),
                ("beta", normal(&[2], 52)),
            ],
            |v| {
                let (mut rm, mut rv) = (Tensor::zeros(&[2]), Tensor::ones(&[2]));
                let (stats, gelu) = ((&mut rm, &mut rv, true, 0.1, 1e-5), NormActivation::Gelu);
                batch_norm_activation(&v[0], &v[1], &v[2], stats, Some(gelu))
            },
        ),
        GradcheckCase::new(
            "batch_norm2d + relu, fused (eval)",
            vec![
                ("x", normal(&[2, 2, 3, 3], 47)),
                ("gamma", positive(&[2], 48)),
                ("beta", normal(&[2], 49)),
            ],
            |v| {
                let (mut rm, mut rv) = (
                    Tensor::from_vec(vec![0.2, -0.1], &[2]),
                    Tensor::from_vec(vec![1.5, 0.7], &[2]),
                );
                let (stats, relu) = ((&mut rm, &mut rv, false, 0.1, 1e-5), NormActivation::Relu);
                batch_norm_activation(&v[0], &v[1], &v[2], stats, Some(relu))
            },
        ),
        GradcheckCase::new(
            "dropout (training)",
            vec![("x", normal(&[4, 5], 45))],
            |v| v[0].dropout(0.3, true, &mut ChaCha8Rng::seed_from_u64(46)),
        ),
        GradcheckCase::new(
            "cross_entropy after linear (composite)",
            vec![("x", normal(&[4, 5], 47)), ("weight", normal(&[3, 5], 48))],
            move |v| v[0].linear(&v[1], None).tanh().cross_entropy_loss(&l4),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_passes_gradcheck() {
        let mut failures = Vec::new();
        for case in cases() {
            let report = case.run();
            for input in &report.inputs {
                if !input.passed {
                    failures.push(format!(
                        "{} / {}: {:.3e}",
                        case.op, input.input, input.max_relative_error
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "gradcheck failures:\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn gradcheck_detects_a_wrong_gradient() {
        // A function whose "gradient" is wrong: detach one factor so x*x backpropagates x, not 2x.
        let report = gradcheck(
            |v| v[0].mul(&v[0].detach()),
            &[("x", normal(&[4], 1))],
            GradcheckOptions::default(),
        );
        assert!(!report.passed(), "{report:?}");
    }
}
