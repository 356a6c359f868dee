//! Which `train` flags the chosen optimizer, schedule, model and settings use, so a flag
//! given on the command line that would change nothing (`--momentum` with Adam, `--warmup`
//! with a per-epoch schedule, `--ema-every` without `--ema-decay`) is refused instead of
//! silently ignored. Values that a model's recipe fills in are never refused: only flags the
//! user typed.

use std::path::Path;

use clap::parser::ValueSource;
use clap::ArgMatches;
use ferrolearn::nn::spec::{LayerSpec, ModelSpec};

use super::train::{Args, ModelName, OptimizerName, ScheduleName};

/// The model a run will train, as far as flags care: whether it is the MLP or a ResNet
/// built from flags, whether it starts with a patch-whitening layer, and whether it has
/// batch norm.
struct ModelTraits {
    /// `--model mlp` without `--model-file`.
    mlp: bool,
    /// `--model resnet20` without `--model-file`.
    resnet: bool,
    /// The first layer is `patch_whitening`.
    whitening: bool,
    /// Some layer (at any depth) is `batch_norm`.
    batch_norm: bool,
}

impl ModelTraits {
    fn of(args: &Args) -> anyhow::Result<ModelTraits> {
        if let Some(path) = &args.model_file {
            let spec = ModelSpec::from_file(path)?;
            return Ok(ModelTraits {
                mlp: false,
                resnet: false,
                whitening: starts_with_whitening(&spec),
                batch_norm: has_batch_norm(path)?,
            });
        }
        Ok(ModelTraits {
            mlp: args.model == ModelName::Mlp,
            resnet: args.model == ModelName::Resnet20,
            whitening: args.model == ModelName::Airbench,
            batch_norm: match args.model {
                ModelName::Lenet5 => false,
                ModelName::Mlp => args.batch_norm,
                _ => true,
            },
        })
    }
}

fn starts_with_whitening(spec: &ModelSpec) -> bool {
    spec.layers
        .first()
        .is_some_and(|l| matches!(l.spec, LayerSpec::PatchWhitening { .. }))
}

/// Whether the model file holds a `batch_norm` layer anywhere (inside branches and blocks).
fn has_batch_norm(path: &Path) -> anyhow::Result<bool> {
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
    let text = std::fs::read_to_string(path)?;
    Ok(walk(&serde_json::from_str(&text)?))
}

