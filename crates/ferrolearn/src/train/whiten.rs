//! Fitting a model's patch-whitening first layer on the training images when a run starts.

use super::TrainConfig;
use crate::data::{Dataset, Loader, Normalizer};
use crate::nn::spec::LayerSpec;
use crate::nn::{whitening_filters, Module, Sequential};
use crate::{Error, Result};

/// Images the whitening filters are fitted on: the first 5,000, as airbench does.
const FIT_IMAGES: usize = 5000;

/// When the model starts with a [`LayerSpec::PatchWhitening`] layer, sets its frozen filters
/// from the patches of the first [`FIT_IMAGES`] training images as the model sees them
/// (normalised when the run normalises, not augmented). Other models are left alone.
pub(super) fn fit_whitening(
    config: &TrainConfig,
    model: &mut Sequential,
    train: &Dataset,
    normalizer: Option<&Normalizer>,
) -> Result<()> {
    let Some(first) = config.model.layers.first() else {
        return Ok(());
    };
    let LayerSpec::PatchWhitening { kernel, eps } = first.spec else {
        return Ok(());
    };
    let count = train.len().min(FIT_IMAGES);
    let indices: Vec<usize> = (0..count).collect();
    let subset = train.subset(&indices);
    let mut loader = Loader::new(&subset, count.max(1))?;
    if let Some(n) = normalizer {
        loader = loader.normalize(n.clone())?;
    }
    let batch = loader.epoch(0).next().ok_or_else(|| {
        Error::InvalidParameter("patch whitening: no training image to fit it on".into())
    })?;
    let filters = whitening_filters(&batch.images, kernel, eps)?;
    let name = format!("{}.weight", first.name.as_deref().unwrap_or("0"));
    let mut buffers = model.buffers_mut();
    let (_, weight) = buffers
        .iter_mut()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| Error::InvalidParameter(format!("patch whitening: no buffer {name}")))?;
    if weight.shape() != filters.shape() {
        return Err(Error::InvalidParameter(format!(
            "patch whitening: filters {:?} do not fit {name} {:?}",
            filters.shape(),
            weight.shape()
        )));
    }
    **weight = filters;
    Ok(())
}
