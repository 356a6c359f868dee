//! Model selection: train/validation/test splits, k-fold and stratified k-fold,
//! cross-validated scores, and grid / random search over hyperparameters.
//!
//! Splits are index lists (select rows with `x.select(Axis(0), &split.train)`), so one
//! split serves features, labels and any side data. Every random choice comes from a
//! `ChaCha8Rng` seeded by the caller.
//!
//! Hyperparameters for search are described by name and value ([`ParamSet`]), so that a
//! command line can state a grid as strings (`k=1,3,5 metric=l1,l2`); a closure turns each
//! [`ParamSet`] into a learner.

use std::fmt;

use ndarray::{ArrayView1, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Classifier, FitClassifier, FitRegressor, Regressor};
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

/// Mean and population standard deviation; `(NaN, NaN)` for an empty slice.
pub(crate) fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Scores of one model on each fold, with their mean and (population) std.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvScores {
    /// One score per fold, in fold order.
    pub scores: Vec<f64>,
    /// Mean of `scores`.
    pub mean: f64,
    /// Population standard deviation of `scores` (as `numpy.std`).
    pub std: f64,
}

impl CvScores {
    /// Summarises per-fold scores.
    pub fn new(scores: Vec<f64>) -> Self {
        let (mean, std) = mean_std(&scores);
        Self { scores, mean, std }
    }
}

fn check_rows(x: ArrayView2<f64>, n_targets: usize, folds: &[Fold]) -> Result<()> {
    if x.nrows() != n_targets {
        return Err(Error::InvalidData(format!(
            "x has {} rows but y has {n_targets} targets",
            x.nrows()
        )));
    }
    if folds.is_empty() {
        return Err(Error::InvalidParameter("no folds given".into()));
    }
    folds.iter().try_for_each(|f| f.check(x.nrows()))
}

/// Test-fold accuracy of `learner` fitted on each fold's training rows.
pub fn cross_val_score_classifier<L: FitClassifier>(
    learner: &L,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    folds: &[Fold],
) -> Result<CvScores> {
    score_folds(x, y, folds, |x_train, y_train, x_test, y_test| {
        let pred = learner.fit(x_train, y_train)?.predict(x_test)?;
        crate::metrics::accuracy(&y_test.to_vec(), &pred.to_vec())
    })
}

/// Test-fold R^2 of `learner` fitted on each fold's training rows (scikit-learn's default
/// regression score).
pub fn cross_val_score_regressor<L: FitRegressor>(
    learner: &L,
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    folds: &[Fold],
) -> Result<CvScores> {
    score_folds(x, y, folds, |x_train, y_train, x_test, y_test| {
        let pred = learner.fit(x_train, y_train)?.predict(x_test)?;
        crate::metrics::r2_score(&y_test.to_vec(), &pred.to_vec())
    })
}

/// Scores each fold with `score(x_train, y_train, x_test, y_test)`, after checking that the
/// folds fit the data.
pub(crate) fn score_folds<T: Clone>(
    x: ArrayView2<f64>,
    y: ArrayView1<T>,
    folds: &[Fold],
    score: impl Fn(ArrayView2<f64>, ArrayView1<T>, ArrayView2<f64>, ArrayView1<T>) -> Result<f64>,
) -> Result<CvScores> {
    check_rows(x, y.len(), folds)?;
    let scores = folds
        .iter()
        .map(|f| {
            score(
                x.select(Axis(0), &f.train).view(),
                y.select(Axis(0), &f.train).view(),
                x.select(Axis(0), &f.test).view(),
                y.select(Axis(0), &f.test).view(),
            )
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok(CvScores::new(scores))
}

/// One hyperparameter value: an integer, a real number or a word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParamValue {
    /// An integer such as `k = 3`.
    Int(i64),
    /// A real number such as `alpha = 0.1`.
    Float(f64),
    /// A word such as `metric = manhattan`.
    Text(String),
}

impl ParamValue {
    /// Reads a value written on a command line: an integer if it parses as one, else a
    /// real number, else the text itself.
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        if let Ok(i) = s.parse::<i64>() {
            ParamValue::Int(i)
        } else if let Ok(f) = s.parse::<f64>() {
            ParamValue::Float(f)
        } else {
            ParamValue::Text(s.to_string())
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Text(s) => f.write_str(s),
        }
    }
}

