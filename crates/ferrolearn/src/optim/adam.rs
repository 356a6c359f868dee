//! Adam (bias-corrected, L2 weight decay) and AdamW (decoupled weight decay).

use rayon::prelude::*;

use super::state::Buffers;
use super::{check_mask, check_step_args, require, Optimizer, OptimizerState};
use crate::Result;

/// Hyperparameters of [`Adam`] and [`AdamW`], with PyTorch's defaults except `weight_decay`,
/// whose default differs between the two (see [`AdamConfig::default`] and
/// [`AdamConfig::adamw_default`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (default 1e-3), > 0.
    pub lr: f64,
    /// Decay rates of the first and second moment averages (default 0.9, 0.999), in [0, 1).
    pub betas: (f64, f64),
    /// Added to the bias-corrected root of the second moment, outside the square root
    /// (default 1e-8), >= 0.
    pub eps: f64,
    /// Whether `eps` is added to the root of the raw second moment, before the bias
    /// correction, as in Kingma and Ba's efficient form used by scikit-learn's MLP and
    /// TensorFlow (false: after it, as PyTorch). Only tiny gradients, near `eps`, see the
    /// difference.
    pub eps_before_correction: bool,
    /// Weight decay, >= 0: added to the gradient (`wd * p`) by [`Adam`], applied to the
    /// parameters directly (`p *= 1 - lr * wd`) by [`AdamW`].
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    /// `torch.optim.Adam`'s defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            eps_before_correction: false,
            weight_decay: 0.0,
        }
    }
}

impl AdamConfig {
    /// `torch.optim.AdamW`'s defaults: as Adam's but weight decay 1e-2.
    pub fn adamw_default() -> Self {
        AdamConfig {
            weight_decay: 1e-2,
            ..AdamConfig::default()
        }
    }

    fn validate(&self) -> Result<()> {
        require("lr", self.lr, self.lr > 0.0, "> 0")?;
        let (b1, b2) = self.betas;
        require("beta1", b1, (0.0..1.0).contains(&b1), "in [0, 1)")?;
        require("beta2", b2, (0.0..1.0).contains(&b2), "in [0, 1)")?;
        require("eps", self.eps, self.eps >= 0.0, ">= 0")?;
        require(
            "weight_decay",
            self.weight_decay,
            self.weight_decay >= 0.0,
            ">= 0",
        )
    }
}

/// The moment buffers and step count shared by Adam and AdamW.
#[derive(Debug, Clone)]
struct Moments {
    config: AdamConfig,
    step: u64,
    buffers: Buffers,
    /// Which parameters weight decay applies to (all when `None`).
    decay_mask: Option<Vec<bool>>,
}

impl Moments {
    fn new(config: AdamConfig) -> Result<Moments> {
        config.validate()?;
        Ok(Moments {
            config,
            step: 0,
            buffers: Buffers::new(&["exp_avg", "exp_avg_sq"], 0.0),
            decay_mask: None,
        })
    }

    /// One step; `decoupled` selects AdamW's weight decay over Adam's L2 term.
    fn step(&mut self, op: &str, decoupled: bool, params: &mut [&mut [f32]], grads: &[&[f32]]) {
        check_step_args(op, params, grads);
        self.buffers.ensure(op, params);
        self.step += 1;
        let c = self.config;
        let (b1, b2) = c.betas;
        // Scalars in f64 as PyTorch computes them, then the per-element work in f32.
        let t = i32::try_from(self.step).unwrap_or(i32::MAX);
        let step_size = (c.lr / (1.0 - b1.powi(t))) as f32;
        let bc2_sqrt = (1.0 - b2.powi(t)).sqrt() as f32;
        let (l2, decay) = if decoupled {
            (0.0, (1.0 - c.lr * c.weight_decay) as f32)
        } else {
            (c.weight_decay as f32, 1.0)
        };
        let k = Coefficients {
            b1: b1 as f32,
            b2: b2 as f32,
            r1: (1.0 - b1) as f32,
            r2: (1.0 - b2) as f32,
            // sqrt(v) + eps before the correction is sqrt(v) / bc2 + eps / bc2 after it.
            eps: if c.eps_before_correction {
                (c.eps / (1.0 - b2.powi(t)).sqrt()) as f32
            } else {
                c.eps as f32
            },
            step_size,
            bc2_sqrt,
            l2,
            decay,
        };
        let no_decay = Coefficients {
            l2: 0.0,
            decay: 1.0,
            ..k
        };
        let mask = self.decay_mask.as_deref();
        check_mask(op, mask, params.len());
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let k = if mask.is_none_or(|m| m[i]) {
                &k
            } else {
                &no_decay
            };
            let mut bufs = self.buffers.of_param(i).into_iter();
            let (Some(m), Some(v)) = (bufs.next(), bufs.next()) else {
                unreachable!("Adam keeps two buffers per parameter")
            };
            if decoupled {
                update::<true>(k, p, g, m, v);
            } else {
                update::<false>(k, p, g, m, v);
            }
        }
    }

    fn load_state(&mut self, kind: &str, state: &OptimizerState, lens: &[usize]) -> Result<()> {
        self.buffers = self.buffers.restored(kind, state, lens)?;
        self.config.lr = state.lr;
        self.step = state.step;
        Ok(())
    }
}

