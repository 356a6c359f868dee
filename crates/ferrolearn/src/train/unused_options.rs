//! Which options the chosen optimizer, schedule, model and settings use, so an option chosen
//! that would change nothing (`momentum` with Adam, `warmup` with a per-epoch schedule,
//! `ema_every` without `ema_decay`) is refused instead of silently ignored. Values a model's
//! recipe fills in are never refused: only options the user chose.

use super::options::{BuiltinModel, OptimizerName, ScheduleName, Spelling, TrainOptions};
use crate::nn::spec::{LayerSpec, ModelSpec};
use crate::{Error, Result};

/// Refuses each option chosen in `given` that the run `resolved` (`given` with its recipe)
/// would ignore, naming it and why.
pub(super) fn refuse_unused(
    given: &TrainOptions,
    resolved: &TrainOptions,
    spelling: Spelling,
) -> Result<()> {
    let chosen = serde_json::to_value(given).unwrap_or_default();
    let unused: Vec<String> = unused_reasons(resolved, spelling)
        .into_iter()
        .filter(|(id, _)| chosen.get(id).is_some_and(|v| !v.is_null()))
        .map(|(id, why)| format!("{} has no effect: {why}", spelling.option(id)))
        .collect();
    if unused.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidParameter(unused.join("; ")))
}

/// Per option (field name), why it has no effect with the settings of `r`, if it has none.
fn unused_reasons(r: &TrainOptions, sp: Spelling) -> Vec<(&'static str, String)> {
    use ScheduleName as S;
    let o = |id: &str| sp.option(id);
    let optimizer = sp.setting("optimizer", r.optimizer().name());
    let schedule = sp.setting("schedule", r.schedule().name());
    let per_step_warmup = matches!(r.schedule(), S::WarmupLinear | S::WarmupCosine);
    let uses_gamma = matches!(
        r.schedule(),
        S::Step | S::Exponential | S::Plateau | S::MultiStep
    );
    let builtin = r.builtin();
    let model = match builtin {
        Some(m) => sp.setting("model", m.name()),
        None => o("model_spec"),
    };
    let spec = r.model_spec.as_ref();
    let whitening = match spec {
        Some(s) => starts_with_whitening(s),
        None => builtin == Some(BuiltinModel::Airbench),
    };
    let batch_norm = match (spec, builtin) {
        (Some(s), _) => has_batch_norm(s),
        (None, Some(BuiltinModel::Lenet5)) => false,
        (None, Some(BuiltinModel::Mlp)) => r.batch_norm(),
        _ => true,
    };
    let mlp = builtin == Some(BuiltinModel::Mlp);
    let its = |name: &str| format!("it is {}'s, not {schedule}'s", sp.setting("schedule", name));
    let shapes_mlp = format!("it shapes {}, not {model}", sp.setting("model", "mlp"));
    let rules: Vec<(&'static str, bool, String)> = vec![
        (
            "model",
            spec.is_some(),
            format!("{} gives the model", o("model_spec")),
        ),
        (
            "momentum",
            r.optimizer() != OptimizerName::Sgd,
            format!("only SGD has momentum, not {optimizer}"),
        ),
        (
            "nesterov",
            r.optimizer() != OptimizerName::Sgd,
            format!("only SGD has Nesterov momentum, not {optimizer}"),
        ),
        (
            "nesterov",
            r.optimizer() == OptimizerName::Sgd && r.momentum() == 0.0,
            format!("Nesterov momentum needs {} > 0", o("momentum")),
        ),
        ("step_size", r.schedule() != S::Step, its("step")),
        (
            "gamma",
            !uses_gamma,
            format!(
                "only {} step, exponential, plateau and multi-step use it, not {schedule}",
                o("schedule")
            ),
        ),
        (
            "plateau_patience",
            r.schedule() != S::Plateau,
            its("plateau"),
        ),
        (
            "warmup",
            !per_step_warmup && r.schedule() != S::OneCycle,
            format!(
                "only {} warmup-linear, warmup-cosine and one-cycle warm up, not {schedule}",
                o("schedule")
            ),
        ),
        (
            "final_lr_factor",
            !per_step_warmup,
            format!(
                "only {} warmup-linear and warmup-cosine use it, not {schedule}",
                o("schedule")
            ),
        ),
        (
            "warmup_start",
            !per_step_warmup,
            format!(
                "only {} warmup-linear and warmup-cosine use it, not {schedule}",
                o("schedule")
            ),
        ),
        (
            "milestones",
            r.schedule() != S::MultiStep,
            its("multi-step"),
        ),
        ("div_factor", r.schedule() != S::OneCycle, its("one-cycle")),
        (
            "final_div_factor",
            r.schedule() != S::OneCycle,
            its("one-cycle"),
        ),
        ("hidden", !mlp, shapes_mlp.clone()),
        ("activation", !mlp, shapes_mlp.clone()),
        ("dropout", !mlp, shapes_mlp.clone()),
        ("batch_norm", !mlp, shapes_mlp),
        (
            "depth",
            builtin != Some(BuiltinModel::Resnet20),
            format!(
                "it is the depth of {}, not of {model}",
                sp.setting("model", "resnet20")
            ),
        ),
        (
            "padding_mode",
            r.crop_padding() == 0,
            format!("it fills the crop padding, and {} is 0", o("crop_padding")),
        ),
        (
            "alternating_flip",
            !r.augment_flip(),
            format!(
                "it changes how {} flips, and there is no {}",
                o("augment_flip"),
                o("augment_flip")
            ),
        ),
        (
            "patience",
            r.val_fraction() == 0.0,
            format!(
                "early stopping watches the validation loss, and {} is 0",
                o("val_fraction")
            ),
        ),
        (
            "ema_every",
            r.ema_decay.is_none(),
            format!("there is no moving average without {}", o("ema_decay")),
        ),
        (
            "ema_lookahead",
            r.ema_decay.is_none(),
            format!(
                "there is no moving average without {} (airbench: 0.774 with {} 5)",
                o("ema_decay"),
                o("ema_every")
            ),
        ),
        (
            "whitening_bias_epochs",
            !whitening,
            format!("{model} does not start with a patch_whitening layer"),
        ),
        (
            "norm_bias_grad_scale",
            !batch_norm,
            format!("it scales batch-norm shifts, and {model} has no batch norm"),
        ),
        (
            "no_decay_norm_bias",
            r.weight_decay() == 0.0,
            format!(
                "it exempts parameters from weight decay, and {} is 0",
                o("weight_decay")
            ),
        ),
    ];
    rules
        .into_iter()
        .filter(|(_, unused, _)| *unused)
        .map(|(id, _, why)| (id, why))
        .collect()
}

