//! Elementwise arithmetic with NumPy broadcasting, comparisons and unary math.

use rayon::prelude::*;

use super::shape::{broadcast_shape, broadcast_strides};
use super::storage;
use super::Tensor;

/// Below this many elements an elementwise op runs on one thread: spawning costs more.
const PARALLEL_MIN: usize = 1 << 15;
/// Elements per rayon task in parallel elementwise loops.
const CHUNK: usize = 1 << 13;

impl Tensor {
    /// Applies `f` to every element.
    pub fn map(&self, f: impl Fn(f32) -> f32 + Sync) -> Tensor {
        let src = self.data();
        let mut out = storage::take(src.len());
        if src.len() >= PARALLEL_MIN {
            out.par_chunks_mut(CHUNK)
                .zip(src.par_chunks(CHUNK))
                .for_each(|(o, s)| o.iter_mut().zip(s).for_each(|(o, &s)| *o = f(s)));
        } else {
            out.iter_mut().zip(src).for_each(|(o, &s)| *o = f(s));
        }
        Tensor::from_vec(out, self.shape())
    }

    /// Combines two same-shaped tensors elementwise (no broadcasting).
    ///
    /// # Panics
    /// With a [`super::ShapeError`] naming `op` when the shapes differ.
    pub fn zip_same(
        &self,
        other: &Tensor,
        op: &'static str,
        f: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Tensor {
        if self.shape() != other.shape() {
            super::ShapeError::new(
                op,
                format!(
                    "{:?} and {:?}: shapes must be equal",
                    self.shape(),
                    other.shape()
                ),
            )
            .raise();
        }
        let (a, b) = (self.data(), other.data());
        let mut out = storage::take(a.len());
        if a.len() >= PARALLEL_MIN {
            out.par_chunks_mut(CHUNK)
                .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
                .for_each(|(o, (a, b))| {
                    for i in 0..o.len() {
                        o[i] = f(a[i], b[i]);
                    }
                });
        } else {
            for i in 0..out.len() {
                out[i] = f(a[i], b[i]);
            }
        }
        Tensor::from_vec(out, self.shape())
    }

    /// Combines two tensors elementwise after broadcasting them to a common shape.
    ///
    /// # Panics
    /// With a [`super::ShapeError`] naming `op` and both shapes when they do not broadcast.
    pub fn zip_broadcast(
        &self,
        other: &Tensor,
        op: &'static str,
        f: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Tensor {
        if self.shape() == other.shape() {
            return self.zip_same(other, op, f);
        }
        if other.numel() == 1 && other.ndim() <= self.ndim() {
            let b = other.data()[0];
            return self
                .map(|a| f(a, b))
                .reshape(&broadcast_or_raise(op, self, other));
        }
        if self.numel() == 1 && self.ndim() <= other.ndim() {
            let a = self.data()[0];
            return other
                .map(|b| f(a, b))
                .reshape(&broadcast_or_raise(op, self, other));
        }
        let shape = broadcast_or_raise(op, self, other);
        let sa = broadcast_strides(self.shape(), &shape);
        let sb = broadcast_strides(other.shape(), &shape);
        let (a, b) = (self.data(), other.data());
        let inner = *shape.last().unwrap_or(&1);
        let (ia, ib) = (*sa.last().unwrap_or(&0), *sb.last().unwrap_or(&0));
        let rows: usize = shape[..shape.len().saturating_sub(1)].iter().product();
        let mut out = storage::take(rows * inner);
        let outer_shape = &shape[..shape.len().saturating_sub(1)];
        let fill_row = |row: usize, o: &mut [f32]| {
            // Offsets of this row in a and b from its multi-index.
            let (mut oa, mut ob, mut rem) = (0, 0, row);
            for d in (0..outer_shape.len()).rev() {
                let idx = rem % outer_shape[d];
                rem /= outer_shape[d];
                oa += idx * sa[d];
                ob += idx * sb[d];
            }
            for (j, o) in o.iter_mut().enumerate() {
                *o = f(a[oa + j * ia], b[ob + j * ib]);
            }
        };
        if out.len() >= PARALLEL_MIN && inner > 0 {
            out.par_chunks_mut(inner)
                .enumerate()
                .for_each(|(row, o)| fill_row(row, o));
        } else if inner > 0 {
            out.chunks_mut(inner)
                .enumerate()
                .for_each(|(row, o)| fill_row(row, o));
        }
        Tensor::from_vec(out, &shape)
    }

    /// `self + other`, broadcasting.
    pub fn add(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "add", |a, b| a + b)
    }

    /// `self - other`, broadcasting.
    pub fn sub(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "sub", |a, b| a - b)
    }

