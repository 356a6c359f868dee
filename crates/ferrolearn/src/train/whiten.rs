//! Fitting a model's patch-whitening first layer on the training images when a run starts.

use super::TrainConfig;
use crate::data::{Dataset, Loader, Normalizer};
use crate::nn::spec::LayerSpec;
use crate::nn::{whitening_filters, Module, Sequential};
use crate::{Error, Result};

/// Images the whitening filters are fitted on: the first 5,000, as airbench does.
const FIT_IMAGES: usize = 5000;

/// The name, kernel and eps of the model's [`LayerSpec::PatchWhitening`] first layer, if it
/// starts with one.
fn whitening_layer(config: &TrainConfig) -> Option<(String, usize, f64)> {
    let first = config.model.layers.first()?;
    let LayerSpec::PatchWhitening { kernel, eps } = first.spec else {
        return None;
    };
    Some((
        first.name.clone().unwrap_or_else(|| "0".into()),
        kernel,
        eps,
    ))
}

/// When the model starts with a [`LayerSpec::PatchWhitening`] layer, sets its frozen filters
/// from the patches of the first [`FIT_IMAGES`] training images as the model sees them
/// (normalised when the run normalises, not augmented). Other models are left alone.
pub(super) fn fit_whitening(
    config: &TrainConfig,
    model: &mut Sequential,
    train: &Dataset,
    normalizer: Option<&Normalizer>,
) -> Result<()> {
    let Some((layer, kernel, eps)) = whitening_layer(config) else {
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
    let name = format!("{layer}.weight");
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

/// The position among the model's parameters of the bias of its patch-whitening first layer,
/// when the run freezes it after `whitening_bias_epochs`; an error when it asks for that on a
/// model without such a layer.
pub(super) fn frozen_whitening_bias(
    config: &TrainConfig,
    model: &Sequential,
) -> Result<Option<(usize, usize)>> {
    let Some(epochs) = config.whitening_bias_epochs else {
        return Ok(None);
    };
    let Some((layer, _, _)) = whitening_layer(config) else {
        return Err(Error::InvalidParameter(
            "whitening_bias_epochs: the model does not start with a patch_whitening layer".into(),
        ));
    };
    let name = format!("{layer}.bias");
    let index = model
        .parameters()
        .iter()
        .position(|(n, _)| *n == name)
        .ok_or_else(|| Error::InvalidParameter(format!("patch whitening: no parameter {name}")))?;
    Ok(Some((index, epochs)))
}

#[cfg(test)]
mod tests {
    use super::super::{Silent, Trainer};
    use super::*;
    use crate::nn::models::mlp;
    use crate::nn::spec::ModelSpec;
    use crate::nn::ActivationKind;

    /// 120 deterministic 3x4x4 images of 2 classes.
    fn colour_images() -> Dataset {
        let n = 120;
        let images = (0..n * 48)
            .map(|i| ((i * 53 + i / 7) % 251) as u8)
            .collect();
        let labels = (0..n).map(|i| (i % 2) as u8).collect();
        Dataset::new(images, [3, 4, 4], labels, vec!["a".into(), "b".into()]).expect("dataset")
    }

    fn bias(trainer: &Trainer) -> Vec<f32> {
        let params = trainer.model().parameters();
        let (_, b) = params.iter().find(|(n, _)| n == "0.bias").expect("bias");
        b.value().data().to_vec()
    }

    #[test]
    fn the_whitening_bias_trains_for_its_epochs_then_stays() {
        let train = colour_images();
        let spec: ModelSpec = serde_json::from_str(
            r#"{"layers": [
                {"type": "patch_whitening", "kernel": 2},
                {"type": "gelu"},
                {"type": "flatten"},
                {"type": "linear", "out_features": 2}
            ]}"#,
        )
        .expect("model file");
        let config = TrainConfig {
            epochs: 1,
            batch_size: 20,
            whitening_bias_epochs: Some(1),
            normalize: true,
            ..TrainConfig::new("whitened", spec, "tiny", &train)
        };
        let mut trainer = Trainer::new(config, &train).expect("trainer");
        let initial = bias(&trainer);
        trainer
            .fit(&train, None, None, &mut Silent)
            .expect("epoch 1");
        let after_one = bias(&trainer);
        assert_ne!(initial, after_one, "the bias trains in epoch 1");
        let weight = |t: &Trainer| t.model().parameters().last().unwrap().1.value().clone();
        let head = weight(&trainer);
        trainer.extend_epochs(3);
        trainer
            .fit(&train, None, None, &mut Silent)
            .expect("epochs 2-3");
        assert_eq!(bias(&trainer), after_one, "frozen after epoch 1");
        assert_ne!(weight(&trainer).data(), head.data(), "the rest trains on");

        let plain = TrainConfig {
            whitening_bias_epochs: Some(3),
            ..TrainConfig::new(
                "mlp",
                mlp(&[4], ActivationKind::Relu, 0.0, false, 2),
                "tiny",
                &train,
            )
        };
        let err = Trainer::new(plain, &train)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("does not start with a patch_whitening layer"),
            "{err}"
        );
    }
}
