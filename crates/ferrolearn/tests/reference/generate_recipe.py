"""Writes the reference vectors of the fast-training recipe (issue 8, item 4) with PyTorch:

  losses_label_smoothing.json  F.cross_entropy(..., label_smoothing=eps)   (family "losses")
  schedules_per_step.json      per-step learning-rate schedules            (family "schedules")
  optimizers_recipe.json       SGD with parameter groups, weight-averaging (family "optimizers")

Same format as the other files (see README.md). Run from this directory:

    python generate_recipe.py
"""
import json
import math

import numpy as np
import torch

F = torch.nn.functional
GEN = f"torch {torch.__version__}"
TOL = {"rtol": 1e-4, "atol": 1e-5}
torch.manual_seed(8)


def t(x):
    x = torch.as_tensor(x, dtype=torch.float64)
    return {"shape": list(x.shape), "data": [float(v) for v in x.flatten().tolist()]}


def ints(x):
    return {"shape": [len(x)], "data": [int(v) for v in x]}


def f32(x):
    """Rounds through float32 so a float32 implementation reads exactly the same inputs."""
    return x.to(torch.float32).to(torch.float64)


def write(name, family, cases):
    with open(name, "w") as f:
        json.dump({"family": family, "generator": GEN, "cases": cases}, f, separators=(",", ":"))
    print(f"{name}: {len(cases)} cases")


def label_smoothing():
    cases = []
    for name, n, c, eps, scale in [
        ("cross_entropy_smoothing_0.1_5x4", 5, 4, 0.1, 1.0),
        ("cross_entropy_smoothing_0.2_8x10", 8, 10, 0.2, 2.0),
        ("cross_entropy_smoothing_0.5_3x3", 3, 3, 0.5, 1.0),
        ("cross_entropy_smoothing_1.0_4x5", 4, 5, 1.0, 1.0),
        ("cross_entropy_smoothing_0.2_large_logits", 4, 6, 0.2, 100.0),
    ]:
        x = f32(torch.randn(n, c, dtype=torch.float64) * scale).requires_grad_()
        y = torch.randint(0, c, (n,))
        loss = F.cross_entropy(x, y, label_smoothing=eps)
        loss.backward()
        cases.append({
            "name": name, "op": "cross_entropy",
            "params": {"label_smoothing": eps, "reduction": "mean",
                       "formula": "mean_n[(1-eps)*(-log p[n,y_n]) + eps*mean_k(-log p[n,k])], "
                                  "p = softmax(input, dim=1)",
                       "torch_call": f"F.cross_entropy(input, target, label_smoothing={eps})"},
            "inputs": {"input": t(x.detach()), "target": ints(y.tolist())},
            "outputs": {"loss": t(loss.detach())},
            "grads": {"input": t(x.grad)},
            "upstream": None, "tol": TOL})
    return cases