    /// `self * other` elementwise, broadcasting.
    pub fn mul(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "mul", |a, b| a * b)
    }

    /// `self / other` elementwise, broadcasting.
    pub fn div(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "div", |a, b| a / b)
    }

    /// `self ^ other` elementwise, broadcasting.
    pub fn pow(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "pow", f32::powf)
    }

    /// Elementwise maximum, broadcasting.
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "maximum", f32::max)
    }

    /// Elementwise minimum, broadcasting.
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "minimum", f32::min)
    }

    /// `self == other` as 1.0 / 0.0, broadcasting.
    pub fn eq(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "eq", |a, b| f32::from(a == b))
    }

    /// `self != other` as 1.0 / 0.0, broadcasting.
    pub fn ne(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "ne", |a, b| f32::from(a != b))
    }

    /// `self > other` as 1.0 / 0.0, broadcasting.
    pub fn gt(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "gt", |a, b| f32::from(a > b))
    }

    /// `self >= other` as 1.0 / 0.0, broadcasting.
    pub fn ge(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "ge", |a, b| f32::from(a >= b))
    }

    /// `self < other` as 1.0 / 0.0, broadcasting.
    pub fn lt(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "lt", |a, b| f32::from(a < b))
    }

    /// `self <= other` as 1.0 / 0.0, broadcasting.
    pub fn le(&self, other: &Tensor) -> Tensor {
        self.zip_broadcast(other, "le", |a, b| f32::from(a <= b))
    }

    /// Adds a scalar to every element.
    pub fn add_scalar(&self, s: f32) -> Tensor {
        self.map(|x| x + s)
    }

    /// Multiplies every element by a scalar.
    pub fn mul_scalar(&self, s: f32) -> Tensor {
        self.map(|x| x * s)
    }

    /// Raises every element to the power `p`.
    pub fn powf(&self, p: f32) -> Tensor {
        self.map(|x| x.powf(p))
    }

    /// `-self`.
    pub fn neg(&self) -> Tensor {
        self.map(|x| -x)
    }

    /// `e^x` elementwise.
    pub fn exp(&self) -> Tensor {
        self.map(f32::exp)
    }

    /// Natural logarithm elementwise.
    pub fn ln(&self) -> Tensor {
        self.map(f32::ln)
    }

    /// Square root elementwise.
    pub fn sqrt(&self) -> Tensor {
        self.map(f32::sqrt)
    }

    /// Absolute value elementwise.
    pub fn abs(&self) -> Tensor {
        self.map(f32::abs)
    }

    /// Clamps every element into `[min, max]`.
    pub fn clamp(&self, min: f32, max: f32) -> Tensor {
        self.map(|x| x.clamp(min, max))
    }
}

fn broadcast_or_raise(op: &'static str, a: &Tensor, b: &Tensor) -> Vec<usize> {
    broadcast_shape(op, a.shape(), b.shape()).unwrap_or_else(|e| e.raise())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::catch_shape_error;

    #[test]
    fn broadcasting_rows_columns_and_scalars() {
        let a = Tensor::from_vec(vec![1., 2., 3., 4., 5., 6.], &[2, 3]);
        let row = Tensor::from_vec(vec![10., 20., 30.], &[3]);
        let col = Tensor::from_vec(vec![100., 200.], &[2, 1]);
        assert_eq!(a.add(&row).data(), &[11., 22., 33., 14., 25., 36.]);
        assert_eq!(a.add(&col).data(), &[101., 102., 103., 204., 205., 206.]);
        assert_eq!(col.sub(&row).shape(), &[2, 3]);
        assert_eq!(col.sub(&row).data(), &[90., 80., 70., 190., 180., 170.]);
        assert_eq!(
            a.mul(&Tensor::scalar(2.0)).data(),
            &[2., 4., 6., 8., 10., 12.]
        );
        assert_eq!(Tensor::scalar(1.0).div(&row).shape(), &[3]);
        assert_eq!(a.gt(&Tensor::scalar(3.0)).data(), &[0., 0., 0., 1., 1., 1.]);
    }

    #[test]
    fn large_broadcast_matches_small_path() {
        let n = 300;
        let a = Tensor::from_vec((0..n * n).map(|i| i as f32).collect(), &[n, n]);
        let b = Tensor::from_vec((0..n).map(|i| -(i as f32)).collect(), &[n, 1]);
        let c = a.add(&b);
        for i in [0, 17, n - 1] {
            for j in [0, 5, n - 1] {
                assert_eq!(c.data()[i * n + j], (i * n + j) as f32 - i as f32);
            }
        }
    }

    #[test]
    fn mismatch_names_op_and_shapes() {
        let a = Tensor::zeros(&[2, 3]);
        let b = Tensor::zeros(&[2]);
        let err = catch_shape_error(|| a.mul(&b)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mul: [2, 3] and [2]: cannot broadcast dimension 3 against 2"
        );
    }
}
