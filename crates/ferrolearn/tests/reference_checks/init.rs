//! The `init` family: patch-whitening filters (airbench's `init_whitening_conv`) and
//! identity (`dirac_`) convolution weights.

use ferrolearn::nn::init::Init;
use ferrolearn::nn::whitening_filters;
use ferrolearn::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::case::{widen, Case};

/// Checks one `init` case.
pub fn check(case: &Case) -> Result<(), String> {
    match case.op.as_str() {
        "patch_whitening" => check_whitening(case),
        "dirac" => check_dirac(case),
        other => Err(format!("unknown init op `{other}`")),
    }
}

fn check_whitening(case: &Case) -> Result<(), String> {
    let images = case.input("images")?;
    let kernel = case.param_f64("kernel")? as usize;
    let eps = case.param_f64("eps")?;
    let x = Tensor::from_vec(images.to_f32(), &images.shape);
    let got = whitening_filters(&x, kernel, eps).map_err(|e| e.to_string())?;
    let expected = case.output("filters")?;
    let got_signed = sign_normalised(&widen(got.data()), got.shape()[0] / 2);
    let mut want = expected.clone();
    want.data = sign_normalised(&expected.data, expected.shape[0] / 2);
    super::case::compare(
        "filters",
        &got_signed,
        got.shape(),
        &want,
        case.tol_for("filters"),
    )
}

/// Filters `[2d, ...]` with each pair `(i, d + i)` negated when filter `i`'s entry of largest
/// magnitude is negative: eigenvectors are defined only up to sign.
fn sign_normalised(filters: &[f64], d: usize) -> Vec<f64> {
    let len = filters.len() / (2 * d);
    let mut out = filters.to_vec();
    for i in 0..d {
        let f = &filters[i * len..(i + 1) * len];
        let peak = f
            .iter()
            .fold(0.0f64, |m, &v| if v.abs() > m.abs() { v } else { m });
        if peak < 0.0 {
            for j in [i, d + i] {
                out[j * len..(j + 1) * len]
                    .iter_mut()
                    .for_each(|v| *v = -*v);
            }
        }
    }
    out
}

fn check_dirac(case: &Case) -> Result<(), String> {
    let shape: Vec<usize> = case
        .params
        .get("shape")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .ok_or("param `shape` missing")?;
    let fan_in = shape[1..].iter().product();
    let fan_out = shape[0] * shape[2..].iter().product::<usize>();
    let w = Init::Dirac.weight(&shape, fan_in, fan_out, &mut ChaCha8Rng::seed_from_u64(0));
    let identities = shape[0].min(shape[1]);
    let per_filter: usize = shape[1..].iter().product();
    let got = widen(&w.data()[..identities * per_filter]);
    let mut got_shape = shape.clone();
    got_shape[0] = identities;
    case.check_output("identity", &got, &got_shape)
}
