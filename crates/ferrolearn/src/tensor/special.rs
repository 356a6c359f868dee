//! Special functions for activations, written branch-free so that loops over slices compile
//! to vector instructions (the standard library's `exp` and `libm`'s `erf` are scalar calls).
//!
//! GELU is PyTorch's exact (erf) form, `x * Phi(x)`, the activation of the fastnet recipe; its
//! tensors are large (tens of millions of elements per step), so it must vectorise.

use super::Tensor;

/// `exp(x)` in f32, relative error below 3e-7 (a few ulp) for `x` in `[-87, 88]`; smaller inputs give
/// (nearly) 0, larger ones are clamped to `exp(88)`.
///
/// `x = n ln 2 + r` with `|r| <= ln 2 / 2`, `exp(r)` by a degree-6 polynomial, times `2^n`
/// built in the exponent bits.
#[inline(always)]
pub fn fast_exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.0);
    // Round x / ln 2 to the nearest integer without a branch or a library call.
    const SHIFTER: f32 = 12_582_912.0; // 1.5 * 2^23
    let n = (x * std::f32::consts::LOG2_E + SHIFTER) - SHIFTER;
    // ln 2 split in two so that n * ln 2 is exact enough.
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (0.166_666_67
                    + r * (0.041_666_52 + r * (0.008_333_86 + r * 0.001_394_01)))));
    // n >= -126 after the clamp, so the exponent stays normal.
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    p * scale
}

/// `erf(x)` in f32, absolute error below 4e-7 (Abramowitz and Stegun 7.1.26 with the
/// exponential above).
#[inline(always)]
pub fn fast_erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * fast_exp(-a * a);
    y.copysign(x)
}

/// `1 / sqrt(2)`.
const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// `1 / sqrt(2 pi)`.
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// GELU, `x * Phi(x) = x (1 + erf(x / sqrt 2)) / 2`.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + fast_erf(x * FRAC_1_SQRT_2))
}

/// The derivative of GELU, `Phi(x) + x phi(x)`.
#[inline(always)]
pub fn gelu_derivative(x: f32) -> f32 {
    let cdf = 0.5 * (1.0 + fast_erf(x * FRAC_1_SQRT_2));
    cdf + x * FRAC_1_SQRT_2PI * fast_exp(-0.5 * x * x)
}

impl Tensor {
    /// GELU of every element (exact erf form, as PyTorch's `nn.GELU()`).
    pub fn gelu(&self) -> Tensor {
        self.map(gelu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf in f64: its Taylor series for |x| <= 3, the asymptotic series of erfc beyond
    /// (both far more accurate than the f32 function under test).
    fn erf64(x: f64) -> f64 {
        let a = x.abs();
        if a > 3.0 {
            let inv = 1.0 / (2.0 * a * a);
            let series = 1.0 - inv + 3.0 * inv * inv - 15.0 * inv.powi(3) + 105.0 * inv.powi(4);
            let erfc = (-a * a).exp() / (a * std::f64::consts::PI.sqrt()) * series;
            return (1.0 - erfc).copysign(x);
        }
        // erf x = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
        let mut term = x;
        let mut sum = x;
        for n in 1..100 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn exp_is_accurate_over_its_range() {
        let mut worst = 0.0f64;
        for i in -8700..=8800 {
            let x = i as f32 * 0.01;
            let want = (x as f64).exp();
            let rel = ((fast_exp(x) as f64 - want) / want).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert!(fast_exp(-200.0) < 1e-37);
        assert!(fast_exp(200.0).is_finite());
    }

    #[test]
    fn erf_and_gelu_are_accurate() {
        let mut worst = 0.0f64;
        for i in -600..=600 {
            let x = i as f32 * 0.01;
            worst = worst.max((fast_erf(x) as f64 - erf64(x as f64)).abs());
        }
        assert!(worst < 4e-7, "worst erf error {worst}");
        // GELU against values from torch.nn.functional.gelu (float64).
        for (x, want) in [
            (-3.0f32, -0.004_049_729_7f64),
            (-1.0, -0.158_655_253_9),
            (-0.1, -0.046_017_205_5),
            (0.5, 0.345_731_392_2),
            (2.0, 1.954_499_736_1),
        ] {
            let got = gelu(x) as f64;
            assert!((got - want).abs() < 1e-6, "gelu({x}) = {got}, want {want}");
        }
    }

    #[test]
    fn gelu_derivative_matches_differences() {
        for i in -40..=40 {
            let x = i as f64 * 0.1;
            let g = |x: f64| 0.5 * x * (1.0 + erf64(x / 2f64.sqrt()));
            let want = (g(x + 1e-5) - g(x - 1e-5)) / 2e-5;
            let got = gelu_derivative(x as f32) as f64;
            assert!((got - want).abs() < 1e-6, "at {x}: {got} vs {want}");
        }
    }
}
