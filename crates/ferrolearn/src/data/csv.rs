//! CSV tables with a header: numeric features plus one target column chosen by name.
//!
//! Every error names the file and, where it concerns one cell, the 1-based line of the file
//! (the header is line 1) and the column name, so a user can find the problem in an editor.

use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::{Error, Result};

/// A table read by [`read_csv`].
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    /// Header names of the feature columns, in file order (the target removed).
    pub feature_names: Vec<String>,
    /// Features, one row per data line: `[n_rows, feature_names.len()]`.
    pub features: Array2<f64>,
    /// The target column's values, one per row.
    pub target: Vec<f64>,
}

/// Reads `path`: a header line, then numeric rows; the column named `target` becomes the
/// target and every other column a feature.
///
/// Errors (each naming the file, and the line and column where one applies): the file
/// cannot be read, is empty or has no data rows, the target column is missing (the error
/// lists the columns there are), a row has another number of fields than the header, a cell
/// is not a number, or a value is NaN or infinite.
pub fn read_csv(path: impl AsRef<Path>, target: &str) -> Result<CsvTable> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    parse_csv(file, path, target)
}

/// [`read_csv`] on any reader; `path` is only used in messages.
pub fn parse_csv(reader: impl std::io::Read, path: &Path, target: &str) -> Result<CsvTable> {
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
    let target_col = names.iter().position(|n| n == target).ok_or_else(|| {
        fmt(format!(
            "no target column `{target}`; the columns are: {}",
            names.join(", ")
        ))
    })?;
    let n_cols = names.len();
    let mut values = Vec::new();
    let mut targets = Vec::new();
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
            let v: f64 = cell.parse().map_err(|_| {
                fmt(format!(
                    "line {line}, column `{}`: `{cell}` is not a number",
                    names[col]
                ))
            })?;
            if !v.is_finite() {
                return Err(fmt(format!(
                    "line {line}, column `{}`: value `{cell}` is not finite",
                    names[col]
                )));
            }
            if col == target_col {
                targets.push(v);
            } else {
                values.push(v);
            }
        }
    }
    if targets.is_empty() {
        return Err(fmt("no data rows after the header".into()));
    }
    let features = Array2::from_shape_vec((targets.len(), n_cols - 1), values)
        .map_err(|e| fmt(format!("internal shape error: {e}")))?;
    let mut feature_names = names;
    feature_names.remove(target_col);
    Ok(CsvTable {
        feature_names,
        features,
        target: targets,
    })
}

/// Class labels `0..n_classes` made from a numeric target, with the original values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassLabels {
    /// The label of each row, in `0..classes.len()`.
    pub labels: Vec<usize>,
    /// The distinct target values in increasing order; label `i` stands for `classes[i]`.
    pub classes: Vec<i64>,
}

/// Encodes an integer-valued target as class labels: the distinct values, sorted, become
/// `0, 1, ...` (as scikit-learn's `LabelEncoder`).
///
/// Errors naming the row (0-based data row) of a non-integer value, and when fewer than two
/// classes are present (nothing to classify).
pub fn class_labels(target: &[f64]) -> Result<ClassLabels> {
    if let Some((row, v)) = target
        .iter()
        .enumerate()
        .find(|(_, v)| v.fract() != 0.0 || !v.is_finite() || v.abs() > 2f64.powi(53))
    {
        return Err(Error::InvalidData(format!(
            "class labels must be integers, got {v} in data row {row}"
        )));
    }
    let mut classes: Vec<i64> = target.iter().map(|&v| v as i64).collect();
    classes.sort_unstable();
    classes.dedup();
    if classes.len() < 2 {
        return Err(Error::InvalidData(format!(
            "a classifier needs at least two classes, but every target is {}",
            classes.first().map_or("absent".to_string(), i64::to_string)
        )));
    }
    let labels = target
        .iter()
        .map(|&v| classes.binary_search(&(v as i64)).unwrap_or(0))
        .collect();
    Ok(ClassLabels { labels, classes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CsvTable> {
        parse_csv(text.as_bytes(), Path::new("t.csv"), "y")
    }

    #[test]
    fn reads_features_and_target() {
        let t = parse("a,y,b\n1,0,2\n3.5,1,-4\n").unwrap();
        assert_eq!(t.feature_names, vec!["a", "b"]);
        assert_eq!(t.features, ndarray::array![[1.0, 2.0], [3.5, -4.0]]);
        assert_eq!(t.target, vec![0.0, 1.0]);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse("a,b\n1,2\n").unwrap_err().to_string();
        assert!(
            e.contains("t.csv") && e.contains("no target column `y`") && e.contains("a, b"),
            "{e}"
        );
        let e = parse("a,y\n1,2\n3,x\n").unwrap_err().to_string();
        assert!(
            e.contains("line 3") && e.contains("column `y`") && e.contains("`x`"),
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
        let l = class_labels(&t.target).unwrap();
        assert_eq!(l.classes, vec![0, 1, 2]);
    }

    #[test]
    fn class_labels_encode_sorted_values() {
        let l = class_labels(&[5.0, -1.0, 5.0, 2.0]).unwrap();
        assert_eq!(l.classes, vec![-1, 2, 5]);
        assert_eq!(l.labels, vec![2, 0, 2, 1]);
        let e = class_labels(&[1.0, 1.5]).unwrap_err().to_string();
        assert!(e.contains("1.5") && e.contains("row 1"), "{e}");
        let e = class_labels(&[3.0, 3.0]).unwrap_err().to_string();
        assert!(e.contains("at least two classes") && e.contains('3'), "{e}");
    }
}
