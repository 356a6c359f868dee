//! `fit`'s warning when a solver stops at its iteration limit before its stopping test is
//! met, as scikit-learn's `ConvergenceWarning`: one `warning:` line on stderr naming the
//! model, the iterations it ran and the flag to raise, and the same text in `--json`'s
//! `warnings`.
//!
//! Only solvers with a stopping test warn: lbfgs and fista (logistic, softmax), the linear
//! SVM's, the MLP's early stopping and k-means'. Gradient descent, the perceptron and
//! multisvm run the epochs they are given, and knn and the closed-form regressions do not
//! iterate.

use ferrolearn::classic::kmeans::FittedKMeans;
use ferrolearn::classic::linear_solver::Solver;
use ferrolearn::classic::pipeline::{Choice, FittedModel, Hyper, Pipeline};

/// The warning for a model `pipeline` fitted, when its solver did not converge.
pub fn fit_warning(pipeline: &Pipeline, model: &FittedModel) -> Option<String> {
    let name = pipeline.kind.name();
    let (n_iter, converged, what) = match model {
        FittedModel::Logistic(m) => (m.n_iter(), m.converged(), linear_solver(pipeline)?),
        FittedModel::Softmax(m) => (m.n_iter(), m.converged(), linear_solver(pipeline)?),
        FittedModel::Svm(m) => (
            m.n_iter(),
            m.converged(),
            "its solver stopped before meeting its tolerance",
        ),
        FittedModel::Mlp(m) => {
            let epochs = m.loss_curve.len();
            return (!m.converged).then(|| {
                format!(
                    "{name} did not converge in {}: the training loss was still improving; raise --max-iter",
                    count(epochs, "epoch")
                )
            });
        }
        _ => return None,
    };
    (!converged).then(|| {
        format!(
            "{name} did not converge in {}: {what}; raise --max-iter",
            count(n_iter, "iteration")
        )
    })
}

/// What stopped logistic or softmax regression early; `None` for gradient descent, which
/// runs its epochs without a stopping test.
fn linear_solver(pipeline: &Pipeline) -> Option<&'static str> {
    match pipeline.hyper.linear_solver(pipeline.kind).ok()? {
        Solver::Lbfgs { .. } => Some("lbfgs stopped before the gradient met its tolerance"),
        Solver::Fista { .. } => Some("fista stopped before its gradient mapping met its tolerance"),
        Solver::GradientDescent { .. } => None,
    }
}

/// The warning for k-means (Lloyd, or mini-batch with `--batch-size`) that did not converge.
pub fn kmeans_warning(hyper: &Hyper, fitted: &FittedKMeans) -> Option<String> {
    if fitted.converged {
        return None;
    }
    let (ran, what) = match hyper.batch_size {
        Some(_) => (
            count(fitted.n_iter, "pass"),
            "mini-batch k-means' smoothed inertia was still improving",
        ),
        None => (
            count(fitted.n_iter, "iteration"),
            "Lloyd's centres were still moving by more than the tolerance",
        ),
    };
    Some(format!(
        "kmeans did not converge in {ran}: {what}; raise --max-iter"
    ))
}

/// Prints each warning as one `warning:` line on stderr.
pub fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// `1 iteration`, `3 iterations`, `2 passes`.
fn count(n: usize, noun: &str) -> String {
    match (n, noun.ends_with('s')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{n} {noun}es"),
        (_, false) => format!("{n} {noun}s"),
    }
}
