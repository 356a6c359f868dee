//! The classic learners: fitting through the library's `classic::pipeline` (the models and
//! hyperparameter names of `ferrolearn fit`), kNN regression and the preprocessing
//! transformers, and [`Fitted`], the fitted object the Python estimators hold.

use ndarray::{Array1, ArrayView2};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use serde::{Deserialize, Serialize};

use ferrolearn::classic::knn::{FittedKnnRegressor, KnnRegressor, Metric};
use ferrolearn::classic::linear::PolynomialFeatures;
use ferrolearn::classic::persist;
use ferrolearn::classic::pipeline::{Choice, FittedModel, FittedPipeline, Hyper, ModelKind};
use ferrolearn::classic::pipeline::{Distance, Pipeline, Scaling};
use ferrolearn::classic::preprocessing::{FittedMinMaxScaler, FittedStandardScaler};
use ferrolearn::classic::preprocessing::{MinMaxScaler, StandardScaler};
use ferrolearn::classic::selection::{ParamSet, ParamValue};
use ferrolearn::classic::{Classifier, FitClassifier, FitRegressor, Regressor};
use ferrolearn::Error;

use crate::arrays::{labels, labels_out, matrix, matrix_out, vector, vector_out};
use crate::errors::run;

/// A float matrix and an integer matrix returned together (features and powers; neighbour
/// distances and indices).
type FloatsAndInts<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<i64>>);

/// What a fit produced.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", content = "fitted", rename_all = "snake_case")]
enum Model {
    /// Any model of `classic::pipeline` (scaling "none": the Python side scales, if asked,
    /// with its own transformers, as scikit-learn does).
    Pipeline(FittedPipeline),
    /// kNN regression (not a `ferrolearn fit` model).
    KnnRegressor(FittedKnnRegressor),
    /// `StandardScaler`.
    Standard(FittedStandardScaler),
    /// `MinMaxScaler`.
    MinMax(FittedMinMaxScaler),
}

/// A fitted classic model or transformer: predictions, transforms, its state as JSON (for
/// the estimators' `coef_`-style attributes) and pickling through safetensors bytes.
#[pyclass(module = "ferrolearn._native", frozen)]
pub struct Fitted {
    model: Model,
}

/// The library's hyperparameters from the estimator's `params` (the names of
/// `ferrolearn fit`'s flags), with no scaling.
fn hyper(params: &Bound<'_, PyDict>) -> PyResult<Hyper> {
    let mut set = ParamSet::default();
    for (name, value) in params.iter() {
        let name: String = name.extract()?;
        let value = if let Ok(i) = value.extract::<i64>() {
            ParamValue::Int(i)
        } else if let Ok(x) = value.extract::<f64>() {
            ParamValue::Float(x)
        } else {
            ParamValue::Text(value.str()?.to_string())
        };
        set.0.push((name, value));
    }
    let base = Hyper {
        scale: Scaling::None,
        ..Hyper::default()
    };
    run(|| base.with_params(&set))
}

/// A pipeline of the model named `kind` (`ferrolearn fit --model` names).
fn pipeline(kind: &str, params: &Bound<'_, PyDict>) -> PyResult<Pipeline> {
    let kind: ModelKind = run(|| Choice::parse("model", kind))?;
    Ok(Pipeline {
        kind,
        hyper: hyper(params)?,
    })
}

/// Fits the classifier `kind` on `x` and class codes `y` (`0..K`), the GIL released.
#[pyfunction]
fn fit_classifier(
    py: Python<'_>,
    kind: &str,
    params: &Bound<'_, PyDict>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, i64>,
) -> PyResult<Fitted> {
    let pipeline = pipeline(kind, params)?;
    let x = matrix(&x, "X")?;
    let y = labels(vector(&y, "y")?)?;
    let fitted = py.detach(|| run(|| FitClassifier::fit(&pipeline, x, y.view())))?;
    Ok(Fitted {
        model: Model::Pipeline(fitted),
    })
}