/// Named hyperparameter values: one candidate of a search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamSet(pub Vec<(String, ParamValue)>);

impl ParamSet {
    /// The value named `name`.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn require(&self, name: &str) -> Result<&ParamValue> {
        self.get(name)
            .ok_or_else(|| Error::InvalidParameter(format!("parameter `{name}` is not set")))
    }

    /// The value named `name` as a real number (integers convert).
    pub fn get_f64(&self, name: &str) -> Result<f64> {
        match self.require(name)? {
            ParamValue::Int(i) => Ok(*i as f64),
            ParamValue::Float(x) => Ok(*x),
            ParamValue::Text(s) => Err(Error::InvalidParameter(format!(
                "parameter `{name}` must be a number, got `{s}`"
            ))),
        }
    }

    /// The value named `name` as a non-negative integer.
    pub fn get_usize(&self, name: &str) -> Result<usize> {
        match self.require(name)? {
            ParamValue::Int(i) if *i >= 0 => Ok(*i as usize),
            other => Err(Error::InvalidParameter(format!(
                "parameter `{name}` must be a non-negative integer, got `{other}`"
            ))),
        }
    }

    /// The value named `name` as text (numbers are formatted).
    pub fn get_str(&self, name: &str) -> Result<String> {
        Ok(self.require(name)?.to_string())
    }
}

impl fmt::Display for ParamSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (n, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v}")?;
        }
        Ok(())
    }
}

/// A grid of hyperparameter values; its candidates are every combination, the last
/// parameter varying fastest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamGrid {
    axes: Vec<(String, Vec<ParamValue>)>,
}

impl ParamGrid {
    /// An empty grid (one candidate with no parameters).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter and its values.
    pub fn with(mut self, name: impl Into<String>, values: Vec<ParamValue>) -> Self {
        self.axes.push((name.into(), values));
        self
    }

    /// Adds a parameter written as `name=v1,v2,...` (values parsed by [`ParamValue::parse`]).
    pub fn with_spec(self, spec: &str) -> Result<Self> {
        let (name, values) = spec.split_once('=').ok_or_else(|| {
            Error::InvalidParameter(format!("grid axis `{spec}` is not of the form name=v1,v2"))
        })?;
        let values: Vec<ParamValue> = values
            .split(',')
            .filter(|v| !v.trim().is_empty())
            .map(ParamValue::parse)
            .collect();
        if name.trim().is_empty() || values.is_empty() {
            return Err(Error::InvalidParameter(format!(
                "grid axis `{spec}` needs a name and at least one value"
            )));
        }
        Ok(self.with(name.trim(), values))
    }

    /// Every combination of values.
    pub fn candidates(&self) -> Vec<ParamSet> {
        let mut out = vec![ParamSet::default()];
        for (name, values) in &self.axes {
            out = out
                .into_iter()
                .flat_map(|set| {
                    values.iter().map(move |v| {
                        let mut s = set.clone();
                        s.0.push((name.clone(), v.clone()));
                        s
                    })
                })
                .collect();
        }
        out
    }
}

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

/// One candidate's cross-validated scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRow {
    /// The hyperparameters.
    pub params: ParamSet,
    /// Its per-fold scores, mean and std.
    pub cv: CvScores,
}

/// Search results sorted by mean score, best first (candidates with equal means keep
/// their order of evaluation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The rows, best first.
    pub rows: Vec<SearchRow>,
}

impl SearchResults {
    /// The best candidate.
    pub fn best(&self) -> Option<&SearchRow> {
        self.rows.first()
    }
}

