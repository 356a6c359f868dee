//! Random search candidates: each hyperparameter drawn from its distribution, seeded.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::params::{ParamSet, ParamValue};
use crate::{Error, Result};

/// A distribution to draw one hyperparameter from in a random search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParamDistribution {
    /// Uniform real in `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound, `> low`.
        high: f64,
    },
    /// `exp(Uniform[ln low, ln high))`: equal odds per decade, for scales such as alpha.
    LogUniform {
        /// Lower bound, `> 0`.
        low: f64,
        /// Upper bound, `> low`.
        high: f64,
    },
    /// Uniform integer in `[low, high]`.
    IntUniform {
        /// Lower bound.
        low: i64,
        /// Upper bound (inclusive), `>= low`.
        high: i64,
    },
    /// One of the listed values, equally likely.
    Choice(Vec<ParamValue>),
}

impl ParamDistribution {
    fn check(&self, name: &str) -> Result<()> {
        let ok = match self {
            ParamDistribution::Uniform { low, high } => {
                low.is_finite() && high.is_finite() && low < high
            }
            ParamDistribution::LogUniform { low, high } => {
                *low > 0.0 && high.is_finite() && low < high
            }
            ParamDistribution::IntUniform { low, high } => low <= high,
            ParamDistribution::Choice(v) => !v.is_empty(),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter(format!(
                "invalid range for `{name}`: {self:?}"
            )))
        }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> ParamValue {
        match self {
            ParamDistribution::Uniform { low, high } => {
                ParamValue::Float(rng.gen_range(*low..*high))
            }
            ParamDistribution::LogUniform { low, high } => {
                ParamValue::Float(rng.gen_range(low.ln()..high.ln()).exp())
            }
            ParamDistribution::IntUniform { low, high } => {
                ParamValue::Int(rng.gen_range(*low..=*high))
            }
            ParamDistribution::Choice(v) => v[rng.gen_range(0..v.len())].clone(),
        }
    }
}

/// Random search: `n_iter` candidates, each parameter drawn independently with a seeded RNG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomSearch {
    /// Parameters and their distributions.
    pub params: Vec<(String, ParamDistribution)>,
    /// Number of candidates, `>= 1`.
    pub n_iter: usize,
    /// Seed of the sampling RNG.
    pub seed: u64,
}

impl RandomSearch {
    /// The sampled candidates (the same for the same seed).
    pub fn candidates(&self) -> Result<Vec<ParamSet>> {
        if self.n_iter == 0 {
            return Err(Error::InvalidParameter("n_iter must be >= 1, got 0".into()));
        }
        for (name, dist) in &self.params {
            dist.check(name)?;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        Ok((0..self.n_iter)
            .map(|_| {
                ParamSet(
                    self.params
                        .iter()
                        .map(|(n, d)| (n.clone(), d.sample(&mut rng)))
                        .collect(),
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::linear::Ridge;
    use crate::classic::selection::*;
    use ndarray::Array2;

    #[test]
    fn random_search_is_seeded_and_in_range() {
        let rs = RandomSearch {
            params: vec![
                (
                    "alpha".into(),
                    ParamDistribution::LogUniform {
                        low: 1e-3,
                        high: 1e2,
                    },
                ),
                (
                    "k".into(),
                    ParamDistribution::IntUniform { low: 1, high: 5 },
                ),
            ],
            n_iter: 20,
            seed: 9,
        };
        let c = rs.candidates().unwrap();
        assert_eq!(c, rs.candidates().unwrap());
        for p in &c {
            let a = p.get_f64("alpha").unwrap();
            assert!((1e-3..1e2).contains(&a));
            assert!((1..=5).contains(&p.get_usize("k").unwrap()));
        }
        let x = Array2::from_shape_fn((30, 2), |(i, j)| (i * (j + 1)) as f64 % 7.0);
        let y = x.column(0).to_owned() * 2.0 - x.column(1).to_owned();
        let folds = KFold::default().split(30).unwrap();
        let res = search_regressor(
            &c,
            |p| {
                Ok(Ridge {
                    alpha: p.get_f64("alpha")?,
                    fit_intercept: true,
                })
            },
            x.view(),
            y.view(),
            &folds,
        )
        .unwrap();
        let best = res.best().unwrap().params.get_f64("alpha").unwrap();
        let smallest = c
            .iter()
            .map(|p| p.get_f64("alpha").unwrap())
            .fold(f64::INFINITY, f64::min);
        assert_eq!(
            best, smallest,
            "noise-free data: the least regularised model wins"
        );
        let bad = RandomSearch {
            params: vec![(
                "a".into(),
                ParamDistribution::LogUniform {
                    low: 0.0,
                    high: 1.0,
                },
            )],
            n_iter: 1,
            seed: 0,
        };
        assert!(bad.candidates().is_err());
    }
}
