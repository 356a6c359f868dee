//! Reshaping and rearranging: reshape, permute/transpose, narrow, concatenate, gather,
//! index-select and broadcast.

use super::check::{fmt_shape, ShapeError};
use super::shape::{broadcast_shape, broadcast_strides, check_axis, split_at_axis, strides};
use super::Tensor;

impl Tensor {
    /// The same elements under a new shape with the same element count (shares storage).
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        let numel: usize = shape.iter().product();
        if numel != self.numel() {
            ShapeError::new(
                "reshape",
                format!(
                    "{} ({} elements) cannot be viewed as {} ({numel} elements)",
                    fmt_shape(self.shape()),
                    self.numel(),
                    fmt_shape(shape)
                ),
            )
            .raise();
        }
        Tensor {
            shape: shape.to_vec(),
            data: self.data.clone(),
        }
    }

    /// Reorders the dimensions: output dimension `i` is input dimension `perm[i]`.
    pub fn permute(&self, perm: &[usize]) -> Tensor {
        let n = self.ndim();
        let mut seen = vec![false; n];
        if perm.len() != n
            || perm
                .iter()
                .any(|&p| p >= n || std::mem::replace(&mut seen[p], true))
        {
            ShapeError::new(
                "permute",
                format!(
                    "{perm:?} is not a permutation of the {n} dims of {}",
                    fmt_shape(self.shape())
                ),
            )
            .raise();
        }
        let in_strides = strides(self.shape());
        let out_shape: Vec<usize> = perm.iter().map(|&p| self.dim(p)).collect();
        let src_strides: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
        Tensor::from_vec(
            gather_strided(self.data(), &out_shape, &src_strides),
            &out_shape,
        )
    }

    /// Swaps dimensions `a` and `b`.
    pub fn transpose(&self, a: usize, b: usize) -> Tensor {
        check_axis("transpose", self.shape(), a);
        check_axis("transpose", self.shape(), b);
        let mut perm: Vec<usize> = (0..self.ndim()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// The slice `start..start + len` of dimension `axis`.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Tensor {
        check_axis("narrow", self.shape(), axis);
        if start + len > self.dim(axis) {
            ShapeError::new(
                "narrow",
                format!(
                    "range {start}..{} out of bounds for axis {axis} of {}",
                    start + len,
                    fmt_shape(self.shape())
                ),
            )
            .raise();
        }
        let (outer, size, inner) = split_at_axis(self.shape(), axis);
        let x = self.data();
        let mut out = Vec::with_capacity(outer * len * inner);
        for o in 0..outer {
            let base = (o * size + start) * inner;
            out.extend_from_slice(&x[base..base + len * inner]);
        }
        let mut shape = self.shape().to_vec();
        shape[axis] = len;
        Tensor::from_vec(out, &shape)
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    pub fn cat(tensors: &[Tensor], axis: usize) -> Tensor {
        let Some(first) = tensors.first() else {
            ShapeError::new("cat", "no tensors to concatenate").raise();
        };
        check_axis("cat", first.shape(), axis);
        for t in tensors {
            let compatible = t.ndim() == first.ndim()
                && (0..t.ndim()).all(|d| d == axis || t.dim(d) == first.dim(d));
            if !compatible {
                ShapeError::new(
                    "cat",
                    format!(
                        "{} and {} differ outside axis {axis}",
                        fmt_shape(first.shape()),
                        fmt_shape(t.shape())
                    ),
                )
                .raise();
            }
        }
        let (outer, _, inner) = split_at_axis(first.shape(), axis);
        let total: usize = tensors.iter().map(|t| t.dim(axis)).sum();
        let mut out = Vec::with_capacity(outer * total * inner);
        for o in 0..outer {
            for t in tensors {
                let block = t.dim(axis) * inner;
                out.extend_from_slice(&t.data()[o * block..(o + 1) * block]);
            }
        }
        let mut shape = first.shape().to_vec();
        shape[axis] = total;
        Tensor::from_vec(out, &shape)
    }

    /// Picks one element along `axis` for every position of the other dimensions:
    /// `out[.., ..] = self[.., index[..], ..]`, so `[N, C]` with `N` class indices on axis 1
    /// gives the `[N]` scores of the true classes.
    pub fn gather(&self, axis: usize, index: &[usize]) -> Tensor {
        check_axis("gather", self.shape(), axis);
        let (outer, size, inner) = split_at_axis(self.shape(), axis);
        if index.len() != outer * inner {
            ShapeError::new(
                "gather",
                format!(
                    "{} indices for {} along axis {axis}: expected {}",
                    index.len(),
                    fmt_shape(self.shape()),
                    outer * inner
                ),
            )
            .raise();
        }
        let x = self.data();
        let out = index
            .iter()
            .enumerate()
            .map(|(pos, &k)| {
                if k >= size {
                    ShapeError::new(
                        "gather",
                        format!("index {k} out of range for axis {axis} of size {size}"),
                    )
                    .raise();
                }
                let (o, i) = (pos / inner, pos % inner);
                x[(o * size + k) * inner + i]
            })
            .collect();
        let mut shape = self.shape().to_vec();
        shape.remove(axis);
        Tensor::from_vec(out, &shape)
    }

    /// The inverse of [`Tensor::gather`]: a zero tensor of `shape` with `self`'s values
    /// placed at the gathered positions.
    pub fn scatter(&self, shape: &[usize], axis: usize, index: &[usize]) -> Tensor {
        let (outer, size, inner) = split_at_axis(shape, axis);
        let mut out = vec![0.0; shape.iter().product()];
        for (pos, (&k, &v)) in index.iter().zip(self.data()).enumerate() {
            let (o, i) = (pos / inner, pos % inner);
            out[(o * size + k) * inner + i] += v;
        }
        let _ = outer;
        Tensor::from_vec(out, shape)
    }

    /// The entries `indices` of dimension `axis`, in that order (e.g. a mini-batch of rows).
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Tensor {
        check_axis("index_select", self.shape(), axis);
        let (outer, size, inner) = split_at_axis(self.shape(), axis);
        let x = self.data();
        let mut out = Vec::with_capacity(outer * indices.len() * inner);
        for o in 0..outer {
            for &k in indices {
                if k >= size {
                    ShapeError::new(
                        "index_select",
                        format!(
                            "index {k} out of range for axis {axis} of {}",
                            fmt_shape(self.shape())
                        ),
                    )
                    .raise();
                }
                let base = (o * size + k) * inner;
                out.extend_from_slice(&x[base..base + inner]);
            }
        }
        let mut shape = self.shape().to_vec();
        shape[axis] = indices.len();
        Tensor::from_vec(out, &shape)
    }

    /// Materialises `self` broadcast to `shape` (NumPy rules).
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        let target =
            broadcast_shape("broadcast_to", self.shape(), shape).unwrap_or_else(|e| e.raise());
        if target != shape {
            ShapeError::new(
                "broadcast_to",
                format!(
                    "{} does not broadcast to {}",
                    fmt_shape(self.shape()),
                    fmt_shape(shape)
                ),
            )
            .raise();
        }
        let src = broadcast_strides(self.shape(), shape);
        Tensor::from_vec(gather_strided(self.data(), shape, &src), shape)
    }
}

