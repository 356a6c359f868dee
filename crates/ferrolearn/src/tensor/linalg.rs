//! Matrix products through the GEMM kernel: 2-d, batched 3-d, and with transposed operands
//! (used by backward passes to avoid materialising transposes).

use super::check::ShapeError;
use super::kernels::gemm;
use super::storage;
use super::Tensor;

impl Tensor {
    /// The matrix product `self @ other`.
    ///
    /// # Shapes
    /// `[m, k] x [k, n] -> [m, n]`; `[B, m, k] x [B, k, n] -> [B, m, n]`;
    /// `[B, m, k] x [k, n] -> [B, m, n]`; `[m, k] x [B, k, n] -> [B, m, n]`.
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        self.matmul_t(other, false, false)
    }

    /// `op(self) @ op(other)` where `op` transposes the last two dimensions when its flag is
    /// set, without copying the operand.
    ///
    /// # Panics
    /// With a [`ShapeError`] naming both shapes when they cannot be multiplied.
    pub fn matmul_t(&self, other: &Tensor, trans_a: bool, trans_b: bool) -> Tensor {
        let err = |why: String| -> ! {
            let t = |flag: bool| if flag { "^T" } else { "" };
            ShapeError::new(
                "matmul",
                format!(
                    "{:?}{} x {:?}{}: {why}",
                    self.shape(),
                    t(trans_a),
                    other.shape(),
                    t(trans_b)
                ),
            )
            .raise()
        };
        let (ra, rb) = (self.ndim(), other.ndim());
        if !(2..=3).contains(&ra) || !(2..=3).contains(&rb) {
            err("operands must be 2-d or 3-d".into());
        }
        let mat = |t: &Tensor, trans: bool| {
            let (r, c) = (t.dim(t.ndim() - 2), t.dim(t.ndim() - 1));
            if trans {
                (c, r)
            } else {
                (r, c)
            }
        };
        let (m, k) = mat(self, trans_a);
        let (k2, n) = mat(other, trans_b);
        if k != k2 {
            err(format!("inner dimensions {k} != {k2}"));
        }
        match (ra, rb) {
            (2, 2) => {
                let mut c = storage::take(m * n);
                gemm::matmul(
                    m,
                    k,
                    n,
                    self.data(),
                    trans_a,
                    other.data(),
                    trans_b,
                    &mut c,
                    false,
                );
                Tensor::from_vec(c, &[m, n])
            }
            (3, 2) if !trans_a => {
                // A shared right operand: fold the batch into the rows of one GEMM.
                let batch = self.dim(0);
                let mut c = storage::take(batch * m * n);
                gemm::matmul(
                    batch * m,
                    k,
                    n,
                    self.data(),
                    false,
                    other.data(),
                    trans_b,
                    &mut c,
                    false,
                );
                Tensor::from_vec(c, &[batch, m, n])
            }
            _ => {
                let batch = if ra == 3 { self.dim(0) } else { other.dim(0) };
                if ra == 3 && rb == 3 && other.dim(0) != batch {
                    err(format!("batch sizes {batch} != {}", other.dim(0)));
                }
                let expand = |t: &Tensor| {
                    if t.ndim() == 3 {
                        t.clone()
                    } else {
                        let s = t.shape();
                        t.reshape(&[1, s[0], s[1]])
                            .broadcast_to(&[batch, s[0], s[1]])
                    }
                };
                let (a, b) = (expand(self), expand(other));
                let mut c = storage::take(batch * m * n);
                gemm::batched_matmul(
                    batch,
                    m,
                    k,
                    n,
                    a.data(),
                    trans_a,
                    b.data(),
                    trans_b,
                    &mut c,
                    false,
                );
                Tensor::from_vec(c, &[batch, m, n])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::catch_shape_error;

    #[test]
    fn small_products_and_transposes() {
        let a = Tensor::from_vec(vec![1., 2., 3., 4., 5., 6.], &[2, 3]);
        let b = Tensor::from_vec(vec![1., 0., 0., 1., 1., 1.], &[3, 2]);
        assert_eq!(a.matmul(&b).data(), &[4., 5., 10., 11.]);
        assert_eq!(a.matmul_t(&a, false, true).data(), &[14., 32., 32., 77.]);
        assert_eq!(a.matmul_t(&a, true, false).shape(), &[3, 3]);
        let batch = Tensor::cat(
            &[a.reshape(&[1, 2, 3]), a.mul_scalar(2.0).reshape(&[1, 2, 3])],
            0,
        );
        let shared = batch.matmul(&b);
        assert_eq!(shared.data(), &[4., 5., 10., 11., 8., 10., 20., 22.]);
        let bb = Tensor::cat(&[b.reshape(&[1, 3, 2]), b.reshape(&[1, 3, 2])], 0);
        assert_eq!(batch.matmul(&bb).data(), shared.data());
        assert_eq!(a.matmul(&bb).shape(), &[2, 2, 2]);
    }

    #[test]
    fn mismatch_message_names_both_shapes() {
        let x = Tensor::zeros(&[64, 784]);
        let w = Tensor::zeros(&[500, 10]);
        let e = catch_shape_error(|| x.matmul(&w)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "matmul: [64, 784] x [500, 10]: inner dimensions 784 != 500"
        );
    }
}