/// Evaluates every candidate with `evaluate` (for example a cross-validation) and sorts
/// the results best first. `on_done(i, n)` is called after each candidate, for progress.
pub fn search(
    candidates: &[ParamSet],
    mut evaluate: impl FnMut(&ParamSet) -> Result<CvScores>,
    mut on_done: impl FnMut(usize, usize),
) -> Result<SearchResults> {
    if candidates.is_empty() {
        return Err(Error::InvalidParameter("no candidates to search".into()));
    }
    let mut rows = Vec::with_capacity(candidates.len());
    for (i, params) in candidates.iter().enumerate() {
        let cv = evaluate(params)?;
        rows.push(SearchRow {
            params: params.clone(),
            cv,
        });
        on_done(i + 1, candidates.len());
    }
    rows.sort_by(|a, b| b.cv.mean.total_cmp(&a.cv.mean));
    Ok(SearchResults { rows })
}

/// Cross-validated accuracy of the classifier `make` builds from each candidate.
pub fn search_classifier<L: FitClassifier>(
    candidates: &[ParamSet],
    make: impl Fn(&ParamSet) -> Result<L>,
    x: ArrayView2<f64>,
    y: ArrayView1<usize>,
    folds: &[Fold],
) -> Result<SearchResults> {
    search(
        candidates,
        |p| cross_val_score_classifier(&make(p)?, x, y, folds),
        |_, _| {},
    )
}

/// Cross-validated R^2 of the regressor `make` builds from each candidate.
pub fn search_regressor<L: FitRegressor>(
    candidates: &[ParamSet],
    make: impl Fn(&ParamSet) -> Result<L>,
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    folds: &[Fold],
) -> Result<SearchResults> {
    search(
        candidates,
        |p| cross_val_score_regressor(&make(p)?, x, y, folds),
        |_, _| {},
    )
}

#[cfg(test)]
mod tests {
    use ndarray::{array, Array2};

    use super::*;
    use crate::classic::knn::KnnClassifier;
    use crate::classic::linear::Ridge;

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

    #[test]
    fn grid_search_ranks_candidates() {
        let x = Array2::from_shape_fn((40, 1), |(i, _)| i as f64);
        let y: ndarray::Array1<usize> = (0..40).map(|i| usize::from(i >= 20)).collect();
        let folds = StratifiedKFold {
            n_splits: 4,
            shuffle: Some(0),
        }
        .split(y.as_slice().unwrap())
        .unwrap();
        let grid = ParamGrid::new().with_spec("k=1,3,25").unwrap();
        let res = search_classifier(
            &grid.candidates(),
            |p| {
                Ok(KnnClassifier {
                    k: p.get_usize("k")?,
                    ..KnnClassifier::default()
                })
            },
            x.view(),
            y.view(),
            &folds,
        )
        .unwrap();
        assert_eq!(res.rows.len(), 3);
        assert!(res.rows.windows(2).all(|w| w[0].cv.mean >= w[1].cv.mean));
        assert_eq!(
            res.rows[2].params.get_usize("k").unwrap(),
            25,
            "k = 25 mixes both classes"
        );
        assert!(res.best().unwrap().cv.mean >= 0.95);
    }

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

    #[test]
    fn cross_val_score_reports_mean_and_std() {
        let x = array![[0.0], [1.0], [2.0], [3.0], [10.0], [11.0], [12.0], [13.0]];
        let y = array![0, 0, 0, 0, 1, 1, 1, 1];
        let folds = StratifiedKFold {
            n_splits: 2,
            shuffle: None,
        }
        .split(y.as_slice().unwrap())
        .unwrap();
        let cv = cross_val_score_classifier(
            &KnnClassifier {
                k: 1,
                ..KnnClassifier::default()
            },
            x.view(),
            y.view(),
            &folds,
        )
        .unwrap();
        assert_eq!(cv.scores, vec![1.0, 1.0]);
        assert_eq!((cv.mean, cv.std), (1.0, 0.0));
        assert!(ParamGrid::new().with_spec("k").is_err());
        assert_eq!(ParamValue::parse("0.5"), ParamValue::Float(0.5));
        assert_eq!(ParamValue::parse("l1"), ParamValue::Text("l1".into()));
    }
}
