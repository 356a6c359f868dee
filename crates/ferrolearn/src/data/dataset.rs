//! An in-memory image dataset: `u8` pixels, one `[C, H, W]` shape for every item, labels and
//! class names.

use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::{Error, Result};

/// Images with one label each, held in memory as bytes.
///
/// Pixels are kept as `u8` (0..255) in NCHW order, a quarter of the memory of `f32`;
/// [`super::Loader`] converts them one batch at a time. Built through [`Dataset::new`], which
/// checks that sizes and labels agree, so every `Dataset` is consistent. The pixels are
/// shared, not copied, by `clone` (a dataset is never modified), so a loader's prefetching
/// thread can hold the dataset without borrowing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    images: Arc<Vec<u8>>,
    item_shape: [usize; 3],
    labels: Vec<u8>,
    class_names: Vec<String>,
}

impl Dataset {
    /// A dataset of `labels.len()` images of shape `item_shape` (`[C, H, W]`), stored one
    /// after another in `images`.
    ///
    /// # Errors
    /// `InvalidData` when `images` does not hold exactly one item per label, an item would be
    /// empty, there are no or more than 256 class names, or a label is not below the number
    /// of class names.
    pub fn new(
        images: Vec<u8>,
        item_shape: [usize; 3],
        labels: Vec<u8>,
        class_names: Vec<String>,
    ) -> Result<Dataset> {
        let item_len: usize = item_shape.iter().product();
        if item_len == 0 {
            return Err(Error::InvalidData(format!(
                "item shape {item_shape:?} holds no pixels"
            )));
        }
        if Some(images.len()) != labels.len().checked_mul(item_len) {
            return Err(Error::InvalidData(format!(
                "{} labels of {item_shape:?} images need {} pixels, got {}",
                labels.len(),
                labels.len().saturating_mul(item_len),
                images.len()
            )));
        }
        if class_names.is_empty() || class_names.len() > 256 {
            return Err(Error::InvalidData(format!(
                "{} class names: a dataset needs 1 to 256",
                class_names.len()
            )));
        }
        if let Some((i, &l)) = labels
            .iter()
            .enumerate()
            .find(|(_, &l)| usize::from(l) >= class_names.len())
        {
            return Err(Error::InvalidData(format!(
                "label {l} of item {i} is not below the number of classes ({})",
                class_names.len()
            )));
        }
        Ok(Dataset {
            images: Arc::new(images),
            item_shape,
            labels,
            class_names,
        })
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the dataset holds no item.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The shape of one item, `[C, H, W]`.
    pub fn item_shape(&self) -> [usize; 3] {
        self.item_shape
    }

    /// The number of pixels in one item, `C * H * W`.
    pub fn item_len(&self) -> usize {
        self.item_shape.iter().product()
    }

    /// All pixels, item after item (NCHW).
    pub fn images(&self) -> &[u8] {
        &self.images
    }

    /// The pixels of item `i` (`[C, H, W]`, row-major).
    ///
    /// # Panics
    /// When `i >= self.len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.item_len();
        &self.images[i * n..(i + 1) * n]
    }

    /// All labels, in item order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The label of item `i`.
    ///
    /// # Panics
    /// When `i >= self.len()`.
    pub fn label(&self, i: usize) -> usize {
        usize::from(self.labels[i])
    }

