//! k-fold and stratified k-fold cross-validation splits, as scikit-learn's `KFold` and
//! `StratifiedKFold`.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::split::Fold;
use crate::{Error, Result};

/// k-fold cross-validation splits (scikit-learn's `KFold`).
///
/// Fold `i` tests a contiguous block of the (optionally shuffled) sample order; the first
/// `n % n_splits` folds get one extra sample. Both index lists come out sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KFold {
    /// Number of folds, `>= 2` (default 5).
    pub n_splits: usize,
    /// Shuffle the samples first with this seed (default `None`: keep their order).
    pub shuffle: Option<u64>,
}

impl Default for KFold {
    fn default() -> Self {
        Self {
            n_splits: 5,
            shuffle: None,
        }
    }
}

fn check_splits(n_splits: usize, n_samples: usize) -> Result<()> {
    if n_splits < 2 {
        return Err(Error::InvalidParameter(format!(
            "the number of folds must be >= 2, got {n_splits}"
        )));
    }
    if n_splits > n_samples {
        return Err(Error::InvalidParameter(format!(
            "cannot make {n_splits} folds from {n_samples} samples"
        )));
    }
    Ok(())
}

/// The folds whose test sets are given by `fold_of[i]` (the fold sample `i` tests in).
fn folds_from_assignment(fold_of: &[usize], n_splits: usize) -> Vec<Fold> {
    (0..n_splits)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..fold_of.len()).partition(|&i| fold_of[i] == f);
            Fold { train, test }
        })
        .collect()
}

impl KFold {
    /// The `n_splits` folds over `0..n_samples`.
    pub fn split(&self, n_samples: usize) -> Result<Vec<Fold>> {
        check_splits(self.n_splits, n_samples)?;
        let mut order: Vec<usize> = (0..n_samples).collect();
        if let Some(seed) = self.shuffle {
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        }
        let (base, extra) = (n_samples / self.n_splits, n_samples % self.n_splits);
        let mut fold_of = vec![0; n_samples];
        let mut start = 0;
        for f in 0..self.n_splits {
            let size = base + usize::from(f < extra);
            for &i in &order[start..start + size] {
                fold_of[i] = f;
            }
            start += size;
        }
        Ok(folds_from_assignment(&fold_of, self.n_splits))
    }
}

/// Stratified k-fold (scikit-learn's `StratifiedKFold` allocation): each fold receives
/// about the same share of every class.
///
/// Without shuffling the folds equal scikit-learn's: the sorted labels are dealt to the
/// folds round-robin to count how many of each class every fold gets, and the members of a
/// class (in sample order) fill fold 0 first, then fold 1, and so on. With a seed, the fold
/// assignment within each class is shuffled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StratifiedKFold {
    /// Number of folds, `>= 2` and at most the size of the largest class (default 5).
    pub n_splits: usize,
    /// Shuffle within each class with this seed (default `None`).
    pub shuffle: Option<u64>,
}

impl Default for StratifiedKFold {
    fn default() -> Self {
        Self {
            n_splits: 5,
            shuffle: None,
        }
    }
}

impl StratifiedKFold {
    /// The folds for one label per sample.
    pub fn split(&self, labels: &[usize]) -> Result<Vec<Fold>> {
        let k = self.n_splits;
        check_splits(k, labels.len())?;
        // scikit-learn numbers classes by first appearance.
        let mut code = vec![usize::MAX; labels.iter().max().map_or(0, |m| m + 1)];
        let mut n_classes = 0;
        let encoded: Vec<usize> = labels
            .iter()
            .map(|&l| {
                if code[l] == usize::MAX {
                    code[l] = n_classes;
                    n_classes += 1;
                }
                code[l]
            })
            .collect();
        let mut counts = vec![0usize; n_classes];
        encoded.iter().for_each(|&c| counts[c] += 1);
        let largest = counts.iter().copied().max().unwrap_or(0);
        if k > largest {
            return Err(Error::InvalidParameter(format!(
                "n_splits = {k} cannot be greater than the number of members in each class \
                 (largest class has {largest})"
            )));
        }
        let mut sorted = encoded.clone();
        sorted.sort_unstable();
        // allocation[f][c]: members of class c in fold f.
        let mut allocation = vec![vec![0usize; n_classes]; k];
        for (pos, &c) in sorted.iter().enumerate() {
            allocation[pos % k][c] += 1;
        }
        let mut rng = self.shuffle.map(ChaCha8Rng::seed_from_u64);
        let mut fold_of = vec![0; labels.len()];
        for c in 0..n_classes {
            let mut folds_for_class: Vec<usize> = allocation
                .iter()
                .enumerate()
                .flat_map(|(f, per_class)| std::iter::repeat_n(f, per_class[c]))
                .collect();
            if let Some(rng) = rng.as_mut() {
                folds_for_class.shuffle(rng);
            }
            let members = encoded
                .iter()
                .enumerate()
                .filter(|&(_, &e)| e == c)
                .map(|(i, _)| i);
            for (i, f) in members.zip(folds_for_class) {
                fold_of[i] = f;
            }
        }
        Ok(folds_from_assignment(&fold_of, k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kfold_blocks_match_sklearn() {
        // KFold(3).split(range(7)): test [0 1 2], [3 4], [5 6]
        let folds = KFold {
            n_splits: 3,
            shuffle: None,
        }
        .split(7)
        .unwrap();
        let tests: Vec<Vec<usize>> = folds.iter().map(|f| f.test.clone()).collect();
        assert_eq!(tests, vec![vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
        assert_eq!(folds[1].train, vec![0, 1, 2, 5, 6]);
        assert!(KFold {
            n_splits: 1,
            shuffle: None
        }
        .split(7)
        .is_err());
        assert!(KFold {
            n_splits: 8,
            shuffle: None
        }
        .split(7)
        .is_err());
        let shuffled = KFold {
            n_splits: 3,
            shuffle: Some(4),
        }
        .split(7)
        .unwrap();
        let mut all: Vec<usize> = shuffled.iter().flat_map(|f| f.test.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..7).collect::<Vec<_>>());
        assert_ne!(shuffled, folds);
    }

    // from sklearn.model_selection import StratifiedKFold
    // y = [0, 0, 1, 1, 1, 0, 2, 2, 1, 0]
    // [sorted(t.tolist()) for _, t in StratifiedKFold(3).split(np.zeros(10), y)]
    //   -> [[0, 1, 2, 6], [3, 4, 5], [7, 8, 9]]
    #[test]
    fn stratified_kfold_matches_sklearn() {
        let y = [0, 0, 1, 1, 1, 0, 2, 2, 1, 0];
        let folds = StratifiedKFold {
            n_splits: 3,
            shuffle: None,
        }
        .split(&y)
        .unwrap();
        let tests: Vec<Vec<usize>> = folds.iter().map(|f| f.test.clone()).collect();
        assert_eq!(tests, vec![vec![0, 1, 2, 6], vec![3, 4, 5], vec![7, 8, 9]]);
        assert!(StratifiedKFold {
            n_splits: 5,
            shuffle: None
        }
        .split(&y)
        .is_err());
    }
}
