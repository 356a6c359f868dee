//! Reductions over chosen axes: sum, mean, max, min, argmax, variance, and summing a
//! broadcast gradient back to an input's shape.

use rayon::prelude::*;

use super::check::{fmt_shape, ShapeError};
use super::shape::{check_axis, split_at_axis};
use super::Tensor;

/// Work (elements read) above which a reduction is split across threads.
const PARALLEL_MIN: usize = 1 << 16;

impl Tensor {
    /// Folds dimension `axis` with `f`, starting from `init`; keeps it as size 1 when `keepdim`.
    fn fold_axis(
        &self,
        op: &'static str,
        axis: usize,
        keepdim: bool,
        init: f32,
        f: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Tensor {
        check_axis(op, self.shape(), axis);
        let (outer, size, inner) = split_at_axis(self.shape(), axis);
        let x = self.data();
        let mut out = vec![init; outer * inner];
        let fold_block = |o: usize, dst: &mut [f32]| {
            let block = &x[o * size * inner..(o + 1) * size * inner];
            if inner == 1 {
                dst[0] = block.iter().fold(init, |acc, &v| f(acc, v));
            } else {
                for row in block.chunks_exact(inner) {
                    for (d, &v) in dst.iter_mut().zip(row) {
                        *d = f(*d, v);
                    }
                }
            }
        };
        if self.numel() >= PARALLEL_MIN && outer > 1 && inner > 0 {
            out.par_chunks_mut(inner)
                .enumerate()
                .for_each(|(o, dst)| fold_block(o, dst));
        } else if inner > 0 {
            out.chunks_mut(inner)
                .enumerate()
                .for_each(|(o, dst)| fold_block(o, dst));
        }
        Tensor::from_vec(out, &reduced_shape(self.shape(), &[axis], keepdim))
    }

    /// Sum over `axes` (each at most once); all axes when `axes` is empty is *not* implied —
    /// use [`Tensor::sum_all`] for that.
    pub fn sum_axes(&self, axes: &[usize], keepdim: bool) -> Tensor {
        let axes = sorted_axes("sum", self.shape(), axes);
        let mut t = self.clone();
        for &a in axes.iter().rev() {
            t = t.fold_axis("sum", a, true, 0.0, |acc, v| acc + v);
        }
        t.reshape(&reduced_shape(self.shape(), &axes, keepdim))
    }

    /// Sum of all elements as a 0-d tensor.
    pub fn sum_all(&self) -> Tensor {
        Tensor::scalar(self.data().iter().map(|&v| v as f64).sum::<f64>() as f32)
    }

    /// Mean over `axes`.
    pub fn mean_axes(&self, axes: &[usize], keepdim: bool) -> Tensor {
        let count: usize = sorted_axes("mean", self.shape(), axes)
            .iter()
            .map(|&a| self.dim(a))
            .product();
        self.sum_axes(axes, keepdim).mul_scalar(1.0 / count as f32)
    }

    /// Mean of all elements as a 0-d tensor.
    pub fn mean_all(&self) -> Tensor {
        Tensor::scalar(self.sum_all().item() / self.numel() as f32)
    }

    /// Variance over `axes`: divides by `m - 1` when `unbiased`, else by `m`.
    pub fn var_axes(&self, axes: &[usize], unbiased: bool, keepdim: bool) -> Tensor {
        let m: usize = sorted_axes("var", self.shape(), axes)
            .iter()
            .map(|&a| self.dim(a))
            .product();
        let centred = self.sub(&self.mean_axes(axes, true));
        let denom = if unbiased { m.saturating_sub(1) } else { m } as f32;
        centred
            .mul(&centred)
            .sum_axes(axes, keepdim)
            .mul_scalar(1.0 / denom)
    }

    /// Maximum over `axis`.
    pub fn max_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        self.fold_axis("max", axis, keepdim, f32::NEG_INFINITY, f32::max)
    }

