//! The feature kinds one can ask for, and their text form: `hog`, `color`, `bovw`,
//! `hog(orientations=12,pixels_per_cell=4x4)`, `color(space=rgb,bins=16)`,
//! `bovw(words=100,patch=8,stride=2)`, lists of them separated by commas.
//!
//! A kind's [`Display`](fmt::Display) names every setting (defaults included), so the text is
//! canonical: two kinds are the same exactly when their texts are, which is how a feature
//! cache recognises what it holds.

use std::fmt;
use std::str::FromStr;

use super::{
    BlockNorm, Bovw, BovwParams, ColorHistogram, ColorSpace, HistNorm, Hog, HogChannels, HogParams,
    PatchNorm,
};
use crate::{Error, Result};

/// One kind of hand-crafted image feature with its settings.
#[derive(Debug, Clone)]
pub enum FeatureKind {
    /// Histograms of oriented gradients ([`Hog`]).
    Hog(Hog),
    /// A colour histogram ([`ColorHistogram`]).
    Color(ColorHistogram),
    /// A bag of visual words ([`Bovw`]), with its vocabulary once fitted.
    Bovw(Bovw),
}

impl FeatureKind {
    /// The kinds' names, as written before any settings.
    pub const NAMES: [&'static str; 3] = ["hog", "color", "bovw"];

    /// The length of this feature for a `[C, H, W]` image.
    ///
    /// # Errors
    /// `InvalidData` when the feature cannot describe such an image (too small for a HOG
    /// block, a hue histogram of a grey image).
    pub fn output_len(&self, item_shape: [usize; 3]) -> Result<usize> {
        match self {
            FeatureKind::Hog(h) => h.output_len(item_shape),
            FeatureKind::Color(c) => c.output_len(item_shape),
            FeatureKind::Bovw(b) => b.output_len(item_shape),
        }
    }
}

impl fmt::Display for FeatureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeatureKind::Hog(h) => h.params().fmt(f),
            FeatureKind::Color(c) => c.fmt(f),
            FeatureKind::Bovw(b) => b.params().fmt(f),
        }
    }
}

impl FromStr for FeatureKind {
    type Err = Error;

    /// Parses `NAME` or `NAME(key=value,...)`; settings not given keep their defaults.
    fn from_str(text: &str) -> Result<FeatureKind> {
        let text = text.trim();
        let (name, settings) = match text.split_once('(') {
            Some((name, rest)) => {
                let inner = rest.strip_suffix(')').ok_or_else(|| {
                    Error::InvalidParameter(format!("feature `{text}`: missing `)`"))
                })?;
                (name.trim(), inner)
            }
            None => (text, ""),
        };
        let pairs = settings
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.split_once('=')
                    .map(|(k, v)| (k.trim(), v.trim()))
                    .ok_or_else(|| {
                        Error::InvalidParameter(format!(
                            "feature `{text}`: setting `{s}` is not key=value"
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        match name {
            "hog" => parse_hog(&pairs).map(FeatureKind::Hog),
            "color" | "colour" => parse_color(&pairs).map(FeatureKind::Color),
            "bovw" => parse_bovw(&pairs).map(FeatureKind::Bovw),
            other => Err(Error::InvalidParameter(format!(
                "unknown feature kind `{other}`: use {}",
                FeatureKind::NAMES.join(", ")
            ))),
        }
    }
}

/// Parses a comma-separated list of kinds (commas inside parentheses belong to a kind).
///
/// # Errors
/// `InvalidParameter` naming the kind or setting that cannot be read, or when the list is
/// empty.
pub fn parse_kinds(text: &str) -> Result<Vec<FeatureKind>> {
    let mut kinds = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                kinds.push(text[start..i].parse()?);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !text[start..].trim().is_empty() {
        kinds.push(text[start..].parse()?);
    }
    if kinds.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "no feature kind given: use {}",
            FeatureKind::NAMES.join(", ")
        )));
    }
    Ok(kinds)
}

