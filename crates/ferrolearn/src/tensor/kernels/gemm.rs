//! Dense `f32` matrix multiplication: a safe wrapper over the `gemm` crate.
//!
//! Everything that multiplies matrices in ferrolearn (linear layers, convolution through
//! im2col, kNN distances) comes through here, so the one `unsafe` call into `gemm::gemm` is
//! guarded in one place: every view is checked to lie inside its slice, and the output view is
//! checked to never map two elements to the same address (which would be a data race once gemm
//! splits the work over threads).

use gemm::Parallelism;
use rayon::prelude::*;

/// Below this many multiply-adds (`m * n * k`) a product runs on the calling thread; above it
/// gemm may use every rayon thread (it still applies its own, lower, threshold per block).
/// Measured on the shared 2-vCPU machine under load (load average about 12, min of 30 runs):
/// a single thread reached about 215 GFLOP/s from n = 128 up, and two threads were slower up to
/// n = 384 (n = 128: 19 us vs 34 us) and only level at n = 512. A quiet machine may cross over
/// earlier, so the threshold sits at n = 256 as a compromise.
const PARALLEL_MIN_MACS: usize = 256 * 256 * 256;

/// Smallest amount of work (multiply-adds) worth one rayon task when [`batched_matmul`]
/// spreads small products over the threads: about a microsecond of arithmetic, so that the
/// task hand-off does not dominate.
const TASK_MIN_MACS: usize = 64 * 64 * 64;

/// Where a matrix lives inside a flat slice: element `(i, j)` sits at
/// `i * row_stride + j * col_stride`.
///
/// A row-major `[rows, cols]` buffer has strides `(cols, 1)`; the transpose of a row-major
/// `[cols, rows]` buffer has strides `(1, rows)`; a row-major matrix whose rows are padded or
/// are the column block of a wider matrix has `row_stride` larger than `cols`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatLayout {
    /// Number of rows of the view.
    pub rows: usize,
    /// Number of columns of the view.
    pub cols: usize,
    /// Distance in elements between `(i, j)` and `(i + 1, j)`.
    pub row_stride: usize,
    /// Distance in elements between `(i, j)` and `(i, j + 1)`.
    pub col_stride: usize,
}

