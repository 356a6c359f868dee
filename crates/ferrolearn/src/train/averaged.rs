//! The moving average of a model's weights ([`Ema`]) tied to the model: updated from its
//! parameters and batch-norm statistics, swapped in for evaluation, saved and restored by name.
//!
//! Batch-norm running statistics are **averaged** with the parameters (PyTorch's
//! `AveragedModel(use_buffers=True)`, timm's `ModelEmaV2`) rather than copied from the live
//! model: the live statistics describe the activations of the live weights, while the averaged
//! weights are a blend of the last `~1 / (1 - decay)` updates, whose activations the
//! equally-blended statistics match better.

use std::path::Path;

use super::checkpoint::{model_tensors, read_tensors};
use crate::nn::Module;
use crate::optim::Ema;
use crate::tensor::Tensor;
use crate::{Error, Result};

/// Folds the model's current weights into `ema` after optimizer step `step` (when due).
pub(crate) fn update(ema: &mut Ema, step: u64, model: &mut dyn Module) {
    if !step.is_multiple_of(ema.every()) {
        return;
    }
    let weights = model_tensors(model);
    let views: Vec<&[f32]> = weights.iter().map(|(_, t)| t.data()).collect();
    ema.after_step(step, &views);
}

/// Lookahead (airbench94's `LookaheadState`): after step `step` of `total` (when due), folds
/// the model into `ema` with decay `ema.decay() * (step / total)^3` and writes the average
/// back into the model, so training continues from it.
pub(crate) fn lookahead_update(ema: &mut Ema, step: u64, total: u64, model: &mut dyn Module) {
    if !step.is_multiple_of(ema.every()) {
        return;
    }
    let ramp = (step as f64 / total.max(1) as f64).min(1.0).powi(3);
    let weights = model_tensors(model);
    let views: Vec<&[f32]> = weights.iter().map(|(_, t)| t.data()).collect();
    ema.update_with_decay(&views, ema.decay() * ramp);
    finish_lookahead(ema, model);
}

/// Puts the lookahead average into the model (the end of a lookahead run: its last steps,
/// after the last update, are dropped as in airbench94).
pub(crate) fn finish_lookahead(ema: &Ema, model: &mut dyn Module) {
    if let Some(averaged) = averaged_tensors(ema, model) {
        install(model, averaged.into_iter().map(|(_, t)| t).collect());
    }
}

/// Replaces the model's parameters and buffers by `values`, given in [`model_tensors`] order;
/// returns the values replaced.
fn install(model: &mut dyn Module, values: Vec<Tensor>) -> Vec<Tensor> {
    let mut values = values.into_iter();
    let mut old = Vec::new();
    for (_, var) in model.parameters_mut() {
        if let Some(v) = values.next() {
            old.push(std::mem::replace(var.value_mut(), v));
        }
    }
    for (_, buffer) in model.buffers_mut() {
        if let Some(v) = values.next() {
            old.push(std::mem::replace(buffer, v));
        }
    }
    old
}

/// The averaged weights as named tensors shaped like the model's (for saving and swapping),
/// or `None` before the first update.
pub(crate) fn averaged_tensors(ema: &Ema, model: &mut dyn Module) -> Option<Vec<(String, Tensor)>> {
    if ema.averages().is_empty() {
        return None;
    }
    Some(
        model_tensors(model)
            .into_iter()
            .zip(ema.averages())
            .map(|((name, t), avg)| (name, Tensor::from_vec(avg.clone(), t.shape())))
            .collect(),
    )
}

/// Runs `f` on the model with the averaged weights swapped in (the live ones put back
/// afterwards); with no average yet, or `ema` `None`, on the live weights.
pub(crate) fn with_averaged<M: Module, T>(
    ema: Option<&Ema>,
    model: &mut M,
    f: impl FnOnce(&mut M) -> T,
) -> T {
    let Some(averaged) = ema.and_then(|e| averaged_tensors(e, model)) else {
        return f(model);
    };
    let live = install(model, averaged.into_iter().map(|(_, t)| t).collect());
    let result = f(model);
    install(model, live);
    result
}

