//! Polynomial feature maps and polynomial regression.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::{LinearModel, Ridge};
use crate::classic::{check_n_features, FitRegressor, Regressor};
use crate::{Error, Result};

/// All monomials of the input features up to `degree` (scikit-learn's `PolynomialFeatures`).
///
/// Column order as scikit-learn: the bias `1` (when `include_bias`), then the degree-1
/// terms, then degree 2, and so on; within a degree the monomials follow
/// `itertools.combinations_with_replacement` order of the feature indices. For two
/// features `a, b` and degree 3: `1, a, b, a^2, ab, b^2, a^3, a^2 b, a b^2, b^3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolynomialFeatures {
    /// Highest total degree, `>= 1` (default 2).
    pub degree: usize,
    /// Emit the constant column first (default true).
    pub include_bias: bool,
}

impl Default for PolynomialFeatures {
    fn default() -> Self {
        Self {
            degree: 2,
            include_bias: true,
        }
    }
}

/// Output columns above which the map refuses to run (it would exhaust memory).
const MAX_OUTPUT_FEATURES: usize = 1 << 20;

impl PolynomialFeatures {
    /// The exponent of each input feature in each output column, shape
    /// `[n_output_features, n_features]`.
    pub fn powers(&self, n_features: usize) -> Result<Array2<usize>> {
        let combos = self.combinations(n_features)?;
        let mut out = Array2::zeros((combos.len(), n_features));
        for (row, combo) in combos.iter().enumerate() {
            for &f in combo {
                out[[row, f]] += 1;
            }
        }
        Ok(out)
    }

    /// Maps each row of `x` to its monomials, `[n, n_output_features]`.
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let combos = self.combinations(x.ncols())?;
        let mut out = Array2::ones((x.nrows(), combos.len()));
        for (mut out_row, in_row) in out.outer_iter_mut().zip(x.outer_iter()) {
            for (o, combo) in out_row.iter_mut().zip(&combos) {
                *o = combo.iter().map(|&f| in_row[f]).product();
            }
        }
        Ok(out)
    }

    /// The feature-index multisets of each output column, in scikit-learn's order.
    fn combinations(&self, n_features: usize) -> Result<Vec<Vec<usize>>> {
        if self.degree == 0 {
            return Err(Error::InvalidParameter(
                "polynomial degree must be >= 1, got 0".into(),
            ));
        }
        if n_features == 0 {
            return Err(Error::InvalidData(
                "polynomial features need at least one input feature".into(),
            ));
        }
        let mut out = Vec::new();
        if self.include_bias {
            out.push(Vec::new());
        }
        let mut combo = Vec::with_capacity(self.degree);
        for deg in 1..=self.degree {
            push_combinations(n_features, deg, 0, &mut combo, &mut out)?;
        }
        Ok(out)
    }
}

/// Appends every non-decreasing index sequence of length `len` starting at `from`.
fn push_combinations(
    n: usize,
    len: usize,
    from: usize,
    combo: &mut Vec<usize>,
    out: &mut Vec<Vec<usize>>,
) -> Result<()> {
    if combo.len() == len {
        if out.len() >= MAX_OUTPUT_FEATURES {
            return Err(Error::InvalidParameter(format!(
                "polynomial features: more than {MAX_OUTPUT_FEATURES} output columns"
            )));
        }
        out.push(combo.clone());
        return Ok(());
    }
    for f in from..n {
        combo.push(f);
        push_combinations(n, len, f, combo, out)?;
        combo.pop();
    }
    Ok(())
}

/// Least squares (or ridge, with `alpha > 0`) on the polynomial features of degree `degree`.
///
/// The bias column is left out of the map since the linear model fits an intercept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PolynomialRegression {
    /// Highest total degree, `>= 1` (default 2).
    pub degree: usize,
    /// L2 penalty on the weights, `>= 0` (default 0: least squares).
    pub alpha: f64,
}

impl Default for PolynomialRegression {
    fn default() -> Self {
        Self {
            degree: 2,
            alpha: 0.0,
        }
    }
}

impl FitRegressor for PolynomialRegression {
    type Fitted = FittedPolynomialRegression;

    fn fit(&self, x: ArrayView2<f64>, y: ArrayView1<f64>) -> Result<FittedPolynomialRegression> {
        let features = PolynomialFeatures {
            degree: self.degree,
            include_bias: false,
        };
        let ridge = Ridge {
            alpha: self.alpha,
            fit_intercept: true,
        }
        .check()?;
        let mapped = features.transform(x)?;
        let model = ridge.fit(mapped.view(), y)?;
        Ok(FittedPolynomialRegression {
            features,
            n_features: x.ncols(),
            model,
        })
    }
}

/// A fitted [`PolynomialRegression`]: the feature map and the linear model on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedPolynomialRegression {
    features: PolynomialFeatures,
    n_features: usize,
    model: LinearModel,
}

impl FittedPolynomialRegression {
    /// The linear model over the mapped features (column order of [`PolynomialFeatures`]).
    pub fn linear_model(&self) -> &LinearModel {
        &self.model
    }
}

impl Regressor for FittedPolynomialRegression {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        check_n_features(self.n_features, x)?;
        self.model.predict(self.features.transform(x)?.view())
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    // PolynomialFeatures(3).fit([[2, 3]]).powers_ ->
    // [[0 0] [1 0] [0 1] [2 0] [1 1] [0 2] [3 0] [2 1] [1 2] [0 3]]
    #[test]
    fn powers_follow_sklearn_order() {
        let p = PolynomialFeatures {
            degree: 3,
            include_bias: true,
        };
        let powers = p.powers(2).unwrap();
        let want = [
            [0, 0],
            [1, 0],
            [0, 1],
            [2, 0],
            [1, 1],
            [0, 2],
            [3, 0],
            [2, 1],
            [1, 2],
            [0, 3],
        ];
        assert_eq!(powers.nrows(), want.len());
        for (row, w) in powers.outer_iter().zip(want) {
            assert_eq!(row.to_vec(), w.to_vec());
        }
        let y = p.transform(array![[2.0, 3.0]].view()).unwrap();
        assert_eq!(
            y.row(0).to_vec(),
            vec![1.0, 2.0, 3.0, 4.0, 6.0, 9.0, 8.0, 12.0, 18.0, 27.0]
        );
        let no_bias = PolynomialFeatures {
            degree: 2,
            include_bias: false,
        };
        assert_eq!(no_bias.powers(3).unwrap().nrows(), 9);
        assert!(PolynomialFeatures {
            degree: 0,
            include_bias: true
        }
        .powers(2)
        .is_err());
    }

    #[test]
    fn polynomial_regression_fits_a_cubic() {
        let x = Array2::from_shape_fn((20, 1), |(i, _)| i as f64 / 4.0 - 2.0);
        let y = x.column(0).mapv(|t| 1.0 - 2.0 * t + 0.5 * t * t * t);
        let m = PolynomialRegression {
            degree: 3,
            alpha: 0.0,
        }
        .fit(x.view(), y.view())
        .unwrap();
        let c = m.linear_model().coef();
        for (got, want) in c.iter().zip([-2.0, 0.0, 0.5]) {
            assert!((got - want).abs() < 1e-8, "{c:?}");
        }
        assert!((m.linear_model().intercept() - 1.0).abs() < 1e-8);
        assert!(m.predict(array![[1.0, 2.0]].view()).is_err());
    }
}