impl MatLayout {
    /// A dense row-major `[rows, cols]` matrix.
    pub fn row_major(rows: usize, cols: usize) -> MatLayout {
        MatLayout {
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The `[rows, cols]` matrix `op(X)`, where `X` is stored row-major as `[rows, cols]` when
    /// `transposed` is false and as `[cols, rows]` when it is true (so `op(X) = X^T`).
    pub fn op(rows: usize, cols: usize, transposed: bool) -> MatLayout {
        if transposed {
            MatLayout {
                rows,
                cols,
                row_stride: 1,
                col_stride: rows,
            }
        } else {
            MatLayout::row_major(rows, cols)
        }
    }

    /// The same elements seen as the transposed matrix (`[cols, rows]`), without moving data.
    pub fn t(self) -> MatLayout {
        MatLayout {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// The smallest slice length that holds every element of the view (0 for an empty view).
    pub fn min_len(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
        }
    }

    /// True when no two elements of the view share an address, i.e. the view can be written.
    fn is_injective(&self) -> bool {
        // Order the two axes by stride; an axis of length 1 never steps, so it cannot collide.
        let (mut small, mut big) = ((self.col_stride, self.cols), (self.row_stride, self.rows));
        if small.0 > big.0 {
            std::mem::swap(&mut small, &mut big);
        }
        (small.1 <= 1 || small.0 >= 1) && (big.1 <= 1 || big.0 >= small.0 * small.1.max(1))
    }
}

/// Whether a product may spread over the rayon thread pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Threading {
    /// Use every rayon thread when the product is big enough to pay for it.
    #[default]
    Auto,
    /// Stay on the calling thread: for callers that already run one product per thread.
    Single,
}

/// `C = A * B`, or `C += A * B` when `accumulate` is true, for arbitrarily strided views.
///
/// `A` is `[m, k]`, `B` is `[k, n]` and `C` is `[m, n]` (read from the layouts). This is the
/// building block of [`matmul`] and of the convolution kernels, which multiply column blocks of
/// larger matrices in place. gemm splits the output, never the inner sum, over threads, so
/// repeated calls on the same inputs give the same bits.
///
/// # Panics
/// When the inner or outer dimensions disagree, when a view reaches past the end of its slice,
/// when the `c` view maps two elements to one address, or when a stride exceeds `isize::MAX`.
#[allow(clippy::too_many_arguments)]
pub fn gemm_strided(
    c: &mut [f32],
    c_layout: MatLayout,
    a: &[f32],
    a_layout: MatLayout,
    b: &[f32],
    b_layout: MatLayout,
    accumulate: bool,
    threading: Threading,
) {
    let (m, k, n) = (a_layout.rows, a_layout.cols, b_layout.cols);
    assert_eq!(
        b_layout.rows, k,
        "gemm: A is [{m}, {k}] but B has {} rows",
        b_layout.rows
    );
    assert!(
        c_layout.rows == m && c_layout.cols == n,
        "gemm: A * B is [{m}, {n}] but C is [{}, {}]",
        c_layout.rows,
        c_layout.cols
    );
    for (name, len, layout) in [
        ("A", a.len(), a_layout),
        ("B", b.len(), b_layout),
        ("C", c.len(), c_layout),
    ] {
        assert!(
            layout.min_len() <= len,
            "gemm: {name} view {layout:?} needs {} elements, slice has {len}",
            layout.min_len()
        );
        assert!(
            layout.row_stride <= isize::MAX as usize && layout.col_stride <= isize::MAX as usize,
            "gemm: {name} stride too large"
        );
    }
    assert!(
        c_layout.is_injective(),
        "gemm: C view {c_layout:?} overlaps itself"
    );

    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    c[i * c_layout.row_stride + j * c_layout.col_stride] = 0.0;
                }
            }
        }
        return;
    }
    let parallelism = match threading {
        Threading::Auto if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN_MACS => {
            Parallelism::Rayon(rayon::current_num_threads())
        }
        _ => Parallelism::None,
    };
    // SAFETY: every element the call touches lies inside its slice (checked above through
    // `min_len`, with m, n, k > 0); `c` is borrowed mutably, so it cannot overlap `a` or `b`, and
    // its view is injective, so the threads gemm spawns write disjoint elements. Strides fit in
    // `isize` (checked). With `read_dst == accumulate`, gemm computes
    // `dst = 1 * dst + 1 * lhs * rhs` or `dst = lhs * rhs`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_layout.col_stride as isize,
            c_layout.row_stride as isize,
            accumulate,
            a.as_ptr(),
            a_layout.col_stride as isize,
            a_layout.row_stride as isize,
            b.as_ptr(),
            b_layout.col_stride as isize,
            b_layout.row_stride as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `C = op(A) * op(B)` (or `C += ...` when `accumulate`), all dense row-major.
///
/// `op(A)` is `[m, k]`: `a` holds `[m, k]`, or `[k, m]` when `a_trans` (so `op(A) = A^T`);
/// likewise `op(B)` is `[k, n]` and `b` holds `[k, n]`, or `[n, k]` when `b_trans`. `c` is
/// `[m, n]`. Large products use all rayon threads, small ones stay on the calling thread.
///
/// # Panics
/// When `a.len() != m * k`, `b.len() != k * n` or `c.len() != m * n`.
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    a_trans: bool,
    b: &[f32],
    b_trans: bool,
    c: &mut [f32],
    accumulate: bool,
) {
    assert_eq!(
        a.len(),
        m * k,
        "matmul: A has {} elements, expected {m} x {k}",
        a.len()
    );
    assert_eq!(
        b.len(),
        k * n,
        "matmul: B has {} elements, expected {k} x {n}",
        b.len()
    );
    assert_eq!(
        c.len(),
        m * n,
        "matmul: C has {} elements, expected {m} x {n}",
        c.len()
    );
    gemm_strided(
        c,
        MatLayout::row_major(m, n),
        a,
        MatLayout::op(m, k, a_trans),
        b,
        MatLayout::op(k, n, b_trans),
        accumulate,
        Threading::Auto,
    );
}

