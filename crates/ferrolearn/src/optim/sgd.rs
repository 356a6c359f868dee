//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

use super::state::Buffers;
use super::{check_mask, check_step_args, require, Optimizer, OptimizerState};
use crate::Result;

/// Hyperparameters of [`Sgd`], with PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Learning rate (default 1e-3), > 0.
    pub lr: f64,
    /// Momentum factor (default 0), >= 0; 0 disables the momentum buffer.
    pub momentum: f64,
    /// Dampening of the gradient added to the momentum buffer (default 0), >= 0.
    pub dampening: f64,
    /// L2 weight decay added to the gradient as `wd * p` (default 0), >= 0.
    pub weight_decay: f64,
    /// Nesterov momentum (default off); needs momentum > 0 and dampening 0.
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

/// SGD as `torch.optim.SGD`:
///
/// ```text
/// g = grad + weight_decay * p
/// if momentum != 0:
///     buf = g                                   at the first step
///     buf = momentum * buf + (1 - dampening) * g  afterwards
///     g = g + momentum * buf  if nesterov  else  buf
/// p = p - lr * g
/// ```
/// With a decay mask ([`Optimizer::set_decay_mask`]), `weight_decay` is 0 for the parameters
/// the mask excludes, as for a PyTorch parameter group with `weight_decay=0`.
#[derive(Debug, Clone)]
pub struct Sgd {
    config: SgdConfig,
    step: u64,
    buffers: Buffers,
    /// Which parameters weight decay applies to (all when `None`).
    decay_mask: Option<Vec<bool>>,
}

const MOMENTUM: &[&str] = &["momentum_buffer"];

