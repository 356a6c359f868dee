//! The per-sample losses of [`super::Sgd`] with scikit-learn's formulas (its `_sgd_fast` and
//! `_loss` modules): the value and its derivative in the prediction `p = w·x + b`.

use serde::{Deserialize, Serialize};

/// A loss of one sample with target `y` (`±1` for the margin losses, `0/1` for
/// [`Loss::LogLoss`], real for the regression losses) and prediction `p`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Loss {
    /// `max(0, threshold - y p)`: the linear SVM (threshold 1) or the perceptron (0).
    Hinge {
        /// The margin below which a sample costs.
        threshold: f64,
    },
    /// `max(0, 1 - y p)^2`.
    SquaredHinge,
    /// `log(1 + exp(p)) - y p` with `y` in `{0, 1}`: logistic regression.
    LogLoss,
    /// Zhang's quadratically smoothed hinge: `max(0, 1 - y p)^2` for `y p >= -1`, `-4 y p`
    /// below.
    ModifiedHuber,
    /// `(p - y)^2 / 2`: least squares.
    SquaredError,
    /// Squared error within `epsilon` of the target, linear beyond.
    Huber {
        /// Where the loss turns linear.
        epsilon: f64,
    },
    /// `max(0, |y - p| - epsilon)`: SVR's loss.
    EpsilonInsensitive {
        /// The width of the insensitive band.
        epsilon: f64,
    },
    /// `max(0, |y - p| - epsilon)^2`.
    SquaredEpsilonInsensitive {
        /// The width of the insensitive band.
        epsilon: f64,
    },
}

impl Loss {
    /// scikit-learn's name of the loss (`hinge`, `log_loss`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Loss::Hinge { threshold: 0.0 } => "perceptron",
            Loss::Hinge { .. } => "hinge",
            Loss::SquaredHinge => "squared_hinge",
            Loss::LogLoss => "log_loss",
            Loss::ModifiedHuber => "modified_huber",
            Loss::SquaredError => "squared_error",
            Loss::Huber { .. } => "huber",
            Loss::EpsilonInsensitive { .. } => "epsilon_insensitive",
            Loss::SquaredEpsilonInsensitive { .. } => "squared_epsilon_insensitive",
        }
    }

    /// Whether the loss scores class labels (else real targets).
    pub fn is_classification(self) -> bool {
        matches!(
            self,
            Loss::Hinge { .. } | Loss::SquaredHinge | Loss::LogLoss | Loss::ModifiedHuber
        )
    }

    /// The target of a sample in the positive class (`true`) or not, for a binary fit.
    pub(super) fn target(self, positive: bool) -> f64 {
        match (positive, self) {
            (true, _) => 1.0,
            (false, Loss::LogLoss) => 0.0,
            (false, _) => -1.0,
        }
    }

    /// The loss of prediction `p` for target `y`.
    pub fn value(self, y: f64, p: f64) -> f64 {
        match self {
            Loss::Hinge { threshold } => {
                let z = p * y;
                if z <= threshold {
                    threshold - z
                } else {
                    0.0
                }
            }
            Loss::SquaredHinge => {
                let z = 1.0 - p * y;
                if z > 0.0 {
                    z * z
                } else {
                    0.0
                }
            }
            Loss::LogLoss => log1pexp(p) - y * p,
            Loss::ModifiedHuber => {
                let z = p * y;
                if z >= 1.0 {
                    0.0
                } else if z >= -1.0 {
                    (1.0 - z) * (1.0 - z)
                } else {
                    -4.0 * z
                }
            }
            Loss::SquaredError => 0.5 * (p - y) * (p - y),
            Loss::Huber { epsilon } => {
                let abserr = (y - p).abs();
                if abserr <= epsilon {
                    0.5 * abserr * abserr
                } else {
                    epsilon * (abserr - 0.5 * epsilon)
                }
            }
            Loss::EpsilonInsensitive { epsilon } => ((y - p).abs() - epsilon).max(0.0),
            Loss::SquaredEpsilonInsensitive { epsilon } => {
                let r = (y - p).abs() - epsilon;
                if r > 0.0 {
                    r * r
                } else {
                    0.0
                }
            }
        }
    }

    /// The derivative of [`Self::value`] in `p`.
    pub fn derivative(self, y: f64, p: f64) -> f64 {
        match self {
            Loss::Hinge { threshold } => {
                if p * y <= threshold {
                    -y
                } else {
                    0.0
                }
            }
            Loss::SquaredHinge => {
                let z = 1.0 - p * y;
                if z > 0.0 {
                    -2.0 * y * z
                } else {
                    0.0
                }
            }
            Loss::LogLoss => {
                // expit(p) - y, without overflow of exp(-p) (scikit-learn's branches).
                if p > -37.0 {
                    let e = (-p).exp();
                    ((1.0 - y) - y * e) / (1.0 + e)
                } else {
                    p.exp() - y
                }
            }
            Loss::ModifiedHuber => {
                let z = p * y;
                if z >= 1.0 {
                    0.0
                } else if z >= -1.0 {
                    2.0 * (1.0 - z) * -y
                } else {
                    -4.0 * y
                }
            }
            Loss::SquaredError => p - y,
            Loss::Huber { epsilon } => {
                let r = p - y;
                if r.abs() <= epsilon {
                    r
                } else if r >= 0.0 {
                    epsilon
                } else {
                    -epsilon
                }
            }
            Loss::EpsilonInsensitive { epsilon } => {
                if y - p > epsilon {
                    -1.0
                } else if p - y > epsilon {
                    1.0
                } else {
                    0.0
                }
            }
            Loss::SquaredEpsilonInsensitive { epsilon } => {
                let z = y - p;
                if z > epsilon {
                    -2.0 * (z - epsilon)
                } else if z < -epsilon {
                    2.0 * (-z - epsilon)
                } else {
                    0.0
                }
            }
        }
    }
}

/// `log(1 + exp(x))` without overflow or loss of precision in the tails.
fn log1pexp(x: f64) -> f64 {
    if x <= -37.0 {
        x.exp()
    } else if x <= -2.0 {
        x.exp().ln_1p()
    } else if x <= 18.0 {
        (1.0 + x.exp()).ln()
    } else if x <= 33.3 {
        x + (-x).exp()
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every derivative agrees with a central difference of its loss away from the kinks.
    #[test]
    fn derivatives_match_finite_differences() {
        let losses = [
            Loss::Hinge { threshold: 1.0 },
            Loss::Hinge { threshold: 0.0 },
            Loss::SquaredHinge,
            Loss::LogLoss,
            Loss::ModifiedHuber,
            Loss::SquaredError,
            Loss::Huber { epsilon: 0.1 },
            Loss::EpsilonInsensitive { epsilon: 0.1 },
            Loss::SquaredEpsilonInsensitive { epsilon: 0.1 },
        ];
        let h = 1e-6;
        for loss in losses {
            let targets: &[f64] = match loss {
                Loss::LogLoss => &[0.0, 1.0],
                l if l.is_classification() => &[-1.0, 1.0],
                _ => &[-0.7, 2.3],
            };
            for &y in targets {
                for p in [-3.3, -1.7, -0.37, 0.41, 1.6, 2.9, 40.0, -45.0] {
                    let numeric = (loss.value(y, p + h) - loss.value(y, p - h)) / (2.0 * h);
                    let exact = loss.derivative(y, p);
                    assert!(
                        (numeric - exact).abs() <= 1e-5 * (1.0 + exact.abs()),
                        "{loss:?} y={y} p={p}: {exact} vs {numeric}"
                    );
                }
            }
        }
    }
}
