//! The serialisable optimizer state and the per-parameter buffers every optimizer keeps.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What an optimizer has learned while training, for checkpoints: enough to continue bit for
/// bit after [`super::Optimizer::load_state`].
///
/// Hyperparameters other than the learning rate are not included: they come from the run's
/// configuration, which rebuilds the optimizer before restoring its state.
///
/// `buffers` maps a buffer name (PyTorch's: `momentum_buffer`, `sum`, `square_avg`,
/// `grad_avg`, `exp_avg`, `exp_avg_sq`) to one vector per parameter, in parameter order. It is
/// empty per name until the first step. JSON (serde_json) round-trips every finite `f32`
/// exactly; a checkpoint writer may equally store each buffer as a tensor named
/// `{name}.{k}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// The optimizer: `sgd`, `adagrad`, `rmsprop`, `adam` or `adamw`.
    pub kind: String,
    /// The current learning rate (it may differ from the configured one under a schedule).
    pub lr: f64,
    /// The number of steps taken.
    pub step: u64,
    /// Per-parameter buffers by name, each a list in parameter order.
    pub buffers: BTreeMap<String, Vec<Vec<f32>>>,
}

/// Named per-parameter buffers, allocated at the first step with the parameters' lengths.
#[derive(Debug, Clone)]
pub(crate) struct Buffers {
    names: &'static [&'static str],
    init: f32,
    /// `slots[s][k]` is buffer `names[s]` of parameter `k`; empty before the first step.
    slots: Vec<Vec<Vec<f32>>>,
}

impl Buffers {
    /// Buffers with the given names, each element starting at `init` once allocated.
    pub(crate) fn new(names: &'static [&'static str], init: f32) -> Self {
        Buffers {
            names,
            init,
            slots: vec![Vec::new(); names.len()],
        }
    }

    /// Allocates the buffers for `params` on the first call; later calls check that the
    /// parameter list has not changed.
    ///
    /// # Panics
    /// When the parameter count or a parameter's length differs from the first call's.
    pub(crate) fn ensure(&mut self, op: &str, params: &[&mut [f32]]) {
        for slot in &mut self.slots {
            if slot.is_empty() {
                *slot = params.iter().map(|p| vec![self.init; p.len()]).collect();
            }
            assert_eq!(
                slot.len(),
                params.len(),
                "{op}: {} parameters, but the optimizer state holds {}",
                params.len(),
                slot.len()
            );
            for (k, (b, p)) in slot.iter().zip(params).enumerate() {
                assert_eq!(
                    b.len(),
                    p.len(),
                    "{op}: parameter {k} has {} elements, but its state has {}",
                    p.len(),
                    b.len()
                );
            }
        }
    }

    /// Buffer `s` (an index into the names given to [`Buffers::new`]) of parameter `k`.
    pub(crate) fn get_mut(&mut self, s: usize, k: usize) -> &mut [f32] {
        &mut self.slots[s][k]
    }

    /// Every buffer of parameter `k`, in the order of the names given to [`Buffers::new`].
    pub(crate) fn of_param(&mut self, k: usize) -> Vec<&mut [f32]> {
        self.slots.iter_mut().map(|s| s[k].as_mut_slice()).collect()
    }

    /// Builds the serialisable state.
    pub(crate) fn to_state(&self, kind: &str, lr: f64, step: u64) -> OptimizerState {
        OptimizerState {
            kind: kind.to_string(),
            lr,
            step,
            buffers: self
                .names
                .iter()
                .zip(&self.slots)
                .map(|(n, s)| (n.to_string(), s.clone()))
                .collect(),
        }
    }

    /// Checks `state` against this optimizer's kind, buffer names and `param_lens`, and
    /// returns the buffers to install; nothing changes on error.
    pub(crate) fn restored(
        &self,
        kind: &str,
        state: &OptimizerState,
        param_lens: &[usize],
    ) -> Result<Buffers> {
        let bad = |msg: String| Err(Error::InvalidData(format!("optimizer state: {msg}")));
        if state.kind != kind {
            return bad(format!(
                "saved by `{}`, cannot load into `{kind}`",
                state.kind
            ));
        }
        // 0 is a valid rate mid-run: per-step schedules start their warm-up there.
        if !(state.lr.is_finite() && state.lr >= 0.0) {
            return bad(format!("lr must be finite and >= 0, got {}", state.lr));
        }
        let mut names: Vec<&str> = state.buffers.keys().map(String::as_str).collect();
        let mut expected: Vec<&str> = self.names.to_vec();
        names.sort_unstable();
        expected.sort_unstable();
        if names != expected {
            return bad(format!("buffers {names:?}, expected {expected:?}"));
        }
        let mut slots = Vec::with_capacity(self.names.len());
        for name in self.names {
            let per_param = &state.buffers[*name];
            if state.step == 0 {
                if !per_param.is_empty() {
                    return bad(format!("`{name}` is filled but no step was taken"));
                }
            } else {
                if per_param.len() != param_lens.len() {
                    return bad(format!(
                        "`{name}` holds {} parameters, the model has {}",
                        per_param.len(),
                        param_lens.len()
                    ));
                }
                for (k, (b, &n)) in per_param.iter().zip(param_lens).enumerate() {
                    if b.len() != n {
                        return bad(format!(
                            "`{name}` of parameter {k} has {} elements, the parameter {n}",
                            b.len()
                        ));
                    }
                }
            }
            slots.push(per_param.clone());
        }
        Ok(Buffers {
            names: self.names,
            init: self.init,
            slots,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_json_exactly() {
        let mut b = Buffers::new(&["exp_avg"], 0.0);
        let mut p = [1.0f32, 2.0];
        b.ensure("t", &[&mut p]);
        b.get_mut(0, 0)
            .copy_from_slice(&[0.1 + 0.2, f32::MIN_POSITIVE / 3.0]);
        let s = b.to_state("adam", 0.001, 7);
        let text = serde_json::to_string(&s).expect("serialise");
        let back: OptimizerState = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, s);
        let bits: Vec<u32> = back.buffers["exp_avg"][0]
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let want: Vec<u32> = s.buffers["exp_avg"][0]
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(bits, want);
    }

    #[test]
    fn from_state_rejects_mismatches() {
        let mut b = Buffers::new(&["exp_avg"], 0.0);
        let mut p = [1.0f32, 2.0];
        b.ensure("t", &[&mut p]);
        let s = b.to_state("adam", 0.001, 1);
        assert!(b.restored("adam", &s, &[2]).is_ok());
        let err = b.restored("sgd", &s, &[2]).unwrap_err().to_string();
        assert!(err.contains("cannot load into `sgd`"), "{err}");
        let err = b.restored("adam", &s, &[3]).unwrap_err().to_string();
        assert!(
            err.contains("parameter 0 has 2 elements, the parameter 3"),
            "{err}"
        );
        let err = b.restored("adam", &s, &[2, 2]).unwrap_err().to_string();
        assert!(err.contains("holds 1 parameters, the model has 2"), "{err}");
        let mut renamed = s.clone();
        let v = renamed.buffers.remove("exp_avg").expect("present");
        renamed.buffers.insert("momentum".into(), v);
        assert!(b.restored("adam", &renamed, &[2]).is_err());
    }
}
