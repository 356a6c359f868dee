//! The `optimizers` and `schedules` families: PyTorch's optimizers on a small objective and
//! its learning-rate schedules over 30 epochs.

use ferrolearn::optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, Anneal, CosineAnnealingLr, Ema, ExponentialLr,
    MultiStepFractions, OneCycleConfig, OneCycleLr, Optimizer, ReduceLrOnPlateau,
    ReduceLrOnPlateauConfig, RmsProp, RmsPropConfig, Sgd, SgdConfig, StepLr, WarmupCosine,
    WarmupLinear,
};
use serde_json::Value;

use super::case::{widen, Case};

/// Checks one optimizer or schedule case, dispatching on its op.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        "sgd" | "adagrad" | "rmsprop" | "adam" | "adamw" => check_optimizer(case),
        "step_lr" | "cosine_annealing_lr" | "exponential_lr" | "reduce_lr_on_plateau" => {
            check_schedule(case)
        }
        "warmup_linear" | "warmup_cosine" | "multi_step_fraction" | "one_cycle_lr" => {
            check_step_schedule(case)
        }
        "ema" => check_ema(case),
        other => Err(format!("unknown optimizer/schedule op `{other}`")),
    }
}

/// `params.hyperparameters`.
fn hyper(case: &Case) -> Result<&Value, String> {
    case.params
        .get("hyperparameters")
        .ok_or_else(|| "param `hyperparameters` missing".to_string())
}

/// A number from `params.hyperparameters`, or `default` when absent.
fn num(hp: &Value, key: &str, default: f64) -> Result<f64, String> {
    match hp.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_f64()
            .ok_or_else(|| format!("hyperparameter `{key}` is not a number: {v}")),
    }
}

/// A non-negative integer from `params.hyperparameters`.
fn count(hp: &Value, key: &str) -> Result<usize, String> {
    hp.get(key)
        .and_then(Value::as_u64)
        .map(|v| v as usize)
        .ok_or_else(|| format!("hyperparameter `{key}` missing or not a count"))
}

/// Refuses hyperparameters this checker does not read, so that a new case cannot pass by
/// being silently misread.
fn known_keys(hp: &Value, known: &[&str]) -> Result<(), String> {
    let object = hp.as_object().ok_or("hyperparameters are not an object")?;
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "hyperparameter `{k}` is not understood by this checker"
        )),
        None => Ok(()),
    }
}

/// Builds the optimizer a case describes.
fn build(case: &Case) -> Result<Box<dyn Optimizer>, String> {
    let hp = hyper(case)?;
    let known: &[&str] = match case.op.as_str() {
        "sgd" => &["lr", "momentum", "dampening", "weight_decay", "nesterov"],
        "adagrad" => &[
            "lr",
            "lr_decay",
            "weight_decay",
            "initial_accumulator_value",
            "eps",
        ],
        "rmsprop" => &["lr", "alpha", "eps", "weight_decay", "momentum", "centered"],
        _ => &["lr", "betas", "eps", "weight_decay", "amsgrad"],
    };
    known_keys(hp, known)?;
    let flag = |key: &str| hp.get(key).and_then(Value::as_bool).unwrap_or(false);
    let err = |e: ferrolearn::Error| e.to_string();
    let opt: Box<dyn Optimizer> = match case.op.as_str() {
        "sgd" => Box::new(
            Sgd::new(SgdConfig {
                lr: num(hp, "lr", 1e-3)?,
                momentum: num(hp, "momentum", 0.0)?,
                dampening: num(hp, "dampening", 0.0)?,
                weight_decay: num(hp, "weight_decay", 0.0)?,
                nesterov: flag("nesterov"),
            })
            .map_err(err)?,
        ),
        "adagrad" => Box::new(
            Adagrad::new(AdagradConfig {
                lr: num(hp, "lr", 1e-2)?,
                lr_decay: num(hp, "lr_decay", 0.0)?,
                weight_decay: num(hp, "weight_decay", 0.0)?,
                initial_accumulator_value: num(hp, "initial_accumulator_value", 0.0)?,
                eps: num(hp, "eps", 1e-10)?,
            })
            .map_err(err)?,
        ),
        "rmsprop" => Box::new(
            RmsProp::new(RmsPropConfig {
                lr: num(hp, "lr", 1e-2)?,
                alpha: num(hp, "alpha", 0.99)?,
                eps: num(hp, "eps", 1e-8)?,
                weight_decay: num(hp, "weight_decay", 0.0)?,
                momentum: num(hp, "momentum", 0.0)?,
                centered: flag("centered"),
            })
            .map_err(err)?,
        ),
        "adam" | "adamw" => {
            if flag("amsgrad") {
                return Err("amsgrad is not implemented".into());
            }
            let betas = match hp.get("betas").and_then(Value::as_array) {
                Some(b) if b.len() == 2 => (
                    b[0].as_f64().ok_or("beta1 is not a number")?,
                    b[1].as_f64().ok_or("beta2 is not a number")?,
                ),
                Some(_) => return Err("betas must hold two numbers".into()),
                None => (0.9, 0.999),
            };
            let wd_default = if case.op == "adamw" { 1e-2 } else { 0.0 };
            let config = AdamConfig {
                lr: num(hp, "lr", 1e-3)?,
                betas,
                eps: num(hp, "eps", 1e-8)?,
                eps_before_correction: false,
                weight_decay: num(hp, "weight_decay", wd_default)?,
            };
            if case.op == "adam" {
                Box::new(Adam::new(config).map_err(err)?)
            } else {
                Box::new(AdamW::new(config).map_err(err)?)
            }
        }
        other => return Err(format!("no optimizer for op `{other}`")),
    };
    Ok(opt)
}

