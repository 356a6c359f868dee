//! A table's target column: numbers, or class names when some cell is not a number (as
//! pandas reads such a column as strings and scikit-learn takes them as class names).

use crate::{Error, Result};

/// The target value of every row of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Every cell is a finite number.
    Numbers(Vec<f64>),
    /// Some cell is not a number, so every cell is a class name, as written.
    Names(Vec<String>),
}

impl Target {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Target::Numbers(v) => v.len(),
            Target::Names(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values, for a regressor.
    ///
    /// Errors on class names, naming the first that is not a number and its 1-based data row.
    pub fn numbers(&self) -> Result<&[f64]> {
        match self {
            Target::Numbers(v) => Ok(v),
            Target::Names(names) => {
                let need = "a regressor needs a numeric target (class names need a classifier)";
                let first = names
                    .iter()
                    .enumerate()
                    .find(|(_, n)| n.parse::<f64>().is_err());
                Err(Error::InvalidData(match first {
                    Some((row, name)) => {
                        format!("`{name}` in data row {} is not a number: {need}", row + 1)
                    }
                    None => format!("the target holds class names: {need}"),
                }))
            }
        }
    }

    /// The rows `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Target {
        match self {
            Target::Numbers(v) => Target::Numbers(rows.iter().map(|&i| v[i]).collect()),
            Target::Names(v) => Target::Names(rows.iter().map(|&i| v[i].clone()).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_refused_for_names_naming_the_row() {
        let t = Target::Numbers(vec![1.5, 2.0]);
        assert_eq!(t.numbers().unwrap(), &[1.5, 2.0]);
        let names = Target::Names(vec!["1".into(), "2".into(), "cat".into()]);
        let e = names.numbers().unwrap_err().to_string();
        assert!(
            e.contains("`cat` in data row 3") && e.contains("regressor"),
            "{e}"
        );
        // Rows selected from a column of names stay names, even where they read as numbers.
        let e = names.select(&[0]).numbers().unwrap_err().to_string();
        assert!(e.contains("class names") && e.contains("regressor"), "{e}");
    }

    #[test]
    fn select_keeps_the_kind() {
        let names = Target::Names(vec!["a".into(), "b".into(), "c".into()]);
        assert_eq!(
            names.select(&[2, 0]),
            Target::Names(vec!["c".into(), "a".into()])
        );
        let numbers = Target::Numbers(vec![1.0, 2.0, 3.0]);
        assert_eq!(numbers.select(&[1]), Target::Numbers(vec![2.0]));
        assert_eq!(numbers.len(), 3);
        assert!(!numbers.is_empty());
    }
}
