//! Weight penalties (regularisers) for the linear classifiers: none, L2, L1 and elastic-net.
//!
//! Conventions follow scikit-learn: a model minimises `penalty(w) + C * sum_i loss_i`, where
//! the penalty applies to the weights only (never to intercepts) and is
//!
//! | variant | `penalty(w)` |
//! |---|---|
//! | [`Penalty::None`] | `0` |
//! | [`Penalty::L2`] | `0.5 * ||w||^2` |
//! | [`Penalty::L1`] | `||w||_1` |
//! | [`Penalty::ElasticNet`] | `l1_ratio * ||w||_1 + 0.5 * (1 - l1_ratio) * ||w||^2` |
//!
//! Solvers see the penalty as a smooth part (the squared norm, with a gradient) plus a
//! non-smooth part (`l1_weight() * ||w||_1`) handled by its proximal operator (soft
//! thresholding).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Which regulariser a linear classifier adds to its loss (see the module docs for formulas).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum Penalty {
    /// No penalty: the plain (maximum-likelihood) fit; may diverge on separable data.
    None,
    /// `0.5 * ||w||^2`, scikit-learn's default.
    #[default]
    L2,
    /// `||w||_1`: sparse weights; needs a solver that handles a non-smooth term.
    L1,
    /// `l1_ratio * ||w||_1 + 0.5 * (1 - l1_ratio) * ||w||^2`, with `l1_ratio` in `[0, 1]`.
    ElasticNet {
        /// The share of the L1 term, in `[0, 1]` (0 is L2, 1 is L1).
        l1_ratio: f64,
    },
}

impl Penalty {
    /// Checks the parameters (the elastic-net ratio must lie in `[0, 1]`).
    pub fn validate(&self) -> Result<()> {
        if let Penalty::ElasticNet { l1_ratio } = *self {
            if !(0.0..=1.0).contains(&l1_ratio) {
                return Err(Error::InvalidParameter(format!(
                    "elastic-net l1_ratio must be in [0, 1], got {l1_ratio}"
                )));
            }
        }
        Ok(())
    }

    /// The coefficient of `||w||^2 / 2`.
    pub fn l2_weight(&self) -> f64 {
        match *self {
            Penalty::None | Penalty::L1 => 0.0,
            Penalty::L2 => 1.0,
            Penalty::ElasticNet { l1_ratio } => 1.0 - l1_ratio,
        }
    }

    /// The coefficient of `||w||_1`.
    pub fn l1_weight(&self) -> f64 {
        match *self {
            Penalty::None | Penalty::L2 => 0.0,
            Penalty::L1 => 1.0,
            Penalty::ElasticNet { l1_ratio } => l1_ratio,
        }
    }

    /// Whether the penalty is differentiable everywhere (no L1 part), as L-BFGS requires.
    pub fn is_smooth(&self) -> bool {
        self.l1_weight() == 0.0
    }

    /// `penalty(w)`.
    pub fn value(&self, w: &[f64]) -> f64 {
        let (l1, l2) = (self.l1_weight(), self.l2_weight());
        let mut total = 0.0;
        if l2 != 0.0 {
            total += 0.5 * l2 * w.iter().map(|v| v * v).sum::<f64>();
        }
        if l1 != 0.0 {
            total += l1 * w.iter().map(|v| v.abs()).sum::<f64>();
        }
        total
    }

    /// Adds `scale` times the smooth part's gradient (`l2_weight * w`) to `grad` and returns
    /// `scale` times the smooth part's value.
    pub(crate) fn add_smooth(&self, w: &[f64], scale: f64, grad: &mut [f64]) -> f64 {
        let l2 = self.l2_weight() * scale;
        if l2 == 0.0 {
            return 0.0;
        }
        let mut sq = 0.0;
        for (g, &v) in grad.iter_mut().zip(w) {
            *g += l2 * v;
            sq += v * v;
        }
        0.5 * l2 * sq
    }

    /// The proximal step of the non-smooth part: soft-thresholds each weight by
    /// `step * l1_weight`, i.e. `argmin_v 0.5 ||v - w||^2 + step * l1_weight * ||v||_1`.
    pub(crate) fn prox_l1(&self, w: &mut [f64], step: f64) {
        let threshold = step * self.l1_weight();
        if threshold == 0.0 {
            return;
        }
        for v in w {
            *v = v.signum() * (v.abs() - threshold).max(0.0);
        }
    }
}

impl std::fmt::Display for Penalty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Penalty::None => write!(f, "none"),
            Penalty::L2 => write!(f, "l2"),
            Penalty::L1 => write!(f, "l1"),
            Penalty::ElasticNet { l1_ratio } => write!(f, "elasticnet(l1_ratio={l1_ratio})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_sklearn_conventions() {
        let w = [3.0, -4.0];
        assert_eq!(Penalty::None.value(&w), 0.0);
        assert_eq!(Penalty::L2.value(&w), 12.5);
        assert_eq!(Penalty::L1.value(&w), 7.0);
        let en = Penalty::ElasticNet { l1_ratio: 0.25 };
        assert!((en.value(&w) - (0.25 * 7.0 + 0.5 * 0.75 * 25.0)).abs() < 1e-12);
    }

    #[test]
    fn smooth_gradient_is_scaled_l2_part() {
        let w = [1.0, -2.0];
        let mut g = [0.5, 0.5];
        let en = Penalty::ElasticNet { l1_ratio: 0.5 };
        let v = en.add_smooth(&w, 2.0, &mut g);
        assert_eq!(g, [1.5, -1.5]);
        assert!((v - 2.5).abs() < 1e-12);
    }

    #[test]
    fn soft_threshold_shrinks_towards_zero() {
        let mut w = [0.3, -2.0, 1.0];
        Penalty::L1.prox_l1(&mut w, 0.5);
        assert_eq!(w, [0.0, -1.5, 0.5]);
        let mut same = [0.3, -2.0];
        Penalty::L2.prox_l1(&mut same, 0.5);
        assert_eq!(same, [0.3, -2.0]);
    }

    #[test]
    fn rejects_ratio_outside_unit_interval() {
        let err = Penalty::ElasticNet { l1_ratio: 1.5 }
            .validate()
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("l1_ratio must be in [0, 1], got 1.5"));
    }
}
