//! The running k smallest distances of each query, the structure neighbour search fills.

/// The k smallest `(value, index)` pairs seen so far for each of `rows` queries, each list
/// sorted ascending; a later index never displaces an equal earlier one.
pub(super) struct TopK {
    k: usize,
    dist: Vec<f32>,
    idx: Vec<usize>,
}

impl TopK {
    pub(super) fn new(rows: usize, k: usize) -> Self {
        Self {
            k,
            dist: vec![f32::INFINITY; rows * k],
            idx: vec![usize::MAX; rows * k],
        }
    }

    pub(super) fn dist(&self, r: usize) -> &[f32] {
        &self.dist[r * self.k..(r + 1) * self.k]
    }

    pub(super) fn idx(&self, r: usize) -> &[usize] {
        &self.idx[r * self.k..(r + 1) * self.k]
    }

    /// Offers `values[j] (+ add[j])` with index `offset + j`, in increasing index order.
    #[inline]
    pub(super) fn scan(&mut self, r: usize, values: &[f32], add: Option<&[f32]>, offset: usize) {
        match add {
            Some(add) => self.scan_iter(r, values.iter().zip(add).map(|(v, a)| v + a), offset),
            None => self.scan_iter(r, values.iter().copied(), offset),
        }
    }

    #[inline(always)]
    pub(super) fn scan_iter(&mut self, r: usize, values: impl Iterator<Item = f32>, offset: usize) {
        let k = self.k;
        let dist = &mut self.dist[r * k..(r + 1) * k];
        let idx = &mut self.idx[r * k..(r + 1) * k];
        let mut worst = dist[k - 1];
        for (j, v) in values.enumerate() {
            if v < worst {
                let mut p = k - 1;
                while p > 0 && dist[p - 1] > v {
                    dist[p] = dist[p - 1];
                    idx[p] = idx[p - 1];
                    p -= 1;
                }
                dist[p] = v;
                idx[p] = offset + j;
                worst = dist[k - 1];
            }
        }
    }
}
