//! Feature scaling (standard, min-max, zero-centring) and one-hot labels.
//!
//! Each scaler is a settings struct whose `fit` learns per-column statistics and returns a
//! fitted type with `transform` and `inverse_transform`, so the statistics of the training
//! rows can be applied unchanged to validation and test rows.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::{check_finite, check_n_features};
use crate::{Error, Result};

/// Per-column mean and population standard deviation (ddof 0), as scikit-learn's
/// `StandardScaler`.
fn column_mean_std(x: ArrayView2<f64>) -> (Vec<f64>, Vec<f64>) {
    let n = x.nrows() as f64;
    let mean: Vec<f64> = x.mean_axis(Axis(0)).map(|m| m.to_vec()).unwrap_or_default();
    let mut var = vec![0.0; x.ncols()];
    for row in x.outer_iter() {
        for ((v, &xi), &m) in var.iter_mut().zip(row.iter()).zip(&mean) {
            let d = xi - m;
            *v += d * d;
        }
    }
    let std = var.into_iter().map(|v| (v / n).sqrt()).collect();
    (mean, std)
}

fn check_non_empty(x: ArrayView2<f64>, what: &str) -> Result<()> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::InvalidData(format!(
            "{what}: cannot fit on an empty {}x{} matrix",
            x.nrows(),
            x.ncols()
        )));
    }
    check_finite(x)
}

/// Standardisation `(x - mean) / scale` per column.
///
/// `scale` is the **population** standard deviation (ddof 0); a zero-variance column gets
/// scale 1 (it is only centred), as in scikit-learn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    /// Subtract the column mean (default true).
    pub with_mean: bool,
    /// Divide by the column standard deviation (default true).
    pub with_std: bool,
}

impl Default for StandardScaler {
    fn default() -> Self {
        Self {
            with_mean: true,
            with_std: true,
        }
    }
}

impl StandardScaler {
    /// Learns the column means and scales of `x`.
    pub fn fit(&self, x: ArrayView2<f64>) -> Result<FittedStandardScaler> {
        check_non_empty(x, "standard scaler")?;
        let (col_mean, std) = column_mean_std(x);
        let scale = if self.with_std {
            // As scikit-learn: a std that is only rounding noise around a constant column
            // (at most 10 eps |mean|) counts as zero.
            std.into_iter()
                .zip(&col_mean)
                .map(|(s, m)| {
                    if s <= 10.0 * f64::EPSILON * m.abs() || s == 0.0 {
                        1.0
                    } else {
                        s
                    }
                })
                .collect()
        } else {
            vec![1.0; x.ncols()]
        };
        let mean = if self.with_mean {
            col_mean
        } else {
            vec![0.0; x.ncols()]
        };
        Ok(FittedStandardScaler { mean, scale })
    }
}

/// A fitted [`StandardScaler`]: column means and scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedStandardScaler {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl FittedStandardScaler {
    /// The column means (zeros when fitted with `with_mean = false`).
    pub fn mean(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.mean)
    }

    /// The column scales (population std, 1 for constant columns).
    pub fn scale(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.scale)
    }

    /// `(x - mean) / scale`; errors when the column count differs from the fit.
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        affine(x, &self.mean, &self.scale, false)
    }

    /// `x * scale + mean`, undoing [`transform`](Self::transform).
    pub fn inverse_transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        affine(x, &self.mean, &self.scale, true)
    }
}

/// `(x - shift) / scale` per column, or its inverse `x * scale + shift`.
fn affine(x: ArrayView2<f64>, shift: &[f64], scale: &[f64], inverse: bool) -> Result<Array2<f64>> {
    check_n_features(shift.len(), x)?;
    let mut out = x.to_owned();
    for mut row in out.outer_iter_mut() {
        for ((v, &s), &c) in row.iter_mut().zip(shift).zip(scale) {
            *v = if inverse { *v * c + s } else { (*v - s) / c };
        }
    }
    Ok(out)
}

/// Scales each column linearly onto `[min, max]` (default `[0, 1]`), as scikit-learn's
/// `MinMaxScaler`; a constant column maps to `min`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    /// Lower end of the target range.
    pub min: f64,
    /// Upper end of the target range; must exceed `min`.
    pub max: f64,
}

impl Default for MinMaxScaler {
    fn default() -> Self {
        Self { min: 0.0, max: 1.0 }
    }
}

impl MinMaxScaler {
    /// Learns each column's minimum and range.
    pub fn fit(&self, x: ArrayView2<f64>) -> Result<FittedMinMaxScaler> {
        if !(self.min.is_finite() && self.max.is_finite() && self.min < self.max) {
            return Err(Error::InvalidParameter(format!(
                "min-max range must satisfy min < max, got [{}, {}]",
                self.min, self.max
            )));
        }
        check_non_empty(x, "min-max scaler")?;
        let span = self.max - self.min;
        let mut shift = Vec::with_capacity(x.ncols());
        let mut scale = Vec::with_capacity(x.ncols());
        for col in x.axis_iter(Axis(1)) {
            let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let range = if hi > lo { hi - lo } else { 1.0 };
            // y = (x - lo) / range * span + min  ==  (x - shift) / scale
            let c = range / span;
            scale.push(c);
            shift.push(lo - self.min * c);
        }
        Ok(FittedMinMaxScaler { shift, scale })
    }
}

