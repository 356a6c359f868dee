//! The fitted feature scaler of a pipeline: fitted on the training rows only, saved with the
//! model, applied to every input first.

use ndarray::{ArrayView2, CowArray, Ix2};
use serde::{Deserialize, Serialize};

use super::options::Scaling;
use crate::classic::preprocessing::{
    FittedMinMaxScaler, FittedStandardScaler, MinMaxScaler, StandardScaler,
};
use crate::Result;

/// A fitted feature scaler.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FittedScaler {
    /// The features as given.
    None,
    /// Standardisation.
    Standard(FittedStandardScaler),
    /// Min-max scaling to [0, 1].
    MinMax(FittedMinMaxScaler),
}

impl FittedScaler {
    /// Fits the scaling `scale` on `x` ([`Scaling::Auto`] is resolved by
    /// [`super::Pipeline::scale`]; here it means none).
    pub fn fit(scale: Scaling, x: ArrayView2<f64>) -> Result<FittedScaler> {
        Ok(match scale {
            Scaling::None | Scaling::Auto => FittedScaler::None,
            Scaling::Standard => FittedScaler::Standard(StandardScaler::default().fit(x)?),
            Scaling::Minmax => FittedScaler::MinMax(MinMaxScaler::default().fit(x)?),
        })
    }

    /// The rows `x` scaled (borrowed as they are when there is no scaling).
    pub fn transform<'a>(&self, x: ArrayView2<'a, f64>) -> Result<CowArray<'a, f64, Ix2>> {
        Ok(match self {
            FittedScaler::None => CowArray::from(x),
            FittedScaler::Standard(s) => CowArray::from(s.transform(x)?),
            FittedScaler::MinMax(s) => CowArray::from(s.transform(x)?),
        })
    }
}
