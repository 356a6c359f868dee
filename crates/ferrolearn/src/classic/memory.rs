//! How much memory fitting a classic learner will allocate, estimated from the data's size
//! and the hyperparameters before anything is fitted, so a fit the machine cannot hold is
//! refused in GiB, naming the model and the flag or data size to blame, instead of the
//! process being killed by the system half-way (the networks' counterpart is
//! [`crate::train::memory`], whose reading of the available memory this reuses).

use crate::{Error, Result};

pub use crate::train::memory::available_memory;

/// Bytes per `f64`.
const F64: u64 = 8;
/// Bytes per `f32`.
const F32: u64 = 4;
/// Query rows x training rows of one kNN distance tile (`f32`), one tile per thread.
const KNN_TILE: u64 = 512 * 1024;
/// Corrections kept by L-BFGS (its `m`).
const LBFGS_HISTORY: u64 = 10;

/// A learner as far as its memory goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerShape {
    /// k-nearest neighbours: keeps the training rows; one distance tile per thread.
    Knn,
    /// Least squares, ridge and gradient-descent regression: the features' Gram matrix.
    Linear,
    /// Polynomial regression: every row's monomials up to `degree`, then a linear fit on them.
    Polynomial {
        /// `--degree`.
        degree: usize,
    },
    /// Logistic and softmax regression: scores and their gradient per class, L-BFGS history.
    Logistic {
        /// Number of classes.
        classes: usize,
    },
    /// Linear SVM, one binary problem per class: dual variables, gradients, kernel columns.
    LinearSvm {
        /// Number of classes.
        classes: usize,
    },
    /// Multiclass SVM and perceptron: weights and row scores per class.
    MulticlassLinear {
        /// Number of classes.
        classes: usize,
    },
    /// Multi-layer perceptron: its weights with their gradients and Adam's two moments, and
    /// the rows as f32.
    Mlp {
        /// Weights and biases of every layer.
        parameters: usize,
    },
    /// k-means: centres, and each row's distances to them.
    KMeans {
        /// `--k`.
        clusters: usize,
    },
}

/// One allocation of a fit: what it is, what sets its size, and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryTerm {
    /// What is allocated (`the polynomial features (60000 x 308505)`).
    pub what: String,
    /// The flag or data size that sets its size (`--degree 2`).
    pub cause: String,
    /// Its size in bytes (saturating).
    pub bytes: u64,
}

/// The estimated memory of one fit.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicMemory {
    /// Every allocation counted.
    pub terms: Vec<MemoryTerm>,
}

impl ClassicMemory {
    /// All terms together.
    pub fn total_bytes(&self) -> u64 {
        self.terms.iter().fold(0, |s, t| s.saturating_add(t.bytes))
    }

    /// The term needing the most.
    pub fn largest(&self) -> Option<&MemoryTerm> {
        self.terms.iter().max_by_key(|t| t.bytes)
    }
}

/// `a * b * c`, saturating.
fn mul(a: u64, b: u64, c: u64) -> u64 {
    a.saturating_mul(b).saturating_mul(c)
}

/// The number of monomials of total degree `1..=degree` in `features` variables plus the
/// constant: `C(features + degree, degree)`, saturating.
fn monomials(features: u64, degree: u64) -> u64 {
    (1..=degree).fold(1u64, |acc, i| {
        let next = u128::from(acc) * u128::from(features + i) / u128::from(i);
        u64::try_from(next).unwrap_or(u64::MAX)
    })
}

/// Estimates the memory of fitting `learner` on `rows` rows of `features` features with
/// `threads` worker threads: the rows as `f64` with their scaled copy, and what the learner
/// allocates on top.
pub fn estimate_classic_memory(
    learner: LearnerShape,
    rows: usize,
    features: usize,
    threads: usize,
) -> ClassicMemory {
    let (n, d) = (rows as u64, features as u64);
    let data = format!("the data size ({rows} rows x {features} features)");
    let term = |what: String, cause: &str, bytes: u64| MemoryTerm {
        what,
        cause: cause.to_string(),
        bytes,
    };
    let mut terms = vec![term(
        format!("the rows as f64 and their scaled copy ({rows} x {features}, twice)"),
        &data,
        mul(n, d, 2 * F64),
    )];
    match learner {
        LearnerShape::Knn => {
            terms.push(term(
                "the training rows the model keeps".into(),
                &data,
                mul(n, d, F64),
            ));
            terms.push(term(
                format!("the distance tiles ({threads} threads x 512 x 1024)"),
                "--threads",
                mul(threads as u64, KNN_TILE, F32),
            ));
        }
        LearnerShape::Linear => {
            terms.push(term(
                format!("the Gram matrix and its factor ({features} x {features}, twice)"),
                &data,
                mul(d, d, 2 * F64),
            ));
        }
        LearnerShape::Polynomial { degree } => {
            let p = monomials(d, degree as u64);
            let cause = format!("--degree {degree} on {features} features");
            terms.push(term(
                format!("the polynomial features ({rows} x {p})"),
                &cause,
                mul(n, p, F64),
            ));
            terms.push(term(
                format!(
                    "the Gram matrix of the polynomial features and its factor ({p} x {p}, twice)"
                ),
                &cause,
                mul(p, p, 2 * F64),
            ));
        }
        LearnerShape::Logistic { classes } => {
            let k = classes as u64;
            terms.push(term(
                format!("the scores and their gradient ({rows} x {classes}, twice)"),
                &data,
                mul(n, k, 2 * F64),
            ));
            terms.push(term(
                format!("the L-BFGS history ({LBFGS_HISTORY} pairs of {features} x {classes})"),
                "the number of features and classes",
                mul(
                    2 * LBFGS_HISTORY,
                    d.saturating_add(1),
                    k.saturating_mul(F64),
                ),
            ));
        }
        LearnerShape::LinearSvm { classes } => {
            terms.push(term(
                format!("the dual variables, gradients and kernel columns of {classes} one-vs-rest problems ({rows} rows each)"),
                &data,
                mul(n, classes as u64, 4 * F64),
            ));
        }
        LearnerShape::MulticlassLinear { classes } => {
            terms.push(term(
                format!("the row scores ({rows} x {classes})"),
                &data,
                mul(n, classes as u64, F64),
            ));
        }
        LearnerShape::Mlp { parameters } => {
            terms.push(term(
                format!(
                    "the weights, gradients and Adam moments ({parameters} parameters, 4 copies)"
                ),
                "--hidden",
                mul(parameters as u64, 4, F32),
            ));
            terms.push(term("the rows as f32".into(), &data, mul(n, d, F32)));
        }
        LearnerShape::KMeans { clusters } => {
            let cause = format!("--k {clusters}");
            terms.push(term(
                format!("the centres ({clusters} x {features}, with their sums)"),
                &cause,
                mul(clusters as u64, d, 2 * F64),
            ));
            terms.push(term(
                "each row's label and distances".into(),
                &data,
                mul(n, 2, F64),
            ));
        }
    }
    ClassicMemory { terms }
}

