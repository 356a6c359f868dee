//! Hand-crafted image features, the course's "before deep learning" pipeline: histograms of
//! oriented gradients ([`Hog`], scikit-image's definition) and colour histograms
//! ([`ColorHistogram`], CS231n's hue histogram or per-channel intensities) and bags of visual
//! words ([`Bovw`]: histograms of the nearest of k-means "words" learned from training
//! patches), computed over a dataset in parallel and concatenated as asked ([`extract`]), and
//! cached on disk with any vocabulary ([`FeatureSet`]).
//!
//! ```text
//! parse_kinds("hog,color,bovw")  ->  [FeatureKind]
//! fit_vocabularies(&kinds, &train)  ->  [FeatureKind]  (bovw words learned on train only)
//! extract(&dataset, &kinds, progress)  ->  Array2<f32> [N, D]  (rayon, no allocation per image)
//! FeatureSet { key: CacheKey { dataset, split, kinds }, .. }.save(path) / FeatureSet::load
//! ```
//!
//! Features are computed from the `u8` pixels as stored (values 0..255), as scikit-image and
//! CS231n do with the raw CIFAR-10 arrays.

mod block_norm;
mod bovw;
mod cache;
mod color_histogram;
mod extract;
mod hog;
mod kind;
mod orientation;
mod patches;
mod vocabulary;

pub use block_norm::BlockNorm;
pub use bovw::{fit_vocabularies, Bovw, BovwParams, HistNorm};
pub use cache::{CacheKey, FeatureSet, CACHE_VERSION};
pub use color_histogram::{ColorHistogram, ColorSpace};
pub use extract::{extract, feature_len, Progress};
pub use hog::{Hog, HogChannels, HogParams, MAX_ORIENTATIONS};
pub use kind::{kinds_text, parse_kinds, FeatureKind};
pub use patches::{PatchNorm, PATCH_VARIANCE_EPS};
pub use vocabulary::Vocabulary;
