//! Creating tensors: constants, ranges and seeded random fills.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

use super::Tensor;

impl Tensor {
    /// A tensor of `shape` filled with `value`.
    pub fn full(shape: &[usize], value: f32) -> Tensor {
        Tensor::from_vec(vec![value; shape.iter().product()], shape)
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// A tensor of zeros with the shape of `self`.
    pub fn zeros_like(&self) -> Tensor {
        Tensor::zeros(self.shape())
    }

    /// The 1-d tensor `[0, 1, ..., n-1]`.
    pub fn arange(n: usize) -> Tensor {
        Tensor::from_vec((0..n).map(|i| i as f32).collect(), &[n])
    }

    /// Samples from N(mean, std^2), drawn from `rng` so that a seed fixes the result.
    pub fn randn(shape: &[usize], mean: f32, std: f32, rng: &mut impl Rng) -> Tensor {
        let n = shape.iter().product();
        let data = (0..n)
            .map(|_| {
                let z: f32 = StandardNormal.sample(rng);
                mean + std * z
            })
            .collect();
        Tensor::from_vec(data, shape)
    }

    /// Samples uniformly from `[low, high)`, drawn from `rng`.
    pub fn rand_uniform(shape: &[usize], low: f32, high: f32, rng: &mut impl Rng) -> Tensor {
        let n = shape.iter().product();
        let dist = Uniform::new(low, high);
        Tensor::from_vec((0..n).map(|_| dist.sample(rng)).collect(), shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn constants_and_ranges() {
        assert_eq!(Tensor::ones(&[2, 3]).data(), &[1.0; 6]);
        assert_eq!(Tensor::arange(4).data(), &[0.0, 1.0, 2.0, 3.0]);
        assert_eq!(Tensor::full(&[], 2.5).item(), 2.5);
    }

    #[test]
    fn seeded_random_is_reproducible_and_plausible() {
        let a = Tensor::randn(&[1000], 0.0, 1.0, &mut ChaCha8Rng::seed_from_u64(7));
        let b = Tensor::randn(&[1000], 0.0, 1.0, &mut ChaCha8Rng::seed_from_u64(7));
        assert_eq!(a.data(), b.data());
        let mean = a.data().iter().sum::<f32>() / 1000.0;
        assert!(mean.abs() < 0.1, "mean {mean}");
        let u = Tensor::rand_uniform(&[1000], -2.0, 3.0, &mut ChaCha8Rng::seed_from_u64(1));
        assert!(u.data().iter().all(|&v| (-2.0..3.0).contains(&v)));
    }
}