/// Fits the regressor `kind` on `x` and targets `y`, the GIL released.
#[pyfunction]
fn fit_regressor(
    py: Python<'_>,
    kind: &str,
    params: &Bound<'_, PyDict>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
) -> PyResult<Fitted> {
    let pipeline = pipeline(kind, params)?;
    let (x, y) = (matrix(&x, "X")?, vector(&y, "y")?);
    let fitted = py.detach(|| run(|| FitRegressor::fit(&pipeline, x, y)))?;
    Ok(Fitted {
        model: Model::Pipeline(fitted),
    })
}

/// Fits k-means: the model, the training rows' clusters, the inertia and the iterations.
#[pyfunction]
fn fit_kmeans<'py>(
    py: Python<'py>,
    params: &Bound<'py, PyDict>,
    x: PyReadonlyArray2<'py, f64>,
) -> PyResult<(Fitted, Bound<'py, PyArray1<i64>>, f64, usize)> {
    let pipeline = pipeline("kmeans", params)?;
    let x = matrix(&x, "X")?;
    let (fitted, run_figures) = py.detach(|| run(|| pipeline.fit_kmeans(x)))?;
    let clusters = labels_out(py, Array1::from(run_figures.labels));
    Ok((
        Fitted {
            model: Model::Pipeline(fitted),
        },
        clusters,
        run_figures.inertia,
        run_figures.n_iter,
    ))
}

/// Fits kNN regression (`metric` l2 or l1).
#[pyfunction]
fn fit_knn_regressor(
    py: Python<'_>,
    k: usize,
    metric: &str,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
) -> PyResult<Fitted> {
    let metric = match run(|| Distance::parse("metric", metric))? {
        Distance::L2 => Metric::Euclidean,
        Distance::L1 => Metric::Manhattan,
    };
    let (x, y) = (matrix(&x, "X")?, vector(&y, "y")?);
    let fitted = py.detach(|| run(|| KnnRegressor { k, metric }.fit(x, y)))?;
    Ok(Fitted {
        model: Model::KnnRegressor(fitted),
    })
}

/// Fits a standard scaler.
#[pyfunction]
fn fit_standard_scaler(
    with_mean: bool,
    with_std: bool,
    x: PyReadonlyArray2<'_, f64>,
) -> PyResult<Fitted> {
    let x = matrix(&x, "X")?;
    let fitted = run(|| {
        StandardScaler {
            with_mean,
            with_std,
        }
        .fit(x)
    })?;
    Ok(Fitted {
        model: Model::Standard(fitted),
    })
}

/// Fits a min-max scaler onto `[min, max]`.
#[pyfunction]
fn fit_min_max_scaler(min: f64, max: f64, x: PyReadonlyArray2<'_, f64>) -> PyResult<Fitted> {
    let x = matrix(&x, "X")?;
    let fitted = run(|| MinMaxScaler { min, max }.fit(x))?;
    Ok(Fitted {
        model: Model::MinMax(fitted),
    })
}

/// The polynomial features of `x` and the powers of each output column.
#[pyfunction]
fn polynomial_features<'py>(
    py: Python<'py>,
    degree: usize,
    include_bias: bool,
    x: PyReadonlyArray2<'py, f64>,
) -> PyResult<FloatsAndInts<'py>> {
    let x = matrix(&x, "X")?;
    let features = PolynomialFeatures {
        degree,
        include_bias,
    };
    let out = run(|| features.transform(x))?;
    let powers = run(|| features.powers(x.ncols()))?;
    let powers = powers.mapv(|p| p as i64);
    let (rows, cols) = powers.dim();
    let flat = PyArray1::from_vec(py, powers.into_raw_vec_and_offset().0);
    Ok((matrix_out(py, out)?, flat.reshape([rows, cols])?))
}

impl Fitted {
    fn pipeline(&self) -> PyResult<&FittedPipeline> {
        match &self.model {
            Model::Pipeline(p) => Ok(p),
            _ => Err(PyValueError::new_err("this fitted object does not predict")),
        }
    }
}

