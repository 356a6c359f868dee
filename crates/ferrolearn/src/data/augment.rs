//! What random transforms a training loader applies to each image: the settings a run
//! records (serialisable, with defaults) and their validation against the image size.
//!
//! Each image goes through, in this order: a random crop of its own size from the image
//! padded by [`AugmentConfig::crop_padding`] pixels on every side ([`PaddingMode`]), a
//! horizontal flip ([`FlipMode`]), a cutout square ([`AugmentConfig::cutout`]), and the
//! per-channel normalisation. The random choices are made in `draws.rs` and applied in
//! `transform.rs`.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What lies outside the image when it is padded for a random crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaddingMode {
    /// 0 in the normalised space, i.e. the mean colour: what padding already normalised
    /// tensors gives (`F.pad(x, (p, p, p, p))` after `Normalize`, as
    /// `bench/ref/w9_cifar.py` does).
    #[default]
    Zero,
    /// Mirrored about the edge pixel, which is not repeated (`F.pad(mode="reflect")`:
    /// `[a b c]` padded by 2 is `[c b a b c b a]`). Needs a padding smaller than the image.
    Reflect,
    /// Pixel value 0 before normalisation (black): torchvision's `RandomCrop(size,
    /// padding)` on `u8` / PIL images followed by `Normalize`, and what this loader did
    /// before the other modes existed.
    Black,
}

/// How images are mirrored left-right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlipMode {
    /// Never.
    #[default]
    None,
    /// With probability 1/2, drawn anew for each image in each epoch
    /// (torchvision's `RandomHorizontalFlip()`).
    Random,
    /// Airbench's alternating flips: each image gets one random bit from the seed, used as
    /// is in even epochs (0, 2, ...) and inverted in odd ones, so two consecutive epochs show
    /// both views of every image.
    Alternating,
}

/// The per-image augmentation of a training loader (all off by default).
///
/// Every field has a default, so settings saved before a field existed still load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AugmentConfig {
    /// Pad each side by this many pixels, then crop a random window of the original size
    /// (0: no crop).
    #[serde(default)]
    pub crop_padding: usize,
    /// What the padding holds.
    #[serde(default)]
    pub padding_mode: PaddingMode,
    /// Horizontal flips.
    #[serde(default)]
    pub flip: FlipMode,
    /// Cutout (DeVries & Taylor, 2017): a square of this side, centred on a uniformly
    /// random pixel and clipped at the borders, is set to 0 in the normalised space (the
    /// mean colour). `None` disables it.
    #[serde(default)]
    pub cutout: Option<usize>,
}

impl AugmentConfig {
    /// Whether every image passes unchanged.
    pub fn is_identity(&self) -> bool {
        self.crop_padding == 0 && self.flip == FlipMode::None && self.cutout.is_none()
    }

    /// Checks the settings against images of shape `[C, H, W]`.
    ///
    /// # Errors
    /// `InvalidParameter` when the crop padding exceeds the height or width (or, reflected,
    /// is not smaller than both), or the cutout side is 0 (disable it with `None`) or
    /// exceeds the height or width.
    pub fn validate(&self, item_shape: [usize; 3]) -> Result<()> {
        let [_, h, w] = item_shape;
        let size = h.min(w);
        let pad = self.crop_padding;
        if self.padding_mode == PaddingMode::Reflect && pad > 0 && pad >= size {
            return Err(Error::InvalidParameter(format!(
                "reflect padding must be < the image size ({h}x{w}), got {pad}"
            )));
        }
        if pad > size {
            return Err(Error::InvalidParameter(format!(
                "crop padding must be <= the image size ({h}x{w}), got {pad}"
            )));
        }
        match self.cutout {
            Some(0) => Err(Error::InvalidParameter(
                "cutout side must be >= 1 (no cutout is None), got 0".into(),
            )),
            Some(side) if side > size => Err(Error::InvalidParameter(format!(
                "cutout side must be <= the image size ({h}x{w}), got {side}"
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_setting_and_the_image_size() {
        let shape = [3, 32, 28];
        let ok = AugmentConfig {
            crop_padding: 4,
            padding_mode: PaddingMode::Reflect,
            flip: FlipMode::Alternating,
            cutout: Some(12),
        };
        assert!(ok.validate(shape).is_ok());
        let err = |c: AugmentConfig| c.validate(shape).unwrap_err().to_string();
        let wide = AugmentConfig {
            crop_padding: 29,
            padding_mode: PaddingMode::Zero,
            ..ok
        };
        assert!(err(wide).contains("crop padding must be <= the image size (32x28), got 29"));
        let edge = AugmentConfig {
            crop_padding: 28,
            ..wide
        };
        assert!(edge.validate(shape).is_ok(), "zero padding up to the size");
        let reflect = AugmentConfig {
            padding_mode: PaddingMode::Reflect,
            ..edge
        };
        assert!(err(reflect).contains("reflect padding must be < the image size (32x28), got 28"));
        let zero_cutout = AugmentConfig {
            cutout: Some(0),
            ..ok
        };
        assert!(err(zero_cutout).contains("cutout side must be >= 1 (no cutout is None), got 0"));
        let big_cutout = AugmentConfig {
            cutout: Some(29),
            ..ok
        };
        assert!(err(big_cutout).contains("cutout side must be <= the image size (32x28), got 29"));
    }

    #[test]
    fn identity_and_defaults() {
        let d = AugmentConfig::default();
        assert!(d.is_identity());
        assert_eq!(d.padding_mode, PaddingMode::Zero);
        let padded_only = AugmentConfig {
            padding_mode: PaddingMode::Reflect,
            ..d
        };
        assert!(
            padded_only.is_identity(),
            "a padding mode without padding does nothing"
        );
        for c in [
            AugmentConfig {
                crop_padding: 1,
                ..d
            },
            AugmentConfig {
                flip: FlipMode::Random,
                ..d
            },
            AugmentConfig {
                cutout: Some(1),
                ..d
            },
        ] {
            assert!(!c.is_identity(), "{c:?}");
        }
    }

    #[test]
    fn older_settings_without_fields_still_load() {
        let c: AugmentConfig = serde_json::from_str(r#"{"crop_padding": 4}"#).expect("json");
        assert_eq!(
            c,
            AugmentConfig {
                crop_padding: 4,
                ..AugmentConfig::default()
            }
        );
        let full = AugmentConfig {
            crop_padding: 2,
            padding_mode: PaddingMode::Reflect,
            flip: FlipMode::Alternating,
            cutout: Some(8),
        };
        let json = serde_json::to_string(&full).expect("serialise");
        assert_eq!(
            json,
            r#"{"crop_padding":2,"padding_mode":"reflect","flip":"alternating","cutout":8}"#
        );
        assert_eq!(
            serde_json::from_str::<AugmentConfig>(&json).expect("json"),
            full
        );
    }
}
