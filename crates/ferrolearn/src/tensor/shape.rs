//! Shape arithmetic: NumPy broadcasting and axis validation.

use super::check::{fmt_shape, ShapeError};

/// The broadcast shape of `a` and `b` under NumPy rules (align trailing dimensions; each pair
/// must be equal or contain a 1).
pub fn broadcast_shape(
    op: &'static str,
    a: &[usize],
    b: &[usize],
) -> Result<Vec<usize>, ShapeError> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(ShapeError::new(
                    op,
                    format!(
                        "{} and {}: cannot broadcast dimension {da} against {db}",
                        fmt_shape(a),
                        fmt_shape(b)
                    ),
                ))
            }
        };
    }
    Ok(out)
}

/// Row-major strides of `shape` (in elements).
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Strides for reading a tensor of `shape` as if broadcast to `target`: broadcast
/// dimensions get stride 0. `shape` must broadcast to `target`.
pub fn broadcast_strides(shape: &[usize], target: &[usize]) -> Vec<usize> {
    let own = strides(shape);
    let offset = target.len() - shape.len();
    (0..target.len())
        .map(|i| {
            if i < offset || shape[i - offset] == 1 {
                0
            } else {
                own[i - offset]
            }
        })
        .collect()
}

/// Checks that `axis` is a valid dimension index of `shape`.
pub fn check_axis(op: &'static str, shape: &[usize], axis: usize) {
    if axis >= shape.len() {
        ShapeError::new(
            op,
            format!("axis {axis} out of range for {}", fmt_shape(shape)),
        )
        .raise();
    }
}

/// `shape` split around `axis` as `(outer, size, inner)`: the product of the dimensions
/// before, the dimension itself and the product after.
pub fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shape("t", &[2, 3], &[3]).unwrap(), vec![2, 3]);
        assert_eq!(
            broadcast_shape("t", &[4, 1, 5], &[3, 1]).unwrap(),
            vec![4, 3, 5]
        );
        assert_eq!(broadcast_shape("t", &[], &[2]).unwrap(), vec![2]);
        let err = broadcast_shape("add", &[2, 3], &[4]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "add: [2, 3] and [4]: cannot broadcast dimension 3 against 4"
        );
    }

    proptest! {
        #[test]
        fn broadcast_is_symmetric_and_covers_both(a in prop::collection::vec(1usize..4, 0..4),
                                                  b in prop::collection::vec(1usize..4, 0..4)) {
            let ab = broadcast_shape("t", &a, &b);
            let ba = broadcast_shape("t", &b, &a);
            prop_assert_eq!(ab.is_ok(), ba.is_ok());
            if let (Ok(ab), Ok(ba)) = (ab, ba) {
                prop_assert_eq!(&ab, &ba);
                prop_assert_eq!(ab.len(), a.len().max(b.len()));
                for (i, &d) in a.iter().rev().enumerate() {
                    prop_assert!(d == 1 || ab[ab.len() - 1 - i] == d);
                }
            }
        }
    }
}