/// Per `train` flag (clap id), why it has no effect with these settings, if it has none.
fn unused_reasons(args: &Args, model: &ModelTraits) -> Vec<(&'static str, String)> {
    use ScheduleName as S;
    let r = &args.recipe;
    let optimizer = args.optimizer.to_possible_value_name();
    let schedule = args.schedule.to_possible_value_name();
    let per_step_warmup = matches!(args.schedule, S::WarmupLinear | S::WarmupCosine);
    let uses_gamma = matches!(
        args.schedule,
        S::Step | S::Exponential | S::Plateau | S::MultiStep
    );
    let file = args.model_file.is_some();
    let model_name = if file {
        "--model-file".to_string()
    } else {
        format!("--model {}", args.model.to_possible_value_name())
    };
    let rules: Vec<(&'static str, bool, String)> = vec![
        (
            "model",
            file,
            "--model-file gives the model".into(),
        ),
        (
            "momentum",
            args.optimizer != OptimizerName::Sgd,
            format!("only SGD has momentum, not --optimizer {optimizer}"),
        ),
        (
            "nesterov",
            args.optimizer != OptimizerName::Sgd,
            format!("only SGD has Nesterov momentum, not --optimizer {optimizer}"),
        ),
        (
            "nesterov",
            args.optimizer == OptimizerName::Sgd && args.momentum == 0.0,
            "Nesterov momentum needs --momentum > 0".into(),
        ),
        (
            "step_size",
            args.schedule != S::Step,
            format!("it is --schedule step's, not --schedule {schedule}'s"),
        ),
        (
            "gamma",
            !uses_gamma,
            format!("only --schedule step, exponential, plateau and multi-step use it, not --schedule {schedule}"),
        ),
        (
            "plateau_patience",
            args.schedule != S::Plateau,
            format!("it is --schedule plateau's, not --schedule {schedule}'s"),
        ),
        (
            "warmup",
            !per_step_warmup && args.schedule != S::OneCycle,
            format!("only --schedule warmup-linear, warmup-cosine and one-cycle warm up, not --schedule {schedule}"),
        ),
        (
            "final_lr_factor",
            !per_step_warmup,
            format!("only --schedule warmup-linear and warmup-cosine use it, not --schedule {schedule}"),
        ),
        (
            "warmup_start",
            !per_step_warmup,
            format!("only --schedule warmup-linear and warmup-cosine use it, not --schedule {schedule}"),
        ),
        (
            "milestones",
            args.schedule != S::MultiStep,
            format!("it is --schedule multi-step's, not --schedule {schedule}'s"),
        ),
        (
            "div_factor",
            args.schedule != S::OneCycle,
            format!("it is --schedule one-cycle's, not --schedule {schedule}'s"),
        ),
        (
            "final_div_factor",
            args.schedule != S::OneCycle,
            format!("it is --schedule one-cycle's, not --schedule {schedule}'s"),
        ),
        (
            "hidden",
            !model.mlp,
            format!("it shapes --model mlp, not {model_name}"),
        ),
        (
            "activation",
            !model.mlp,
            format!("it shapes --model mlp, not {model_name}"),
        ),
        (
            "dropout",
            !model.mlp,
            format!("it shapes --model mlp, not {model_name}"),
        ),
        (
            "batch_norm",
            !model.mlp,
            format!("it shapes --model mlp, not {model_name}"),
        ),
        (
            "depth",
            !model.resnet,
            format!("it is the depth of --model resnet20, not of {model_name}"),
        ),
        (
            "padding_mode",
            args.crop_padding == 0,
            "it fills the crop padding, and --crop-padding is 0".into(),
        ),
        (
            "alternating_flip",
            !args.augment_flip,
            "it changes how --augment-flip flips, and there is no --augment-flip".into(),
        ),
        (
            "patience",
            args.val_fraction == 0.0,
            "early stopping watches the validation loss, and --val-fraction is 0".into(),
        ),
        (
            "ema_every",
            r.ema_decay.is_none(),
            "there is no moving average without --ema-decay".into(),
        ),
        (
            "ema_lookahead",
            r.ema_decay.is_none(),
            "there is no moving average without --ema-decay (airbench: 0.774 with --ema-every 5)".into(),
        ),
        (
            "whitening_bias_epochs",
            !model.whitening,
            format!("{model_name} does not start with a patch_whitening layer"),
        ),
        (
            "norm_bias_grad_scale",
            !model.batch_norm,
            format!("it scales batch-norm shifts, and {model_name} has no batch norm"),
        ),
        (
            "no_decay_norm_bias",
            args.weight_decay == 0.0,
            "it exempts parameters from weight decay, and --weight-decay is 0".into(),
        ),
    ];
    rules
        .into_iter()
        .filter(|(_, unused, _)| *unused)
        .map(|(id, _, why)| (id, why))
        .collect()
}

/// Refuses the flags given on the command line that the run would ignore, naming each and
/// why (`matches` absent: nothing to refuse).
pub fn refuse_unused(args: &Args, matches: Option<&ArgMatches>) -> anyhow::Result<()> {
    let Some(m) = matches else { return Ok(()) };
    let given = |id: &str| m.value_source(id) == Some(ValueSource::CommandLine);
    let model = ModelTraits::of(args)?;
    let unused: Vec<String> = unused_reasons(args, &model)
        .into_iter()
        .filter(|(id, _)| given(id))
        .map(|(id, why)| format!("--{} has no effect: {why}", id.replace('_', "-")))
        .collect();
    if unused.is_empty() {
        return Ok(());
    }
    anyhow::bail!("{}", unused.join("; "))
}

/// The name clap shows for a value (`warmup-linear`).
trait PossibleValueName {
    fn to_possible_value_name(&self) -> String;
}

impl<T: clap::ValueEnum> PossibleValueName for T {
    fn to_possible_value_name(&self) -> String {
        self.to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_string())
    }
}
