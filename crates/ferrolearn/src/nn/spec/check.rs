//! Checking a model description's layers before they are read, so a mistake names the layer
//! by its path (`layer 4 (parallel) > branch 1 > layer 0 (conv2d)`), the bad or missing
//! field, the fields that layer type takes, and the nearest valid name.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Layer;

/// Every layer type with its required and optional fields (`type` and `name` are accepted
/// everywhere). The README's table of fields says the same.
pub(super) const LAYER_FIELDS: &[(&str, &[&str], &[&str])] = &[
    ("linear", &["out_features"], &["bias", "init"]),
    (
        "conv2d",
        &["out_channels", "kernel"],
        &["stride", "padding", "bias", "init"],
    ),
    ("patch_whitening", &["kernel"], &["eps"]),
    ("max_pool2d", &["kernel"], &["stride", "padding"]),
    ("avg_pool2d", &["kernel"], &["stride", "padding"]),
    ("global_avg_pool", &[], &[]),
    ("flatten", &[], &[]),
    ("batch_norm", &[], &["eps", "momentum", "freeze_weight"]),
    ("dropout", &["p"], &[]),
    ("prelu", &[], &[]),
    ("maxout", &["pieces"], &[]),
    ("scale", &["factor"], &[]),
    ("shortcut_pad", &["stride", "out_channels"], &[]),
    ("residual", &["out_channels"], &["stride"]),
    ("sequential", &["layers"], &[]),
    ("parallel", &["merge", "branches"], &["activation"]),
    ("relu", &[], &[]),
    ("gelu", &[], &[]),
    ("leaky_relu", &[], &["slope"]),
    ("elu", &[], &["alpha"]),
    ("selu", &[], &[]),
    ("sigmoid", &[], &[]),
    ("tanh", &[], &[]),
    ("softplus", &[], &[]),
];

/// What a field's value must be.
#[derive(Clone, Copy)]
enum Kind {
    /// A whole number >= 0.
    Count,
    /// A whole number, or null for the default.
    OptionalCount,
    /// Any number.
    Number,
    /// `true` or `false`.
    Bool,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A list (of layers, or of layer lists).
    List,
    /// An activation name, or an activation layer object.
    Activation,
}

const ACTIVATIONS: &[&str] = &[
    "relu",
    "gelu",
    "leaky_relu",
    "elu",
    "selu",
    "sigmoid",
    "tanh",
    "softplus",
];

/// The kind of every field any layer takes.
const FIELD_KINDS: &[(&str, Kind)] = &[
    ("out_features", Kind::Count),
    ("out_channels", Kind::Count),
    ("kernel", Kind::Count),
    ("padding", Kind::Count),
    ("pieces", Kind::Count),
    ("bias", Kind::Bool),
    ("freeze_weight", Kind::Bool),
    ("eps", Kind::Number),
    ("momentum", Kind::Number),
    ("p", Kind::Number),
    ("factor", Kind::Number),
    ("slope", Kind::Number),
    ("alpha", Kind::Number),
    (
        "init",
        Kind::OneOf(&[
            "pytorch_default",
            "xavier_uniform",
            "xavier_normal",
            "kaiming_uniform",
            "kaiming_normal",
            "dirac",
        ]),
    ),
    ("merge", Kind::OneOf(&["sum", "concat"])),
    ("layers", Kind::List),
    ("branches", Kind::List),
    ("activation", Kind::Activation),
];

/// Checks the value of field `key` of a layer of type `type_name`.
fn check_value(type_name: &str, key: &str, value: &Value, here: &str) -> Result<(), String> {
    let kind_of = match key {
        // Pooling strides may be null (the window side); elsewhere they are counts.
        "stride" if type_name.ends_with("pool2d") => Kind::OptionalCount,
        "stride" => Kind::Count,
        _ => match FIELD_KINDS.iter().find(|(k, _)| *k == key) {
            Some(&(_, kind)) => kind,
            None => return Ok(()),
        },
    };
    let bad = |expected: String| {
        Err(format!(
            "{here}: field {key:?}: expected {expected}, got {value}"
        ))
    };
    match kind_of {
        Kind::Count if value.as_u64().is_none() => bad("a whole number >= 0".into()),
        Kind::OptionalCount if !value.is_null() && value.as_u64().is_none() => {
            bad("a whole number >= 1 (or null)".into())
        }
        Kind::Number if !value.is_number() => bad("a number".into()),
        Kind::Bool if !value.is_boolean() => bad("true or false".into()),
        Kind::List if !value.is_array() => bad("a list".into()),
        Kind::OneOf(_) | Kind::Activation if value.is_string() => {
            let names = match kind_of {
                Kind::OneOf(names) => names,
                _ => ACTIVATIONS,
            };
            let given = value.as_str().unwrap_or_default();
            if names.contains(&given) {
                return Ok(());
            }
            Err(format!(
                "{here}: field {key:?}: unknown value {given:?}{}; expected one of {}",
                suggestion(given, names.iter().copied()),
                names.join(", ")
            ))
        }
        Kind::OneOf(names) => bad(format!("one of {}", names.join(", "))),
        Kind::Activation if !value.is_object() => bad("an activation name or object".into()),
        _ => Ok(()),
    }
}

