//! The readers under test: for each, valid seed files and the calls that read them back.

use std::io::Write;
use std::path::Path;

use ferrolearn::classic::knn::{FittedKnnClassifier, KnnClassifier, Metric};
use ferrolearn::classic::{persist, FitClassifier};
use ferrolearn::data::csv::{read_csv, read_csv_features};
use ferrolearn::data::{read_cifar_batch, read_cifar_class_names};
use ferrolearn::data::{read_idx, Dataset};
use ferrolearn::features::{parse_kinds, CacheKey, FeatureSet};
use ferrolearn::nn::models::named;
use ferrolearn::nn::spec::ModelSpec;
use ferrolearn::train::checkpoint::{read_json, read_tensors, tensors_to_bytes};
use ferrolearn::train::memory::estimate_memory;
use ferrolearn::train::{EmaConfig, TrainConfig};
use ferrolearn::Tensor;
use ndarray::{array, Array2};

/// The files of one input: names (inside the scratch directory) and contents.
pub type Case = Vec<(&'static str, Vec<u8>)>;

/// A reader under test: reads the case written at a path, an `Err` for refused input.
pub type ReadFn = fn(&Path) -> Result<(), String>;

/// One reader: its name, seed inputs, and the read of a case written into a directory.
pub struct Reader {
    /// The name given to `--reader`.
    pub name: &'static str,
    /// Valid inputs the mutations start from.
    pub seeds: fn() -> Vec<Case>,
    /// Reads the case's files from the directory; `Err` is a refusal (fine), a panic is not.
    pub read: ReadFn,
    /// Whether the first file is also fuzzed gzip'd (compressed before or after mutating).
    pub gzip: bool,
    /// A repair applied to half the mutated cases, so mutations get past a checksum.
    pub fixup: Option<fn(&mut Case)>,
}

/// Every reader, in the order `--reader all` runs them.
pub fn readers() -> Vec<Reader> {
    vec![
        Reader {
            name: "idx",
            seeds: idx_seeds,
            read: read_idx_case,
            gzip: true,
            fixup: None,
        },
        Reader {
            name: "cifar",
            seeds: cifar_seeds,
            read: read_cifar_case,
            gzip: true,
            fixup: None,
        },
        Reader {
            name: "csv",
            seeds: csv_seeds,
            read: read_csv_case,
            gzip: false,
            fixup: None,
        },
        Reader {
            name: "checkpoint",
            seeds: checkpoint_seeds,
            read: read_checkpoint_case,
            gzip: false,
            fixup: None,
        },
        Reader {
            name: "persist",
            seeds: persist_seeds,
            read: read_persist_case,
            gzip: false,
            fixup: Some(restamp_persist),
        },
        Reader {
            name: "features",
            seeds: feature_seeds,
            read: read_feature_case,
            gzip: false,
            fixup: None,
        },
        Reader {
            name: "config",
            seeds: config_seeds,
            read: read_config_case,
            gzip: false,
            fixup: None,
        },
        Reader {
            name: "model",
            seeds: model_seeds,
            read: read_model_case,
            gzip: false,
            fixup: None,
        },
    ]
}

/// Gzip-compresses `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("in memory");
    enc.finish().expect("in memory")
}

fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn idx_file(dims: &[u32]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    let len: u32 = dims.iter().product();
    out.extend((0..len).map(|i| (i * 37 % 256) as u8));
    out
}

fn idx_seeds() -> Vec<Case> {
    vec![
        vec![("data", idx_file(&[3, 4, 4]))],
        vec![("data", idx_file(&[5]))],
    ]
}

fn read_idx_case(dir: &Path) -> Result<(), String> {
    read_idx(dir.join("data")).map(drop).map_err(text)
}

