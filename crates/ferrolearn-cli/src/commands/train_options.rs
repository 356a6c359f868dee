//! `ferrolearn train`'s flags as the library's [`TrainOptions`]: a flag typed on the command
//! line is chosen, one left out is not, so the model's recipe or the library's default
//! applies to it. clap's defaults only show in `--help`; a test keeps them equal to the
//! library's.

use clap::parser::ValueSource;
use clap::ArgMatches;
use ferrolearn::nn::spec::ModelSpec;
use ferrolearn::train::{self as lib, BuiltinModel, TrainOptions};

use super::train::{Args, ModelName, OptimizerName, ScheduleName};

impl From<ModelName> for BuiltinModel {
    fn from(m: ModelName) -> BuiltinModel {
        match m {
            ModelName::Lenet5 => BuiltinModel::Lenet5,
            ModelName::Mlp => BuiltinModel::Mlp,
            ModelName::Resnet20 => BuiltinModel::Resnet20,
            ModelName::Alexnet => BuiltinModel::Alexnet,
            ModelName::Inception => BuiltinModel::Inception,
            ModelName::Fastnet => BuiltinModel::Fastnet,
            ModelName::Airbench => BuiltinModel::Airbench,
        }
    }
}

impl From<OptimizerName> for lib::OptimizerName {
    fn from(o: OptimizerName) -> lib::OptimizerName {
        match o {
            OptimizerName::Sgd => lib::OptimizerName::Sgd,
            OptimizerName::Adam => lib::OptimizerName::Adam,
            OptimizerName::Adamw => lib::OptimizerName::Adamw,
            OptimizerName::Adagrad => lib::OptimizerName::Adagrad,
            OptimizerName::Rmsprop => lib::OptimizerName::Rmsprop,
        }
    }
}

impl From<ScheduleName> for lib::ScheduleName {
    fn from(s: ScheduleName) -> lib::ScheduleName {
        match s {
            ScheduleName::None => lib::ScheduleName::None,
            ScheduleName::Step => lib::ScheduleName::Step,
            ScheduleName::Cosine => lib::ScheduleName::Cosine,
            ScheduleName::Exponential => lib::ScheduleName::Exponential,
            ScheduleName::Plateau => lib::ScheduleName::Plateau,
            ScheduleName::WarmupLinear => lib::ScheduleName::WarmupLinear,
            ScheduleName::WarmupCosine => lib::ScheduleName::WarmupCosine,
            ScheduleName::OneCycle => lib::ScheduleName::OneCycle,
            ScheduleName::MultiStep => lib::ScheduleName::MultiStep,
        }
    }
}

/// The options the flags of `args` typed on the command line choose (`matches` says which;
/// none without it), with the model file read.
pub fn options(args: &Args, matches: Option<&ArgMatches>) -> anyhow::Result<TrainOptions> {
    let given =
        |id: &str| matches.is_some_and(|m| m.value_source(id) == Some(ValueSource::CommandLine));
    options_given(args, given)
}

/// [`options`] with `given` saying which flags (by clap id) were typed.
fn options_given(args: &Args, given: impl Fn(&str) -> bool) -> anyhow::Result<TrainOptions> {
    macro_rules! pick {
        ($id:literal, $value:expr) => {
            given($id).then(|| $value)
        };
    }
    let r = &args.recipe;
    Ok(TrainOptions {
        model: pick!("model", args.model.into()),
        model_spec: args
            .model_file
            .as_deref()
            .map(ModelSpec::from_file)
            .transpose()?,
        epochs: pick!("epochs", args.epochs),
        batch_size: pick!("batch_size", args.batch_size),
        optimizer: pick!("optimizer", args.optimizer.into()),
        lr: pick!("lr", args.lr),
        momentum: pick!("momentum", args.momentum),
        nesterov: pick!("nesterov", args.nesterov),
        weight_decay: pick!("weight_decay", args.weight_decay),
        l1: pick!("l1", args.l1),
        l2: pick!("l2", args.l2),
        schedule: pick!("schedule", args.schedule.into()),
        step_size: pick!("step_size", args.step_size),
        gamma: pick!("gamma", args.gamma),
        plateau_patience: pick!("plateau_patience", args.plateau_patience),
        hidden: pick!("hidden", args.hidden.clone()),
        activation: pick!("activation", args.activation.clone()),
        depth: pick!("depth", args.depth),
        dropout: pick!("dropout", args.dropout),
        batch_norm: pick!("batch_norm", args.batch_norm),
        val_fraction: pick!("val_fraction", args.val_fraction),
        patience: args.patience,
        clip_norm: args.clip_norm,
        normalize: pick!("normalize", args.normalize),
        augment_flip: pick!("augment_flip", args.augment_flip),
        shuffle: pick!("no_shuffle", !args.no_shuffle),
        crop_padding: pick!("crop_padding", args.crop_padding),
        padding_mode: pick!("padding_mode", args.padding_mode.into()),
        alternating_flip: pick!("alternating_flip", args.alternating_flip),
        cutout: args.cutout,
        seed: pick!("seed", args.seed),
        limit: args.limit,
        label_smoothing: pick!("label_smoothing", r.label_smoothing),
        warmup: r.warmup,
        final_lr_factor: r.final_lr_factor,
        warmup_start: pick!("warmup_start", r.warmup_start),
        milestones: pick!("milestones", r.milestones.clone()),
        div_factor: pick!("div_factor", r.div_factor),
        final_div_factor: pick!("final_div_factor", r.final_div_factor),
        no_decay_norm_bias: pick!("no_decay_norm_bias", r.no_decay_norm_bias),
        norm_bias_grad_scale: pick!("norm_bias_grad_scale", r.norm_bias_grad_scale),
        ema_decay: r.ema_decay,
        ema_every: pick!("ema_every", r.ema_every),
        ema_lookahead: pick!("ema_lookahead", r.ema_lookahead),
        whitening_bias_epochs: r.whitening_bias_epochs,
        tta: pick!("tta", r.tta.into()),
        time_budget: r.time_budget.clone(),
        test_limit: r.test_limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        train: Args,
    }

    /// Every default `--help` shows is the library's.
    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let args = Cli::parse_from(["train"]).train;
        let all = options_given(&args, |_| true).expect("no model file");
        let library = TrainOptions::default();
        macro_rules! same {
            ($($field:ident),*) => {$(
                assert_eq!(all.$field(), library.$field(), stringify!($field));
            )*};
        }
        same!(
            epochs,
            batch_size,
            optimizer,
            lr,
            momentum,
            nesterov,
            weight_decay,
            l1,
            l2,
            schedule,
            step_size,
            gamma,
            plateau_patience,
            hidden,
            activation,
            depth,
            dropout,
            batch_norm,
            val_fraction,
            normalize,
            augment_flip,
            shuffle,
            crop_padding,
            padding_mode,
            alternating_flip,
            seed,
            label_smoothing,
            warmup_start,
            milestones,
            div_factor,
            final_div_factor,
            no_decay_norm_bias,
            norm_bias_grad_scale,
            ema_every,
            ema_lookahead,
            tta
        );
        assert_eq!(all.builtin(), library.builtin(), "model");
    }
}
