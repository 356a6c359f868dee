//! Which orientation bin a pixel's gradient votes into, decided exactly as scikit-image does.
//!
//! scikit-image takes the angle `arctan2(g_row, g_col) * (180 / pi) % 180` in float64 (numpy's
//! remainder: the result has the sign of 180, so it lies in `[0, 180]`) and puts it in bin `i`
//! when `t_i <= angle < t_{i+1}`, with thresholds `t_i = float32(180 / n * i)` (the Cython code
//! keeps them in C `float`). An angle of exactly 180 (a rounding of a tiny negative angle)
//! falls in no bin. Gradients of `u8` images are integers in `-255..=255`, so for them the bin
//! of every possible gradient is computed once into a table ([`IntegerBins`]); other gradients
//! go through [`OrientationBins::bin`].

use std::f64::consts::PI;
use std::sync::Arc;

/// The largest gradient component of a `u8` image: a central difference of two bytes.
const MAX_GRADIENT: i32 = 255;
/// The side of the integer gradient table: every value in `-255..=255`.
const SIDE: usize = 2 * MAX_GRADIENT as usize + 1;
/// The table entry of a gradient that falls in no bin.
pub(crate) const NO_BIN: u8 = u8::MAX;

/// The orientation thresholds of `n` bins over `[0, 180)` degrees.
#[derive(Debug, Clone)]
pub(crate) struct OrientationBins {
    /// `thresholds[i]`: the lower edge of bin `i`; `thresholds[n]` the upper edge of the last.
    thresholds: Vec<f64>,
}

impl OrientationBins {
    /// Thresholds of `n >= 1` bins, rounded through `f32` as scikit-image's Cython code does.
    pub(crate) fn new(n: usize) -> OrientationBins {
        let width = 180.0 / n as f64;
        let thresholds = (0..=n)
            .map(|i| f64::from((width * i as f64) as f32))
            .collect();
        OrientationBins { thresholds }
    }

    /// The number of bins.
    pub(crate) fn len(&self) -> usize {
        self.thresholds.len() - 1
    }

    /// The bin of gradient `(g_row, g_col)`, or `None` when its angle lies outside every bin.
    pub(crate) fn bin(&self, g_row: f64, g_col: f64) -> Option<usize> {
        let angle = numpy_remainder(g_row.atan2(g_col) * (180.0 / PI), 180.0);
        let n = self.len();
        let t = &self.thresholds;
        if !(angle >= t[0] && angle < t[n]) {
            return None;
        }
        let mut i = ((angle / 180.0 * n as f64) as usize).min(n - 1);
        while angle < t[i] {
            i -= 1;
        }
        while angle >= t[i + 1] {
            i += 1;
        }
        Some(i)
    }
}

/// numpy's float remainder `a % b`: `fmod`, moved by `b` when the signs differ.
pub(crate) fn numpy_remainder(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 && (m < 0.0) != (b < 0.0) {
        m + b
    } else {
        m
    }
}

/// The bin of every integer gradient `(g_row, g_col)` in `-255..=255` squared, shared by clones.
#[derive(Debug, Clone)]
pub(crate) struct IntegerBins {
    table: Arc<[u8]>,
}

impl IntegerBins {
    /// The table of `bins` (at most 254 bins, so that [`NO_BIN`] stays free).
    pub(crate) fn new(bins: &OrientationBins) -> IntegerBins {
        debug_assert!(bins.len() < usize::from(NO_BIN));
        let mut table = vec![NO_BIN; SIDE * SIDE];
        for (row, entries) in table.chunks_exact_mut(SIDE).enumerate() {
            let g_row = f64::from(row as i32 - MAX_GRADIENT);
            for (col, entry) in entries.iter_mut().enumerate() {
                let g_col = f64::from(col as i32 - MAX_GRADIENT);
                if let Some(b) = bins.bin(g_row, g_col) {
                    *entry = b as u8;
                }
            }
        }
        IntegerBins {
            table: table.into(),
        }
    }

    /// The bin of an integer gradient, [`NO_BIN`] for none; both components in `-255..=255`.
    #[inline]
    pub(crate) fn bin(&self, g_row: i32, g_col: i32) -> u8 {
        let index = (g_row + MAX_GRADIENT) as usize * SIDE + (g_col + MAX_GRADIENT) as usize;
        self.table[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_gradients_fall_on_their_bins() {
        let bins = OrientationBins::new(9);
        assert_eq!(bins.bin(0.0, 5.0), Some(0));
        assert_eq!(bins.bin(0.0, -5.0), Some(0)); // 180 degrees wraps to 0
        assert_eq!(bins.bin(5.0, 0.0), Some(4)); // 90 degrees: [80, 100)
        assert_eq!(bins.bin(-5.0, 0.0), Some(4)); // -90 -> 90
        assert_eq!(bins.bin(0.0, 0.0), Some(0)); // atan2(0, 0) = 0
    }

    #[test]
    fn a_bin_edge_belongs_to_the_upper_bin() {
        // 45 degrees is the edge between bins 2 and 3 of 12 (15 degrees each).
        let bins = OrientationBins::new(12);
        assert_eq!(bins.bin(7.0, 7.0), Some(3));
    }

    #[test]
    fn the_table_agrees_with_the_direct_computation() {
        let bins = OrientationBins::new(7);
        let table = IntegerBins::new(&bins);
        for (r, c) in [(-255, 255), (3, -4), (0, 0), (255, -1), (-17, -200)] {
            let direct = bins
                .bin(f64::from(r), f64::from(c))
                .map_or(NO_BIN, |b| b as u8);
            assert_eq!(table.bin(r, c), direct, "gradient ({r}, {c})");
        }
    }

    #[test]
    fn numpy_remainder_has_the_divisors_sign() {
        assert_eq!(numpy_remainder(-90.0, 180.0), 90.0);
        assert_eq!(numpy_remainder(190.0, 180.0), 10.0);
        assert_eq!(numpy_remainder(-1e-20, 180.0), 180.0);
    }
}
