//! Features of every image of a dataset: the asked kinds computed in parallel and concatenated,
//! one row per image.

use ndarray::Array2;
use rayon::prelude::*;

use super::hog::HogScratch;
use super::FeatureKind;
use crate::data::Dataset;
use crate::{Error, Result};

/// Images per parallel task (and per progress report).
const CHUNK: usize = 64;

/// Buffers one thread reuses from image to image.
#[derive(Default)]
struct Scratch {
    hog: HogScratch,
    /// The dense patches of a bag of visual words.
    patches: Vec<f64>,
}

/// A progress report: called with the number of images just finished (from any thread).
pub type Progress<'a> = &'a (dyn Fn(usize) + Sync);

/// The length of a row of `kinds` features of a `[C, H, W]` image: the sum of their lengths.
///
/// # Errors
/// `InvalidParameter` when `kinds` is empty; a kind's own error when it cannot describe such
/// an image.
pub fn feature_len(kinds: &[FeatureKind], item_shape: [usize; 3]) -> Result<usize> {
    if kinds.is_empty() {
        return Err(Error::InvalidParameter(
            "no feature kind asked: give at least one (hog, color, bovw)".into(),
        ));
    }
    kinds.iter().map(|k| k.output_len(item_shape)).sum()
}

/// The `[N, D]` matrix of `kinds` features of every image, features in the order asked
/// (image `i`'s row holds the first kind's values, then the second's, ...).
///
/// Bags of visual words need their vocabulary ([`super::fit_vocabularies`], on the training
/// split). Images are shared among the rayon pool's threads in chunks of 64; `progress`, when given,
/// is called after each chunk with its number of images, so a front end can draw a bar.
///
/// # Errors
/// As [`feature_len`]; `InvalidParameter` when a bag of visual words has no vocabulary.
pub fn extract(
    dataset: &Dataset,
    kinds: &[FeatureKind],
    progress: Option<Progress<'_>>,
) -> Result<Array2<f32>> {
    let shape = dataset.item_shape();
    let lens = kinds
        .iter()
        .map(|k| k.output_len(shape))
        .collect::<Result<Vec<_>>>()?;
    let d = feature_len(kinds, shape)?;
    let n = dataset.len();
    let mut out = vec![0.0f32; n * d];
    out.par_chunks_mut(CHUNK * d)
        .enumerate()
        .try_for_each_init(Scratch::default, |scratch, (chunk, rows)| {
            for (j, row) in rows.chunks_exact_mut(d).enumerate() {
                let image = dataset.image(chunk * CHUNK + j);
                let mut start = 0;
                for (kind, &len) in kinds.iter().zip(&lens) {
                    let part = &mut row[start..start + len];
                    match kind {
                        FeatureKind::Hog(h) => {
                            h.compute_into(image, shape, &mut scratch.hog, part)?
                        }
                        FeatureKind::Color(c) => c.compute_into(image, shape, part),
                        FeatureKind::Bovw(b) => {
                            b.compute_into(image, shape, &mut scratch.patches, part)?
                        }
                    }
                    start += len;
                }
            }
            if let Some(report) = progress {
                report(rows.len() / d);
            }
            Ok::<(), Error>(())
        })?;
    Array2::from_shape_vec((n, d), out)
        .map_err(|e| Error::InvalidData(format!("feature matrix {n}x{d}: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::features::parse_kinds;

    fn dataset(n: usize, shape: [usize; 3]) -> Dataset {
        let len: usize = shape.iter().product();
        let images = (0..n * len).map(|i| (i * 31 % 251) as u8).collect();
        Dataset::new(images, shape, vec![0; n], vec!["a".into()]).unwrap()
    }

    #[test]
    fn rows_concatenate_the_kinds_in_the_order_asked() {
        let data = dataset(130, [3, 16, 16]);
        let kinds = parse_kinds("color(bins=5),hog(pixels_per_cell=4,cells_per_block=2)").unwrap();
        let done = AtomicUsize::new(0);
        let report = |k: usize| {
            done.fetch_add(k, Ordering::Relaxed);
        };
        let x = extract(&data, &kinds, Some(&report)).unwrap();
        let hog_len = 3 * 3 * 2 * 2 * 9;
        assert_eq!(x.dim(), (130, 5 + hog_len));
        assert_eq!(done.load(Ordering::Relaxed), 130);
        for i in [0, 64, 129] {
            let FeatureKind::Hog(h) = &kinds[1] else {
                unreachable!()
            };
            let FeatureKind::Color(c) = &kinds[0] else {
                unreachable!()
            };
            let row = x.row(i).to_vec();
            assert_eq!(row[..5], c.compute(data.image(i), [3, 16, 16]).unwrap()[..]);
            assert_eq!(row[5..], h.compute(data.image(i), [3, 16, 16]).unwrap()[..]);
        }
    }

    #[test]
    fn no_kind_or_a_too_small_image_is_refused() {
        let data = dataset(2, [1, 8, 8]);
        let err = extract(&data, &[], None).unwrap_err().to_string();
        assert!(err.contains("no feature kind"), "{err}");
        let err = extract(&data, &parse_kinds("hog").unwrap(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("too small"), "{err}");
    }
}