/// The per-step scalars of the Adam update, in `f32`.
#[derive(Clone, Copy)]
struct Coefficients {
    b1: f32,
    b2: f32,
    r1: f32,
    r2: f32,
    eps: f32,
    step_size: f32,
    bc2_sqrt: f32,
    l2: f32,
    decay: f32,
}

/// Parameters at least this long are updated in parallel chunks (the update is elementwise,
/// so the result does not depend on the split).
const PARALLEL_MIN: usize = 1 << 15;
/// Elements per parallel task.
const CHUNK: usize = 1 << 14;

/// Updates one parameter: in parallel chunks when it is large, else in one loop.
fn update<const DECOUPLED: bool>(
    k: &Coefficients,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    if p.len() >= PARALLEL_MIN {
        p.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK).zip(v.par_chunks_mut(CHUNK)))
            .for_each(|((p, g), (m, v))| update_elements::<DECOUPLED>(k, p, g, m, v));
    } else {
        update_elements::<DECOUPLED>(k, p, g, m, v);
    }
}

/// The element loop of one parameter, written as zipped iterators so that it vectorises;
/// `DECOUPLED` picks AdamW's decay over Adam's L2 term at compile time.
fn update_elements<const DECOUPLED: bool>(
    k: &Coefficients,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    for ((p, &g), (m, v)) in p.iter_mut().zip(g).zip(m.iter_mut().zip(v.iter_mut())) {
        let g = if DECOUPLED {
            *p *= k.decay;
            g
        } else {
            g + k.l2 * *p
        };
        *m = k.b1 * *m + k.r1 * g;
        *v = k.b2 * *v + k.r2 * g * g;
        let denom = v.sqrt() / k.bc2_sqrt + k.eps;
        *p -= k.step_size * (*m / denom);
    }
}

/// Adam as `torch.optim.Adam` (without amsgrad):
///
/// ```text
/// g = grad + weight_decay * p                          (L2, coupled with the gradient)
/// m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2   (both start at 0)
/// p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
/// ```
/// `eps` sits outside the square root, after the bias correction.
#[derive(Debug, Clone)]
pub struct Adam(Moments);

impl Adam {
    /// Checks the hyperparameters and builds the optimizer.
    pub fn new(config: AdamConfig) -> Result<Adam> {
        Moments::new(config).map(Adam)
    }

    /// The hyperparameters (with the current learning rate).
    pub fn config(&self) -> &AdamConfig {
        &self.0.config
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) {
        self.0.step("adam", false, params, grads);
    }

    fn lr(&self) -> f64 {
        self.0.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.0.config.lr = lr;
    }

    fn set_decay_mask(&mut self, mask: Vec<bool>) -> Result<()> {
        self.0.decay_mask = Some(mask);
        Ok(())
    }

    fn state(&self) -> OptimizerState {
        self.0
            .buffers
            .to_state("adam", self.0.config.lr, self.0.step)
    }

    fn load_state(&mut self, state: &OptimizerState, param_lens: &[usize]) -> Result<()> {
        self.0.load_state("adam", state, param_lens)
    }
}

/// AdamW as `torch.optim.AdamW`: decoupled weight decay, then Adam without the L2 term.
///
/// ```text
/// p = p * (1 - lr * weight_decay)
/// then Adam's update with the gradient taken at the pre-decay p
/// ```
#[derive(Debug, Clone)]
pub struct AdamW(Moments);

