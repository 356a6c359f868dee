//! [`Var`]: a tensor in the computational graph, and the no-grad switch.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::op::Op;
use crate::tensor::Tensor;

/// Identifies a variable across graph rebuilds: a parameter keeps its id when the optimizer
/// replaces its value, so gradients are keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(u64);

impl VarId {
    /// A fresh, process-unique id.
    pub fn fresh() -> VarId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        VarId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

pub(crate) struct VarInner {
    pub(crate) id: VarId,
    pub(crate) value: Tensor,
    /// The op that produced this value, when it was recorded (some input required grad).
    pub(crate) op: Option<Op>,
    pub(crate) requires_grad: bool,
}

/// A tensor value plus, when it was computed from variables that require gradients, the op
/// that produced it. Cloning is cheap (shared).
///
/// Leaves are made with [`Var::constant`] (no gradient) or [`Var::parameter`] (gradient
/// wanted); every op on `Var`s returns a new `Var` and records its graph node unless
/// [`no_grad`] is active or no input requires grad.
#[derive(Clone)]
pub struct Var(pub(crate) Arc<VarInner>);

impl Var {
    /// A leaf that never receives a gradient (data, labels, fixed inputs).
    pub fn constant(value: Tensor) -> Var {
        Var(Arc::new(VarInner {
            id: VarId::fresh(),
            value,
            op: None,
            requires_grad: false,
        }))
    }

    /// A leaf whose gradient [`Var::backward`] computes (weights, or inputs under a gradient
    /// check).
    pub fn parameter(value: Tensor) -> Var {
        Var::parameter_with_id(value, VarId::fresh())
    }

    /// A gradient-requiring leaf with a given id: how an optimizer installs a parameter's
    /// new value while keeping the key its gradients are stored under.
    pub fn parameter_with_id(value: Tensor, id: VarId) -> Var {
        Var(Arc::new(VarInner {
            id,
            value,
            op: None,
            requires_grad: true,
        }))
    }

    /// Records the result of an op: a node when any input requires grad (and grad mode is
    /// on), otherwise a constant.
    pub(crate) fn from_op(value: Tensor, op: Op) -> Var {
        let requires_grad = is_grad_enabled() && op.inputs().iter().any(|v| v.requires_grad());
        Var(Arc::new(VarInner {
            id: VarId::fresh(),
            value,
            op: requires_grad.then_some(op),
            requires_grad,
        }))
    }

    /// The id gradients are keyed by.
    pub fn id(&self) -> VarId {
        self.0.id
    }

    /// The value.
    pub fn value(&self) -> &Tensor {
        &self.0.value
    }

    /// The value's shape.
    pub fn shape(&self) -> &[usize] {
        self.0.value.shape()
    }

    /// Whether a gradient flows to this variable.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad
    }

    /// The same value cut from the graph: a constant.
    pub fn detach(&self) -> Var {
        Var::constant(self.0.value.clone())
    }

    /// The single value of a one-element variable.
    pub fn item(&self) -> f32 {
        self.0.value.item()
    }

    /// Mutable access to a leaf's value, for optimizers and checkpoint loading: in place when
    /// no graph still holds this variable, otherwise on a fresh copy that keeps the id (the
    /// old graph keeps the old value). Any recorded op is dropped: the result is a leaf.
    pub fn value_mut(&mut self) -> &mut Tensor {
        if Arc::get_mut(&mut self.0).is_none_or(|inner| inner.op.is_some()) {
            *self = Var(Arc::new(VarInner {
                id: self.0.id,
                value: self.0.value.clone(),
                op: None,
                requires_grad: self.0.requires_grad,
            }));
        }
        let inner = Arc::get_mut(&mut self.0).expect("a freshly made Var is unshared");
        &mut inner.value
    }

    pub(crate) fn op(&self) -> Option<&Op> {
        self.0.op.as_ref()
    }
}

impl fmt::Debug for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Var({:?}, requires_grad={}, {:?})",
            self.0.id, self.0.requires_grad, self.0.value
        )
    }
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops record graph nodes on this thread.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Runs `f` with graph recording off on this thread (inference, evaluation loops), so no
/// graph is retained; restores the previous mode afterwards, even on panic.
pub fn no_grad<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GRAD_ENABLED.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GRAD_ENABLED.with(|g| g.replace(false)));
    f()
}
