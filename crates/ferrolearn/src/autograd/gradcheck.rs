//! Numerical gradient checking: every analytic gradient against centred finite differences.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::var::{no_grad, Var};
use crate::tensor::Tensor;

/// Settings for [`gradcheck`].
#[derive(Debug, Clone, Copy)]
pub struct GradcheckOptions {
    /// The finite-difference step. In f32 a step near 1e-2 balances truncation error against
    /// rounding error in the function value.
    pub eps: f32,
    /// The largest relative error that passes.
    pub tolerance: f64,
    /// Floor of the relative error's denominator, so gradients near zero are judged by
    /// absolute error rather than amplified noise.
    pub floor: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-2,
            tolerance: 1e-2,
            floor: 1e-2,
        }
    }
}

/// The outcome for one input.
#[derive(Debug, Clone, Serialize)]
pub struct InputCheck {
    /// The input's name.
    pub input: String,
    /// Max over elements of `|analytic - numeric| / max(|analytic|, |numeric|, floor)`.
    pub max_relative_error: f64,
    /// Whether `max_relative_error <= tolerance`.
    pub passed: bool,
}

/// The outcome of a gradient check, one entry per input.
#[derive(Debug, Clone, Serialize)]
pub struct GradcheckReport {
    /// Per-input results, in the order the inputs were given.
    pub inputs: Vec<InputCheck>,
}

impl GradcheckReport {
    /// Whether every input passed.
    pub fn passed(&self) -> bool {
        self.inputs.iter().all(|i| i.passed)
    }
}

/// Checks the gradients of `f` at `inputs` (name, value).
///
/// A non-scalar output `y` is reduced to `sum(y * u)` with a fixed random `u`, so every
/// output element contributes. Each analytic gradient comes from one backward pass; each
/// numerical one from `(L(x + eps) - L(x - eps)) / 2 eps` per element, accumulated in f64.
/// `f` must be deterministic (create any RNG inside it from a fixed seed).
pub fn gradcheck(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[(&str, Tensor)],
    options: GradcheckOptions,
) -> GradcheckReport {
    let vars: Vec<Var> = inputs
        .iter()
        .map(|(_, t)| Var::parameter(t.clone()))
        .collect();
    let out = f(&vars);
    let upstream = if out.value().numel() == 1 {
        Tensor::ones(out.shape())
    } else {
        Tensor::randn(
            out.shape(),
            0.0,
            1.0,
            &mut ChaCha8Rng::seed_from_u64(0x5eed),
        )
    };
    let grads = out.backward_with(upstream.clone());
    let objective = |values: &[Tensor]| -> f64 {
        no_grad(|| {
            let vars: Vec<Var> = values.iter().cloned().map(Var::constant).collect();
            let y = f(&vars);
            y.value()
                .data()
                .iter()
                .zip(upstream.data())
                .map(|(&y, &u)| y as f64 * u as f64)
                .sum()
        })
    };
    let mut values: Vec<Tensor> = inputs.iter().map(|(_, t)| t.clone()).collect();
    let checks = inputs
        .iter()
        .enumerate()
        .map(|(i, (name, original))| {
            let analytic = grads
                .get(&vars[i])
                .cloned()
                .unwrap_or_else(|| original.zeros_like());
            let mut worst = 0.0f64;
            for j in 0..original.numel() {
                let x = original.data()[j];
                values[i].data_mut()[j] = x + options.eps;
                let plus = objective(&values);
                values[i].data_mut()[j] = x - options.eps;
                let minus = objective(&values);
                values[i].data_mut()[j] = x;
                let numeric = (plus - minus) / (2.0 * options.eps as f64);
                let a = analytic.data()[j] as f64;
                let denom = a.abs().max(numeric.abs()).max(options.floor);
                worst = worst.max((a - numeric).abs() / denom);
            }
            InputCheck {
                input: name.to_string(),
                max_relative_error: worst,
                passed: worst <= options.tolerance,
            }
        })
        .collect();
    GradcheckReport { inputs: checks }
}