    /// Minimum over `axis`.
    pub fn min_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        self.fold_axis("min", axis, keepdim, f32::INFINITY, f32::min)
    }

    /// Index of the largest element along `axis` (the first one on ties), as a tensor of
    /// indices with `axis` removed.
    pub fn argmax_axis(&self, axis: usize) -> Vec<usize> {
        check_axis("argmax", self.shape(), axis);
        let (outer, size, inner) = split_at_axis(self.shape(), axis);
        let x = self.data();
        let mut out = vec![0usize; outer * inner];
        for o in 0..outer {
            for i in 0..inner {
                let mut best = (0, f32::NEG_INFINITY);
                for r in 0..size {
                    let v = x[(o * size + r) * inner + i];
                    if v > best.1 || (r == 0) {
                        best = (r, v);
                    }
                }
                out[o * inner + i] = best.0;
            }
        }
        out
    }

    /// Sums a gradient of a broadcast result back to `shape`, the shape of the input that
    /// was broadcast (leading dimensions and dimensions of size 1 in `shape` are summed).
    ///
    /// # Panics
    /// When `shape` does not broadcast to `self`'s shape.
    pub fn sum_to_shape(&self, shape: &[usize]) -> Tensor {
        if self.shape() == shape {
            return self.clone();
        }
        let n = self.ndim();
        let fail = || -> ! {
            ShapeError::new(
                "sum_to_shape",
                format!(
                    "{} cannot be summed to {}",
                    fmt_shape(self.shape()),
                    fmt_shape(shape)
                ),
            )
            .raise()
        };
        if shape.len() > n {
            fail();
        }
        let offset = n - shape.len();
        let mut axes: Vec<usize> = (0..offset).collect();
        for (i, &d) in shape.iter().enumerate() {
            let full = self.dim(offset + i);
            if d == 1 && full != 1 {
                axes.push(offset + i);
            } else if d != full {
                fail();
            }
        }
        self.sum_axes(&axes, false).reshape(shape)
    }
}

/// `axes` sorted, checked in range and free of repeats.
fn sorted_axes(op: &'static str, shape: &[usize], axes: &[usize]) -> Vec<usize> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != axes.len() {
        ShapeError::new(op, format!("repeated axis in {axes:?}")).raise();
    }
    for &a in &sorted {
        check_axis(op, shape, a);
    }
    sorted
}

/// The shape left after reducing `axes` (sorted), keeping them as 1 when `keepdim`.
fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keepdim) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t234() -> Tensor {
        Tensor::from_vec((0..24).map(|i| i as f32).collect(), &[2, 3, 4])
    }

    #[test]
    fn sums_over_single_and_multiple_axes() {
        let t = t234();
        assert_eq!(t.sum_axes(&[0], false).data()[..4], [12., 14., 16., 18.]);
        assert_eq!(
            t.sum_axes(&[2], false).data(),
            &[6., 22., 38., 54., 70., 86.]
        );
        let s = t.sum_axes(&[0, 2], true);
        assert_eq!(s.shape(), &[1, 3, 1]);
        assert_eq!(s.data(), &[6. + 54., 22. + 70., 38. + 86.]);
        assert_eq!(t.sum_all().item(), 276.0);
        assert_eq!(t.mean_axes(&[1], false).data()[0], 4.0);
    }

    #[test]
    fn max_min_argmax_and_var() {
        let t = Tensor::from_vec(vec![1., 5., 3., 7., 2., 7.], &[2, 3]);
        assert_eq!(t.max_axis(1, false).data(), &[5., 7.]);
        assert_eq!(t.min_axis(0, false).data(), &[1., 2., 3.]);
        assert_eq!(t.argmax_axis(1), vec![1, 0]);
        let v = t.var_axes(&[1], false, false);
        assert!((v.data()[0] - 8.0 / 3.0).abs() < 1e-6);
        let u = t.var_axes(&[1], true, false);
        assert!((u.data()[0] - 4.0).abs() < 1e-6);
    }

    #[test]
    fn sum_to_shape_undoes_broadcasting() {
        let g = Tensor::ones(&[2, 3, 4]);
        assert_eq!(g.sum_to_shape(&[4]).data(), &[6.; 4]);
        assert_eq!(g.sum_to_shape(&[3, 1]).data(), &[8.; 3]);
        assert_eq!(g.sum_to_shape(&[]).item(), 24.0);
    }
}
