//! Figures the classic commands report: accuracy, macro F1 and the confusion matrix for
//! classifiers, MSE and R^2 for regressors, plus the progress bar of `cv` and `search`.

use std::io::IsTerminal;

use ferrolearn::metrics::{mean_squared_error, r2_score, ConfusionMatrix};
use ferrolearn::Result;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

/// Scores of predictions against the truth.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Metrics {
    /// Classifier figures.
    Classification {
        /// Share of correct predictions.
        accuracy: f64,
        /// Unweighted mean of the per-class F1 scores.
        macro_f1: f64,
        /// `confusion_matrix[true][predicted]` counts, classes in label order.
        confusion_matrix: Vec<Vec<usize>>,
    },
    /// Regressor figures.
    Regression {
        /// Mean squared error.
        mse: f64,
        /// Coefficient of determination.
        r2: f64,
    },
}

impl Metrics {
    /// Accuracy, macro F1 and confusion matrix of class predictions.
    pub fn classification(truth: &[usize], pred: &[usize], n_classes: usize) -> Result<Metrics> {
        let cm = ConfusionMatrix::new(truth, pred, n_classes)?;
        Ok(Metrics::Classification {
            accuracy: cm.accuracy(),
            macro_f1: cm.report().macro_f1(),
            confusion_matrix: cm.rows(),
        })
    }

    /// MSE and R^2 of real-valued predictions.
    pub fn regression(truth: &[f64], pred: &[f64]) -> Result<Metrics> {
        Ok(Metrics::Regression {
            mse: mean_squared_error(truth, pred)?,
            r2: r2_score(truth, pred)?,
        })
    }

    /// Prints the figures under `title`; `classes` labels the confusion matrix.
    pub fn print(&self, title: &str, classes: &[String]) {
        match self {
            Metrics::Regression { mse, r2 } => {
                println!("{title}: MSE {mse:.6}  R^2 {r2:.4}");
            }
            Metrics::Classification {
                accuracy,
                macro_f1,
                confusion_matrix,
            } => {
                println!(
                    "{title}: accuracy {:.2}%  macro F1 {macro_f1:.4}",
                    accuracy * 100.0
                );
                print_confusion(confusion_matrix, classes);
            }
        }
    }
}

/// The confusion matrix as a text table, rows true classes and columns predictions.
fn print_confusion(rows: &[Vec<usize>], classes: &[String]) {
    let names: Vec<String> = (0..rows.len())
        .map(|i| classes.get(i).cloned().unwrap_or_else(|| i.to_string()))
        .collect();
    let count_width = rows
        .iter()
        .flatten()
        .map(|c| c.to_string().len())
        .max()
        .unwrap_or(1);
    let width = names
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(1)
        .max(count_width);
    println!("  confusion matrix (rows: true class, columns: predicted)");
    let header: Vec<String> = names.iter().map(|n| format!("{n:>width$}")).collect();
    println!("  {:>width$} | {}", "", header.join(" "));
    for (name, row) in names.iter().zip(rows) {
        let cells: Vec<String> = row.iter().map(|c| format!("{c:>width$}")).collect();
        println!("  {name:>width$} | {}", cells.join(" "));
    }
}

/// A progress bar on stderr of `len` steps, hidden for `--json` or when stderr is not a
/// terminal.
pub fn progress(len: usize, hidden: bool, what: &str) -> ProgressBar {
    if hidden || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// `mean ± std` as the tables print it.
pub fn mean_std(mean: f64, std: f64) -> String {
    format!("{mean:.4} ± {std:.4}")
}