fn cifar_seeds() -> Vec<Case> {
    let record = |label: u8| {
        let mut r = vec![label];
        r.extend((0..3072u32).map(|i| (i % 251) as u8));
        r
    };
    let names = b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n".to_vec();
    vec![vec![
        ("data", [record(3), record(9)].concat()),
        ("meta", names),
    ]]
}

fn read_cifar_case(dir: &Path) -> Result<(), String> {
    let batch = read_cifar_batch(dir.join("data")).map(drop).map_err(text);
    let names = read_cifar_class_names(dir.join("meta"))
        .map(drop)
        .map_err(text);
    batch.and(names)
}

fn csv_seeds() -> Vec<Case> {
    let tables: [&[u8]; 3] = [
        b"a,b,label\n1.5,2,0\n-3,4e2,1\n\n5,6,2\n",
        b"x, y ,label\n0.1,0.2,cat\n\"0.3\",0.4,dog\n0.5,0.6,cat\n",
        b"label,f1\n1.25,7\n2.5,8\n",
    ];
    tables.iter().map(|t| vec![("data", t.to_vec())]).collect()
}

fn read_csv_case(dir: &Path) -> Result<(), String> {
    let path = dir.join("data");
    let with_target = read_csv(&path, "label").map(drop).map_err(text);
    let features = read_csv_features(&path).map(drop).map_err(text);
    with_target.and(features)
}

fn checkpoint_seeds() -> Vec<Case> {
    let tensors = vec![
        (
            "0.weight".to_string(),
            Tensor::from_vec((0..24).map(|i| i as f32).collect(), &[2, 3, 4]),
        ),
        (
            "0.bias".to_string(),
            Tensor::from_vec(vec![0.5, -1.0], &[2]),
        ),
        ("1.scalar".to_string(), Tensor::from_vec(vec![3.0], &[])),
    ];
    let bytes = tensors_to_bytes(Path::new("seed"), &tensors).expect("seed checkpoint");
    vec![vec![("model.safetensors", bytes)]]
}

fn read_checkpoint_case(dir: &Path) -> Result<(), String> {
    read_tensors(&dir.join("model.safetensors"))
        .map(drop)
        .map_err(text)
}

fn persist_seeds() -> Vec<Case> {
    let x = array![
        [0.0, 1.0],
        [1.0, 0.0],
        [2.0, 2.0],
        [3.0, 1.0],
        [0.5, 0.5],
        [1.5, 2.5],
        [2.5, 0.5],
        [0.0, 3.0],
        [3.0, 3.0],
        [1.0, 1.0],
        [2.0, 0.0],
        [0.0, 2.0],
        [1.0, 3.0],
        [3.0, 0.0],
        [2.0, 3.0],
        [0.5, 1.5],
        [1.5, 0.5]
    ];
    let y = ndarray::Array1::from_iter((0..x.nrows()).map(|i| i % 3));
    let model = KnnClassifier {
        k: 3,
        metric: Metric::Euclidean,
    }
    .fit(x.view(), y.view())
    .expect("seed model");
    let dir = std::env::temp_dir().join(format!("ferrolearn-fuzz-seed-{}", std::process::id()));
    persist::save(&dir, &model).expect("seed save");
    let case = vec![
        (
            persist::JSON_FILE,
            std::fs::read(dir.join(persist::JSON_FILE)).expect("seed json"),
        ),
        (
            persist::TENSORS_FILE,
            std::fs::read(dir.join(persist::TENSORS_FILE)).expect("seed st"),
        ),
    ];
    std::fs::remove_dir_all(&dir).expect("seed cleanup");
    vec![case]
}

/// FNV-1a over bytes: the checksum `persist` records of its tensors file.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Writes the tensors file's true size and checksum into the JSON (when it still parses), so
/// a mutated tensors file reaches the safetensors reader.
fn restamp_persist(case: &mut Case) {
    let tensors = &case[1].1;
    let stamp =
        serde_json::json!({ "bytes": tensors.len(), "fnv1a": format!("{:016x}", fnv1a(tensors)) });
    if let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&case[0].1) {
        if let Some(obj) = json.as_object_mut() {
            obj.insert("tensors_file".into(), stamp);
            case[0].1 = serde_json::to_vec(&json).expect("JSON value");
        }
    }
}