/// A fitted [`MinMaxScaler`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedMinMaxScaler {
    shift: Vec<f64>,
    scale: Vec<f64>,
}

impl FittedMinMaxScaler {
    /// Maps each column onto the target range.
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        affine(x, &self.shift, &self.scale, false)
    }

    /// Maps scaled values back to the original units.
    pub fn inverse_transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        affine(x, &self.shift, &self.scale, true)
    }
}

/// Zero-centring: subtracts each column's mean (the mean image, for pixel features).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Centerer;

impl Centerer {
    /// Learns the column means.
    pub fn fit(&self, x: ArrayView2<f64>) -> Result<FittedCenterer> {
        check_non_empty(x, "centerer")?;
        Ok(FittedCenterer {
            mean: column_mean_std(x).0,
        })
    }
}

/// A fitted [`Centerer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedCenterer {
    mean: Vec<f64>,
}

impl FittedCenterer {
    /// The column means.
    pub fn mean(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.mean)
    }

    /// `x - mean`.
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        affine(x, &self.mean, &vec![1.0; self.mean.len()], false)
    }

    /// `x + mean`.
    pub fn inverse_transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        affine(x, &self.mean, &vec![1.0; self.mean.len()], true)
    }
}

/// One-hot rows: `out[i][y[i]] = 1`, shape `[n, n_classes]`.
///
/// Errors naming the sample when a label is `>= n_classes`.
pub fn one_hot(y: ArrayView1<usize>, n_classes: usize) -> Result<Array2<f64>> {
    let mut out = Array2::zeros((y.len(), n_classes));
    for (i, &label) in y.iter().enumerate() {
        if label >= n_classes {
            return Err(Error::InvalidData(format!(
                "one-hot: sample {i} has label {label} but there are {n_classes} classes"
            )));
        }
        out[[i, label]] = 1.0;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    // from sklearn.preprocessing import StandardScaler
    // s = StandardScaler().fit([[1, 0.1], [3, 0.1], [8, 0.1]])
    // s.mean_ = [4., 0.1], s.scale_ = [2.94392029, 1.] (0.1 is inexact: its computed std is
    // rounding noise, which sklearn also maps to scale 1)
    #[test]
    fn standard_scaler_matches_sklearn() {
        let x = array![[1.0, 0.1], [3.0, 0.1], [8.0, 0.1]];
        let s = StandardScaler::default().fit(x.view()).unwrap();
        assert!((s.mean()[0] - 4.0).abs() < 1e-12);
        assert!((s.scale()[0] - 2.943920288775949).abs() < 1e-12);
        assert_eq!(s.scale()[1], 1.0, "constant column gets scale 1");
        let t = s.transform(x.view()).unwrap();
        assert!(t.column(1).iter().all(|&v| v.abs() < 1e-15));
        let back = s.inverse_transform(t.view()).unwrap();
        assert!((&back - &x).iter().all(|v| v.abs() < 1e-12));
        assert!(s.transform(array![[1.0]].view()).is_err());
    }

    #[test]
    fn min_max_maps_to_range_and_back() {
        let x = array![[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]];
        let s = MinMaxScaler {
            min: -1.0,
            max: 1.0,
        }
        .fit(x.view())
        .unwrap();
        let t = s.transform(x.view()).unwrap();
        assert_eq!(t.column(0).to_vec(), vec![-1.0, 0.0, 1.0]);
        assert_eq!(t.column(1).to_vec(), vec![-1.0; 3]);
        let back = s.inverse_transform(t.view()).unwrap();
        assert!((&back - &x).iter().all(|v| v.abs() < 1e-12));
        assert!(MinMaxScaler { min: 1.0, max: 1.0 }.fit(x.view()).is_err());
    }

    #[test]
    fn centerer_and_one_hot() {
        let x = array![[1.0, 4.0], [3.0, 8.0]];
        let c = Centerer.fit(x.view()).unwrap();
        assert_eq!(
            c.transform(x.view()).unwrap(),
            array![[-1.0, -2.0], [1.0, 2.0]]
        );
        let oh = one_hot(array![2, 0].view(), 3).unwrap();
        assert_eq!(oh, array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
        assert!(one_hot(array![3].view(), 3).is_err());
    }

    #[test]
    fn nan_is_rejected() {
        let err = StandardScaler::default()
            .fit(array![[1.0], [f64::NAN]].view())
            .unwrap_err();
        assert!(err.to_string().contains("row 1"), "{err}");
    }
}