/// Checks a whole model description (`{"layers": [...]}`).
pub(super) fn check_model(value: &Value) -> Result<(), String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "a model description is an object {{\"layers\": [...]}}, got {}",
            kind(value)
        ));
    };
    if let Some(key) = map.keys().find(|k| *k != "layers") {
        return Err(format!(
            "unknown top-level field {key:?}{}: a model description holds only \"layers\"",
            suggestion(key, ["layers"])
        ));
    }
    let layers = map
        .get("layers")
        .ok_or("missing field \"layers\" (the list of layers)")?;
    check_list(layers, "")
}

/// Checks a list of layers whose path (for messages) is `path`.
fn check_list(list: &Value, path: &str) -> Result<(), String> {
    let Value::Array(layers) = list else {
        return Err(format!(
            "{path}layers: expected a list of layers, got {}",
            kind(list)
        ));
    };
    for (j, layer) in layers.iter().enumerate() {
        check_layer(layer, &format!("{path}layer {j}"))?;
    }
    Ok(())
}

/// Checks one layer at `here` (`layer 3`), then its sublayers, then its values.
fn check_layer(layer: &Value, here: &str) -> Result<(), String> {
    let Value::Object(map) = layer else {
        return Err(format!(
            "{here}: expected a layer object {{\"type\": ...}}, got {}",
            kind(layer)
        ));
    };
    let types = || LAYER_FIELDS.iter().map(|(t, _, _)| *t);
    let type_name = match map.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(other) => return Err(format!("{here}: \"type\" must be a string, got {other}")),
        None => {
            return Err(format!(
                "{here}: missing field \"type\"; layer types: {}",
                types().collect::<Vec<_>>().join(", ")
            ))
        }
    };
    let Some(&(_, required, optional)) = LAYER_FIELDS.iter().find(|(t, _, _)| *t == type_name)
    else {
        return Err(format!(
            "{here}: unknown layer type {type_name:?}{}; layer types: {}",
            suggestion(type_name, types()),
            types().collect::<Vec<_>>().join(", ")
        ));
    };
    let here = format!("{here} ({type_name})");
    let valid = || {
        let mut all: Vec<String> = required.iter().map(|f| f.to_string()).collect();
        all.extend(optional.iter().map(|f| format!("{f} (optional)")));
        all.push("name (optional)".into());
        all.join(", ")
    };
    let known =
        |k: &str| k == "type" || k == "name" || required.contains(&k) || optional.contains(&k);
    if let Some(key) = map.keys().find(|k| !known(k)) {
        let names = required.iter().chain(optional).copied().chain(["name"]);
        return Err(format!(
            "{here}: unknown field {key:?}{}; valid fields: {}",
            suggestion(key, names),
            valid()
        ));
    }
    if let Some(missing) = required.iter().find(|f| !map.contains_key(**f)) {
        return Err(format!(
            "{here}: missing field {missing:?}; valid fields: {}",
            valid()
        ));
    }
    for (key, value) in map {
        check_value(type_name, key, value, &here)?;
    }
    check_children(map, type_name, &here)?;
    Layer::deserialize(layer).map_err(|e| format!("{here}: {e}"))?;
    Ok(())
}

/// Checks the sublayers of a `sequential` or `parallel` layer.
fn check_children(map: &Map<String, Value>, type_name: &str, here: &str) -> Result<(), String> {
    match (type_name, map.get("layers"), map.get("branches")) {
        ("sequential", Some(layers), _) => check_list(layers, &format!("{here} > ")),
        ("parallel", _, Some(Value::Array(branches))) => {
            for (k, branch) in branches.iter().enumerate() {
                check_list(branch, &format!("{here} > branch {k} > "))?;
            }
            Ok(())
        }
        ("parallel", _, Some(other)) => Err(format!(
            "{here}: \"branches\" must be a list of layer lists, got {}",
            kind(other)
        )),
        _ => Ok(()),
    }
}

/// `; did you mean "kernel"?` for the valid name nearest to `given` (edit distance at most
/// 2, or a third of its length), else nothing.
fn suggestion<'a>(given: &str, valid: impl IntoIterator<Item = &'a str>) -> String {
    valid
        .into_iter()
        .map(|v| (edit_distance(given, v), v))
        .filter(|&(d, v)| d <= 2.max(v.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, v)| format!("; did you mean {v:?}?"))
        .unwrap_or_default()
}

