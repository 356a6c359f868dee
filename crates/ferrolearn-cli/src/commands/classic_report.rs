//! How the classic commands print their figures ([`Metrics`]: accuracy, macro F1 and the
//! confusion matrix for classifiers, MSE and R^2 for regressors), plus the progress bar of
//! `cv` and `search`.

use std::io::IsTerminal;

use ferrolearn::classic::pipeline::Metrics;
use indicatif::{ProgressBar, ProgressStyle};

/// Prints the figures under `title`; `classes` labels the confusion matrix.
pub fn print_metrics(metrics: &Metrics, title: &str, classes: &[String]) {
    match metrics {
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
