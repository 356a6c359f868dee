//! The `kmeans` family: scikit-learn's Lloyd k-means from given centres (same centres,
//! labels, inertia and iteration count) and k-means++ inertia against scikit-learn's mean.

use ferrolearn::classic::kmeans::{KMeans, KMeansInit};
use ferrolearn::data::csv::read_csv;
use ndarray::{Array2, ArrayView2};

use crate::case::{Case, RefTensor};

/// Checks one kmeans case, dispatching on its op.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        "kmeans_lloyd" => lloyd(case),
        "kmeans_plusplus_mean" => plusplus_mean(case),
        other => Err(format!("unknown kmeans op `{other}`")),
    }
}

fn matrix(t: &RefTensor) -> Result<Array2<f64>, String> {
    let (r, c) = match t.shape[..] {
        [r, c] => (r, c),
        _ => return Err(format!("expected a matrix, got shape {:?}", t.shape)),
    };
    Array2::from_shape_vec((r, c), t.data.clone()).map_err(|e| e.to_string())
}

/// The rows: `params.dataset` from `data/tabular/<name>.csv` (target dropped), else input `x`.
fn rows(case: &Case) -> Result<Array2<f64>, String> {
    match case.params.get("dataset").and_then(|v| v.as_str()) {
        Some(name) => {
            let path = format!(
                "{}/../../data/tabular/{name}.csv",
                env!("CARGO_MANIFEST_DIR")
            );
            Ok(read_csv(&path, "target")
                .map_err(|e| e.to_string())?
                .features)
        }
        None => matrix(case.input("x")?),
    }
}

fn settings(case: &Case) -> Result<KMeans, String> {
    Ok(KMeans {
        k: case.param_f64("k")? as usize,
        max_iter: case.param_f64("max_iter")? as usize,
        tol: case.param_f64("tol")?,
        ..KMeans::default()
    })
}

/// The largest `|got - want| / |want|` over the elements with `|want| >= 1e-9` (a constant
/// column's centre coordinate is 0 up to rounding; [`worst_absolute`] covers those).
fn worst_relative(got: &[f64], want: &[f64]) -> f64 {
    got.iter()
        .zip(want)
        .filter(|(_, w)| w.abs() >= 1e-9)
        .map(|(g, w)| (g - w).abs() / w.abs())
        .fold(0.0, f64::max)
}

/// The largest `|got - want|`.
fn worst_absolute(got: &[f64], want: &[f64]) -> f64 {
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f64::max)
}

fn lloyd(case: &Case) -> Result<(), String> {
    let x = rows(case)?;
    let init = matrix(case.input("init_centres")?)?;
    let fitted = KMeans {
        init: KMeansInit::Centres(init),
        ..settings(case)?
    }
    .fit(x.view())
    .map_err(|e| e.to_string())?;
    let centres = fitted.model.centres();
    let got_centres: Vec<f64> = centres.iter().copied().collect();
    let labels: Vec<f64> = fitted.labels.iter().map(|&l| l as f64).collect();
    let n_iter = fitted.n_iter as f64;
    let want_centres = &case.output("centres")?.data;
    println!(
        "  kmeans {}: worst relative error centres {:.2e} (absolute {:.2e}), inertia {:.2e}",
        case.name,
        worst_relative(&got_centres, want_centres),
        worst_absolute(&got_centres, want_centres),
        worst_relative(&[fitted.inertia], &case.output("inertia")?.data)
    );
    let exact = crate::case::Tol {
        rtol: 0.0,
        atol: 0.0,
    };
    crate::case::compare(
        "labels",
        &labels,
        &[labels.len()],
        case.output("labels")?,
        exact,
    )?;
    crate::case::compare("n_iter", &[n_iter], &[], case.output("n_iter")?, exact)?;
    case.check_output("centres", &got_centres, &[centres.nrows(), centres.ncols()])?;
    case.check_output("inertia", &[fitted.inertia], &[])?;
    let again = fitted.model.inertia(x.view()).map_err(|e| e.to_string())?;
    case.check_output("inertia", &[again], &[])
}

/// Mean inertia of k-means++ (one init each) over as many seeds as scikit-learn used; it must
/// not exceed scikit-learn's mean.
fn plusplus_mean(case: &Case) -> Result<(), String> {
    let x = rows(case)?;
    let n_seeds = case
        .params
        .get("seeds")
        .and_then(|v| v.as_array())
        .map_or(0, Vec::len);
    let inertias = (0..n_seeds as u64)
        .map(|seed| {
            KMeans {
                seed,
                ..settings(case)?
            }
            .fit(ArrayView2::from(&x))
            .map(|f| f.inertia)
            .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<f64>, String>>()?;
    let mean = inertias.iter().sum::<f64>() / n_seeds.max(1) as f64;
    let sklearn = case.output("inertia_mean")?.scalar();
    println!(
        "  kmeans {}: k-means++ mean inertia over {n_seeds} seeds {mean:.6} (scikit-learn {sklearn:.6}, ratio {:.5})",
        case.name,
        mean / sklearn
    );
    if n_seeds == 0 || mean > sklearn {
        return Err(format!(
            "mean k-means++ inertia {mean} over {n_seeds} seeds is above scikit-learn's {sklearn}"
        ));
    }
    Ok(())
}