/// Refuses fitting `model` (its `--model` name) when the estimate exceeds `available` bytes,
/// saying so in GiB and naming the largest allocation and what sets its size.
///
/// # Errors
/// `InvalidParameter` with the estimate, the memory available and the part to blame.
pub fn check_classic_memory(
    model: &str,
    learner: LearnerShape,
    rows: usize,
    features: usize,
    threads: usize,
    available: u64,
) -> Result<ClassicMemory> {
    let estimate = estimate_classic_memory(learner, rows, features, threads);
    if estimate.total_bytes() <= available {
        return Ok(estimate);
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let blame = estimate.largest().map_or(String::new(), |t| {
        format!(
            "; the largest part is {} ({:.1} GiB), set by {}",
            t.what,
            gib(t.bytes),
            t.cause
        )
    });
    Err(Error::InvalidParameter(format!(
        "fitting --model {model} would need about {:.1} GiB but the machine has {:.1} GiB available{blame}",
        gib(estimate.total_bytes()),
        gib(available)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn monomials_count_as_polynomial_features_does() {
        use crate::classic::linear::PolynomialFeatures;
        for (d, degree) in [(1, 1), (2, 3), (5, 2), (4, 4)] {
            let powers = PolynomialFeatures {
                degree,
                include_bias: true,
            }
            .powers(d)
            .expect("small map");
            assert_eq!(monomials(d as u64, degree as u64), powers.nrows() as u64);
        }
        assert_eq!(monomials(784, 2), 308_505);
        assert_eq!(monomials(u64::MAX / 2, 40), u64::MAX);
    }

    #[test]
    fn mnist_degree_two_is_refused_naming_the_degree() {
        let poly = LearnerShape::Polynomial { degree: 2 };
        let err = check_classic_memory("poly", poly, 60_000, 784, 2, 16 * GIB)
            .expect_err("a 308505 x 308505 Gram matrix is 1418 GiB")
            .to_string();
        assert!(err.contains("--model poly"), "{err}");
        assert!(err.contains("--degree 2 on 784 features"), "{err}");
        assert!(err.contains("16.0 GiB available"), "{err}");
        assert!(
            err.contains("polynomial features and its factor (308505 x 308505"),
            "{err}"
        );
    }

    #[test]
    fn mnist_knn_fits_and_its_terms_add_up() {
        let est = check_classic_memory("knn", LearnerShape::Knn, 60_000, 784, 2, 16 * GIB)
            .expect("1.1 GiB fits in 16");
        let data = 60_000 * 784 * 8;
        assert_eq!(est.total_bytes(), 3 * data + 2 * 512 * 1024 * 4);
        assert_eq!(est.largest().map(|t| t.bytes), Some(2 * data));
    }

    #[test]
    fn the_data_itself_is_blamed_when_it_is_the_largest_part() {
        let svm = LearnerShape::LinearSvm { classes: 2 };
        let err = check_classic_memory("svm", svm, 1 << 28, 100, 1, GIB)
            .expect_err("2^28 rows of 100 doubles")
            .to_string();
        assert!(
            err.contains("set by the data size (268435456 rows x 100 features)"),
            "{err}"
        );
    }

    #[test]
    fn every_learner_counts_the_data_and_grows_with_rows() {
        let shapes = [
            LearnerShape::Knn,
            LearnerShape::Linear,
            LearnerShape::Polynomial { degree: 3 },
            LearnerShape::Logistic { classes: 10 },
            LearnerShape::LinearSvm { classes: 10 },
            LearnerShape::MulticlassLinear { classes: 10 },
            LearnerShape::KMeans { clusters: 8 },
        ];
        for shape in shapes {
            let small = estimate_classic_memory(shape, 100, 10, 2).total_bytes();
            let large = estimate_classic_memory(shape, 1000, 10, 2).total_bytes();
            assert!(small >= 100 * 10 * 16, "{shape:?}: {small}");
            assert!(large > small, "{shape:?}: {large} <= {small}");
        }
    }
}
