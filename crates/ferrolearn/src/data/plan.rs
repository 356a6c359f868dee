//! What the batches of one epoch hold and how to build any one of them: owned (the dataset's
//! pixels are shared, not copied), so the batches can be built on the consumer's thread or
//! on a prefetching one with identical results.

use rayon::prelude::*;

use super::augment::AugmentConfig;
use super::draws::EpochDraws;
use super::normalizer::PixelTable;
use super::transform::transform_image;
use super::{Batch, Dataset};
use crate::Tensor;

/// Images per rayon task when a batch is built in parallel.
const IMAGES_PER_TASK: usize = 8;

/// The batches of one epoch: the item order, the pixel tables and the augmentation draws.
#[derive(Debug, Clone)]
pub(super) struct EpochPlan {
    pub(super) dataset: Dataset,
    /// Item indices in the epoch's order (cut to whole batches when dropping the last).
    pub(super) order: Vec<usize>,
    pub(super) batch_size: usize,
    /// The normalisation of each channel.
    pub(super) tables: Vec<PixelTable>,
    /// The augmentation and this epoch's draws, or `None` to pass images unchanged.
    pub(super) augment: Option<(AugmentConfig, EpochDraws)>,
}

impl EpochPlan {
    /// The number of batches.
    pub(super) fn num_batches(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    /// Batch `b` (`< num_batches()`), its images spread over the rayon pool when `parallel`.
    /// The result is the same either way: each image depends only on its position.
    pub(super) fn build(&self, b: usize, parallel: bool) -> Batch {
        let first = b * self.batch_size;
        let items = &self.order[first..(first + self.batch_size).min(self.order.len())];
        let [c, h, w] = self.dataset.item_shape();
        let item_len = c * h * w;
        let draws = self
            .augment
            .as_ref()
            .map(|(config, draws)| (config, draws.batch(first, items)));
        let write = |k: usize, out: &mut [f32]| {
            let image = self.dataset.image(items[k]);
            match &draws {
                Some((config, draws)) => transform_image(
                    image,
                    [h, w],
                    &self.tables,
                    (config.crop_padding, config.padding_mode),
                    &draws[k],
                    out,
                ),
                None => {
                    let planes = image.chunks_exact(h * w).zip(out.chunks_exact_mut(h * w));
                    for ((px, o), table) in planes.zip(&self.tables) {
                        o.iter_mut().zip(px).for_each(|(o, &x)| *o = table.get(x));
                    }
                }
            }
        };
        let mut data = vec![0.0f32; items.len() * item_len];
        if parallel {
            data.par_chunks_mut(item_len)
                .with_min_len(IMAGES_PER_TASK)
                .enumerate()
                .for_each(|(k, out)| write(k, out));
        } else {
            data.chunks_mut(item_len)
                .enumerate()
                .for_each(|(k, out)| write(k, out));
        }
        let labels: Vec<usize> = items.iter().map(|&i| self.dataset.label(i)).collect();
        Batch {
            images: Tensor::from_vec(data, &[items.len(), c, h, w]),
            labels,
        }
    }
}