#[pymethods]
impl Fitted {
    /// Class codes of the rows of `x`.
    fn predict_class<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let (p, x) = (self.pipeline()?, matrix(&x, "X")?);
        let y = py.detach(|| run(|| Classifier::predict(p, x)))?;
        Ok(labels_out(py, y))
    }

    /// Real-valued predictions of the rows of `x`.
    fn predict_value<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let x = matrix(&x, "X")?;
        let y = py.detach(|| {
            run(|| match &self.model {
                Model::KnnRegressor(m) => m.predict(x),
                Model::Pipeline(p) => Regressor::predict(p, x),
                _ => Err(Error::InvalidParameter(
                    "a transformer does not predict".into(),
                )),
            })
        })?;
        Ok(vector_out(py, y))
    }

    /// Class probabilities `[n, K]`, or `None` for models without them.
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        let (p, x) = (self.pipeline()?, matrix(&x, "X")?);
        let proba = py.detach(|| run(|| p.predict_proba(x)))?;
        proba.map(|m| matrix_out(py, m)).transpose()
    }

    /// Decision scores of the SVMs and sgd, `None` for other models.
    fn decision_function<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        let (p, x) = (self.pipeline()?, matrix(&x, "X")?);
        let scores = py.detach(|| run(|| p.decision_function(x)))?;
        scores.map(|m| matrix_out(py, m)).transpose()
    }

    /// The `k` nearest training rows of each row of `x` (kNN models): distances, indices.
    fn kneighbors<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
        k: usize,
    ) -> PyResult<FloatsAndInts<'py>> {
        let x = matrix(&x, "X")?;
        let index = match &self.model {
            Model::Pipeline(FittedPipeline {
                model: FittedModel::Knn(m),
                ..
            }) => m.index(),
            Model::KnnRegressor(m) => m.index(),
            _ => return Err(PyValueError::new_err("only kNN models have neighbours")),
        };
        let found = py.detach(|| run(|| index.kneighbors(x, k)))?;
        let (rows, cols) = found.indices.dim();
        let indices = found.indices.iter().map(|&i| i as i64).collect();
        let indices = PyArray1::from_vec(py, indices).reshape([rows, cols])?;
        Ok((matrix_out(py, found.distances)?, indices))
    }

    /// The rows of `x` transformed by a scaler (mapped back with `inverse`).
    #[pyo3(signature = (x, inverse=false))]
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
        inverse: bool,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.scale(py, x, inverse)
    }

    /// The fitted state as JSON (the same tree a saved run's `classic.json` holds).
    fn state_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.model)
            .map_err(|e| PyValueError::new_err(format!("cannot describe the model: {e}")))
    }

    /// The fitted state as safetensors bytes ([`persist::to_bytes`]).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = run(|| persist::to_bytes(&self.model))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A fitted object from [`Fitted::to_bytes`].
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<Fitted> {
        Ok(Fitted {
            model: run(|| persist::from_bytes(bytes))?,
        })
    }

    /// Pickling: rebuilt by `Fitted.from_bytes` from the safetensors bytes.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let rebuild = py.get_type::<Fitted>().getattr("from_bytes")?;
        let bytes = slf.get().to_bytes(py)?;
        Ok((rebuild, PyTuple::new(py, [bytes])?))
    }
}

impl Fitted {
    fn scale<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
        inverse: bool,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let x: ArrayView2<f64> = matrix(&x, "X")?;
        let out = run(|| match (&self.model, inverse) {
            (Model::Standard(s), false) => s.transform(x),
            (Model::Standard(s), true) => s.inverse_transform(x),
            (Model::MinMax(s), false) => s.transform(x),
            (Model::MinMax(s), true) => s.inverse_transform(x),
            _ => Err(Error::InvalidParameter("only scalers transform".into())),
        })?;
        matrix_out(py, out)
    }
}

/// Adds the classic functions and [`Fitted`] to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Fitted>()?;
    m.add_function(wrap_pyfunction!(fit_classifier, m)?)?;
    m.add_function(wrap_pyfunction!(fit_regressor, m)?)?;
    m.add_function(wrap_pyfunction!(fit_kmeans, m)?)?;
    m.add_function(wrap_pyfunction!(fit_knn_regressor, m)?)?;
    m.add_function(wrap_pyfunction!(fit_standard_scaler, m)?)?;
    m.add_function(wrap_pyfunction!(fit_min_max_scaler, m)?)?;
    m.add_function(wrap_pyfunction!(polynomial_features, m)?)?;
    Ok(())
}
