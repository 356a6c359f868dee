//! Class labels `0..n_classes` made from a target column, and the classes they stand for:
//! integers or names, sorted as scikit-learn's `LabelEncoder` (`np.unique`) sorts them.

use serde::{Deserialize, Serialize};

use super::target::Target;
use crate::{Error, Result};

/// What each label stands for: label `i` is class `i` of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Classes {
    /// Integer target values, increasing.
    Integers(Vec<i64>),
    /// Class names, in string order (by code point, as Python sorts `str`).
    Names(Vec<String>),
}

impl Classes {
    /// Number of classes.
    pub fn len(&self) -> usize {
        match self {
            Classes::Integers(c) => c.len(),
            Classes::Names(c) => c.len(),
        }
    }

    /// Whether there are no classes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every class as text, in label order (for reports and column names).
    pub fn names(&self) -> Vec<String> {
        match self {
            Classes::Integers(c) => c.iter().map(i64::to_string).collect(),
            Classes::Names(c) => c.clone(),
        }
    }

    /// The class of each of `labels`, in the same form (integers or names); `None` when a
    /// label is out of range.
    pub fn of_labels(&self, labels: &[usize]) -> Option<Classes> {
        Some(match self {
            Classes::Integers(c) => Classes::Integers(
                labels
                    .iter()
                    .map(|&l| c.get(l).copied())
                    .collect::<Option<_>>()?,
            ),
            Classes::Names(c) => Classes::Names(
                labels
                    .iter()
                    .map(|&l| c.get(l).cloned())
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// The label of row `row` of `target`, if its value is one of the classes.
    fn label_of(&self, target: &Target, row: usize) -> Option<usize> {
        match (self, target) {
            (Classes::Integers(c), Target::Numbers(v)) => {
                integer(v[row]).and_then(|i| c.binary_search(&i).ok())
            }
            (Classes::Integers(c), Target::Names(v)) => v[row]
                .parse::<f64>()
                .ok()
                .and_then(integer)
                .and_then(|i| c.binary_search(&i).ok()),
            (Classes::Names(c), Target::Names(v)) => c.binary_search(&v[row]).ok(),
            (Classes::Names(c), Target::Numbers(v)) => c.binary_search(&v[row].to_string()).ok(),
        }
    }
}

/// `v` as an integer, if it is one that an `f64` holds exactly.
fn integer(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && v.is_finite() && v.abs() <= 2f64.powi(53)).then_some(v as i64)
}

/// Class labels of a target's rows, with the classes they stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassLabels {
    /// The label of each row, in `0..classes.len()`.
    pub labels: Vec<usize>,
    /// Label `i` stands for class `i`.
    pub classes: Classes,
}

/// Encodes a target as class labels: the distinct values, sorted, become `0, 1, ...` (as
/// scikit-learn's `LabelEncoder`). Numbers must be integers; names are taken as written.
///
/// Errors naming the 1-based data row of a non-integer number, and when fewer than two
/// classes are present (nothing to classify).
pub fn class_labels(target: &Target) -> Result<ClassLabels> {
    let classes = match target {
        Target::Numbers(v) => {
            let mut ints = Vec::with_capacity(v.len());
            for (row, &x) in v.iter().enumerate() {
                ints.push(integer(x).ok_or_else(|| {
                    Error::InvalidData(format!(
                        "class labels must be integers or names, got {x} in data row {}",
                        row + 1
                    ))
                })?);
            }
            ints.sort_unstable();
            ints.dedup();
            Classes::Integers(ints)
        }
        Target::Names(v) => {
            let mut names = v.clone();
            names.sort_unstable();
            names.dedup();
            Classes::Names(names)
        }
    };
    if classes.len() < 2 {
        return Err(Error::InvalidData(format!(
            "a classifier needs at least two classes, but every target is {}",
            classes.names().first().map_or("absent", String::as_str)
        )));
    }
    let labels = labels_in(target, &classes)?;
    Ok(ClassLabels { labels, classes })
}

/// The labels of `target`'s rows under `classes` (those of the training rows).
///
/// Errors naming the 1-based data row of a value that is not one of the classes, and the
/// classes.
pub fn labels_in(target: &Target, classes: &Classes) -> Result<Vec<usize>> {
    (0..target.len())
        .map(|row| {
            classes.label_of(target, row).ok_or_else(|| {
                let value = match target {
                    Target::Numbers(v) => v[row].to_string(),
                    Target::Names(v) => v[row].clone(),
                };
                Error::InvalidData(format!(
                    "data row {}: class {value} does not occur in the training rows \
                     (classes: {})",
                    row + 1,
                    classes.names().join(", ")
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Target {
        Target::Names(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn integers_encode_sorted_values() {
        let l = class_labels(&Target::Numbers(vec![5.0, -1.0, 5.0, 2.0])).unwrap();
        assert_eq!(l.classes, Classes::Integers(vec![-1, 2, 5]));
        assert_eq!(l.labels, vec![2, 0, 2, 1]);
        let e = class_labels(&Target::Numbers(vec![1.0, 1.5]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("1.5") && e.contains("row 2"), "{e}");
        let e = class_labels(&Target::Numbers(vec![3.0, 3.0]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least two classes") && e.contains('3'), "{e}");
    }

    #[test]
    fn names_sort_as_numpy_unique() {
        // np.unique(["versicolor", "Setosa", "virginica", "10", "9", "setosa"]) sorts by
        // code point: digits, then capitals, then lower case; "10" before "9".
        let t = names(&["versicolor", "Setosa", "virginica", "10", "9", "setosa"]);
        let l = class_labels(&t).unwrap();
        let expected = ["10", "9", "Setosa", "setosa", "versicolor", "virginica"];
        assert_eq!(l.classes.names(), expected);
        assert_eq!(l.labels, vec![4, 2, 5, 0, 1, 3]);
        let e = class_labels(&names(&["a", "a"])).unwrap_err().to_string();
        assert!(e.contains("at least two classes") && e.contains('a'), "{e}");
    }

    #[test]
    fn labels_of_other_rows_match_across_kinds() {
        let classes = Classes::Names(vec!["1".into(), "2".into(), "cat".into()]);
        let l = labels_in(&Target::Numbers(vec![2.0, 1.0]), &classes).unwrap();
        assert_eq!(l, vec![1, 0]);
        let e = labels_in(&names(&["cat", "dog"]), &classes)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("data row 2") && e.contains("class dog") && e.contains("1, 2, cat"),
            "{e}"
        );
        let ints = Classes::Integers(vec![0, 7]);
        assert_eq!(labels_in(&names(&["7", "0"]), &ints).unwrap(), vec![1, 0]);
        assert!(labels_in(&names(&["x"]), &ints).is_err());
        assert!(labels_in(&Target::Numbers(vec![0.5]), &ints).is_err());
    }

    #[test]
    fn classes_of_labels_keep_their_form_and_serialise_plainly() {
        let ints = Classes::Integers(vec![3, 8]);
        assert_eq!(
            ints.of_labels(&[1, 1, 0]),
            Some(Classes::Integers(vec![8, 8, 3]))
        );
        assert_eq!(ints.of_labels(&[2]), None);
        assert_eq!(serde_json::to_string(&ints).unwrap(), "[3,8]");
        let named = Classes::Names(vec!["no".into(), "yes".into()]);
        assert_eq!(serde_json::to_string(&named).unwrap(), r#"["no","yes"]"#);
        let back: Classes = serde_json::from_str(r#"["no","yes"]"#).unwrap();
        assert_eq!(back, named);
        let back: Classes = serde_json::from_str("[3,8]").unwrap();
        assert_eq!(back, ints);
    }
}