/// Restores an average saved by name in `path` after `updates` updates.
pub(crate) fn restore(
    ema: &mut Ema,
    updates: u64,
    path: &Path,
    model: &mut dyn Module,
) -> Result<()> {
    if updates == 0 {
        return ema.restore(0, Vec::new(), &[]);
    }
    let mut saved = read_tensors(path)?;
    let expected = model_tensors(model);
    let mut averages = Vec::with_capacity(expected.len());
    for (name, _) in &expected {
        let t = saved
            .remove(name)
            .ok_or_else(|| Error::format(path, format!("tensor {name} is missing")))?;
        averages.push(t.into_vec());
    }
    let lens: Vec<usize> = expected.iter().map(|(_, t)| t.numel()).collect();
    ema.restore(updates, averages, &lens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::models::mlp;
    use crate::nn::ActivationKind;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn averaged_weights_are_swapped_in_and_back() {
        let spec = mlp(&[3], ActivationKind::Relu, 0.0, true, 2);
        let mut model = spec
            .build(&[1, 2, 2], 2, &mut ChaCha8Rng::seed_from_u64(1))
            .expect("model");
        let live: Vec<Vec<f32>> = model_tensors(&mut model)
            .into_iter()
            .map(|(_, t)| t.into_vec())
            .collect();
        let mut ema = Ema::new(0.5, 1).expect("valid");
        update(&mut ema, 1, &mut model);
        // Pretend training moved every weight (and statistic) by +2: the average is +1.
        let moved: Vec<Tensor> = model_tensors(&mut model)
            .into_iter()
            .map(|(_, t)| t.add_scalar(2.0))
            .collect();
        install(&mut model, moved);
        update(&mut ema, 2, &mut model);
        let seen = with_averaged(Some(&ema), &mut model, |m| {
            model_tensors(m)
                .into_iter()
                .map(|(_, t)| t.into_vec())
                .collect::<Vec<_>>()
        });
        for (avg, w) in seen.iter().zip(&live) {
            for (a, w) in avg.iter().zip(w) {
                assert!((a - (w + 1.0)).abs() < 1e-6, "{a} vs {w} + 1");
            }
        }
        // The live weights are back.
        let after = model_tensors(&mut model);
        assert!((after[0].1.data()[0] - (live[0][0] + 2.0)).abs() < 1e-6);
        // Batch-norm statistics were averaged too (running_var starts at 1: 1 + 1 = 2).
        let names: Vec<String> = after.iter().map(|(n, _)| n.clone()).collect();
        let var = names
            .iter()
            .position(|n| n.ends_with("running_var"))
            .expect("batch norm");
        assert!(seen[var].iter().all(|&v| (v - 2.0).abs() < 1e-6));
    }

    #[test]
    fn lookahead_writes_the_ramped_average_back() {
        let spec = mlp(&[3], ActivationKind::Relu, 0.0, true, 2);
        let mut model = spec
            .build(&[1, 2, 2], 2, &mut ChaCha8Rng::seed_from_u64(1))
            .expect("model");
        let start: Vec<Vec<f32>> = model_tensors(&mut model)
            .into_iter()
            .map(|(_, t)| t.into_vec())
            .collect();
        let mut ema = Ema::new(0.5, 2).expect("valid");
        let shift = |m: &mut dyn Module, by: f32| {
            let moved = model_tensors(m)
                .into_iter()
                .map(|(_, t)| t.add_scalar(by))
                .collect();
            install(m, moved);
        };
        // Step 2 of 4 is due: the first update copies.
        lookahead_update(&mut ema, 2, 4, &mut model);
        shift(&mut model, 2.0);
        // Not due: nothing changes.
        lookahead_update(&mut ema, 3, 4, &mut model);
        // Step 4 of 4: decay 0.5 * 1^3, so the average and the weights move half way.
        lookahead_update(&mut ema, 4, 4, &mut model);
        for ((_, now), was) in model_tensors(&mut model).iter().zip(&start) {
            for (n, w) in now.data().iter().zip(was) {
                assert!((n - (w + 1.0)).abs() < 1e-6, "{n} vs {w} + 1");
            }
        }
        assert_eq!(ema.updates(), 2);
        // Half-way through the run the decay is ramped to 0.5 / 8: the weights dominate.
        shift(&mut model, 8.0);
        lookahead_update(&mut ema, 2, 4, &mut model);
        let moved = model_tensors(&mut model)[0].1.data()[0] - (start[0][0] + 1.0);
        assert!((moved - 8.0 * (1.0 - 0.5 / 8.0)).abs() < 1e-5, "{moved}");
    }
}
