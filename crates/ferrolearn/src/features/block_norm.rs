//! HOG block normalisation: the four methods of scikit-image's `_hog_normalize_block`.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// scikit-image's `eps`, added so that an empty block normalises to zeros.
const EPS: f64 = 1e-5;
/// L2-Hys clips the normalised values at this before normalising again.
const HYS_CLIP: f64 = 0.2;

/// How a HOG block of cell histograms is normalised (`v` the block's values, `e = 1e-5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockNorm {
    /// `v / (sum|v| + e)`.
    L1,
    /// `sqrt(v / (sum|v| + e))`.
    L1Sqrt,
    /// `v / sqrt(sum v^2 + e^2)`.
    L2,
    /// L2, then values clipped at 0.2, then L2 again (Lowe's hysteresis); scikit-image's default.
    #[default]
    L2Hys,
}

impl BlockNorm {
    /// Every method, in scikit-image's order.
    pub const ALL: [BlockNorm; 4] = [
        BlockNorm::L1,
        BlockNorm::L1Sqrt,
        BlockNorm::L2,
        BlockNorm::L2Hys,
    ];

    /// scikit-image's name: `L1`, `L1-sqrt`, `L2`, `L2-Hys`.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockNorm::L1 => "L1",
            BlockNorm::L1Sqrt => "L1-sqrt",
            BlockNorm::L2 => "L2",
            BlockNorm::L2Hys => "L2-Hys",
        }
    }

    /// Normalises one block in place (sums in f64).
    pub(crate) fn apply(self, block: &mut [f32]) {
        match self {
            BlockNorm::L1 | BlockNorm::L1Sqrt => {
                let sum: f64 = block.iter().map(|&v| f64::from(v).abs()).sum();
                let scale = 1.0 / (sum + EPS);
                for v in block.iter_mut() {
                    let x = f64::from(*v) * scale;
                    *v = if self == BlockNorm::L1 { x } else { x.sqrt() } as f32;
                }
            }
            BlockNorm::L2 => scale_l2(block),
            BlockNorm::L2Hys => {
                scale_l2(block);
                for v in block.iter_mut() {
                    *v = v.min(HYS_CLIP as f32);
                }
                scale_l2(block);
            }
        }
    }
}

/// `v / sqrt(sum v^2 + e^2)` in place.
fn scale_l2(block: &mut [f32]) {
    let sum: f64 = block.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let scale = 1.0 / (sum + EPS * EPS).sqrt();
    for v in block.iter_mut() {
        *v = (f64::from(*v) * scale) as f32;
    }
}

impl fmt::Display for BlockNorm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BlockNorm {
    type Err = Error;

    /// Parses scikit-image's names, ignoring case.
    fn from_str(s: &str) -> Result<BlockNorm> {
        BlockNorm::ALL
            .into_iter()
            .find(|n| n.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::InvalidParameter(format!(
                    "unknown HOG block norm `{s}`: use L1, L1-sqrt, L2 or L2-Hys"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_norm_matches_its_formula() {
        let mut l1 = [1.0f32, 3.0];
        BlockNorm::L1.apply(&mut l1);
        assert!((l1[1] - 0.75).abs() < 1e-5);
        let mut l2 = [3.0f32, 4.0];
        BlockNorm::L2.apply(&mut l2);
        assert!((l2[0] - 0.6).abs() < 1e-5 && (l2[1] - 0.8).abs() < 1e-5);
        let mut sqrt = [1.0f32, 3.0];
        BlockNorm::L1Sqrt.apply(&mut sqrt);
        assert!((sqrt[0] - 0.5).abs() < 1e-5);
        // L2 gives [0.6, 0.8]; both clip to 0.2 and renormalise to 1/sqrt(2).
        let mut hys = [3.0f32, 4.0];
        BlockNorm::L2Hys.apply(&mut hys);
        assert!((hys[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-5);
    }

    #[test]
    fn an_empty_block_stays_zero() {
        for norm in BlockNorm::ALL {
            let mut block = [0.0f32; 8];
            norm.apply(&mut block);
            assert!(block.iter().all(|&v| v == 0.0), "{norm}");
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for norm in BlockNorm::ALL {
            assert_eq!(norm.as_str().parse::<BlockNorm>().unwrap(), norm);
        }
        let err = "L3".parse::<BlockNorm>().unwrap_err().to_string();
        assert!(err.contains("L3") && err.contains("L2-Hys"), "{err}");
    }
}
