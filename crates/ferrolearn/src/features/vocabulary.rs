//! The visual words of a bag of visual words: k-means centres of image patches, each a
//! `[C, size, size]` patch, with the nearest-word lookup that encodes an image.

use ndarray::{Array1, Array2, ArrayView2};

use crate::classic::kmeans::KMeansModel;
use crate::{Error, Result};

/// Visual words: `[words, C * size * size]` centres of (normalised) patches of `[C, size,
/// size]` pixels, in `f64` so that the training and test features of a cache are encoded
/// with exactly the same numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    patch_shape: [usize; 3],
    centres: KMeansModel,
}

impl Vocabulary {
    /// Words from `centres`, one row per word, each row a patch of `patch_shape`
    /// (`[C, size, size]`, channel-major).
    ///
    /// # Errors
    /// `InvalidData` when a row's length is not the patch's, there is no word or a value is
    /// not finite.
    pub fn new(patch_shape: [usize; 3], centres: ArrayView2<f64>) -> Result<Vocabulary> {
        let len: usize = patch_shape.iter().product();
        if centres.ncols() != len || centres.nrows() == 0 {
            return Err(Error::InvalidData(format!(
                "a vocabulary of {}x{} centres does not hold words of {patch_shape:?} patches \
                 ({len} values each)",
                centres.nrows(),
                centres.ncols()
            )));
        }
        let centres = KMeansModel::new(centres)
            .map_err(|e| Error::InvalidData(format!("vocabulary centres: {e}")))?;
        Ok(Vocabulary {
            patch_shape,
            centres,
        })
    }

    /// The number of words.
    pub fn words(&self) -> usize {
        self.centres.k()
    }

    /// The shape of one word's patch, `[C, size, size]`.
    pub fn patch_shape(&self) -> [usize; 3] {
        self.patch_shape
    }

    /// The words, `[words, C * size * size]`.
    pub fn centres(&self) -> Array2<f64> {
        self.centres.centres()
    }

    /// The nearest word of each patch (the rows of `patches`, squared Euclidean distance
    /// through GEMM in `f64`, ties to the lower word).
    pub(crate) fn nearest(&self, patches: ArrayView2<f64>) -> Result<Array1<usize>> {
        self.centres.predict(patches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn words_are_checked_and_found() {
        let v = Vocabulary::new([1, 1, 2], array![[0.0, 0.0], [10.0, 0.0]].view()).unwrap();
        assert_eq!(v.words(), 2);
        let near = v.nearest(array![[1.0, 5.0], [6.0, -1.0]].view()).unwrap();
        assert_eq!(near.to_vec(), vec![0, 1]);
        let err = Vocabulary::new([3, 2, 2], array![[0.0, 0.0]].view())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[3, 2, 2]") && err.contains("12 values"),
            "{err}"
        );
        assert!(Vocabulary::new([1, 1, 1], array![[f64::NAN]].view()).is_err());
    }
}
