//! Column alignment: the columns of new rows (a CSV to predict or evaluate) reordered to the
//! feature columns a pipeline was fitted with, matched by name.

use ndarray::{Array2, ArrayView2, Axis};

use crate::{Error, Result};

/// The columns of `x` (named `names`) reordered to `expected`.
///
/// # Errors
/// `Format` naming `source` (the file or dataset the rows came from), both feature counts, the
/// missing and the unexpected columns (the first ten of each) when the names differ.
pub fn align_columns(
    source: &str,
    names: &[String],
    x: ArrayView2<f64>,
    expected: &[String],
) -> Result<Array2<f64>> {
    let missing: Vec<&str> = expected
        .iter()
        .filter(|n| !names.contains(n))
        .map(String::as_str)
        .collect();
    let extra: Vec<&str> = names
        .iter()
        .filter(|n| !expected.contains(n))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing column(s) {}", quote_list(&missing)));
        }
        if !extra.is_empty() {
            problems.push(format!("unexpected column(s) {}", quote_list(&extra)));
        }
        return Err(Error::format(
            source,
            format!(
                "the model was fitted with {} features but the file has {} feature columns: {}",
                expected.len(),
                names.len(),
                problems.join("; ")
            ),
        ));
    }
    let order: Vec<usize> = expected
        .iter()
        .filter_map(|n| names.iter().position(|f| f == n))
        .collect();
    Ok(x.select(Axis(1), &order))
}

/// `a`, `b` and up to ten names, then a count of the rest.
fn quote_list(names: &[&str]) -> String {
    let mut out: Vec<String> = names.iter().take(10).map(|n| format!("`{n}`")).collect();
    if names.len() > 10 {
        out.push(format!("and {} more", names.len() - 10));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reorders_by_name_and_names_what_differs() {
        let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let got = align_columns(
            "f.csv",
            &names(&["b", "c", "a"]),
            x.view(),
            &names(&["a", "b", "c"]),
        );
        assert_eq!(got.unwrap(), array![[3.0, 1.0, 2.0], [6.0, 4.0, 5.0]]);
        let e = align_columns("f.csv", &names(&["b", "z"]), x.view(), &names(&["a", "b"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "f.csv: the model was fitted with 2 features but the file has 2 feature columns: \
             missing column(s) `a`; unexpected column(s) `z`"
        );
    }
}
