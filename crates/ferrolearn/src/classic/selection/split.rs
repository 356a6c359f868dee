//! Train/test and train/validation/test splits as row-index lists ([`Fold`]), stratified by
//! class when labels are given.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Row indices of one split: `train` and `test` (or validation), each sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Rows to fit on.
    pub train: Vec<usize>,
    /// Rows to score on.
    pub test: Vec<usize>,
}

impl Fold {
    /// Errors when an index is outside `0..n_samples` or a side is empty.
    pub fn check(&self, n_samples: usize) -> Result<()> {
        if self.train.is_empty() || self.test.is_empty() {
            return Err(Error::InvalidData(format!(
                "a fold needs training and test rows, got {} and {}",
                self.train.len(),
                self.test.len()
            )));
        }
        if let Some(&i) = self
            .train
            .iter()
            .chain(&self.test)
            .find(|&&i| i >= n_samples)
        {
            return Err(Error::InvalidData(format!(
                "fold index {i} is out of range for {n_samples} samples"
            )));
        }
        Ok(())
    }
}

/// Train / validation / test row indices, each sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreeWaySplit {
    /// Rows to fit on.
    pub train: Vec<usize>,
    /// Rows to choose hyperparameters on.
    pub val: Vec<usize>,
    /// Rows held out for the final score.
    pub test: Vec<usize>,
}

fn check_fraction(name: &str, f: f64) -> Result<()> {
    if !(f > 0.0 && f < 1.0) {
        return Err(Error::InvalidParameter(format!(
            "{name} must be in (0, 1), got {f}"
        )));
    }
    Ok(())
}

/// Splits `0..n_samples` at random into train and test, `ceil(test_fraction * n)` test rows
/// (as scikit-learn's `train_test_split`).
///
/// With `stratify` (one label per sample), each class contributes to the test side in
/// proportion to its size (rounded, the total kept at `ceil(test_fraction * n)`), and every
/// class keeps at least one training row.
pub fn train_test_split(
    n_samples: usize,
    test_fraction: f64,
    seed: u64,
    stratify: Option<&[usize]>,
) -> Result<Fold> {
    check_fraction("test fraction", test_fraction)?;
    let n_test = (test_fraction * n_samples as f64).ceil() as usize;
    if n_test == 0 || n_test >= n_samples {
        return Err(Error::InvalidParameter(format!(
            "test fraction {test_fraction} of {n_samples} samples leaves {n_test} test and {} \
             training rows; both need at least one",
            n_samples.saturating_sub(n_test)
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut test) = match stratify {
        None => {
            let mut perm: Vec<usize> = (0..n_samples).collect();
            perm.shuffle(&mut rng);
            let train = perm.split_off(n_test);
            (train, perm)
        }
        Some(labels) => stratified_split(labels, n_samples, n_test, &mut rng)?,
    };
    train.sort_unstable();
    test.sort_unstable();
    Ok(Fold { train, test })
}

/// Class members shuffled, then the first `n_test_c` of each class go to the test side.
fn stratified_split(
    labels: &[usize],
    n_samples: usize,
    n_test: usize,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if labels.len() != n_samples {
        return Err(Error::InvalidData(format!(
            "stratify has {} labels for {n_samples} samples",
            labels.len()
        )));
    }
    let mut members = group_by_class(labels);
    members.retain(|m| !m.is_empty());
    // Largest-remainder allocation of n_test over the classes.
    let exact: Vec<f64> = members
        .iter()
        .map(|m| m.len() as f64 * n_test as f64 / n_samples as f64)
        .collect();
    let mut take: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    let mut missing = n_test - take.iter().sum::<usize>();
    for &c in order.iter().cycle().take(order.len() * 2) {
        if missing == 0 {
            break;
        }
        if take[c] + 1 < members[c].len() {
            take[c] += 1;
            missing -= 1;
        }
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (m, t) in members.iter_mut().zip(take) {
        m.shuffle(rng);
        let t = t.min(m.len().saturating_sub(1));
        test.extend_from_slice(&m[..t]);
        train.extend_from_slice(&m[t..]);
    }
    Ok((train, test))
}

/// Sample indices of each class `0..=max(labels)`, ascending.
fn group_by_class(labels: &[usize]) -> Vec<Vec<usize>> {
    let n_classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut members = vec![Vec::new(); n_classes];
    for (i, &l) in labels.iter().enumerate() {
        members[l].push(i);
    }
    members
}

/// Train / validation / test split: `test_fraction` of the rows for test, then
/// `val_fraction` of **all** rows for validation, the rest for training; stratified by
/// `stratify` when given.
pub fn train_val_test_split(
    n_samples: usize,
    val_fraction: f64,
    test_fraction: f64,
    seed: u64,
    stratify: Option<&[usize]>,
) -> Result<ThreeWaySplit> {
    check_fraction("validation fraction", val_fraction)?;
    check_fraction("test fraction", test_fraction)?;
    if val_fraction + test_fraction >= 1.0 {
        return Err(Error::InvalidParameter(format!(
            "validation fraction {val_fraction} + test fraction {test_fraction} must be < 1"
        )));
    }
    let first = train_test_split(n_samples, test_fraction, seed, stratify)?;
    let rest = first.train;
    let sub_labels: Option<Vec<usize>> = stratify.map(|l| rest.iter().map(|&i| l[i]).collect());
    let inner = train_test_split(
        rest.len(),
        val_fraction / (1.0 - test_fraction),
        seed.wrapping_add(1),
        sub_labels.as_deref(),
    )?;
    Ok(ThreeWaySplit {
        train: inner.train.iter().map(|&i| rest[i]).collect(),
        val: inner.test.iter().map(|&i| rest[i]).collect(),
        test: first.test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_seeded_partitions_and_stratify() {
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i % 4 == 0)).collect();
        let s = train_test_split(100, 0.2, 7, Some(&labels)).unwrap();
        assert_eq!(s.test.len(), 20);
        assert_eq!(s.test.iter().filter(|&&i| labels[i] == 1).count(), 5);
        assert_eq!(s, train_test_split(100, 0.2, 7, Some(&labels)).unwrap());
        let plain = train_test_split(10, 0.25, 1, None).unwrap();
        assert_eq!((plain.train.len(), plain.test.len()), (7, 3));
        let three = train_val_test_split(100, 0.2, 0.1, 3, Some(&labels)).unwrap();
        assert_eq!(
            (three.train.len(), three.val.len(), three.test.len()),
            (70, 20, 10)
        );
        let mut all: Vec<usize> = three
            .train
            .iter()
            .chain(&three.val)
            .chain(&three.test)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert!(train_test_split(10, 1.5, 0, None).is_err());
        assert!(train_val_test_split(10, 0.5, 0.5, 0, None).is_err());
    }
}