/// The gradient of `f(p) = sum_i a_i*(p_i - c_i)^2 + 0.1*sum_i p_i^4`.
fn gradient(p: &[f32], a: &[f32], c: &[f32]) -> Vec<f32> {
    p.iter()
        .zip(a.iter().zip(c))
        .map(|(&p, (&a, &c))| 2.0 * a * (p - c) + 0.4 * p * p * p)
        .collect()
}

/// Splits `p` into the case's parameter groups (`params.group_lens`, one group when absent)
/// and sets the weight-decay mask `params.decay` (one flag per group) on `opt`.
fn groups(case: &Case, opt: &mut dyn Optimizer, len: usize) -> Result<Vec<usize>, String> {
    let Some(lens) = case.params.get("group_lens") else {
        return Ok(vec![len]);
    };
    let lens: Vec<usize> = lens
        .as_array()
        .ok_or("group_lens is not a list")?
        .iter()
        .map(|v| v.as_u64().map(|n| n as usize).ok_or("bad group length"))
        .collect::<Result<_, _>>()?;
    if lens.iter().sum::<usize>() != len {
        return Err(format!("group_lens {lens:?} do not add up to {len}"));
    }
    let mask: Vec<bool> = case
        .params
        .get("decay")
        .and_then(Value::as_array)
        .ok_or("param `decay` missing")?
        .iter()
        .map(|v| v.as_bool().ok_or("bad decay flag"))
        .collect::<Result<_, _>>()?;
    opt.set_decay_mask(mask).map_err(|e| e.to_string())?;
    Ok(lens)
}

/// One optimizer step on `p` split into parameters of lengths `lens`.
fn step_groups(opt: &mut dyn Optimizer, p: &mut [f32], g: &[f32], lens: &[usize]) {
    let mut params: Vec<&mut [f32]> = Vec::new();
    let mut grads: Vec<&[f32]> = Vec::new();
    let (mut rest, mut grest) = (p, g);
    for &n in lens {
        let (head, tail) = rest.split_at_mut(n);
        let (ghead, gtail) = grest.split_at(n);
        params.push(head);
        grads.push(ghead);
        rest = tail;
        grest = gtail;
    }
    opt.step(&mut params, &grads);
}