/// Reads `src` at the positions given by `src_strides` for every index of `out_shape`, in
/// row-major order of `out_shape`.
fn gather_strided(src: &[f32], out_shape: &[usize], src_strides: &[usize]) -> Vec<f32> {
    let numel: usize = out_shape.iter().product();
    let mut out = Vec::with_capacity(numel);
    if numel == 0 {
        return out;
    }
    let nd = out_shape.len();
    if nd == 0 {
        out.push(src[0]);
        return out;
    }
    let inner = out_shape[nd - 1];
    let inner_stride = src_strides[nd - 1];
    let mut idx = vec![0usize; nd - 1];
    let mut base = 0usize;
    loop {
        if inner_stride == 1 {
            out.extend_from_slice(&src[base..base + inner]);
        } else {
            out.extend((0..inner).map(|j| src[base + j * inner_stride]));
        }
        // Advance the outer multi-index (odometer), keeping `base` in step.
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            base += src_strides[d];
            if idx[d] < out_shape[d] {
                break;
            }
            base -= src_strides[d] * out_shape[d];
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::catch_shape_error;

    #[test]
    fn permute_and_transpose() {
        let t = Tensor::from_vec((0..6).map(|i| i as f32).collect(), &[2, 3]);
        let tt = t.transpose(0, 1);
        assert_eq!(tt.shape(), &[3, 2]);
        assert_eq!(tt.data(), &[0., 3., 1., 4., 2., 5.]);
        let u = Tensor::from_vec((0..24).map(|i| i as f32).collect(), &[2, 3, 4]);
        let p = u.permute(&[2, 0, 1]);
        assert_eq!(p.shape(), &[4, 2, 3]);
        // p[1, 1, 2] = u[1, 2, 1]
        assert_eq!(p.data()[(2 + 1) * 3 + 2], u.data()[(3 + 2) * 4 + 1]);
        assert_eq!(p.permute(&[1, 2, 0]).data(), u.data());
    }

    #[test]
    fn narrow_cat_roundtrip() {
        let u = Tensor::from_vec((0..24).map(|i| i as f32).collect(), &[2, 3, 4]);
        let a = u.narrow(1, 0, 1);
        let b = u.narrow(1, 1, 2);
        assert_eq!(b.shape(), &[2, 2, 4]);
        assert_eq!(Tensor::cat(&[a, b], 1).data(), u.data());
    }

    #[test]
    fn gather_scatter_and_index_select() {
        let s = Tensor::from_vec(vec![1., 2., 3., 4., 5., 6.], &[2, 3]);
        let g = s.gather(1, &[2, 0]);
        assert_eq!(g.data(), &[3., 4.]);
        assert_eq!(
            g.scatter(&[2, 3], 1, &[2, 0]).data(),
            &[0., 0., 3., 4., 0., 0.]
        );
        assert_eq!(
            s.index_select(0, &[1, 1, 0]).data(),
            &[4., 5., 6., 4., 5., 6., 1., 2., 3.]
        );
        assert_eq!(
            Tensor::from_vec(vec![1., 2.], &[2, 1])
                .broadcast_to(&[2, 2])
                .data(),
            &[1., 1., 2., 2.]
        );
    }

    #[test]
    fn errors_name_shapes() {
        let s = Tensor::zeros(&[2, 3]);
        let e = catch_shape_error(|| s.reshape(&[4, 2])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "reshape: [2, 3] (6 elements) cannot be viewed as [4, 2] (8 elements)"
        );
        let e = catch_shape_error(|| s.gather(1, &[3, 0])).unwrap_err();
        assert!(e.to_string().contains("index 3 out of range"));
    }
}