def lambda_lrs(base, total, fn):
    """lr before each of `total` optimizer steps under LambdaLR(fn(k / total))."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: fn(k / total))
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def schedule_case(name, op, base, total, hp, lrs, formula, call):
    return {"name": name, "op": op,
            "params": {"base_lr": base, "total_steps": total, "hyperparameters": hp,
                       "convention": "outputs.lr[k] = the learning rate of optimizer step k "
                                     "(0-based), k = 0..total_steps-1; frac = k / total_steps",
                       "formula": formula, "torch_call": call},
            "inputs": {}, "outputs": {"lr": t(lrs)}, "grads": {}, "upstream": None,
            "tol": {"rtol": 1e-12, "atol": 1e-15}}


def schedules():
    cases = []
    for total, w, fin in [(97, 0.23, 0.07), (40, 0.0, 0.0), (25, 0.5, 0.2)]:
        fn = lambda f, w=w, fin=fin: f / w if f < w else (1 - f) / (1 - w) * (1 - fin) + fin
        cases.append(schedule_case(
            f"warmup_linear_{total}_{w}_{fin}", "warmup_linear", 0.2, total,
            {"warmup": w, "final_factor": fin}, lambda_lrs(0.2, total, fn),
            "base*(frac/warmup if frac < warmup else (1-frac)/(1-warmup)*(1-final)+final)",
            "LambdaLR"))
    for total, w, fin in [(60, 0.1, 0.0), (33, 0.0, 0.05)]:
        fn = lambda f, w=w, fin=fin: (f / w if f < w else
                                      fin + (1 - fin) * (1 + math.cos(math.pi * (f - w) / (1 - w))) / 2)
        cases.append(schedule_case(
            f"warmup_cosine_{total}_{w}_{fin}", "warmup_cosine", 0.1, total,
            {"warmup": w, "final_factor": fin}, lambda_lrs(0.1, total, fn),
            "base*(frac/warmup if frac < warmup else final+(1-final)*(1+cos(pi*(frac-warmup)/(1-warmup)))/2)",
            "LambdaLR"))
    for total, milestones, gamma in [(80, [0.5, 0.75], 0.1), (21, [0.3], 0.5)]:
        fn = lambda f, ms=milestones, g=gamma: g ** sum(1 for m in ms if f >= m)
        cases.append(schedule_case(
            f"multi_step_{total}_{milestones}", "multi_step_fraction", 0.1, total,
            {"milestones": milestones, "gamma": gamma}, lambda_lrs(0.1, total, fn),
            "base * gamma^(number of milestones m with frac >= m)", "LambdaLR"))
    for total, hp in [
        (100, {"max_lr": 0.4, "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4,
               "anneal_strategy": "cos", "three_phase": False}),
        (37, {"max_lr": 0.1, "pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0,
              "anneal_strategy": "linear", "three_phase": False}),
        (50, {"max_lr": 0.2, "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4,
              "anneal_strategy": "cos", "three_phase": True}),
    ]:
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=hp["max_lr"])
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, total_steps=total, cycle_momentum=False, **hp)
        lrs = []
        for _ in range(total):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        cases.append(schedule_case(
            f"one_cycle_{total}_{hp['anneal_strategy']}{'_3phase' if hp['three_phase'] else ''}",
            "one_cycle_lr", hp["max_lr"], total, hp, lrs,
            "torch OneCycleLR (cycle_momentum=False)", "OneCycleLR"))
    return cases


def objective_grad(p, a, c):
    return 2 * a * (p - c) + 0.4 * p ** 3


def optimizers():
    p0 = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.5], dtype=torch.float64)
    a = torch.tensor([1.0, 0.5, 2.0, 0.25, 1.5], dtype=torch.float64)
    c = torch.tensor([0.5, 1.0, -1.0, 2.0, 0.0], dtype=torch.float64)
    cases = []
    # Weight decay on the first group only (as `p.ndim > 1` vs the rest), Nesterov momentum.
    hp = {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.5}
    for lens in [[3, 2], [2, 3]]:
        parts = [p.clone().requires_grad_() for p in torch.split(p0, lens)]
        groups = [{"params": [parts[0]]}, {"params": [parts[1]], "weight_decay": 0.0}]
        opt = torch.optim.SGD(groups, **hp)
        outputs = {"grad_at_p0": t(objective_grad(p0, a, c))}
        for step in range(1, 21):
            p = torch.cat([q.detach() for q in parts])
            g = torch.split(objective_grad(p, a, c), lens)
            for q, gq in zip(parts, g):
                q.grad = gq.clone()
            opt.step()
            if step in (1, 2, 5, 10, 20):
                outputs[f"step_{step}"] = t(torch.cat([q.detach() for q in parts]))
        cases.append({
            "name": f"sgd_nesterov_decay_groups_{lens[0]}_{lens[1]}", "op": "sgd",
            "params": {"hyperparameters": hp, "group_lens": lens, "decay": [True, False],
                       "note": "two parameter groups: the second has weight_decay 0",
                       "objective": "sum a*(p-c)^2 + 0.1*sum p^4"},
            "inputs": {"p0": t(p0), "a": t(a), "c": t(c)}, "outputs": outputs, "grads": {},
            "upstream": None, "tol": TOL})
    # Exponential moving average of the weights along an SGD run, as
    # AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay)) updated every `every` steps.
    for decay, every in [(0.8, 1), (0.5, 3)]:
        model = torch.nn.Linear(5, 1, bias=False).double()
        with torch.no_grad():
            model.weight.copy_(p0[None, :])
        ema = torch.optim.swa_utils.AveragedModel(
            model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(decay))
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        outputs = {"grad_at_p0": t(objective_grad(p0, a, c))}
        for step in range(1, 21):
            model.weight.grad = objective_grad(model.weight.detach()[0], a, c)[None, :].clone()
            opt.step()
            if step % every == 0:
                ema.update_parameters(model)
            if step in (1, 3, 6, 10, 20) and step >= every:  # after the first update
                outputs[f"ema_{step}"] = t(ema.module.weight.detach()[0])
        cases.append({
            "name": f"ema_decay_{decay}_every_{every}", "op": "ema",
            "params": {"hyperparameters": {"lr": 0.05, "momentum": 0.9}, "ema_decay": decay,
                       "ema_every": every,
                       "update_rule": "after optimizer step s, when s % every == 0: the first "
                                      "update copies p, later ones ema += (1-decay)*(p-ema)",
                       "objective": "sum a*(p-c)^2 + 0.1*sum p^4"},
            "inputs": {"p0": t(p0), "a": t(a), "c": t(c)}, "outputs": outputs, "grads": {},
            "upstream": None, "tol": TOL})
    return cases


if __name__ == "__main__":
    write("losses_label_smoothing.json", "losses", label_smoothing())
    write("schedules_per_step.json", "schedules", schedules())
    write("optimizers_recipe.json", "optimizers", optimizers())