fn check_optimizer(case: &Case) -> Result<(), String> {
    let mut p = case.input("p0")?.to_f32();
    let a = case.input("a")?.to_f32();
    let c = case.input("c")?.to_f32();
    let shape = case.input("p0")?.shape.clone();
    case.check_output("grad_at_p0", &widen(&gradient(&p, &a, &c)), &shape)?;
    let steps = case
        .params
        .get("steps")
        .and_then(Value::as_u64)
        .unwrap_or(20);
    let mut opt = build(case)?;
    let lens = groups(case, opt.as_mut(), p.len())?;
    let mut recorded = 0;
    for t in 1..=steps {
        let g = gradient(&p, &a, &c);
        step_groups(opt.as_mut(), &mut p, &g, &lens);
        let name = format!("step_{t}");
        if case.output(&name).is_ok() {
            case.check_output(&name, &widen(&p), &shape)?;
            recorded += 1;
        }
    }
    let expected = case
        .outputs
        .keys()
        .filter(|k| k.starts_with("step_"))
        .count();
    if recorded != expected {
        return Err(format!(
            "checked {recorded} of {expected} step outputs (steps = {steps})"
        ));
    }
    Ok(())
}

fn check_schedule(case: &Case) -> Result<(), String> {
    let hp = hyper(case)?;
    let base = case.param_f64("base_lr")?;
    let epochs = case
        .params
        .get("epochs")
        .and_then(Value::as_u64)
        .ok_or("param `epochs` missing")? as usize;
    let err = |e: ferrolearn::Error| e.to_string();
    let known: &[&str] = match case.op.as_str() {
        "step_lr" => &["step_size", "gamma"],
        "cosine_annealing_lr" => &["T_max", "eta_min"],
        "exponential_lr" => &["gamma"],
        _ => &[
            "mode",
            "factor",
            "patience",
            "threshold",
            "threshold_mode",
            "cooldown",
            "min_lr",
            "eps",
        ],
    };
    known_keys(hp, known)?;
    let lrs: Vec<f64> = match case.op.as_str() {
        "step_lr" => {
            let s =
                StepLr::new(base, count(hp, "step_size")?, num(hp, "gamma", 0.1)?).map_err(err)?;
            (0..=epochs).map(|t| s.lr_at(t)).collect()
        }
        "cosine_annealing_lr" => {
            let s = CosineAnnealingLr::new(base, count(hp, "T_max")?, num(hp, "eta_min", 0.0)?)
                .map_err(err)?;
            (0..=epochs).map(|t| s.lr_at(t)).collect()
        }
        "exponential_lr" => {
            let gamma = hp
                .get("gamma")
                .and_then(Value::as_f64)
                .ok_or("hyperparameter `gamma` missing")?;
            let s = ExponentialLr::new(base, gamma).map_err(err)?;
            (0..=epochs).map(|t| s.lr_at(t)).collect()
        }
        "reduce_lr_on_plateau" => {
            let text = |key: &str, want: &str| match hp.get(key).and_then(Value::as_str) {
                None => Ok(()),
                Some(v) if v == want => Ok(()),
                Some(v) => Err(format!("{key} `{v}` is not supported (only `{want}`)")),
            };
            text("mode", "min")?;
            text("threshold_mode", "rel")?;
            let config = ReduceLrOnPlateauConfig {
                factor: num(hp, "factor", 0.1)?,
                patience: count(hp, "patience")?,
                threshold: num(hp, "threshold", 1e-4)?,
                cooldown: count(hp, "cooldown")?,
                min_lr: num(hp, "min_lr", 0.0)?,
                eps: num(hp, "eps", 1e-8)?,
            };
            let mut s = ReduceLrOnPlateau::new(base, config).map_err(err)?;
            let losses = &case.input("val_losses")?.data;
            if losses.len() != epochs {
                return Err(format!("{} val_losses for {epochs} epochs", losses.len()));
            }
            std::iter::once(s.lr())
                .chain(losses.iter().map(|&l| s.step(l)))
                .collect()
        }
        other => return Err(format!("no schedule for op `{other}`")),
    };
    case.check_output("lr", &lrs, &[lrs.len()])
}