impl AdamW {
    /// Checks the hyperparameters and builds the optimizer.
    pub fn new(config: AdamConfig) -> Result<AdamW> {
        Moments::new(config).map(AdamW)
    }

    /// The hyperparameters (with the current learning rate).
    pub fn config(&self) -> &AdamConfig {
        &self.0.config
    }
}

impl Optimizer for AdamW {
    fn step(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) {
        self.0.step("adamw", true, params, grads);
    }

    fn lr(&self) -> f64 {
        self.0.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.0.config.lr = lr;
    }

    fn set_decay_mask(&mut self, mask: Vec<bool>) -> Result<()> {
        self.0.decay_mask = Some(mask);
        Ok(())
    }

    fn state(&self) -> OptimizerState {
        self.0
            .buffers
            .to_state("adamw", self.0.config.lr, self.0.step)
    }

    fn load_state(&mut self, state: &OptimizerState, param_lens: &[usize]) -> Result<()> {
        self.0.load_state("adamw", state, param_lens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_adam_step_moves_by_lr_times_sign() {
        // After one step m_hat = g and v_hat = g^2, so the update is lr * g/|g| (eps aside).
        let mut opt = Adam::new(AdamConfig {
            lr: 0.1,
            ..AdamConfig::default()
        })
        .expect("valid");
        let mut p = vec![1.0f32, 1.0];
        opt.step(&mut [&mut p], &[&[5.0, -0.001]]);
        assert!(
            (p[0] - 0.9).abs() < 1e-6 && (p[1] - 1.1).abs() < 1e-5,
            "{p:?}"
        );
    }

    #[test]
    fn adamw_decays_the_parameter_and_adam_the_gradient() {
        let config = AdamConfig {
            lr: 0.1,
            weight_decay: 0.5,
            ..AdamConfig::default()
        };
        // Zero gradient: AdamW still shrinks p by 1 - lr*wd = 0.95; Adam sees g = 0.5*p and
        // takes a sign step of lr.
        let mut p = vec![2.0f32];
        AdamW::new(config)
            .expect("valid")
            .step(&mut [&mut p], &[&[0.0]]);
        assert!((p[0] - 1.9).abs() < 1e-6, "{p:?}");
        let mut p = vec![2.0f32];
        Adam::new(config)
            .expect("valid")
            .step(&mut [&mut p], &[&[0.0]]);
        assert!((p[0] - 1.9).abs() < 1e-6, "{p:?}");
        let mut p = vec![20.0f32];
        Adam::new(config)
            .expect("valid")
            .step(&mut [&mut p], &[&[0.0]]);
        assert!(
            (p[0] - 19.9).abs() < 1e-5,
            "Adam's step does not scale with p: {p:?}"
        );
    }

    #[test]
    fn resumed_adam_is_bit_identical() {
        let grad =
            |p: &[f32]| -> Vec<f32> { p.iter().map(|x| 2.0 * x - 1.0 + x * x * x).collect() };
        let config = AdamConfig {
            lr: 0.05,
            ..AdamConfig::default()
        };
        let mut whole = Adam::new(config).expect("valid");
        let mut p = vec![0.3f32, -1.7, 2.5];
        for _ in 0..10 {
            let g = grad(&p);
            whole.step(&mut [&mut p], &[&g]);
        }
        let mut half = Adam::new(config).expect("valid");
        let mut q = vec![0.3f32, -1.7, 2.5];
        for _ in 0..5 {
            let g = grad(&q);
            half.step(&mut [&mut q], &[&g]);
        }
        let json = serde_json::to_string(&half.state()).expect("serialise");
        let mut resumed = Adam::new(config).expect("valid");
        resumed
            .load_state(&serde_json::from_str(&json).expect("parse"), &[3])
            .expect("load");
        for _ in 0..5 {
            let g = grad(&q);
            resumed.step(&mut [&mut q], &[&g]);
        }
        assert_eq!(
            p.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            q.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert!(AdamW::new(config)
            .expect("valid")
            .load_state(&resumed.state(), &[3])
            .is_err());
    }

    #[test]
    fn betas_are_checked() {
        let err = Adam::new(AdamConfig {
            betas: (0.9, 1.0),
            ..AdamConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("beta2 must be in [0, 1), got 1"), "{err}");
    }
}
