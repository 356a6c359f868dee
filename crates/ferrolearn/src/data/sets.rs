//! The named image datasets (MNIST, Fashion-MNIST, CIFAR-10): where to find them and how to
//! load them into train and test [`Dataset`]s.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::cifar::{read_cifar_batch, read_cifar_class_names, IMAGE_BYTES};
use super::idx::read_idx;
use super::{reserve_bytes, Dataset};
use crate::{Error, Result};

/// The environment variable naming the data directory when no explicit one is given.
pub const DATA_ENV: &str = "FERROLEARN_DATA";

const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

const CIFAR_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// A dataset's training and test parts.
#[derive(Debug, Clone)]
pub struct TrainTest {
    /// The training set (split a validation set off it with [`Dataset::split_validation`]).
    pub train: Dataset,
    /// The test set, for the final figures only.
    pub test: Dataset,
}

/// The image datasets ferrolearn knows how to find and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// MNIST handwritten digits: 28x28 grey, 60000 train / 10000 test, bundled in `data/mnist`.
    Mnist,
    /// Fashion-MNIST (Zalando): the same format as MNIST, ten kinds of clothing.
    FashionMnist,
    /// CIFAR-10: 32x32 colour, 50000 train / 10000 test, in the binary batch format.
    Cifar10,
}

impl DatasetName {
    /// Every known dataset.
    pub const ALL: [DatasetName; 3] = [
        DatasetName::Mnist,
        DatasetName::FashionMnist,
        DatasetName::Cifar10,
    ];

