//! The random numbers of scikit-learn's SGD, reproduced so that a seed gives the sample order
//! `SGDClassifier(random_state=seed)` visits: numpy's legacy `RandomState(seed).randint`
//! (MT19937 with masked rejection) draws the shuffle seeds, and `our_rand_r` (xorshift) drives
//! the Fisher–Yates shuffle of each epoch.

use rand_mt::Mt;

/// numpy's `np.iinfo(np.int32).max`, the bound of scikit-learn's seed draws.
pub(super) const MAX_INT: u32 = i32::MAX as u32;

/// numpy's legacy `RandomState` seeded with an integer.
pub(super) struct RandomState(Mt);

impl RandomState {
    /// `np.random.RandomState(seed)`.
    pub(super) fn new(seed: u32) -> Self {
        RandomState(Mt::new(seed))
    }

    /// `randint(low, high)`: uniform in `low..high` (`high > low + 1`), as numpy draws it:
    /// 32-bit outputs masked to the range's bit width, rejected until in range.
    pub(super) fn randint(&mut self, low: u32, high: u32) -> u32 {
        let range = high - 1 - low;
        let mut mask = range;
        for shift in [1, 2, 4, 8, 16] {
            mask |= mask >> shift;
        }
        loop {
            let v = self.0.next_u32() & mask;
            if v <= range {
                return low + v;
            }
        }
    }
}

/// scikit-learn's `our_rand_r`: one xorshift step of `state` (0 counts as 1), reduced to
/// `0..2^31`.
fn our_rand_r(state: &mut u32) -> u32 {
    if *state == 0 {
        *state = 1;
    }
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state % (1 << 31)
}

/// `SequentialDataset.shuffle(seed)`: a Fisher–Yates pass over `order` driven by a fresh
/// xorshift state `seed` (the same seed every epoch: each pass permutes the previous order).
pub(super) fn shuffle(order: &mut [u32], seed: u32) {
    let mut state = seed;
    let n = order.len() as u32;
    for i in 0..n.saturating_sub(1) {
        let j = i + our_rand_r(&mut state) % (n - i);
        order.swap(i as usize, j as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws numpy 1.26 / 2.x gives: `RandomState(0).randint(2**31 - 1)` three times,
    /// `RandomState(42)` with `randint(1, 2**31 - 1)` then `randint(2**31 - 1)`, and
    /// `RandomState(2**32 - 1).randint(2**31 - 1, size=4)`.
    #[test]
    fn randint_matches_numpy() {
        let mut rs = RandomState::new(0);
        let got: Vec<u32> = (0..3).map(|_| rs.randint(0, MAX_INT)).collect();
        assert_eq!(got, [209652396, 398764591, 924231285]);
        let mut rs = RandomState::new(42);
        assert_eq!(rs.randint(1, MAX_INT), 1608637543);
        assert_eq!(rs.randint(0, MAX_INT), 1273642419);
        let mut rs = RandomState::new(u32::MAX);
        let got: Vec<u32> = (0..4).map(|_| rs.randint(0, MAX_INT)).collect();
        assert_eq!(got, [419326371, 479346978, 1771170828, 269265991]);
    }

    /// A shuffle is a permutation, and the same seed applied twice permutes again.
    #[test]
    fn shuffle_permutes() {
        let mut order: Vec<u32> = (0..50).collect();
        shuffle(&mut order, 7);
        let first = order.clone();
        assert_ne!(first, (0..50).collect::<Vec<u32>>());
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<u32>>());
        shuffle(&mut order, 7);
        assert_ne!(order, first);
    }
}
