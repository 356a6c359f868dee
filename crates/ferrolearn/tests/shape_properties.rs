//! Property tests of the broadcasting and shape rules: the broadcast shape is NumPy's and
//! commutative, a broadcast elementwise op equals the op on explicitly expanded tensors and
//! on a naive index computation, un-broadcasting sums (`sum_to_shape`) add up what was
//! broadcast, reshape and permute round-trip, and incompatible shapes are errors through the
//! checked entry points, never a crash.

use ferrolearn::tensor::shape::broadcast_shape;
use ferrolearn::tensor::{catch_shape_error, quiet_shape_panics};
use ferrolearn::Tensor;
use proptest::prelude::*;

/// A shape of rank 0 to 4 with dimensions 1 to 4.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=4, 0..=4)
}

/// A shape `t` and a shape that broadcasts to it: leading dimensions dropped, some set to 1.
fn broadcastable() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape()
        .prop_flat_map(|t| {
            let n = t.len();
            (Just(t), 0..=n, prop::collection::vec(any::<bool>(), n))
        })
        .prop_map(|(t, drop, ones)| {
            let s = t[drop..]
                .iter()
                .zip(&ones[drop..])
                .map(|(&d, &one)| if one { 1 } else { d })
                .collect();
            (t, s)
        })
}

/// NumPy's rule, written independently: align from the right; equal, or one of them 1.
fn numpy_broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let da = if i < a.len() { a[a.len() - 1 - i] } else { 1 };
        let db = if i < b.len() { b[b.len() - 1 - i] } else { 1 };
        out.push(match (da, db) {
            _ if da == db => da,
            (1, _) => db,
            (_, 1) => da,
            _ => return None,
        });
    }
    out.reverse();
    Some(out)
}

/// A tensor of `shape` holding distinct values.
fn iota(shape: &[usize], offset: f32) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| offset + i as f32).collect(), shape)
}

/// The flat index in `shape` (broadcast to `target`) of the element at `target`'s flat index.
fn source_index(flat: usize, target: &[usize], shape: &[usize]) -> usize {
    let mut rem = flat;
    let mut coords = vec![0; target.len()];
    for axis in (0..target.len()).rev() {
        coords[axis] = rem % target[axis];
        rem /= target[axis];
    }
    let lead = target.len() - shape.len();
    shape.iter().enumerate().fold(0, |acc, (i, &d)| {
        acc * d + if d == 1 { 0 } else { coords[lead + i] }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn broadcast_shape_is_numpys_and_commutative(a in shape(), b in shape()) {
        let ab = broadcast_shape("test", &a, &b).ok();
        let ba = broadcast_shape("test", &b, &a).ok();
        prop_assert_eq!(&ab, &ba);
        prop_assert_eq!(ab, numpy_broadcast(&a, &b));
    }

    #[test]
    fn a_shape_broadcasts_to_its_expansion((t, s) in broadcastable()) {
        prop_assert_eq!(broadcast_shape("test", &s, &t).ok(), Some(t.clone()));
        prop_assert_eq!(broadcast_shape("test", &t, &t).ok(), Some(t));
    }

    #[test]
    fn broadcast_ops_equal_ops_on_expanded_tensors((t, s) in broadcastable(), swap in any::<bool>()) {
        let (x, y) = (iota(&t, 1.0), iota(&s, 0.5));
        let (x, y) = if swap { (y, x) } else { (x, y) };
        let (xe, ye) = (x.broadcast_to(&t), y.broadcast_to(&t));
        for (got, want) in [(x.add(&y), xe.add(&ye)), (x.mul(&y), xe.mul(&ye)), (x.sub(&y), xe.sub(&ye))] {
            prop_assert_eq!(got.shape(), &t[..]);
            prop_assert_eq!(got.data(), want.data());
        }
        let sum = x.add(&y);
        for (i, v) in sum.data().iter().enumerate() {
            let want = x.data()[source_index(i, &t, x.shape())] + y.data()[source_index(i, &t, y.shape())];
            prop_assert_eq!(*v, want);
        }
    }

    #[test]
    fn sum_to_shape_adds_up_what_was_broadcast((t, s) in broadcastable()) {
        let g = iota(&t, 1.0);
        let summed = g.sum_to_shape(&s);
        prop_assert_eq!(summed.shape(), &s[..]);
        let mut want = vec![0.0f32; summed.numel()];
        for (i, v) in g.data().iter().enumerate() {
            want[source_index(i, &t, &s)] += v;
        }
        prop_assert_eq!(summed.data(), &want[..]);
        // Broadcasting ones and summing back counts the copies of each element.
        let copies = (t.iter().product::<usize>() / s.iter().product::<usize>()) as f32;
        let ones = Tensor::from_vec(vec![1.0; summed.numel()], &s).broadcast_to(&t).sum_to_shape(&s);
        prop_assert!(ones.data().iter().all(|&c| c == copies));
    }

    #[test]
    fn reshape_and_permute_round_trip(t in shape(), perm_seed in any::<u64>()) {
        let x = iota(&t, 0.0);
        let flat = x.reshape(&[x.numel()]);
        prop_assert_eq!(flat.data(), x.data());
        let back_flat = flat.reshape(&t);
        prop_assert_eq!(back_flat.shape(), &t[..]);
        // A permutation from the seed, and its inverse.
        let mut perm: Vec<usize> = (0..t.len()).collect();
        let mut state = perm_seed;
        for i in (1..perm.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (state >> 33) as usize % (i + 1));
        }
        let mut inverse = vec![0; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i;
        }
        let p = x.permute(&perm);
        let permuted_shape: Vec<usize> = perm.iter().map(|&a| t[a]).collect();
        prop_assert_eq!(p.shape(), &permuted_shape[..]);
        let back = p.permute(&inverse);
        prop_assert_eq!(back.shape(), &t[..]);
        prop_assert_eq!(back.data(), x.data());
    }

    #[test]
    fn incompatible_shapes_are_errors_naming_both(a in shape(), b in shape()) {
        quiet_shape_panics();
        if numpy_broadcast(&a, &b).is_none() {
            let err = broadcast_shape("add", &a, &b).expect_err("incompatible");
            prop_assert!(err.to_string().contains(&format!("{a:?} and {b:?}")), "{}", err);
            let (x, y) = (iota(&a, 0.0), iota(&b, 0.0));
            let caught = catch_shape_error(|| x.add(&y)).expect_err("incompatible add");
            prop_assert!(caught.to_string().contains(&format!("{a:?}")), "{}", caught);
            prop_assert!(catch_shape_error(|| x.sum_to_shape(&b)).is_err());
        }
        let n: usize = a.iter().product();
        let x = iota(&a, 0.0);
        prop_assert!(catch_shape_error(|| x.reshape(&[n + 1])).is_err());
        prop_assert!(Tensor::try_from_vec(vec![0.0; n + 1], &a).is_err());
    }
}