impl Sgd {
    /// Checks the hyperparameters and builds the optimizer.
    pub fn new(config: SgdConfig) -> Result<Sgd> {
        require("lr", config.lr, config.lr > 0.0, "> 0")?;
        require("momentum", config.momentum, config.momentum >= 0.0, ">= 0")?;
        require(
            "dampening",
            config.dampening,
            config.dampening >= 0.0,
            ">= 0",
        )?;
        require(
            "weight_decay",
            config.weight_decay,
            config.weight_decay >= 0.0,
            ">= 0",
        )?;
        if config.nesterov {
            require(
                "momentum (with nesterov)",
                config.momentum,
                config.momentum > 0.0,
                "> 0",
            )?;
            require(
                "dampening (with nesterov)",
                config.dampening,
                config.dampening == 0.0,
                "0",
            )?;
        }
        let names: &'static [&'static str] = if config.momentum > 0.0 { MOMENTUM } else { &[] };
        Ok(Sgd {
            config,
            step: 0,
            buffers: Buffers::new(names, 0.0),
            decay_mask: None,
        })
    }

    /// The hyperparameters (with the current learning rate).
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) {
        check_step_args("sgd", params, grads);
        self.buffers.ensure("sgd", params);
        self.step += 1;
        let c = self.config;
        let (lr, wd, mom) = (c.lr as f32, c.weight_decay as f32, c.momentum as f32);
        let keep = (1.0 - c.dampening) as f32;
        let first = self.step == 1;
        let mask = self.decay_mask.as_deref();
        check_mask("sgd", mask, params.len());
        for (k, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let wd = if mask.is_none_or(|m| m[k]) { wd } else { 0.0 };
            if c.momentum == 0.0 {
                for (p, &g) in p.iter_mut().zip(*g) {
                    *p -= lr * (g + wd * *p);
                }
                continue;
            }
            let buf = self.buffers.get_mut(0, k);
            for ((p, &g), b) in p.iter_mut().zip(*g).zip(buf) {
                let g = g + wd * *p;
                *b = if first { g } else { mom * *b + keep * g };
                let d = if c.nesterov { g + mom * *b } else { *b };
                *p -= lr * d;
            }
        }
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn set_decay_mask(&mut self, mask: Vec<bool>) -> Result<()> {
        self.decay_mask = Some(mask);
        Ok(())
    }

    fn state(&self) -> OptimizerState {
        self.buffers.to_state("sgd", self.config.lr, self.step)
    }

    fn load_state(&mut self, state: &OptimizerState, param_lens: &[usize]) -> Result<()> {
        self.buffers = self.buffers.restored("sgd", state, param_lens)?;
        self.config.lr = state.lr;
        self.step = state.step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: SgdConfig, steps: usize) -> Vec<f32> {
        let mut opt = Sgd::new(config).expect("valid");
        let mut p = vec![1.0f32, -2.0];
        for _ in 0..steps {
            // gradient of 0.5*|p|^2 is p
            let g = p.clone();
            opt.step(&mut [&mut p], &[&g]);
        }
        p
    }

    #[test]
    fn plain_sgd_matches_hand_computation() {
        let config = SgdConfig {
            lr: 0.1,
            ..SgdConfig::default()
        };
        // p <- p - 0.1 p = 0.9 p, twice
        let p = run(config, 2);
        assert!(
            (p[0] - 0.81).abs() < 1e-6 && (p[1] + 1.62).abs() < 1e-6,
            "{p:?}"
        );
    }

    #[test]
    fn momentum_buffer_starts_at_the_gradient_and_dampening_applies_after() {
        let config = SgdConfig {
            lr: 0.1,
            momentum: 0.5,
            dampening: 0.5,
            ..SgdConfig::default()
        };
        // step 1: buf = 1, p = 0.9; step 2: buf = 0.5*1 + 0.5*0.9 = 0.95, p = 0.9 - 0.095
        let p = run(config, 2);
        assert!((p[0] - 0.805).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn nesterov_needs_momentum_and_no_dampening() {
        let err = Sgd::new(SgdConfig {
            nesterov: true,
            ..SgdConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("momentum (with nesterov) must be > 0, got 0"),
            "{err}"
        );
        assert!(Sgd::new(SgdConfig {
            nesterov: true,
            momentum: 0.9,
            dampening: 0.1,
            ..SgdConfig::default()
        })
        .is_err());
    }

    #[test]
    fn decay_mask_spares_the_excluded_parameters() {
        let config = SgdConfig {
            lr: 0.1,
            weight_decay: 0.5,
            ..SgdConfig::default()
        };
        let mut opt = Sgd::new(config).expect("valid");
        opt.set_decay_mask(vec![true, false])
            .expect("sgd takes masks");
        let (mut a, mut b) = (vec![1.0f32], vec![1.0f32]);
        opt.step(&mut [&mut a, &mut b], &[&[0.0], &[0.0]]);
        // Only the first parameter decays: 1 - 0.1 * 0.5 * 1.
        assert_eq!((a[0], b[0]), (0.95, 1.0));
    }

    #[test]
    #[should_panic(expected = "sgd: the weight-decay mask has 1 entries for 2 parameters")]
    fn decay_mask_of_the_wrong_length_panics() {
        let mut opt = Sgd::new(SgdConfig::default()).expect("valid");
        opt.set_decay_mask(vec![true]).expect("sgd takes masks");
        let (mut a, mut b) = (vec![1.0f32], vec![1.0f32]);
        opt.step(&mut [&mut a, &mut b], &[&[0.0], &[0.0]]);
    }

    #[test]
    fn rejects_bad_learning_rates() {
        for lr in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = Sgd::new(SgdConfig {
                lr,
                ..SgdConfig::default()
            })
            .unwrap_err()
            .to_string();
            assert!(err.contains("lr must be > 0, got"), "{err}");
        }
    }

    #[test]
    #[should_panic(expected = "parameter 0 has 2 elements but its gradient 1")]
    fn mismatched_gradient_panics() {
        let mut opt = Sgd::new(SgdConfig::default()).expect("valid");
        let mut p = vec![1.0f32, 2.0];
        opt.step(&mut [&mut p], &[&[1.0]]);
    }
}
