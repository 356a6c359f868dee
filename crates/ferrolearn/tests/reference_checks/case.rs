//! The reference-vector file format (see `tests/reference/README.md`) and comparison helpers.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// One tensor as stored: shape and flat row-major data (f64; integer tensors read exactly).
#[derive(Debug, Clone, Deserialize)]
pub struct RefTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl RefTensor {
    /// The data rounded to f32.
    pub fn to_f32(&self) -> Vec<f32> {
        self.data.iter().map(|&v| v as f32).collect()
    }

    /// The data as non-negative integers (labels, indices).
    pub fn to_usize(&self) -> Vec<usize> {
        self.data.iter().map(|&v| v as usize).collect()
    }

    /// The single value of a 0-d (or one-element) tensor.
    pub fn scalar(&self) -> f64 {
        assert_eq!(
            self.data.len(),
            1,
            "expected a scalar, got shape {:?}",
            self.shape
        );
        self.data[0]
    }
}

/// Elementwise tolerance `|got - expected| <= atol + rtol * |expected|`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Tol {
    pub rtol: f64,
    pub atol: f64,
}

/// One reference case.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub name: String,
    pub op: String,
    #[serde(default)]
    pub params: serde_json::Value,
    #[serde(default)]
    pub inputs: BTreeMap<String, RefTensor>,
    /// Outputs in file order: the first is the primary output that gradients refer to.
    #[serde(default)]
    pub outputs: indexmap_lite::OrderedMap,
    #[serde(default)]
    pub grads: BTreeMap<String, RefTensor>,
    pub upstream: Option<RefTensor>,
    pub tol: Tol,
}

/// One reference file.
#[derive(Debug, Deserialize)]
pub struct RefFile {
    pub family: String,
    pub cases: Vec<Case>,
}

impl Case {
    /// The named input, or an error naming the case and the missing key.
    pub fn input(&self, key: &str) -> Result<&RefTensor, String> {
        self.inputs
            .get(key)
            .ok_or_else(|| format!("input `{key}` missing"))
    }

    /// The named output.
    pub fn output(&self, key: &str) -> Result<&RefTensor, String> {
        self.outputs
            .get(key)
            .ok_or_else(|| format!("output `{key}` missing"))
    }

    /// A numeric parameter.
    pub fn param_f64(&self, key: &str) -> Result<f64, String> {
        self.params
            .get(key)
            .and_then(|v| v.as_f64())
            .ok_or_else(|| format!("param `{key}` missing or not a number"))
    }

    /// The tolerance for one output: `params.tol_overrides[name]` if present, else `tol`.
    pub fn tol_for(&self, output: &str) -> Tol {
        self.params
            .get("tol_overrides")
            .and_then(|o| o.get(output))
            .and_then(|t| serde_json::from_value(t.clone()).ok())
            .unwrap_or(self.tol)
    }

    /// Compares `got` with the named output under its tolerance.
    pub fn check_output(&self, name: &str, got: &[f64], got_shape: &[usize]) -> Result<(), String> {
        let expected = self.output(name)?;
        compare(name, got, got_shape, expected, self.tol_for(name))
    }
}

/// Compares `got` against `expected` elementwise (numpy `allclose` rule); the error names the
/// quantity, the worst element and both values.
pub fn compare(
    what: &str,
    got: &[f64],
    got_shape: &[usize],
    expected: &RefTensor,
    tol: Tol,
) -> Result<(), String> {
    let same_shape = got_shape == expected.shape.as_slice()
        || (got_shape.iter().product::<usize>() == 1 && expected.data.len() == 1);
    if !same_shape || got.len() != expected.data.len() {
        return Err(format!(
            "{what}: shape {:?} (len {}) but expected {:?} (len {})",
            got_shape,
            got.len(),
            expected.shape,
            expected.data.len()
        ));
    }
    let mut worst: Option<(usize, f64)> = None;
    for (i, (&g, &e)) in got.iter().zip(&expected.data).enumerate() {
        let excess = (g - e).abs() - (tol.atol + tol.rtol * e.abs());
        // A NaN excess (a NaN result) fails too.
        let within = excess <= 0.0;
        if !within && worst.is_none_or(|(_, w)| excess > w || excess.is_nan()) {
            worst = Some((i, excess));
        }
    }
    match worst {
        None => Ok(()),
        Some((i, _)) => Err(format!(
            "{what}[{i}]: got {} expected {} (rtol {}, atol {})",
            got[i], expected.data[i], tol.rtol, tol.atol
        )),
    }
}

/// Converts f32 results for [`compare`].
pub fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// Reads every `*.json` reference file in `dir`, sorted by file name.
pub fn read_dir(dir: &Path) -> Vec<(String, RefFile)> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read reference directory {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            let file: RefFile = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not a reference file: {e}", p.display()));
            (p.display().to_string(), file)
        })
        .collect()
}

/// A JSON object read with its key order kept (the first output is the primary one).
pub mod indexmap_lite {
    use std::fmt;

    use serde::de::{Deserializer, MapAccess, Visitor};
    use serde::Deserialize;

    use super::RefTensor;

    /// Key-value pairs in file order.
    #[derive(Debug, Clone, Default)]
    pub struct OrderedMap(pub Vec<(String, RefTensor)>);

    impl OrderedMap {
        /// The value under `key`.
        pub fn get(&self, key: &str) -> Option<&RefTensor> {
            self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
        }

        /// The first key, the case's primary output.
        pub fn first_key(&self) -> Option<&str> {
            self.0.first().map(|(k, _)| k.as_str())
        }

        /// All keys in file order.
        pub fn keys(&self) -> impl Iterator<Item = &str> {
            self.0.iter().map(|(k, _)| k.as_str())
        }
    }

    impl<'de> Deserialize<'de> for OrderedMap {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = OrderedMap;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("an object of tensors")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<OrderedMap, A::Error> {
                    let mut out = Vec::new();
                    while let Some((k, v)) = m.next_entry::<String, RefTensor>()? {
                        out.push((k, v));
                    }
                    Ok(OrderedMap(out))
                }
            }
            d.deserialize_map(V)
        }
    }
}