fn read_persist_case(dir: &Path) -> Result<(), String> {
    persist::load::<FittedKnnClassifier>(dir)
        .map(drop)
        .map_err(text)
}

fn feature_seeds() -> Vec<Case> {
    let kinds = parse_kinds("color(space=rgb,bins=4)").expect("seed kinds");
    let item_shape = [3, 4, 4];
    let d = ferrolearn::features::feature_len(&kinds, item_shape).expect("seed length");
    let set = FeatureSet {
        key: CacheKey {
            dataset: "tiny".into(),
            split: "train".into(),
            kinds,
        },
        item_shape,
        features: Array2::from_shape_fn((3, d), |(i, j)| (i * d + j) as f32 * 0.25),
        labels: vec![0, 2, 1],
    };
    let path = std::env::temp_dir().join(format!("ferrolearn-fuzz-seed-{}.st", std::process::id()));
    set.save(&path).expect("seed cache");
    let bytes = std::fs::read(&path).expect("seed cache bytes");
    std::fs::remove_file(&path).expect("seed cleanup");
    vec![vec![("features.safetensors", bytes)]]
}

fn read_feature_case(dir: &Path) -> Result<(), String> {
    FeatureSet::read(&dir.join("features.safetensors"))
        .map(drop)
        .map_err(text)
}

fn config_seeds() -> Vec<Case> {
    let mnist = Dataset::new(
        vec![0; 2 * 784],
        [1, 28, 28],
        vec![0, 1],
        vec!["a".into(), "b".into()],
    )
    .expect("seed dataset");
    let cifar =
        Dataset::new(vec![0; 3072], [3, 32, 32], vec![0], vec!["c".into()]).expect("seed dataset");
    let lenet = TrainConfig::new(
        "lenet5",
        named("lenet5", 2).expect("lenet5"),
        "mnist",
        &mnist,
    );
    let airbench = TrainConfig {
        ema: Some(EmaConfig {
            decay: 0.99,
            every: 5,
            lookahead: true,
        }),
        augment_cutout: Some(8),
        whitening_bias_epochs: Some(3),
        ..TrainConfig::new(
            "airbench",
            named("airbench", 1).expect("airbench"),
            "cifar-10",
            &cifar,
        )
    };
    [lenet, airbench]
        .iter()
        .map(|c| {
            vec![(
                "config.json",
                serde_json::to_vec_pretty(c).expect("seed config"),
            )]
        })
        .collect()
}

fn read_config_case(dir: &Path) -> Result<(), String> {
    let config: TrainConfig = read_json(&dir.join("config.json")).map_err(text)?;
    config.optimizer.build().map_err(text)?;
    config.schedule.build(config.optimizer.lr()).map_err(text)?;
    config
        .schedule
        .build_per_step(config.optimizer.lr())
        .map_err(text)?;
    if let Some(ema) = config.ema {
        ema.build().map_err(text)?;
    }
    estimate_memory(&config).map(drop).map_err(text)
}

fn model_seeds() -> Vec<Case> {
    ["lenet5", "resnet8", "inception"]
        .iter()
        .map(|name| {
            vec![(
                "model.json",
                named(name, 10).expect("seed model").to_json().into_bytes(),
            )]
        })
        .collect()
}

fn read_model_case(dir: &Path) -> Result<(), String> {
    let spec = ModelSpec::from_file(&dir.join("model.json")).map_err(text)?;
    let mnist = spec.estimate(&[1, 28, 28], 10).map(drop).map_err(text);
    let cifar = spec.estimate(&[3, 32, 32], 10).map(drop).map_err(text);
    mnist.and(cifar)
}
