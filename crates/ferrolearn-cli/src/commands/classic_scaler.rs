//! The fitted feature scaler of a classic pipeline: fitted on the training rows only, saved
//! with the model, applied to every input first.

use ferrolearn::classic::preprocessing::{
    FittedMinMaxScaler, FittedStandardScaler, MinMaxScaler, StandardScaler,
};
use ferrolearn::Result;
use ndarray::{ArrayView2, CowArray, Ix2};
use serde::{Deserialize, Serialize};

use super::classic_model::ScaleArg;

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
    /// Fits the scaling `scale` (`Auto` has been resolved by the pipeline; it means none here).
    pub(super) fn fit(scale: ScaleArg, x: ArrayView2<f64>) -> Result<FittedScaler> {
        Ok(match scale {
            ScaleArg::None | ScaleArg::Auto => FittedScaler::None,
            ScaleArg::Standard => FittedScaler::Standard(StandardScaler::default().fit(x)?),
            ScaleArg::Minmax => FittedScaler::MinMax(MinMaxScaler::default().fit(x)?),
        })
    }

    pub(super) fn transform<'a>(&self, x: ArrayView2<'a, f64>) -> Result<CowArray<'a, f64, Ix2>> {
        Ok(match self {
            FittedScaler::None => CowArray::from(x),
            FittedScaler::Standard(s) => CowArray::from(s.transform(x)?),
            FittedScaler::MinMax(s) => CowArray::from(s.transform(x)?),
        })
    }
}
