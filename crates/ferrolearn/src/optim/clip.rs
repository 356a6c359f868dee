//! Gradient clipping by global norm.

use super::require;
use crate::Result;

/// Scales all gradients together so that their global L2 norm is at most `max_norm`, as
/// `torch.nn.utils.clip_grad_norm_`, and returns the norm **before** clipping.
///
/// The global norm is `sqrt(sum over every gradient element of g^2)` (accumulated in `f64`).
/// When it exceeds `max_norm`, every element is multiplied by `max_norm / (norm + 1e-6)`;
/// otherwise nothing changes. A non-finite norm (a NaN or infinite gradient) leaves the
/// gradients untouched and is returned as is, so the caller can stop training and say why.
///
/// # Errors
/// `InvalidParameter` when `max_norm` is not a finite number > 0.
pub fn clip_grad_norm(grads: &mut [&mut [f32]], max_norm: f64) -> Result<f64> {
    require("max_norm", max_norm, max_norm > 0.0, "> 0")?;
    let sum_sq: f64 = grads
        .iter()
        .flat_map(|g| g.iter())
        .map(|&x| f64::from(x) * f64::from(x))
        .sum();
    let norm = sum_sq.sqrt();
    if norm.is_finite() {
        let coef = max_norm / (norm + 1e-6);
        if coef < 1.0 {
            let coef = coef as f32;
            for x in grads.iter_mut().flat_map(|g| g.iter_mut()) {
                *x *= coef;
            }
        }
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_across_all_gradients_and_returns_the_old_norm() {
        let mut a = vec![3.0f32];
        let mut b = vec![0.0f32, 4.0];
        let norm = clip_grad_norm(&mut [&mut a, &mut b], 1.0).expect("valid");
        assert_eq!(norm, 5.0);
        let new_norm = (a[0] * a[0] + b[1] * b[1]).sqrt();
        assert!((new_norm - 1.0).abs() < 1e-5, "{new_norm}");
        assert!((a[0] / b[1] - 0.75).abs() < 1e-6, "direction kept");
    }

    #[test]
    fn leaves_small_gradients_alone() {
        let mut a = vec![0.3f32, -0.4];
        let norm = clip_grad_norm(&mut [&mut a], 1.0).expect("valid");
        assert!((norm - 0.5).abs() < 1e-7);
        assert_eq!(a, vec![0.3, -0.4]);
    }

    #[test]
    fn reports_non_finite_norms_without_touching_gradients() {
        let mut a = vec![f32::NAN, 1.0];
        assert!(clip_grad_norm(&mut [&mut a], 1.0).expect("valid").is_nan());
        assert_eq!(a[1], 1.0);
        let err = clip_grad_norm(&mut [&mut a], 0.0).unwrap_err().to_string();
        assert!(err.contains("max_norm must be > 0, got 0"), "{err}");
    }
}