    /// The class names; label `k` names `class_names()[k]`.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// The number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// How many items each class has, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    /// A new dataset of the items at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    /// When an index is `>= self.len()`.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut images = Vec::with_capacity(indices.len() * self.item_len());
        for &i in indices {
            images.extend_from_slice(self.image(i));
        }
        Dataset {
            images: Arc::new(images),
            item_shape: self.item_shape,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            class_names: self.class_names.clone(),
        }
    }

    /// Splits off a held-out validation set of `round(fraction * len)` items chosen at random
    /// with `seed`, returning `(train, validation)`; both keep the original item order.
    ///
    /// The dataset is consumed and its storage reused for the training part, so the split
    /// costs only the validation set's memory. The same seed gives the same split.
    ///
    /// # Errors
    /// `InvalidParameter` when `fraction` is not in `[0, 1)` or would leave no training item.
    pub fn split_validation(self, fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(Error::InvalidParameter(format!(
                "validation fraction must be in [0, 1), got {fraction}"
            )));
        }
        let n = self.len();
        let n_val = (fraction * n as f64).round() as usize;
        if n_val >= n && n > 0 {
            return Err(Error::InvalidParameter(format!(
                "validation fraction {fraction} of {n} items leaves no training item"
            )));
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let mut in_val = vec![false; n];
        for &i in &order[..n_val] {
            in_val[i] = true;
        }
        let val_indices: Vec<usize> = (0..n).filter(|&i| in_val[i]).collect();
        let validation = self.subset(&val_indices);

        // Compact the training items to the front, in order, inside the same buffers.
        let Dataset {
            images,
            item_shape,
            mut labels,
            class_names,
        } = self;
        let mut images = Arc::unwrap_or_clone(images);
        let len = item_shape.iter().product::<usize>();
        let mut kept = 0;
        for i in 0..n {
            if !in_val[i] {
                if kept != i {
                    images.copy_within(i * len..(i + 1) * len, kept * len);
                    labels[kept] = labels[i];
                }
                kept += 1;
            }
        }
        images.truncate(kept * len);
        images.shrink_to_fit();
        labels.truncate(kept);
        let train = Dataset {
            images: Arc::new(images),
            item_shape,
            labels,
            class_names,
        };
        Ok((train, validation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` 1x1x2 items whose pixels are (i, i) and labels i % 3.
    fn toy(n: usize) -> Dataset {
        let images = (0..n).flat_map(|i| [i as u8, i as u8]).collect();
        let labels = (0..n).map(|i| (i % 3) as u8).collect();
        let names = ["a", "b", "c"].map(String::from).to_vec();
        Dataset::new(images, [1, 1, 2], labels, names).expect("valid")
    }

    #[test]
    fn new_checks_sizes_and_labels() {
        let names = || vec!["a".to_string(), "b".to_string()];
        let e = Dataset::new(vec![0; 5], [1, 2, 2], vec![0], names()).unwrap_err();
        assert!(
            e.to_string()
                .contains("1 labels of [1, 2, 2] images need 4 pixels, got 5"),
            "{e}"
        );
        let e = Dataset::new(vec![0; 8], [1, 2, 2], vec![0, 2], names()).unwrap_err();
        assert!(
            e.to_string().contains("label 2 of item 1 is not below"),
            "{e}"
        );
        assert!(Dataset::new(vec![], [0, 2, 2], vec![], names()).is_err());
    }

    #[test]
    fn accessors_and_subset() {
        let d = toy(5);
        assert_eq!((d.len(), d.item_len(), d.num_classes()), (5, 2, 3));
        assert_eq!(d.image(3), &[3, 3]);
        assert_eq!(d.class_counts(), vec![2, 2, 1]);
        let s = d.subset(&[4, 0, 4]);
        assert_eq!(s.images(), &[4, 4, 0, 0, 4, 4]);
        assert_eq!(s.labels(), &[1, 0, 1]);
    }

    #[test]
    fn validation_split_is_disjoint_ordered_and_seeded() {
        let (train, val) = toy(100).split_validation(0.2, 7).expect("valid");
        assert_eq!((train.len(), val.len()), (80, 20));
        let ids = |d: &Dataset| (0..d.len()).map(|i| d.image(i)[0]).collect::<Vec<u8>>();
        let (t, v) = (ids(&train), ids(&val));
        assert!(t.windows(2).all(|w| w[0] < w[1]) && v.windows(2).all(|w| w[0] < w[1]));
        let mut all: Vec<u8> = t.iter().chain(&v).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<u8>>());
        for (i, &id) in t.iter().enumerate() {
            assert_eq!(
                train.label(i),
                usize::from(id) % 3,
                "labels follow their images"
            );
        }
        let (_, again) = toy(100).split_validation(0.2, 7).expect("valid");
        assert_eq!(again, val);
        let (_, other) = toy(100).split_validation(0.2, 8).expect("valid");
        assert_ne!(other, val);
    }

    #[test]
    fn validation_fraction_is_checked() {
        for f in [-0.1, 1.0, f64::NAN] {
            let e = toy(10).split_validation(f, 0).unwrap_err().to_string();
            assert!(e.contains("validation fraction must be in [0, 1)"), "{e}");
        }
        assert!(toy(1).split_validation(0.6, 0).is_err());
        let (t, v) = toy(10).split_validation(0.0, 0).expect("valid");
        assert_eq!((t.len(), v.len()), (10, 0));
    }
}