/// `C[i] = op(A[i]) * op(B[i])` for `i < batch` (or `+=` when `accumulate`): `[batch, m, k]`
/// times `[batch, k, n]`, each matrix dense row-major with the same meaning of `a_trans` /
/// `b_trans` as in [`matmul`].
///
/// Large matrices are multiplied one after the other, each spread over the threads; small ones
/// are spread over the threads one whole product per task, which is where batching pays.
///
/// # Panics
/// When `a.len() != batch * m * k`, `b.len() != batch * k * n` or
/// `c.len() != batch * m * n`.
#[allow(clippy::too_many_arguments)]
pub fn batched_matmul(
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    a_trans: bool,
    b: &[f32],
    b_trans: bool,
    c: &mut [f32],
    accumulate: bool,
) {
    let (sa, sb, sc) = (m * k, k * n, m * n);
    assert_eq!(
        a.len(),
        batch * sa,
        "batched_matmul: A has {} elements, expected {batch} x {m} x {k}",
        a.len()
    );
    assert_eq!(
        b.len(),
        batch * sb,
        "batched_matmul: B has {} elements, expected {batch} x {k} x {n}",
        b.len()
    );
    assert_eq!(
        c.len(),
        batch * sc,
        "batched_matmul: C has {} elements, expected {batch} x {m} x {n}",
        c.len()
    );
    if batch == 0 || sc == 0 {
        return;
    }
    let (la, lb, lc) = (
        MatLayout::op(m, k, a_trans),
        MatLayout::op(k, n, b_trans),
        MatLayout::row_major(m, n),
    );
    // An empty A or B (k == 0) still has to clear C, so chunk it with a non-zero size.
    let one = |(i, ci): (usize, &mut [f32]), threading| {
        let ai = &a[i * sa..(i + 1) * sa];
        let bi = &b[i * sb..(i + 1) * sb];
        gemm_strided(ci, lc, ai, la, bi, lb, accumulate, threading);
    };
    let macs = m * n * k;
    if macs >= PARALLEL_MIN_MACS || rayon::current_num_threads() == 1 {
        c.chunks_mut(sc)
            .enumerate()
            .for_each(|x| one(x, Threading::Auto));
    } else {
        // Group tiny products so that each task does at least TASK_MIN_MACS of work.
        let per_task = (TASK_MIN_MACS / macs.max(1)).max(1);
        c.par_chunks_mut(sc)
            .enumerate()
            .with_min_len(per_task)
            .for_each(|x| one(x, Threading::Single));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(len: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
        (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
    }

    /// Reads element (i, j) of a row-major matrix stored as given by `trans`.
    fn at(x: &[f32], rows: usize, cols: usize, trans: bool, i: usize, j: usize) -> f32 {
        if trans {
            x[j * rows + i]
        } else {
            x[i * cols + j]
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn naive(
        m: usize,
        k: usize,
        n: usize,
        a: &[f32],
        at_: bool,
        b: &[f32],
        bt: bool,
        c: &mut [f32],
        acc: bool,
    ) {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for p in 0..k {
                    s += at(a, m, k, at_, i, p) as f64 * at(b, k, n, bt, p, j) as f64;
                }
                let prev = if acc { c[i * n + j] as f64 } else { 0.0 };
                c[i * n + j] = (prev + s) as f32;
            }
        }
    }

    fn assert_close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            let tol = 1e-4 * (1.0 + w.abs());
            assert!(
                (g - w).abs() <= tol,
                "{what}: element {i}: got {g}, want {w}"
            );
        }
    }

    #[test]
    fn matmul_matches_naive_for_all_transpositions() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for &(m, k, n) in &[
            (1, 1, 1),
            (3, 5, 7),
            (17, 9, 33),
            (64, 70, 65),
            (130, 129, 90),
            (5, 0, 4),
        ] {
            for (at_, bt) in [(false, false), (true, false), (false, true), (true, true)] {
                for acc in [false, true] {
                    let a = random(m * k, &mut rng);
                    let b = random(k * n, &mut rng);
                    let c0 = random(m * n, &mut rng);
                    let mut got = c0.clone();
                    let mut want = c0.clone();
                    matmul(m, k, n, &a, at_, &b, bt, &mut got, acc);
                    naive(m, k, n, &a, at_, &b, bt, &mut want, acc);
                    assert_close(
                        &got,
                        &want,
                        &format!("{m}x{k}x{n} at={at_} bt={bt} acc={acc}"),
                    );
                }
            }
        }
    }

    #[test]
    fn batched_matmul_matches_per_item_naive() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        // Small items go through the parallel-over-batch path, large ones through gemm threads.
        for &(batch, m, k, n) in &[
            (7, 3, 4, 5),
            (3, 70, 80, 90),
            (2, 1, 6, 1),
            (2, 260, 256, 256),
        ] {
            let threaded = m * n * k >= PARALLEL_MIN_MACS;
            assert_eq!(threaded, m == 260, "cases cover both batching strategies");
            for (at_, bt) in [(false, false), (true, true), (false, true)] {
                let a = random(batch * m * k, &mut rng);
                let b = random(batch * k * n, &mut rng);
                let mut got = random(batch * m * n, &mut rng);
                let mut want = got.clone();
                batched_matmul(batch, m, k, n, &a, at_, &b, bt, &mut got, true);
                for i in 0..batch {
                    naive(
                        m,
                        k,
                        n,
                        &a[i * m * k..(i + 1) * m * k],
                        at_,
                        &b[i * k * n..(i + 1) * k * n],
                        bt,
                        &mut want[i * m * n..(i + 1) * m * n],
                        true,
                    );
                }
                assert_close(&got, &want, &format!("batch {batch} {m}x{k}x{n}"));
            }
        }
    }

    #[test]
    fn strided_views_write_only_their_block() {
        // C is the middle column block [2..5) of a 4 x 8 matrix; the rest must stay untouched.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let a = random(4 * 6, &mut rng);
        let b = random(6 * 3, &mut rng);
        let mut big = [7.0f32; 4 * 8];
        let layout = MatLayout {
            rows: 4,
            cols: 3,
            row_stride: 8,
            col_stride: 1,
        };
        gemm_strided(
            &mut big[2..],
            layout,
            &a,
            MatLayout::row_major(4, 6),
            &b,
            MatLayout::row_major(6, 3),
            false,
            Threading::Single,
        );
        let mut want = vec![0.0f32; 12];
        naive(4, 6, 3, &a, false, &b, false, &mut want, false);
        for i in 0..4 {
            for j in 0..8 {
                let got = big[i * 8 + j];
                if (2..5).contains(&j) {
                    assert!((got - want[i * 3 + j - 2]).abs() < 1e-5, "({i}, {j})");
                } else {
                    assert_eq!(got, 7.0, "({i}, {j}) was overwritten");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "overlaps itself")]
    fn overlapping_output_view_is_refused() {
        let mut c = vec![0.0f32; 4];
        let layout = MatLayout {
            rows: 2,
            cols: 2,
            row_stride: 1,
            col_stride: 1,
        };
        gemm_strided(
            &mut c,
            layout,
            &[1.0; 4],
            MatLayout::row_major(2, 2),
            &[1.0; 4],
            MatLayout::row_major(2, 2),
            false,
            Threading::Single,
        );
    }

    #[test]
    #[should_panic(expected = "needs 14 elements")]
    fn short_slice_is_refused() {
        // Rows 12 apart: the last element (1, 1) sits at index 13, past a 12-element slice.
        let mut c = vec![0.0f32; 12];
        let layout = MatLayout {
            rows: 2,
            cols: 2,
            row_stride: 12,
            col_stride: 1,
        };
        let (a, b) = ([1.0; 4], [1.0; 4]);
        let l = MatLayout::row_major(2, 2);
        gemm_strided(&mut c, layout, &a, l, &b, l, false, Threading::Single);
    }

    #[test]
    fn transposed_layout_is_its_own_inverse() {
        let l = MatLayout::op(3, 5, true);
        assert_eq!(l.t().t(), l);
        assert_eq!(l.t(), MatLayout::row_major(5, 3));
    }
}