fn starts_with_whitening(spec: &ModelSpec) -> bool {
    spec.layers
        .first()
        .is_some_and(|l| matches!(l.spec, LayerSpec::PatchWhitening { .. }))
}

/// Whether the description holds a `batch_norm` layer anywhere (inside branches and blocks).
fn has_batch_norm(spec: &ModelSpec) -> bool {
    fn walk(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Object(map) => {
                map.get("type").and_then(|t| t.as_str()) == Some("batch_norm")
                    || map.values().any(walk)
            }
            serde_json::Value::Array(items) => items.iter().any(walk),
            _ => false,
        }
    }
    serde_json::to_value(spec).is_ok_and(|v| walk(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_options_the_run_ignores_are_refused_in_either_spelling() {
        let given = TrainOptions {
            optimizer: Some(OptimizerName::Adam),
            momentum: Some(0.5),
            ..TrainOptions::default()
        };
        let flags = given.resolve(Spelling::Flags).unwrap_err().to_string();
        assert!(
            flags.contains("--momentum has no effect: only SGD has momentum, not --optimizer adam"),
            "{flags}"
        );
        let words = given.resolve(Spelling::Keywords).unwrap_err().to_string();
        assert!(
            words.contains("momentum has no effect: only SGD has momentum, not optimizer='adam'"),
            "{words}"
        );
        // What a recipe fills in is never refused: resnet20's Nesterov momentum with its
        // multi-step gamma.
        let resnet = TrainOptions::for_model(BuiltinModel::Resnet20);
        assert!(resnet.resolve(Spelling::Flags).is_ok());
    }
}