/// The canonical text of a list of kinds, as [`parse_kinds`] reads it back.
pub fn kinds_text(kinds: &[FeatureKind]) -> String {
    kinds
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_hog(pairs: &[(&str, &str)]) -> Result<Hog> {
    let mut p = HogParams::default();
    for &(key, value) in pairs {
        match key {
            "orientations" => p.orientations = number(key, value)?,
            "pixels_per_cell" => p.pixels_per_cell = pair(key, value)?,
            "cells_per_block" => p.cells_per_block = pair(key, value)?,
            "block_norm" => p.block_norm = value.parse::<BlockNorm>()?,
            "transform_sqrt" => {
                p.transform_sqrt = value.parse().map_err(|_| {
                    Error::InvalidParameter(format!(
                        "hog transform_sqrt must be true or false, got `{value}`"
                    ))
                })?
            }
            "channels" => {
                p.channels = match value {
                    "strongest" => HogChannels::Strongest,
                    "grey" | "gray" => HogChannels::Grey,
                    _ => {
                        return Err(Error::InvalidParameter(format!(
                            "hog channels must be strongest or grey, got `{value}`"
                        )))
                    }
                }
            }
            _ => return Err(unknown_setting("hog", key, &HOG_KEYS)),
        }
    }
    Hog::new(p)
}

const HOG_KEYS: [&str; 6] = [
    "orientations",
    "pixels_per_cell",
    "cells_per_block",
    "block_norm",
    "transform_sqrt",
    "channels",
];

fn parse_color(pairs: &[(&str, &str)]) -> Result<ColorHistogram> {
    let (mut space, mut bins) = (ColorSpace::Hsv, 10);
    for &(key, value) in pairs {
        match key {
            "space" => {
                space = match value {
                    "hsv" => ColorSpace::Hsv,
                    "rgb" => ColorSpace::Rgb,
                    _ => {
                        return Err(Error::InvalidParameter(format!(
                            "color space must be hsv or rgb, got `{value}`"
                        )))
                    }
                }
            }
            "bins" => bins = number(key, value)?,
            _ => return Err(unknown_setting("color", key, &["space", "bins"])),
        }
    }
    ColorHistogram::new(space, bins)
}

fn parse_bovw(pairs: &[(&str, &str)]) -> Result<Bovw> {
    let mut p = BovwParams::default();
    for &(key, value) in pairs {
        match key {
            "words" => p.words = number(key, value)?,
            "patch" => p.patch = number(key, value)?,
            "stride" => p.stride = number(key, value)?,
            "patches" => p.patches = number(key, value)?,
            "seed" => {
                p.seed = value.parse().map_err(|_| {
                    Error::InvalidParameter(format!(
                        "bovw seed must be a whole number, got `{value}`"
                    ))
                })?
            }
            "patch_norm" => {
                p.patch_norm = match value {
                    "standard" => PatchNorm::Standard,
                    "none" => PatchNorm::None,
                    _ => {
                        return Err(Error::InvalidParameter(format!(
                            "bovw patch_norm must be standard or none, got `{value}`"
                        )))
                    }
                }
            }
            "hist_norm" => {
                p.hist_norm = match value.to_ascii_lowercase().as_str() {
                    "l1" => HistNorm::L1,
                    "l2" => HistNorm::L2,
                    "none" => HistNorm::None,
                    _ => {
                        return Err(Error::InvalidParameter(format!(
                            "bovw hist_norm must be l1, l2 or none, got `{value}`"
                        )))
                    }
                }
            }
            _ => return Err(unknown_setting("bovw", key, &BOVW_KEYS)),
        }
    }
    Bovw::new(p)
}

const BOVW_KEYS: [&str; 7] = [
    "words",
    "patch",
    "stride",
    "patches",
    "patch_norm",
    "hist_norm",
    "seed",
];

fn unknown_setting(kind: &str, key: &str, known: &[&str]) -> Error {
    Error::InvalidParameter(format!(
        "unknown {kind} setting `{key}`: use {}",
        known.join(", ")
    ))
}

fn number(key: &str, value: &str) -> Result<usize> {
    value.parse().map_err(|_| {
        Error::InvalidParameter(format!("{key} must be a whole number, got `{value}`"))
    })
}

/// `8` (square) or `8x4` (rows x columns).
fn pair(key: &str, value: &str) -> Result<[usize; 2]> {
    match value.split_once('x') {
        Some((r, c)) => Ok([number(key, r)?, number(key, c)?]),
        None => {
            let n = number(key, value)?;
            Ok([n, n])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_print_every_setting_and_read_back() {
        let kinds = parse_kinds("hog,color").unwrap();
        let text = kinds_text(&kinds);
        assert_eq!(
            text,
            "hog(orientations=9,pixels_per_cell=8x8,cells_per_block=3x3,block_norm=L2-Hys,\
             transform_sqrt=false,channels=strongest),color(space=hsv,bins=10)"
        );
        assert_eq!(kinds_text(&parse_kinds(&text).unwrap()), text);
    }

    #[test]
    fn settings_are_read() {
        let kinds =
            parse_kinds("hog(orientations=12, pixels_per_cell=4, cells_per_block=3x2, block_norm=l1-sqrt), color(space=rgb,bins=16)")
                .unwrap();
        let FeatureKind::Hog(h) = &kinds[0] else {
            panic!("{kinds:?}")
        };
        assert_eq!(h.params().orientations, 12);
        assert_eq!(h.params().pixels_per_cell, [4, 4]);
        assert_eq!(h.params().cells_per_block, [3, 2]);
        assert_eq!(h.params().block_norm, BlockNorm::L1Sqrt);
        assert_eq!(kinds[1].to_string(), "color(space=rgb,bins=16)");
    }

    #[test]
    fn bovw_settings_are_read_and_printed_in_full() {
        let kinds =
            parse_kinds("hog,bovw(words=50, patch=8, stride=2, hist_norm=L2, seed=3)").unwrap();
        let FeatureKind::Bovw(b) = &kinds[1] else {
            panic!("{kinds:?}")
        };
        assert_eq!(
            (b.params().words, b.params().patch, b.params().stride),
            (50, 8, 2)
        );
        assert_eq!(
            kinds[1].to_string(),
            "bovw(words=50,patch=8,stride=2,patches=100000,patch_norm=standard,hist_norm=l2,\
             seed=3)"
        );
        assert_eq!(
            kinds_text(&parse_kinds(&kinds_text(&kinds)).unwrap()),
            kinds_text(&kinds)
        );
        assert_eq!(
            parse_kinds("bovw").unwrap()[0].to_string(),
            "bovw(words=200,patch=6,stride=1,patches=100000,patch_norm=standard,hist_norm=l1,\
             seed=0)"
        );
    }

    #[test]
    fn mistakes_are_named() {
        for (text, word) in [
            ("sift", "unknown feature kind `sift`"),
            ("hog(cells=3)", "unknown hog setting `cells`"),
            ("hog(orientations=0)", "orientations"),
            ("color(space=lab)", "lab"),
            ("hog(orientations=9", "missing `)`"),
            ("", "no feature kind"),
            ("bovw(words=0)", "bovw words must be >= 1"),
            (
                "bovw(words=300,patches=200)",
                "words=300 is more than patches=200",
            ),
            ("bovw(size=3)", "unknown bovw setting `size`"),
            (
                "bovw(patch_norm=zca)",
                "patch_norm must be standard or none",
            ),
        ] {
            let err = parse_kinds(text).unwrap_err().to_string();
            assert!(err.contains(word), "{text}: {err}");
        }
    }
}
