//! AdaGrad: per-element learning rates from the sum of squared gradients.

use super::state::Buffers;
use super::{check_step_args, require, Optimizer, OptimizerState};
use crate::Result;

/// Hyperparameters of [`Adagrad`], with PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate (default 1e-2), > 0.
    pub lr: f64,
    /// Learning-rate decay per step (default 0), >= 0: step `t` uses `lr / (1 + (t-1)*lr_decay)`.
    pub lr_decay: f64,
    /// L2 weight decay added to the gradient (default 0), >= 0.
    pub weight_decay: f64,
    /// Starting value of the squared-gradient sum (default 0), >= 0.
    pub initial_accumulator_value: f64,
    /// Added to the square root of the sum, outside it (default 1e-10), >= 0.
    pub eps: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
}

/// AdaGrad as `torch.optim.Adagrad`:
///
/// ```text
/// g = grad + weight_decay * p
/// clr = lr / (1 + (t - 1) * lr_decay)
/// sum = sum + g^2                       (sum starts at initial_accumulator_value)
/// p = p - clr * g / (sqrt(sum) + eps)
/// ```
#[derive(Debug, Clone)]
pub struct Adagrad {
    config: AdagradConfig,
    step: u64,
    buffers: Buffers,
}

impl Adagrad {
    /// Checks the hyperparameters and builds the optimizer.
    pub fn new(config: AdagradConfig) -> Result<Adagrad> {
        require("lr", config.lr, config.lr > 0.0, "> 0")?;
        require("lr_decay", config.lr_decay, config.lr_decay >= 0.0, ">= 0")?;
        require(
            "weight_decay",
            config.weight_decay,
            config.weight_decay >= 0.0,
            ">= 0",
        )?;
        require(
            "initial_accumulator_value",
            config.initial_accumulator_value,
            config.initial_accumulator_value >= 0.0,
            ">= 0",
        )?;
        require("eps", config.eps, config.eps >= 0.0, ">= 0")?;
        Ok(Adagrad {
            config,
            step: 0,
            buffers: Buffers::new(&["sum"], config.initial_accumulator_value as f32),
        })
    }

    /// The hyperparameters (with the current learning rate).
    pub fn config(&self) -> &AdagradConfig {
        &self.config
    }
}

impl Optimizer for Adagrad {
    fn step(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) {
        check_step_args("adagrad", params, grads);
        self.buffers.ensure("adagrad", params);
        self.step += 1;
        let c = self.config;
        let clr = (c.lr / (1.0 + (self.step - 1) as f64 * c.lr_decay)) as f32;
        let (wd, eps) = (c.weight_decay as f32, c.eps as f32);
        for (k, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let sum = self.buffers.get_mut(0, k);
            for ((p, &g), s) in p.iter_mut().zip(*g).zip(sum) {
                let g = g + wd * *p;
                *s += g * g;
                *p -= clr * (g / (s.sqrt() + eps));
            }
        }
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn state(&self) -> OptimizerState {
        self.buffers.to_state("adagrad", self.config.lr, self.step)
    }

    fn load_state(&mut self, state: &OptimizerState, param_lens: &[usize]) -> Result<()> {
        self.buffers = self.buffers.restored("adagrad", state, param_lens)?;
        self.config.lr = state.lr;
        self.step = state.step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_element_by_about_lr() {
        // With sum = g^2 after one step, the update is lr * g/|g| = lr * sign(g).
        let mut opt = Adagrad::new(AdagradConfig {
            lr: 0.5,
            ..AdagradConfig::default()
        })
        .expect("valid");
        let mut p = vec![1.0f32, 1.0];
        opt.step(&mut [&mut p], &[&[3.0, -0.01]]);
        assert!(
            (p[0] - 0.5).abs() < 1e-6 && (p[1] - 1.5).abs() < 1e-6,
            "{p:?}"
        );
    }

    #[test]
    fn initial_accumulator_and_lr_decay_apply() {
        let mut opt = Adagrad::new(AdagradConfig {
            lr: 1.0,
            lr_decay: 1.0,
            initial_accumulator_value: 3.0,
            eps: 0.0,
            ..AdagradConfig::default()
        })
        .expect("valid");
        let mut p = vec![0.0f32];
        // step 1: sum = 3 + 1 = 4, p -= 1 * 1/2; step 2: clr = 1/2, sum = 5, p -= 0.5/sqrt(5)
        opt.step(&mut [&mut p], &[&[1.0]]);
        assert_eq!(p[0], -0.5);
        opt.step(&mut [&mut p], &[&[1.0]]);
        assert!((p[0] - (-0.5 - 0.5 / 5f32.sqrt())).abs() < 1e-6, "{p:?}");
    }
}
