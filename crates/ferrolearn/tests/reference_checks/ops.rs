//! The autograd families (linear, conv2d, pool, batchnorm, activations, losses, branching):
//! each case's outputs and the gradients of `sum(output * upstream)` for every input listed in
//! `grads`.

use std::collections::BTreeMap;

use ferrolearn::autograd::{batch_norm, multiclass_hinge_terms, Var};
use ferrolearn::tensor::PoolWindow;
use ferrolearn::Tensor;

use super::case::{compare, widen, Case, RefTensor};

fn tensor(t: &RefTensor) -> Tensor {
    Tensor::from_vec(t.to_f32(), &t.shape)
}

/// Builds the case's inputs: those with reference gradients as parameters, others constant.
fn vars(case: &Case) -> BTreeMap<String, Var> {
    case.inputs
        .iter()
        .map(|(name, t)| {
            let v = if case.grads.contains_key(name) {
                Var::parameter(tensor(t))
            } else {
                Var::constant(tensor(t))
            };
            (name.clone(), v)
        })
        .collect()
}

fn param_usize(case: &Case, key: &str) -> Result<usize, String> {
    case.param_f64(key).map(|v| v as usize)
}

/// The pooling window of a case (`padding` is optional and defaults to 0).
fn window(case: &Case) -> Result<PoolWindow, String> {
    let padding = case
        .params
        .get("padding")
        .map_or(Ok(0), |_| param_usize(case, "padding"))?;
    Ok(PoolWindow::new(
        param_usize(case, "kernel_size")?,
        param_usize(case, "stride")?,
    )
    .padding(padding))
}

/// Checks one case of the autograd families, dispatching on its op.
pub fn check(case: &Case) -> Result<(), String> {
    let v = vars(case);
    let get = |name: &str| -> Result<&Var, String> {
        v.get(name).ok_or_else(|| format!("input `{name}` missing"))
    };
    let labels = || -> Result<Vec<usize>, String> { Ok(case.input("target")?.to_usize()) };
    let target = || -> Result<Tensor, String> { Ok(tensor(case.input("target")?)) };
    let mut extra: Vec<(&str, Tensor)> = Vec::new();
    let y = match case.op.as_str() {
        "linear" => get("x")?.linear(get("weight")?, Some(get("bias")?)),
        "conv2d" => get("x")?.conv2d(
            get("weight")?,
            v.get("bias"),
            param_usize(case, "stride")?,
            param_usize(case, "padding")?,
        ),
        "max_pool2d" => get("x")?.max_pool2d_window(window(case)?),
        "avg_pool2d" => get("x")?.avg_pool2d_window(window(case)?),
        "global_avg_pool" => get("x")?.global_avg_pool(),
        "shortcut_pad" => get("x")?.shortcut_pad(
            param_usize(case, "stride")?,
            param_usize(case, "out_channels")?,
        ),
        "cat_channels" => Var::cat(
            &[get("a")?.clone(), get("b")?.clone(), get("c")?.clone()],
            1,
        ),
        "gelu" => get("x")?.gelu(),
        "batch_norm1d" | "batch_norm2d" => {
            let training = case
                .params
                .get("training")
                .and_then(|t| t.as_bool())
                .ok_or("param `training` missing")?;
            let mut running_mean = tensor(case.input("running_mean")?);
            let mut running_var = tensor(case.input("running_var")?);
            let y = batch_norm(
                get("x")?,
                get("gamma")?,
                get("beta")?,
                &mut running_mean,
                &mut running_var,
                training,
                case.param_f64("momentum")? as f32,
                case.param_f64("eps")? as f32,
            );
            if training {
                extra.push(("running_mean", running_mean));
                extra.push(("running_var", running_var));
            } else if running_mean.data() != tensor(case.input("running_mean")?).data()
                || running_var.data() != tensor(case.input("running_var")?).data()
            {
                return Err("eval mode changed the running statistics".into());
            }
            y
        }
        "sigmoid" => get("x")?.sigmoid(),
        "tanh" => get("x")?.tanh(),
        "relu" => get("x")?.relu(),
        "leaky_relu" => get("x")?.leaky_relu(case.param_f64("negative_slope")? as f32),
        "prelu" => get("x")?.prelu(get("alpha")?),
        "elu" => get("x")?.elu(case.param_f64("alpha")? as f32),
        "selu" => get("x")?.selu(),
        "softplus" => get("x")?.softplus(case.param_f64("beta")? as f32),
        "softmax" => get("x")?.softmax(param_usize(case, "dim")?),
        "log_softmax" => get("x")?.log_softmax(param_usize(case, "dim")?),
        "maxout" => get("x")?.maxout(param_usize(case, "pieces")?),
        "mse" => get("input")?.mse_loss(&target()?),
        "bce_with_logits" => get("input")?.bce_with_logits_loss(&target()?),
        "cross_entropy" => {
            let eps = case.params.get("label_smoothing").map_or(Ok(0.0), |v| {
                v.as_f64().ok_or("label_smoothing is not a number")
            })?;
            get("input")?.cross_entropy_loss_smoothed(&labels()?, eps as f32)
        }
        "multi_margin" => {
            let margin = case.param_f64("margin")? as f32;
            let x = get("input")?;
            let (per, _) = multiclass_hinge_terms(x.value(), &labels()?, margin);
            extra.push(("per_example", per.mul_scalar(1.0 / x.shape()[1] as f32)));
            x.multi_margin_loss(&labels()?, margin)
        }
        "svm_hinge_cs231n" => {
            let x = get("input")?;
            extra.push((
                "per_example",
                multiclass_hinge_terms(x.value(), &labels()?, 1.0).0,
            ));
            x.svm_hinge_loss(&labels()?)
        }
        "binary_hinge" => get("input")?.binary_hinge_loss(&target()?),
        other => return Err(format!("unknown op `{other}`")),
    };
    let primary = case.outputs.first_key().ok_or("no outputs")?;
    case.check_output(primary, &widen(y.value().data()), y.shape())?;
    for (name, value) in &extra {
        case.check_output(name, &widen(value.data()), value.shape())?;
    }
    let listed: Vec<&str> = case.outputs.keys().collect();
    if listed.len() != 1 + extra.len() {
        return Err(format!("outputs {listed:?}: not all were checked"));
    }
    if case.grads.is_empty() {
        return Ok(());
    }
    let grads = match &case.upstream {
        Some(u) => y.backward_with(tensor(u)),
        None => y.backward(),
    };
    for (name, expected) in &case.grads {
        let var = get(name)?;
        let got = grads
            .get(var)
            .ok_or_else(|| format!("no gradient reached `{name}`"))?;
        compare(
            &format!("grad {name}"),
            &widen(got.data()),
            got.shape(),
            expected,
            case.tol,
        )?;
    }
    Ok(())
}