    /// The canonical name, also the name of its directory: `mnist`, `fashion-mnist`,
    /// `cifar-10`.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
            DatasetName::Cifar10 => "cifar-10",
        }
    }

    /// The shape of one image `[C, H, W]` and the number of classes, known without reading
    /// the files (to build a model for the dataset).
    pub fn item_shape_and_classes(self) -> ([usize; 3], usize) {
        match self {
            DatasetName::Mnist | DatasetName::FashionMnist => ([1, 28, 28], 10),
            DatasetName::Cifar10 => ([3, 32, 32], 10),
        }
    }

    /// Directory names the dataset is looked for under, in order (the canonical one first;
    /// `cifar-10-batches-bin` is the directory of the official CIFAR-10 archive).
    fn dir_names(self) -> &'static [&'static str] {
        match self {
            DatasetName::Mnist => &["mnist"],
            DatasetName::FashionMnist => &["fashion-mnist", "fashion_mnist"],
            DatasetName::Cifar10 => &["cifar-10", "cifar10", "cifar-10-batches-bin"],
        }
    }

    /// Whether `dir` holds this dataset's files (its first training file, raw or gzip'd).
    fn is_in(self, dir: &Path) -> bool {
        let first = match self {
            DatasetName::Mnist | DatasetName::FashionMnist => IDX_TRAIN.0,
            DatasetName::Cifar10 => "data_batch_1.bin",
        };
        find_file(dir, first).is_ok()
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The dataset name a run records when it was trained on image arrays (from Python) rather
/// than on a named dataset.
pub const ARRAYS: &str = "arrays";

impl DatasetName {
    /// The named dataset a run's config records (`config.dataset`); a run trained on image
    /// arrays has none, and the error says where such a run is evaluated.
    pub fn of_run(recorded: &str) -> Result<DatasetName> {
        if recorded == ARRAYS {
            return Err(Error::InvalidParameter(
                "the run was trained on image arrays from Python, not on a named dataset, so \
                 it has no test split here: evaluate it from Python (`run.evaluate(X, y)`) or \
                 resume it with `nn.resume(dir, X, y)`"
                    .into(),
            ));
        }
        recorded.parse()
    }
}

impl FromStr for DatasetName {
    type Err = Error;

    /// Parses `mnist`, `fashion-mnist` (or `fashion_mnist`, `fashion`) and `cifar-10` (or
    /// `cifar10`), ignoring case.
    fn from_str(s: &str) -> Result<DatasetName> {
        match s.to_ascii_lowercase().as_str() {
            "mnist" => Ok(DatasetName::Mnist),
            "fashion-mnist" | "fashion_mnist" | "fashion" => Ok(DatasetName::FashionMnist),
            "cifar-10" | "cifar10" => Ok(DatasetName::Cifar10),
            _ => Err(Error::InvalidParameter(format!(
                "unknown dataset `{s}`: expected one of mnist, fashion-mnist, cifar-10"
            ))),
        }
    }
}

/// Finds the directory holding `name`'s files.
///
/// With an `explicit` directory (a `--data-dir` flag), only it is searched: first its
/// subdirectory named after the dataset (`DIR/fashion-mnist`), then `DIR` itself. Without one,
/// the search goes through `$FERROLEARN_DATA/<name>`, then, for MNIST only, the bundled copy:
/// `data/mnist` under the working directory, beside the executable (`data/mnist`, or
/// `../share/ferrolearn/data/mnist` for an installed binary), and last the repository's own
/// `data/mnist` (found from where this crate was compiled). The first directory holding the dataset's
/// files wins.
///
/// # Errors
/// `InvalidParameter` listing every directory looked in, when none holds the files.
pub fn resolve_data_dir(name: DatasetName, explicit: Option<&Path>) -> Result<PathBuf> {
    let under =
        |root: &Path| -> Vec<PathBuf> { name.dir_names().iter().map(|d| root.join(d)).collect() };
    let mut candidates = Vec::new();
    match explicit {
        Some(dir) => {
            candidates.extend(under(dir));
            candidates.push(dir.to_path_buf());
        }
        None => {
            if let Some(root) = std::env::var_os(DATA_ENV) {
                candidates.extend(under(Path::new(&root)));
            }
            if name == DatasetName::Mnist {
                candidates.extend(under(Path::new("data")));
                for root in beside_executable() {
                    candidates.extend(under(&root));
                }
                let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
                candidates.extend(under(&repo));
            }
        }
    }
    if let Some(found) = candidates.iter().find(|d| name.is_in(d)) {
        return Ok(found.clone());
    }
    let looked: Vec<String> = candidates.iter().map(|d| d.display().to_string()).collect();
    let hint = format!(
        "; point ferrolearn at the directory that holds a `{}` folder, with `--data-dir DIR` on the command line or `export {DATA_ENV}=DIR`",
        name.dir_names()[0]
    );
    Err(Error::InvalidParameter(format!(
        "cannot find the {name} files; looked in: {}{hint}",
        if looked.is_empty() {
            format!("nowhere ({DATA_ENV} is not set)")
        } else {
            looked.join(", ")
        }
    )))
}

/// Data directories a copied or installed binary carries with it: `data/` beside the
/// executable and, for an install under a prefix (`PREFIX/bin/ferrolearn`),
/// `PREFIX/share/ferrolearn/data`.
fn beside_executable() -> Vec<PathBuf> {
    let Some(bin) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    else {
        return Vec::new();
    };
    let mut roots = vec![bin.join("data")];
    if let Some(prefix) = bin.parent() {
        roots.push(prefix.join("share/ferrolearn/data"));
    }
    roots
}

/// Finds `name`'s directory with [`resolve_data_dir`] and loads it.
pub fn load(name: DatasetName, data_dir: Option<&Path>) -> Result<TrainTest> {
    let dir = resolve_data_dir(name, data_dir)?;
    match name {
        DatasetName::Mnist => load_mnist(&dir),
        DatasetName::FashionMnist => load_fashion_mnist(&dir),
        DatasetName::Cifar10 => load_cifar10(&dir),
    }
}

/// The IDX file names of the training and test parts: (images, labels).
const IDX_TRAIN: (&str, &str) = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte");
const IDX_TEST: (&str, &str) = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

/// Loads MNIST from the directory holding its four IDX files (gzip'd or raw). Items are
/// `[1, 28, 28]`; class `k` is the digit `k`.
pub fn load_mnist(dir: &Path) -> Result<TrainTest> {
    let names = (0..10).map(|d| d.to_string()).collect();
    load_idx_set(dir, names)
}

/// Loads Fashion-MNIST from the directory holding its four IDX files (gzip'd or raw), with
/// its class names (`T-shirt/top`, `Trouser`, ...).
pub fn load_fashion_mnist(dir: &Path) -> Result<TrainTest> {
    load_idx_set(dir, FASHION_CLASSES.map(String::from).to_vec())
}

/// Loads CIFAR-10 from the directory holding `data_batch_1.bin` .. `data_batch_5.bin` and
/// `test_batch.bin` (each raw or `.gz`). Items are `[3, 32, 32]`; class names come from
/// `batches.meta.txt` when present, else the standard ten.
pub fn load_cifar10(dir: &Path) -> Result<TrainTest> {
    let meta = dir.join("batches.meta.txt");
    let class_names = if meta.is_file() {
        read_cifar_class_names(&meta)?
    } else {
        CIFAR_CLASSES.map(String::from).to_vec()
    };
    let read = |files: &[String]| -> Result<Dataset> {
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        for file in files {
            let path = find_file(dir, file)?;
            let batch = read_cifar_batch(&path)?;
            if batch.is_empty() {
                // A valid but empty batch is a failed download or copy, not a dataset part.
                return Err(Error::format(
                    &path,
                    "holds no record: an empty CIFAR-10 batch file (each record is 3073 bytes)",
                ));
            }
            if images.is_empty() {
                // Official batches are equal-sized: reserve for all of them at once.
                let want = batch.images.len() * files.len();
                images = reserve_bytes(&path, want)?;
            }
            images.extend_from_slice(&batch.images);
            labels.extend_from_slice(&batch.labels);
        }
        debug_assert_eq!(images.len(), labels.len() * IMAGE_BYTES);
        Dataset::new(images, [3, 32, 32], labels, class_names.clone())
    };
    let train_files: Vec<String> = (1..=5).map(|i| format!("data_batch_{i}.bin")).collect();
    Ok(TrainTest {
        train: read(&train_files)?,
        test: read(&["test_batch.bin".to_string()])?,
    })
}

fn load_idx_set(dir: &Path, class_names: Vec<String>) -> Result<TrainTest> {
    Ok(TrainTest {
        train: load_idx_pair(dir, IDX_TRAIN, class_names.clone())?,
        test: load_idx_pair(dir, IDX_TEST, class_names)?,
    })
}

/// Reads an image file `[N, rows, cols]` and its label file `[N]` into a dataset.
fn load_idx_pair(dir: &Path, files: (&str, &str), class_names: Vec<String>) -> Result<Dataset> {
    let images_path = find_file(dir, files.0)?;
    let labels_path = find_file(dir, files.1)?;
    let images = read_idx(&images_path)?;
    let &[n, rows, cols] = images.dims.as_slice() else {
        return Err(Error::format(
            &images_path,
            format!(
                "an image file has 3 dimensions [N, rows, cols], this one {:?}",
                images.dims
            ),
        ));
    };
    if n == 0 {
        // A header with nothing after it is a failed download or copy, not a dataset part.
        return Err(Error::format(
            &images_path,
            format!(
                "holds no image (its header declares dimensions {:?}): an empty image file",
                images.dims
            ),
        ));
    }
    let labels = read_idx(&labels_path)?;
    if labels.dims != [n] {
        return Err(Error::format(
            &labels_path,
            format!(
                "a label file for {n} images has dimensions [{n}], this one {:?}",
                labels.dims
            ),
        ));
    }
    if let Some(i) = labels
        .data
        .iter()
        .position(|&l| usize::from(l) >= class_names.len())
    {
        return Err(Error::format(
            &labels_path,
            format!(
                "label {} at index {i} is not one of the {} classes",
                labels.data[i],
                class_names.len()
            ),
        ));
    }
    Dataset::new(images.data, [1, rows, cols], labels.data, class_names)
}

/// `dir/name.gz` or `dir/name`, whichever exists (gzip'd first).
fn find_file(dir: &Path, name: &str) -> Result<PathBuf> {
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    let raw = dir.join(name);
    if raw.is_file() {
        return Ok(raw);
    }
    let message = format!("neither {} nor {} exists", gz.display(), raw.display());
    Err(Error::io(
        raw,
        std::io::Error::new(std::io::ErrorKind::NotFound, message),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_support::TempDir;
    use crate::data::Normalizer;

    /// The repository's bundled MNIST (read once: 47 MB of pixels).
    fn bundled_mnist() -> TrainTest {
        let dir = resolve_data_dir(DatasetName::Mnist, None).expect("bundled MNIST is found");
        load_mnist(&dir).expect("bundled MNIST loads")
    }

    #[test]
    fn bundled_mnist_matches_its_readme() {
        let TrainTest { train, test } = bundled_mnist();
        assert_eq!((train.len(), test.len()), (60000, 10000));
        assert_eq!(train.item_shape(), [1, 28, 28]);
        assert_eq!(train.label(0), 5);
        assert_eq!(
            train.class_counts(),
            [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
        );
        assert_eq!(
            test.class_counts(),
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
        );
        let mean = |d: &Dataset| {
            d.images().iter().map(|&p| u64::from(p)).sum::<u64>() as f64 / d.images().len() as f64
        };
        assert!((mean(&train) - 33.32).abs() < 0.005, "{}", mean(&train));
        assert!((mean(&test) - 33.79).abs() < 0.005, "{}", mean(&test));
        let norm = Normalizer::fit(&train).expect("non-empty");
        assert!((norm.mean()[0] * 255.0 - 33.32).abs() < 0.005);
        // MNIST's usual normalisation constants: mean 0.1307, std 0.3081.
        assert!((norm.std()[0] - 0.3081).abs() < 5e-4, "{:?}", norm.std());
    }

    #[test]
    fn resolution_prefers_the_explicit_directory_and_lists_where_it_looked() {
        let tmp = TempDir::new("resolve");
        let e = resolve_data_dir(DatasetName::FashionMnist, Some(tmp.path()))
            .unwrap_err()
            .to_string();
        let sub = tmp.path().join("fashion-mnist");
        assert!(e.contains(&sub.display().to_string()), "{e}");
        assert!(e.contains("cannot find the fashion-mnist files"), "{e}");
        assert!(
            e.contains("a `fashion-mnist` folder, with `--data-dir DIR`"),
            "{e}"
        );
        assert!(e.contains("export FERROLEARN_DATA=DIR"), "{e}");
        std::fs::create_dir(&sub).expect("mkdir");
        std::fs::write(sub.join("train-images-idx3-ubyte"), b"").expect("write");
        assert_eq!(
            resolve_data_dir(DatasetName::FashionMnist, Some(tmp.path())).expect("found"),
            sub
        );
        assert_eq!(
            resolve_data_dir(DatasetName::FashionMnist, Some(&sub)).expect("found"),
            sub
        );
        // An explicit directory does not fall back to the bundled MNIST.
        assert!(resolve_data_dir(DatasetName::Mnist, Some(&sub.join("nope"))).is_err());
    }

    #[test]
    fn names_parse() {
        assert_eq!(
            "Fashion".parse::<DatasetName>().expect("known"),
            DatasetName::FashionMnist
        );
        assert_eq!(
            "cifar10".parse::<DatasetName>().expect("known"),
            DatasetName::Cifar10
        );
        for name in DatasetName::ALL {
            assert_eq!(name.as_str().parse::<DatasetName>().expect("known"), name);
        }
        let e = "imagenet".parse::<DatasetName>().unwrap_err().to_string();
        assert!(e.contains("unknown dataset `imagenet`"), "{e}");
    }

    #[test]
    fn mismatched_idx_pairs_name_the_file() {
        let tmp = TempDir::new("idx-pair");
        let write = |name: &str, dims: &[u32], data: &[u8]| {
            let mut bytes = vec![0, 0, 8, dims.len() as u8];
            dims.iter().for_each(|d| bytes.extend(d.to_be_bytes()));
            bytes.extend(data);
            std::fs::write(tmp.path().join(name), bytes).expect("write");
        };
        write("train-images-idx3-ubyte", &[2, 2, 2], &[0; 8]);
        write("train-labels-idx1-ubyte", &[3], &[0; 3]);
        let e = load_mnist(tmp.path()).unwrap_err().to_string();
        assert!(
            e.contains("train-labels-idx1-ubyte") && e.contains("[2], this one [3]"),
            "{e}"
        );
        write("train-labels-idx1-ubyte", &[2], &[1, 10]);
        let e = load_mnist(tmp.path()).unwrap_err().to_string();
        assert!(
            e.contains("label 10 at index 1 is not one of the 10 classes"),
            "{e}"
        );
        write("train-labels-idx1-ubyte", &[2], &[1, 9]);
        let e = load_mnist(tmp.path()).unwrap_err().to_string();
        assert!(
            e.contains("t10k-images-idx3-ubyte") && e.contains("neither"),
            "{e}"
        );
    }
}