/// The Levenshtein distance between `a` and `b` (insertions, deletions, substitutions).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// A JSON value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::super::ModelSpec;
    use super::*;

    fn error(json: &str) -> String {
        serde_json::from_str::<ModelSpec>(json)
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn mistakes_name_the_layer_the_field_the_valid_fields_and_the_nearest() {
        let e = error(
            r#"{"layers": [{"type": "flatten"}, {"type": "conv2d", "out_channels": 4, "kernal": 3}]}"#,
        );
        assert!(
            e.contains("layer 1 (conv2d): unknown field \"kernal\"; did you mean \"kernel\"?; valid fields: out_channels, kernel, stride (optional), padding (optional), bias (optional), init (optional), name (optional)"),
            "{e}"
        );
        let e = error(r#"{"layers": [{"type": "conv2d", "kernel": 3}]}"#);
        assert!(e.contains("layer 0 (conv2d): missing field \"out_channels\"; valid fields: out_channels, kernel"), "{e}");
        let e = error(r#"{"layers": [{"type": "conv3d"}]}"#);
        assert!(e.contains("layer 0: unknown layer type \"conv3d\"; did you mean \"conv2d\"?; layer types: linear, conv2d"), "{e}");
        let e = error(
            r#"{"layers": [{"type": "parallel", "merge": "sum", "branches": [[], [{"type": "relu", "slope": 1}]]}]}"#,
        );
        assert!(e.contains("layer 0 (parallel) > branch 1 > layer 0 (relu): unknown field \"slope\"; valid fields: name (optional)"), "{e}");
        let e = error(
            r#"{"layers": [{"type": "sequential", "layers": [{"type": "dropout", "p": "half"}]}]}"#,
        );
        assert!(
            e.contains("layer 0 (sequential) > layer 0 (dropout): field \"p\": expected a number, got \"half\""),
            "{e}"
        );
        let e = error(r#"{"layers": [{"type": "conv2d", "out_channels": 4, "kernel": -3}]}"#);
        assert!(
            e.contains("layer 0 (conv2d): field \"kernel\": expected a whole number >= 0, got -3"),
            "{e}"
        );
        let e = error(r#"{"layers": [{"type": "linear", "out_features": 4, "init": "xavier"}]}"#);
        assert!(
            e.contains("field \"init\": unknown value \"xavier\"; expected one of pytorch_default"),
            "{e}"
        );
        let e = error(r#"{"layers": [{"type": "parallel", "merge": "add", "branches": []}]}"#);
        assert!(
            e.contains("field \"merge\": unknown value \"add\"; expected one of sum, concat"),
            "{e}"
        );
        let e = error(
            r#"{"layers": [{"type": "parallel", "merge": "sum", "branches": [], "activation": "rlu"}]}"#,
        );
        assert!(
            e.contains("unknown value \"rlu\"; did you mean \"relu\"?"),
            "{e}"
        );
        let e = error(
            r#"{"layers": [{"type": "max_pool2d", "kernel": 2, "stride": null}, {"type": "batch_norm", "eps": true}]}"#,
        );
        assert!(
            e.contains("layer 1 (batch_norm): field \"eps\": expected a number, got true"),
            "{e}"
        );
        let e = error(r#"{"layer": []}"#);
        assert!(
            e.contains("unknown top-level field \"layer\"; did you mean \"layers\"?"),
            "{e}"
        );
        let e = error(r#"{"layers": [{"type": "linear", "out_features": 10, "zzz": 1}]}"#);
        assert!(
            e.contains("unknown field \"zzz\"; valid fields"),
            "no far-fetched suggestion: {e}"
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn the_readme_documents_every_layer_type_and_field() {
        let readme = include_str!("../../../../../README.md");
        let table = &readme[readme.find("| type | fields").expect("the layer table")..];
        let table = &table[..table.find("\n\n").unwrap_or(table.len())];
        for (type_name, required, optional) in LAYER_FIELDS {
            let row = table
                .lines()
                .find(|l| {
                    l.starts_with('|')
                        && l.split('|')
                            .nth(1)
                            .is_some_and(|c| c.contains(&format!("`{type_name}`")))
                })
                .unwrap_or_else(|| panic!("no README row for {type_name}"));
            for field in required.iter().chain(*optional) {
                assert!(
                    row.contains(&format!("`{field}`")),
                    "README: {type_name} lacks {field}"
                );
            }
        }
    }

    #[test]
    fn every_built_in_model_passes_and_every_field_it_writes_is_listed() {
        for name in ["lenet5", "resnet20", "alexnet", "inception", "fastnet"] {
            let spec = crate::nn::models::named(name, 10).expect("built in");
            let json: Value = serde_json::from_str(&spec.to_json()).expect("JSON");
            check_model(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let mlp = crate::nn::models::mlp(
            &[8],
            crate::nn::ActivationKind::Elu { alpha: 1.0 },
            0.5,
            true,
            3,
        );
        check_model(&serde_json::from_str(&mlp.to_json()).expect("JSON")).expect("mlp passes");
    }
}
