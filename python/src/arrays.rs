//! NumPy arrays in and out. Inputs are borrowed as the library's `ndarray` views without a
//! copy (the Python side hands over C-contiguous float64); outputs move the library's
//! buffers into NumPy arrays.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use numpy::{PyUntypedArrayMethods, ToPyArray};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// The data of `a` in C order (a Fortran-ordered array is contiguous too, but its slice
/// would be read transposed), or a `TypeError` naming `what`.
fn contiguous<'a, T: numpy::Element, D: numpy::ndarray::Dimension>(
    a: &'a numpy::PyReadonlyArray<'_, T, D>,
    what: &str,
) -> PyResult<&'a [T]> {
    let c_order = a.is_c_contiguous();
    match a.as_slice() {
        Ok(data) if c_order => Ok(data),
        _ => Err(PyTypeError::new_err(format!(
            "{what} must be a C-contiguous array"
        ))),
    }
}

/// `x` (`[n, d]`, C-contiguous float64) as a view, without copying.
pub fn matrix<'a>(x: &'a PyReadonlyArray2<'_, f64>, what: &str) -> PyResult<ArrayView2<'a, f64>> {
    let shape = x.shape();
    let data = contiguous(x, what)?;
    Ok(ArrayView2::from_shape((shape[0], shape[1]), data).expect("shape matches the data"))
}

/// `y` (`[n]`, contiguous) as a view, without copying.
pub fn vector<'a, T: numpy::Element>(
    y: &'a PyReadonlyArray1<'_, T>,
    what: &str,
) -> PyResult<ArrayView1<'a, T>> {
    Ok(ArrayView1::from(contiguous(y, what)?))
}

/// A library vector as a NumPy array (its buffer moved when it owns one in order).
pub fn vector_out<'py, T: numpy::Element>(
    py: Python<'py>,
    v: Array1<T>,
) -> Bound<'py, PyArray1<T>> {
    let (data, offset) = v.into_raw_vec_and_offset();
    match offset {
        Some(0) | None => PyArray1::from_vec(py, data),
        Some(o) => data[o..].to_pyarray(py),
    }
}

/// A library matrix as a NumPy array (its buffer moved when it is in row-major order).
pub fn matrix_out<'py>(py: Python<'py>, m: Array2<f64>) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (rows, cols) = m.dim();
    let m = if m.is_standard_layout() {
        m
    } else {
        m.as_standard_layout().into_owned()
    };
    let (data, offset) = m.into_raw_vec_and_offset();
    let start = offset.unwrap_or(0);
    let flat = if start == 0 {
        PyArray1::from_vec(py, data)
    } else {
        data[start..].to_pyarray(py)
    };
    flat.reshape([rows, cols])
}

/// Class labels (`int64`, `0..K`) as the library's `usize` labels; negative ones are refused.
pub fn labels(y: ArrayView1<i64>) -> PyResult<Array1<usize>> {
    y.iter()
        .map(|&v| {
            usize::try_from(v)
                .map_err(|_| PyTypeError::new_err(format!("class codes must be >= 0, got {v}")))
        })
        .collect()
}

/// Library labels as `int64`.
pub fn labels_out<'py>(py: Python<'py>, y: Array1<usize>) -> Bound<'py, PyArray1<i64>> {
    PyArray1::from_vec(py, y.iter().map(|&v| v as i64).collect())
}
