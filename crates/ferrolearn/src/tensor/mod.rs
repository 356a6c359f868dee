//! The n-d tensor: f32, row-major, contiguous storage behind an `Arc`.
//!
//! A [`Tensor`] is an immutable value: every op returns a new contiguous tensor, and clones
//! share storage. Images are NCHW, as in PyTorch, so reference vectors and weights line up.
//! Nothing here knows about gradients; [`crate::autograd`] records graphs over these ops.
//!
//! Shape mismatches panic with a [`ShapeError`] (see the crate docs and [`catch_shape_error`]).

mod check;
mod conv;
mod create;
mod elementwise;
pub mod kernels;
mod layout;
mod linalg;
mod reduce;
pub mod shape;
mod shortcut;
pub mod special;
pub(crate) mod storage;

pub use check::{catch_shape_error, is_raising_shape_error, quiet_shape_panics, ShapeError};
pub use conv::PoolWindow;

use std::fmt;
use std::sync::Arc;

use storage::Storage;

/// An n-dimensional array of `f32` in row-major (C) order.
#[derive(Clone)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Arc<Storage>,
}

impl Tensor {
    /// Builds a tensor from row-major data and a shape.
    ///
    /// # Panics
    /// With a [`ShapeError`] when `data.len()` differs from the product of `shape`; use
    /// [`Tensor::try_from_vec`] for data that comes from outside the program.
    pub fn from_vec(data: Vec<f32>, shape: &[usize]) -> Tensor {
        match Tensor::try_from_vec(data, shape) {
            Ok(t) => t,
            Err(e) => e.raise(),
        }
    }

    /// Builds a tensor from row-major data and a shape, or says why the two disagree.
    pub fn try_from_vec(data: Vec<f32>, shape: &[usize]) -> Result<Tensor, ShapeError> {
        let numel: usize = shape.iter().product();
        if numel != data.len() {
            return Err(ShapeError::new(
                "from_vec",
                format!(
                    "shape {shape:?} holds {numel} elements but {} were given",
                    data.len()
                ),
            ));
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data: Arc::new(Storage::new(data)),
        })
    }

    /// A 0-d tensor holding one value.
    pub fn scalar(value: f32) -> Tensor {
        Tensor::from_vec(vec![value], &[])
    }

    /// The dimensions, outermost first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The size of dimension `axis`.
    pub fn dim(&self, axis: usize) -> usize {
        self.shape[axis]
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Mutable access to the elements, copying the storage first if it is shared.
    pub fn data_mut(&mut self) -> &mut [f32] {
        Arc::make_mut(&mut self.data).as_mut_slice()
    }

    /// The elements as an owned vector (no copy when the storage is not shared).
    pub fn into_vec(self) -> Vec<f32> {
        Arc::try_unwrap(self.data).map_or_else(|shared| shared.to_vec(), Storage::into_vec)
    }

    /// The single value of a one-element tensor.
    ///
    /// # Panics
    /// When the tensor does not hold exactly one element.
    pub fn item(&self) -> f32 {
        if self.numel() != 1 {
            ShapeError::new(
                "item",
                format!("{:?} holds {} elements, not 1", self.shape, self.numel()),
            )
            .raise();
        }
        self.data[0]
    }

    /// Whether two tensors share the same storage (a cheap identity test, used in tests).
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.data, &other.data)
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 8;
        write!(f, "Tensor{:?} [", self.shape)?;
        for (i, v) in self.data.iter().take(SHOWN).enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{v}")?;
        }
        if self.numel() > SHOWN {
            write!(f, ", ...")?;
        }
        write!(f, "]")
    }
}