/// A per-step schedule case: `lr[k]` for every step `k` of a run of `total_steps`.
fn check_step_schedule(case: &Case) -> Result<(), String> {
    let hp = hyper(case)?;
    let base = case.param_f64("base_lr")?;
    let total = case
        .params
        .get("total_steps")
        .and_then(Value::as_u64)
        .ok_or("param `total_steps` missing")?;
    let err = |e: ferrolearn::Error| e.to_string();
    let known: &[&str] = match case.op.as_str() {
        "warmup_linear" | "warmup_cosine" => &["warmup", "final_factor"],
        "multi_step_fraction" => &["milestones", "gamma"],
        _ => &[
            "max_lr",
            "pct_start",
            "div_factor",
            "final_div_factor",
            "anneal_strategy",
            "three_phase",
        ],
    };
    known_keys(hp, known)?;
    let lr_at: Box<dyn Fn(u64) -> f64> = match case.op.as_str() {
        "warmup_linear" => {
            let s = WarmupLinear::new(base, num(hp, "warmup", 0.0)?, num(hp, "final_factor", 0.0)?)
                .map_err(err)?;
            Box::new(move |k| s.lr_at(k, total))
        }
        "warmup_cosine" => {
            let s = WarmupCosine::new(base, num(hp, "warmup", 0.0)?, num(hp, "final_factor", 0.0)?)
                .map_err(err)?;
            Box::new(move |k| s.lr_at(k, total))
        }
        "multi_step_fraction" => {
            let milestones = hp
                .get("milestones")
                .and_then(Value::as_array)
                .ok_or("hyperparameter `milestones` missing")?
                .iter()
                .map(|v| v.as_f64().ok_or("bad milestone"))
                .collect::<Result<Vec<f64>, _>>()?;
            let s =
                MultiStepFractions::new(base, milestones, num(hp, "gamma", 0.1)?).map_err(err)?;
            Box::new(move |k| s.lr_at(k, total))
        }
        _ => {
            let anneal = match hp.get("anneal_strategy").and_then(Value::as_str) {
                None | Some("cos") => Anneal::Cos,
                Some("linear") => Anneal::Linear,
                Some(other) => return Err(format!("anneal_strategy `{other}` is not known")),
            };
            let config = OneCycleConfig {
                pct_start: num(hp, "pct_start", 0.3)?,
                div_factor: num(hp, "div_factor", 25.0)?,
                final_div_factor: num(hp, "final_div_factor", 1e4)?,
                anneal,
                three_phase: hp
                    .get("three_phase")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            };
            let s = OneCycleLr::new(num(hp, "max_lr", base)?, config).map_err(err)?;
            Box::new(move |k| s.lr_at(k, total))
        }
    };
    let lrs: Vec<f64> = (0..total).map(lr_at).collect();
    case.check_output("lr", &lrs, &[lrs.len()])
}

/// A moving-average case: SGD on the objective, the average of the weights updated after
/// every `ema_every`-th step, compared at the recorded steps.
fn check_ema(case: &Case) -> Result<(), String> {
    let mut p = case.input("p0")?.to_f32();
    let a = case.input("a")?.to_f32();
    let c = case.input("c")?.to_f32();
    let shape = case.input("p0")?.shape.clone();
    case.check_output("grad_at_p0", &widen(&gradient(&p, &a, &c)), &shape)?;
    let hp = hyper(case)?;
    known_keys(hp, &["lr", "momentum"])?;
    let mut opt = Sgd::new(SgdConfig {
        lr: num(hp, "lr", 1e-3)?,
        momentum: num(hp, "momentum", 0.0)?,
        ..SgdConfig::default()
    })
    .map_err(|e| e.to_string())?;
    let every = case.param_f64("ema_every")? as u64;
    let mut ema = Ema::new(case.param_f64("ema_decay")?, every).map_err(|e| e.to_string())?;
    let mut recorded = 0;
    for t in 1..=20u64 {
        let g = gradient(&p, &a, &c);
        opt.step(&mut [p.as_mut_slice()], &[g.as_slice()]);
        ema.after_step(t, &[&p]);
        let name = format!("ema_{t}");
        if case.output(&name).is_ok() {
            let avg = ema.averages().first().ok_or("no average yet")?;
            case.check_output(&name, &widen(avg), &shape)?;
            recorded += 1;
        }
    }
    let expected = case
        .outputs
        .keys()
        .filter(|k| k.starts_with("ema_"))
        .count();
    if recorded != expected {
        return Err(format!("checked {recorded} of {expected} averages"));
    }
    Ok(())
}
