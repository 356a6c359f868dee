//! `ferrolearn features`: caches of hand-crafted features that read back as computed, and
//! kinds that cannot work refused in one line.

mod common;

use common::{fails, json, num, Scratch};
use ferrolearn::data::{load, DatasetName};
use ferrolearn::features::{parse_kinds, CacheKey, FeatureKind, FeatureSet};

const KINDS: &str = "hog(pixels_per_cell=7,cells_per_block=2),color(space=rgb,bins=8)";

#[test]
fn mnist_features_are_cached_per_split() {
    let dir = Scratch::new("features");
    let out = dir.path("feats");
    let v = json(&[
        "features",
        "--dataset",
        "mnist",
        "--kind",
        KINDS,
        "--out",
        &out,
        "--json",
    ]);
    assert_eq!(v["command"], "features");
    // 28x28 with 7x7 cells: 4x4 cells, 3x3 blocks of 2x2 cells of 9 bins; 8 grey bins.
    let dims = 3 * 3 * 2 * 2 * 9 + 8;
    assert_eq!(num(&v["files"][0], &["dims"]) as usize, dims, "{v}");

    let kinds = parse_kinds(KINDS).unwrap();
    let key = |split: &str| CacheKey {
        dataset: "mnist".into(),
        split: split.into(),
        kinds: kinds.clone(),
    };
    let path = std::path::Path::new(&out).join("test.safetensors");
    let test = FeatureSet::load(&path, &key("test")).unwrap();
    let sets = load(DatasetName::Mnist, None).unwrap();
    assert_eq!(test.features.dim(), (sets.test.len(), dims));
    assert_eq!(test.labels, sets.test.labels());
    let FeatureKind::Hog(hog) = &kinds[0] else {
        panic!("{kinds:?}")
    };
    let first = hog.compute(sets.test.image(0), [1, 28, 28]).unwrap();
    assert_eq!(test.features.row(0).to_vec()[..first.len()], first[..]);

    let err = FeatureSet::load(&path, &key("train"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("of mnist test, but") && err.contains("of mnist train were asked"),
        "{err}"
    );
}

#[test]
fn kinds_that_cannot_work_are_refused() {
    let dir = Scratch::new("features-refused");
    let out = dir.path("feats");
    fails(
        &[
            "features",
            "--dataset",
            "mnist",
            "--kind",
            "sift",
            "--out",
            &out,
        ],
        &["unknown feature kind `sift`"],
    );
    fails(
        &[
            "features",
            "--dataset",
            "mnist",
            "--kind",
            "color",
            "--out",
            &out,
        ],
        &["hue histogram needs RGB images"],
    );
    fails(
        &[
            "features",
            "--dataset",
            "mnist",
            "--kind",
            "hog(pixels_per_cell=16)",
            "--out",
            &out,
        ],
        &["too small for HOG"],
    );
}
