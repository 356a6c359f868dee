//! RMSProp: gradients divided by a running root mean square, optionally centred and with
//! momentum.

use super::state::Buffers;
use super::{check_step_args, require, Optimizer, OptimizerState};
use crate::Result;

/// Hyperparameters of [`RmsProp`], with PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate (default 1e-2), > 0.
    pub lr: f64,
    /// Smoothing constant of the running averages (default 0.99), in [0, 1).
    pub alpha: f64,
    /// Added to the root mean square, outside the square root (default 1e-8), >= 0.
    pub eps: f64,
    /// L2 weight decay added to the gradient (default 0), >= 0.
    pub weight_decay: f64,
    /// Momentum factor (default 0), >= 0; 0 disables the momentum buffer.
    pub momentum: f64,
    /// Divide by the centred second moment (an estimate of the variance) instead of the raw
    /// one (default off).
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

/// RMSProp as `torch.optim.RMSprop`:
///
/// ```text
/// g = grad + weight_decay * p
/// v = alpha * v + (1 - alpha) * g^2                 (v starts at 0, no bias correction)
/// if centered: m = alpha * m + (1 - alpha) * g;  d = sqrt(v - m^2) + eps
/// else:        d = sqrt(v) + eps
/// if momentum > 0: buf = momentum * buf + g / d;  p = p - lr * buf   (buf starts at 0)
/// else:            p = p - lr * g / d
/// ```
#[derive(Debug, Clone)]
pub struct RmsProp {
    config: RmsPropConfig,
    step: u64,
    buffers: Buffers,
}

impl RmsProp {
    /// Checks the hyperparameters and builds the optimizer.
    pub fn new(config: RmsPropConfig) -> Result<RmsProp> {
        require("lr", config.lr, config.lr > 0.0, "> 0")?;
        require(
            "alpha",
            config.alpha,
            (0.0..1.0).contains(&config.alpha),
            "in [0, 1)",
        )?;
        require("eps", config.eps, config.eps >= 0.0, ">= 0")?;
        require(
            "weight_decay",
            config.weight_decay,
            config.weight_decay >= 0.0,
            ">= 0",
        )?;
        require("momentum", config.momentum, config.momentum >= 0.0, ">= 0")?;
        let names: &'static [&'static str] = match (config.centered, config.momentum > 0.0) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "grad_avg"],
            (false, true) => &["square_avg", "momentum_buffer"],
            (true, true) => &["square_avg", "grad_avg", "momentum_buffer"],
        };
        Ok(RmsProp {
            config,
            step: 0,
            buffers: Buffers::new(names, 0.0),
        })
    }

    /// The hyperparameters (with the current learning rate).
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }
}

impl Optimizer for RmsProp {
    fn step(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) {
        check_step_args("rmsprop", params, grads);
        self.buffers.ensure("rmsprop", params);
        self.step += 1;
        let c = self.config;
        let (lr, alpha, eps) = (c.lr as f32, c.alpha as f32, c.eps as f32);
        let (wd, mom, rest) = (
            c.weight_decay as f32,
            c.momentum as f32,
            (1.0 - c.alpha) as f32,
        );
        for (k, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let mut bufs = self.buffers.of_param(k).into_iter();
            let v = bufs.next().expect("square_avg is always kept");
            let mut grad_avg = if c.centered { bufs.next() } else { None };
            let mut momentum_buf = bufs.next();
            for i in 0..p.len() {
                let gi = g[i] + wd * p[i];
                v[i] = alpha * v[i] + rest * gi * gi;
                let d = match grad_avg.as_mut() {
                    Some(m) => {
                        m[i] = alpha * m[i] + rest * gi;
                        (v[i] - m[i] * m[i]).sqrt() + eps
                    }
                    None => v[i].sqrt() + eps,
                };
                match momentum_buf.as_mut() {
                    Some(b) => {
                        b[i] = mom * b[i] + gi / d;
                        p[i] -= lr * b[i];
                    }
                    None => p[i] -= lr * (gi / d),
                }
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
        self.buffers.to_state("rmsprop", self.config.lr, self.step)
    }

    fn load_state(&mut self, state: &OptimizerState, param_lens: &[usize]) -> Result<()> {
        self.buffers = self.buffers.restored("rmsprop", state, param_lens)?;
        self.config.lr = state.lr;
        self.step = state.step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_param_run(config: RmsPropConfig, grads: &[f32]) -> f32 {
        let mut opt = RmsProp::new(config).expect("valid");
        let mut p = vec![0.0f32];
        for &g in grads {
            opt.step(&mut [&mut p], &[&[g]]);
        }
        p[0]
    }

    #[test]
    fn plain_step_divides_by_the_running_rms() {
        // v = 0.01 * 4 = 0.04, d = 0.2, p = -0.1 * 2 / 0.2 = -1
        let p = one_param_run(
            RmsPropConfig {
                lr: 0.1,
                eps: 0.0,
                ..RmsPropConfig::default()
            },
            &[2.0],
        );
        assert!((p + 1.0).abs() < 1e-5, "{p}");
    }

    #[test]
    fn centered_with_momentum_follows_the_torch_rule() {
        let config = RmsPropConfig {
            lr: 0.1,
            alpha: 0.5,
            eps: 0.0,
            momentum: 0.5,
            centered: true,
            ..RmsPropConfig::default()
        };
        // step 1: v = 0.5*4 = 2, m = 0.5*2 = 1, d = sqrt(2 - 1) = 1, buf = 2, p = -0.2
        // step 2 (g = 1): v = 1 + 0.5 = 1.5, m = 0.5 + 0.5 = 1, d = sqrt(0.5),
        //   buf = 1 + 1/sqrt(0.5), p = -0.2 - 0.1*buf
        let p = one_param_run(config, &[2.0, 1.0]);
        let want = -0.2 - 0.1 * (1.0 + 1.0 / 0.5f32.sqrt());
        assert!((p - want).abs() < 1e-6, "{p} vs {want}");
        let opt = RmsProp::new(config).expect("valid");
        let names: Vec<String> = opt.state().buffers.into_keys().collect();
        assert_eq!(names, ["grad_avg", "momentum_buffer", "square_avg"]);
    }

    #[test]
    fn alpha_must_be_below_one() {
        let err = RmsProp::new(RmsPropConfig {
            alpha: 1.0,
            ..RmsPropConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("alpha must be in [0, 1), got 1"), "{err}");
    }
}
