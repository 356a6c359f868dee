//! CSV tables with a header: numeric features plus, optionally, one target column chosen by
//! name, which holds numbers or class names (a column with any cell that is not a number is
//! read as names, as pandas reads it as strings and scikit-learn takes them as classes).
//!
//! Every error names the file and, where it concerns one cell, the 1-based line of the file
//! (the header is line 1) and the column name, so a user can find the problem in an editor.

use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::target::Target;
use crate::{Error, Result};

/// A table read by [`read_csv`] or [`read_csv_features`].
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    /// Header names of the feature columns, in file order (the target removed).
    pub feature_names: Vec<String>,
    /// Features, one row per data line: `[n_rows, feature_names.len()]`.
    pub features: Array2<f64>,
    /// The target column's values, one per row (empty numbers when there is no target).
    pub target: Target,
}

/// Reads `path`: a header line, then rows; the column named `target` becomes the target and
/// every other column a numeric feature.
///
/// Errors (each naming the file, and the line and column where one applies): the file
/// cannot be read, is empty or has no data rows, the target column is missing (the error
/// lists the columns there are), a row has another number of fields than the header, a
/// feature cell is not a number, a target cell is empty, or a number is NaN or infinite.
pub fn read_csv(path: impl AsRef<Path>, target: &str) -> Result<CsvTable> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    parse_csv(file, path, Some(target))
}

/// Reads `path` as [`read_csv`] does, every column a feature.
pub fn read_csv_features(path: impl AsRef<Path>) -> Result<CsvTable> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    parse_csv(file, path, None)
}

/// [`read_csv`] (or [`read_csv_features`] without `target`) on any reader; `path` is only
/// used in messages.
pub fn parse_csv(
    reader: impl std::io::Read,
    path: &Path,
    target: Option<&str>,
) -> Result<CsvTable> {
    let fmt = |msg: String| Error::format(PathBuf::from(path), msg);
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(reader);
    let header = rdr
        .headers()
        .map_err(|e| fmt(format!("cannot read the header: {e}")))?
        .clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(fmt("the file is empty (no header line)".into()));
    }
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    let target_col = match target {
        Some(target) => Some(names.iter().position(|n| n == target).ok_or_else(|| {
            fmt(format!(
                "no target column `{target}`; the columns are: {}",
                names.join(", ")
            ))
        })?),
        None => None,
    };
    let n_cols = names.len();
    let mut values = Vec::new();
    let mut targets = Vec::new();
    let mut n_rows = 0;
    let mut record = ::csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(fmt(format!("cannot read a row: {e}"))),
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record[0].is_empty() {
            continue; // a blank line
        }
        if record.len() != n_cols {
            return Err(fmt(format!(
                "line {line}: {} fields but the header has {n_cols}",
                record.len()
            )));
        }
        for (col, cell) in record.iter().enumerate() {
            let is_target = Some(col) == target_col;
            let v = match cell.parse::<f64>() {
                Ok(v) => v,
                Err(_) if is_target && !cell.is_empty() => {
                    targets.push(cell.to_string());
                    continue;
                }
                Err(_) if is_target => {
                    return Err(fmt(format!(
                        "line {line}, column `{}`: the target is empty",
                        names[col]
                    )))
                }
                Err(_) => {
                    return Err(fmt(format!(
                        "line {line}, column `{}`: `{cell}` is not a number",
                        names[col]
                    )))
                }
            };
            if !v.is_finite() {
                return Err(fmt(format!(
                    "line {line}, column `{}`: value `{cell}` is not finite",
                    names[col]
                )));
            }
            if is_target {
                targets.push(cell.to_string());
            } else {
                values.push(v);
            }
        }
        n_rows += 1;
    }
    if n_rows == 0 {
        return Err(fmt("no data rows after the header".into()));
    }
    let n_features = n_cols - usize::from(target_col.is_some());
    let features = Array2::from_shape_vec((n_rows, n_features), values)
        .map_err(|e| fmt(format!("internal shape error: {e}")))?;
    let mut feature_names = names;
    if let Some(col) = target_col {
        feature_names.remove(col);
    }
    Ok(CsvTable {
        feature_names,
        features,
        target: target_from_cells(targets),
    })
}

/// Numbers when every cell is one, else the cells as class names.
fn target_from_cells(cells: Vec<String>) -> Target {
    let numbers: Option<Vec<f64>> = cells.iter().map(|c| c.parse().ok()).collect();
    match numbers {
        Some(v) => Target::Numbers(v),
        None => Target::Names(cells),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CsvTable> {
        parse_csv(text.as_bytes(), Path::new("t.csv"), Some("y"))
    }

    #[test]
    fn reads_features_and_target() {
        let t = parse("a,y,b\n1,0,2\n3.5,1,-4\n").unwrap();
        assert_eq!(t.feature_names, vec!["a", "b"]);
        assert_eq!(t.features, ndarray::array![[1.0, 2.0], [3.5, -4.0]]);
        assert_eq!(t.target, Target::Numbers(vec![0.0, 1.0]));
    }

    #[test]
    fn a_target_with_any_non_number_holds_names() {
        let t = parse("a,y\n1,cat\n2,7\n3,\"big, red\"\n").unwrap();
        let names = ["cat", "7", "big, red"].map(String::from).to_vec();
        assert_eq!(t.target, Target::Names(names));
        assert_eq!(t.features, ndarray::array![[1.0], [2.0], [3.0]]);
        let e = parse("a,y\n1,cat\n2,\n").unwrap_err().to_string();
        assert!(
            e.contains("line 3") && e.contains("column `y`") && e.contains("empty"),
            "{e}"
        );
    }

    #[test]
    fn without_a_target_every_column_is_a_feature() {
        let t = parse_csv("a,b\n1,2\n".as_bytes(), Path::new("t.csv"), None).unwrap();
        assert_eq!(t.feature_names, vec!["a", "b"]);
        assert_eq!(t.features, ndarray::array![[1.0, 2.0]]);
        assert!(t.target.is_empty());
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse("a,b\n1,2\n").unwrap_err().to_string();
        assert!(
            e.contains("t.csv") && e.contains("no target column `y`") && e.contains("a, b"),
            "{e}"
        );
        let e = parse("a,y\n1,2\nx,3\n").unwrap_err().to_string();
        assert!(
            e.contains("line 3") && e.contains("column `a`") && e.contains("`x`"),
            "{e}"
        );
        let e = parse("a,y\n1,2\n3\n").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("1 fields"), "{e}");
        let e = parse("a,y\n1,2\nNaN,1\n").unwrap_err().to_string();
        assert!(
            e.contains("line 3") && e.contains("column `a`") && e.contains("not finite"),
            "{e}"
        );
        let e = parse("a,y\n1,inf\n").unwrap_err().to_string();
        assert!(e.contains("not finite"), "{e}");
        let e = parse("").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = parse("a,y\n").unwrap_err().to_string();
        assert!(e.contains("no data rows"), "{e}");
        let e = read_csv("/nonexistent/file.csv", "y").unwrap_err();
        assert!(matches!(e, Error::Io { .. }));
    }

    #[test]
    fn reads_a_bundled_dataset() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/tabular/iris.csv");
        let t = read_csv(path, "target").unwrap();
        assert_eq!(t.features.dim(), (150, 4));
        let l = crate::data::class_labels(&t.target).unwrap();
        assert_eq!(l.classes, crate::data::Classes::Integers(vec![0, 1, 2]));
    }
}
