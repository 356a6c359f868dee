//! Reference checks for part A of the classic learners: OLS, ridge, polynomial features,
//! the standard scaler, kNN and k-fold.

use ferrolearn::classic::knn::{KnnClassifier, Metric};
use ferrolearn::classic::linear::{LinearRegression, PolynomialFeatures, Ridge};
use ferrolearn::classic::preprocessing::StandardScaler;
use ferrolearn::classic::selection::KFold;
use ferrolearn::classic::{Classifier, FitClassifier, FitRegressor, Regressor};
use ferrolearn::data::csv::{read_csv, CsvTable};
use ndarray::{Array1, Array2, Axis};

use crate::case::Case;

/// Loads `params.dataset` from the repository's `data/tabular/<name>.csv`.
fn dataset(case: &Case) -> Result<CsvTable, String> {
    let name = case
        .params
        .get("dataset")
        .and_then(|v| v.as_str())
        .ok_or("param `dataset` missing")?;
    let path = format!(
        "{}/../../data/tabular/{name}.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    read_csv(&path, "target").map_err(|e| e.to_string())
}

/// The dataset rows listed in input `key`: features and target.
fn rows(case: &Case, table: &CsvTable, key: &str) -> Result<(Array2<f64>, Array1<f64>), String> {
    let idx = case.input(key)?.to_usize();
    let x = table.features.select(Axis(0), &idx);
    let target = table.target.numbers().map_err(|e| e.to_string())?;
    let y = idx.iter().map(|&i| target[i]).collect();
    Ok((x, y))
}

fn shape1(v: &[f64]) -> [usize; 1] {
    [v.len()]
}

/// Standardises the listed rows; checks `x_mean`/`x_std` where the case has them; fits
/// OLS (`alpha = None`) or ridge and checks coef, intercept and the ridge objective.
fn linear(case: &Case, alpha: Option<f64>) -> Result<(), String> {
    let table = dataset(case)?;
    let (x, y) = rows(case, &table, "rows")?;
    let scaler = StandardScaler::default()
        .fit(x.view())
        .map_err(|e| e.to_string())?;
    let xs = scaler.transform(x.view()).map_err(|e| e.to_string())?;
    if case.outputs.get("x_mean").is_some() {
        let m = scaler.mean().to_vec();
        case.check_output("x_mean", &m, &shape1(&m))?;
        let s = scaler.scale().to_vec();
        case.check_output("x_std", &s, &shape1(&s))?;
    }
    let model = match alpha {
        None => LinearRegression::default().fit(xs.view(), y.view()),
        Some(alpha) => Ridge {
            alpha,
            fit_intercept: true,
        }
        .fit(xs.view(), y.view()),
    }
    .map_err(|e| e.to_string())?;
    let coef = model.coef().to_vec();
    case.check_output("coef", &coef, &shape1(&coef))?;
    case.check_output("intercept", &[model.intercept()], &[])?;
    if let Some(alpha) = alpha {
        let pred = model.predict(xs.view()).map_err(|e| e.to_string())?;
        let rss: f64 = (&y - &pred).mapv(|r| r * r).sum();
        let objective = rss + alpha * coef.iter().map(|w| w * w).sum::<f64>();
        case.check_output("objective", &[objective], &[])?;
    }
    Ok(())
}

/// `linear_regression`: OLS on standardised diabetes.
pub fn linear_regression(case: &Case) -> Result<(), String> {
    linear(case, None)
}

/// `ridge`: ridge on standardised diabetes, with the objective value.
pub fn ridge(case: &Case) -> Result<(), String> {
    linear(case, Some(case.param_f64("alpha")?))
}

/// `polynomial_features`: the mapped rows and the exponent table.
pub fn polynomial_features(case: &Case) -> Result<(), String> {
    let x_ref = case.input("x")?;
    let x = Array2::from_shape_vec((x_ref.shape[0], x_ref.shape[1]), x_ref.data.clone())
        .map_err(|e| e.to_string())?;
    let include_bias = case
        .params
        .get("include_bias")
        .and_then(|v| v.as_bool())
        .ok_or("param `include_bias` missing")?;
    let poly = PolynomialFeatures {
        degree: case.param_f64("degree")? as usize,
        include_bias,
    };
    let y = poly.transform(x.view()).map_err(|e| e.to_string())?;
    case.check_output("y", &y.iter().copied().collect::<Vec<_>>(), y.shape())?;
    let p = poly.powers(x.ncols()).map_err(|e| e.to_string())?;
    let pf: Vec<f64> = p.iter().map(|&v| v as f64).collect();
    case.check_output("powers", &pf, p.shape())
}

/// `standard_scaler`: column means and population stds of the listed wine rows.
pub fn standard_scaler(case: &Case) -> Result<(), String> {
    let table = dataset(case)?;
    let (x, _) = rows(case, &table, "rows")?;
    let s = StandardScaler::default()
        .fit(x.view())
        .map_err(|e| e.to_string())?;
    let m = s.mean().to_vec();
    case.check_output("mean", &m, &shape1(&m))?;
    let sc = s.scale().to_vec();
    case.check_output("scale", &sc, &shape1(&sc))
}

/// `knn_classifier`: predictions on digits (exact) and the number correct.
pub fn knn_classifier(case: &Case) -> Result<(), String> {
    let table = dataset(case)?;
    let (xtr, ytr) = rows(case, &table, "train_rows")?;
    let (xte, yte) = rows(case, &table, "test_rows")?;
    let metric = match case.params.get("metric").and_then(|v| v.as_str()) {
        Some("euclidean") => Metric::Euclidean,
        Some("manhattan") => Metric::Manhattan,
        other => return Err(format!("unknown metric {other:?}")),
    };
    let ytr: Array1<usize> = ytr.iter().map(|&v| v as usize).collect();
    let knn = KnnClassifier {
        k: case.param_f64("k")? as usize,
        metric,
    };
    let model = knn.fit(xtr.view(), ytr.view()).map_err(|e| e.to_string())?;
    let pred = model.predict(xte.view()).map_err(|e| e.to_string())?;
    let pf: Vec<f64> = pred.iter().map(|&p| p as f64).collect();
    case.check_output("pred", &pf, &shape1(&pf))?;
    let n_correct = pred
        .iter()
        .zip(&yte)
        .filter(|(&p, &t)| p as f64 == t)
        .count();
    case.check_output("n_correct", &[n_correct as f64], &[])
}

/// `kfold`: test and train index lists of `KFold(n_splits, shuffle=False)`.
pub fn kfold(case: &Case) -> Result<(), String> {
    let n = case.param_f64("n_samples")? as usize;
    let folds = KFold {
        n_splits: case.param_f64("n_splits")? as usize,
        shuffle: None,
    }
    .split(n)
    .map_err(|e| e.to_string())?;
    for (i, f) in folds.iter().enumerate() {
        let test: Vec<f64> = f.test.iter().map(|&v| v as f64).collect();
        case.check_output(&format!("test_fold_{i}"), &test, &shape1(&test))?;
        let train: Vec<f64> = f.train.iter().map(|&v| v as f64).collect();
        case.check_output(&format!("train_fold_{i}"), &train, &shape1(&train))?;
    }
    let n_expected = case
        .outputs
        .keys()
        .filter(|k| k.starts_with("test_fold_"))
        .count();
    if n_expected != folds.len() {
        return Err(format!(
            "{} folds but the case has {n_expected}",
            folds.len()
        ));
    }
    Ok(())
}
