//! Weight initialisation: Xavier/Glorot and He/Kaiming, normal and uniform, and PyTorch's
//! per-layer defaults. All draws come from the RNG passed in.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::tensor::Tensor;

/// How a layer's weight is initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// PyTorch's default for `Linear` and `Conv2d`: Kaiming-uniform with `a = sqrt(5)`, i.e.
    /// `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`.
    #[default]
    PytorchDefault,
    /// Glorot & Bengio: `U(-a, a)` with `a = sqrt(6 / (fan_in + fan_out))`.
    XavierUniform,
    /// Glorot & Bengio: `N(0, 2 / (fan_in + fan_out))`.
    XavierNormal,
    /// He et al. for ReLU: `U(-a, a)` with `a = sqrt(6 / fan_in)`.
    KaimingUniform,
    /// He et al. for ReLU: `N(0, 2 / fan_in)`.
    KaimingNormal,
    /// PyTorch's default, then the first `min(Cout, Cin)` filters made the identity, as
    /// airbench's `torch.nn.init.dirac_(w[:Cin])`: filter `j` passes input channel `j`
    /// through unchanged (a 1 at the kernel's centre, 0 elsewhere).
    Dirac,
}

impl Init {
    /// A weight of `shape` with the given fans.
    pub fn weight(
        self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        rng: &mut impl Rng,
    ) -> Tensor {
        let (fi, fo) = (fan_in.max(1) as f32, fan_out.max(1) as f32);
        match self {
            Init::PytorchDefault => Init::default_uniform(shape, fi, rng),
            Init::Dirac => {
                let mut w = Init::default_uniform(shape, fi, rng).data().to_vec();
                let (out, inp) = (shape[0], shape.get(1).copied().unwrap_or(1));
                let area: usize = shape.iter().skip(2).product();
                let centre: usize = shape
                    .iter()
                    .skip(2)
                    .fold(0, |at, &side| at * side + side / 2);
                for j in 0..out.min(inp) {
                    let filter = &mut w[j * inp * area..(j + 1) * inp * area];
                    filter.fill(0.0);
                    filter[j * area + centre] = 1.0;
                }
                Tensor::from_vec(w, shape)
            }
            Init::XavierUniform => {
                let bound = (6.0 / (fi + fo)).sqrt();
                Tensor::rand_uniform(shape, -bound, bound, rng)
            }
            Init::XavierNormal => Tensor::randn(shape, 0.0, (2.0 / (fi + fo)).sqrt(), rng),
            Init::KaimingUniform => {
                let bound = (6.0 / fi).sqrt();
                Tensor::rand_uniform(shape, -bound, bound, rng)
            }
            Init::KaimingNormal => Tensor::randn(shape, 0.0, (2.0 / fi).sqrt(), rng),
        }
    }
}

impl Init {
    /// `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`.
    fn default_uniform(shape: &[usize], fan_in: f32, rng: &mut impl Rng) -> Tensor {
        let bound = 1.0 / fan_in.sqrt();
        Tensor::rand_uniform(shape, -bound, bound, rng)
    }
}

/// PyTorch's default bias: `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`.
pub fn default_bias(len: usize, fan_in: usize, rng: &mut impl Rng) -> Tensor {
    let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
    Tensor::rand_uniform(&[len], -bound, bound, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn std_of(t: &Tensor) -> f32 {
        let n = t.numel() as f32;
        let mean = t.data().iter().sum::<f32>() / n;
        (t.data().iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt()
    }

    #[test]
    fn spreads_match_their_formulas() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (fi, fo) = (400, 100);
        let cases = [
            (Init::PytorchDefault, (1.0 / fi as f32).sqrt() / 3f32.sqrt()),
            (Init::XavierUniform, (2.0 / (fi + fo) as f32).sqrt()),
            (Init::XavierNormal, (2.0 / (fi + fo) as f32).sqrt()),
            (Init::KaimingUniform, (2.0 / fi as f32).sqrt()),
            (Init::KaimingNormal, (2.0 / fi as f32).sqrt()),
        ];
        for (init, expected) in cases {
            let w = init.weight(&[fo, fi], fi, fo, &mut rng);
            let s = std_of(&w);
            assert!(
                (s / expected - 1.0).abs() < 0.03,
                "{init:?}: std {s} vs {expected}"
            );
        }
    }

    #[test]
    fn dirac_makes_the_first_filters_identities_and_keeps_the_rest_random() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let w = Init::Dirac.weight(&[5, 3, 3, 3], 27, 45, &mut rng);
        let d = w.data();
        for j in 0..3 {
            for k in 0..27 {
                let want = if k == j * 9 + 4 { 1.0 } else { 0.0 };
                assert_eq!(d[j * 27 + k], want, "filter {j} entry {k}");
            }
        }
        // The two filters past the input channels keep PyTorch's default draw.
        let bound = 1.0 / 27f32.sqrt();
        assert!(d[81..].iter().all(|v| v.abs() <= bound && *v != 0.0));
        assert!(d[81..].iter().any(|v| v.abs() > bound / 2.0));
    }
}
