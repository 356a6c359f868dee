//! What a run needs before its first step, fresh or resumed: its settings checked, the
//! optimizer with its weight-decay mask, and the per-parameter gradient scales.

use super::budget::TimeBudget;
use super::config::TrainConfig;
use crate::nn::{Module, Sequential};
use crate::optim::Optimizer;
use crate::Result;

/// The optimizer a run's configuration describes, with weight decay masked off the
/// parameters of at most one dimension when the run asks for it.
pub(super) fn build_optimizer(
    config: &TrainConfig,
    model: &Sequential,
) -> Result<Box<dyn Optimizer + Send>> {
    let mut optimizer = config.optimizer.build()?;
    if config.no_decay_norm_bias {
        let mask = model
            .parameters()
            .iter()
            .map(|(_, v)| v.shape().len() > 1)
            .collect();
        optimizer.set_decay_mask(mask)?;
    }
    Ok(optimizer)
}

/// Checks the run settings the optimizer and schedule do not check themselves.
pub(super) fn check_config(config: &TrainConfig) -> Result<()> {
    let ls = config.label_smoothing;
    crate::optim::require(
        "label_smoothing",
        ls,
        (0.0..=1.0).contains(&ls),
        "in [0, 1]",
    )?;
    if let Some(s) = config.time_budget_s {
        TimeBudget::new(s)?;
    }
    let scale = config.norm_bias_grad_scale;
    crate::optim::require(
        "norm_bias_grad_scale",
        scale,
        scale > 0.0 && scale.is_finite(),
        "> 0",
    )?;
    Ok(())
}

/// Per parameter of `model`, `scale` for the shift of a batch norm (a `bias` whose layer
/// keeps a `running_mean`) and 1 for every other.
pub(super) fn norm_bias_scales(model: &mut Sequential, scale: f64) -> Vec<f32> {
    let norms: Vec<String> = model
        .buffers_mut()
        .into_iter()
        .filter_map(|(n, _)| n.strip_suffix("running_mean").map(str::to_string))
        .collect();
    model
        .parameters()
        .iter()
        .map(|(name, _)| {
            let is_norm_bias = name
                .strip_suffix("bias")
                .is_some_and(|layer| norms.iter().any(|n| n == layer));
            if is_norm_bias {
                scale as f32
            } else {
                1.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::models::airbench;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn only_batch_norm_shifts_are_scaled() {
        let mut model = airbench(10)
            .build(&[3, 32, 32], 10, &mut ChaCha8Rng::seed_from_u64(0))
            .unwrap();
        let scales = norm_bias_scales(&mut model, 64.0);
        let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
        let scaled: Vec<&str> = names
            .iter()
            .zip(&scales)
            .filter(|(_, &s)| s == 64.0)
            .map(|(n, _)| n.as_str())
            .collect();
        // The whitening layer's bias (0.bias) and every weight keep their gradients.
        assert_eq!(
            scaled,
            ["4.bias", "7.bias", "11.bias", "14.bias", "18.bias", "21.bias"]
        );
        assert!(scales.iter().all(|&s| s == 64.0 || s == 1.0));
    }
}
