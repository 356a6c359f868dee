//! Regression metrics: MSE, MAE and the coefficient of determination.

use super::check_lengths;
use crate::Result;

/// Mean of the squared errors `mean((truth - pred)^2)`.
pub fn mean_squared_error(truth: &[f64], pred: &[f64]) -> Result<f64> {
    check_lengths("mean squared error", truth.len(), pred.len())?;
    let sum: f64 = truth.iter().zip(pred).map(|(t, p)| (t - p) * (t - p)).sum();
    Ok(sum / truth.len() as f64)
}

/// Mean of the absolute errors `mean(|truth - pred|)`.
pub fn mean_absolute_error(truth: &[f64], pred: &[f64]) -> Result<f64> {
    check_lengths("mean absolute error", truth.len(), pred.len())?;
    let sum: f64 = truth.iter().zip(pred).map(|(t, p)| (t - p).abs()).sum();
    Ok(sum / truth.len() as f64)
}

/// The coefficient of determination `1 - SS_res / SS_tot`.
///
/// As scikit-learn's `r2_score` (with `force_finite=True`): when the truth is constant
/// (`SS_tot = 0`) the score is 1 for a perfect prediction and 0 otherwise, never NaN or -inf.
pub fn r2_score(truth: &[f64], pred: &[f64]) -> Result<f64> {
    check_lengths("r2 score", truth.len(), pred.len())?;
    let mean = truth.iter().sum::<f64>() / truth.len() as f64;
    let ss_res: f64 = truth.iter().zip(pred).map(|(t, p)| (t - p) * (t - p)).sum();
    let ss_tot: f64 = truth.iter().map(|t| (t - mean) * (t - mean)).sum();
    Ok(if ss_tot == 0.0 {
        if ss_res == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        1.0 - ss_res / ss_tot
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // from sklearn.metrics import mean_squared_error, r2_score, mean_absolute_error
    // t = [3, -0.5, 2, 7]; p = [2.5, 0.0, 2, 8]
    // mean_squared_error(t, p) = 0.375; r2_score(t, p) = 0.9486081370449679; mae = 0.5
    #[test]
    fn matches_sklearn() {
        let t = [3.0, -0.5, 2.0, 7.0];
        let p = [2.5, 0.0, 2.0, 8.0];
        assert!((mean_squared_error(&t, &p).unwrap() - 0.375).abs() < 1e-15);
        assert!((r2_score(&t, &p).unwrap() - 0.9486081370449679).abs() < 1e-12);
        assert!((mean_absolute_error(&t, &p).unwrap() - 0.5).abs() < 1e-15);
    }

    #[test]
    fn constant_truth_is_finite() {
        assert_eq!(r2_score(&[1.0, 1.0], &[1.0, 1.0]).unwrap(), 1.0);
        assert_eq!(r2_score(&[1.0, 1.0], &[1.0, 2.0]).unwrap(), 0.0);
        assert!(r2_score(&[1.0], &[]).is_err());
    }
}
