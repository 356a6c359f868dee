//! Dataset readers (IDX, CIFAR-10 binary, CSV), in-memory image datasets, loaders and splits.
//!
//! The path of image data through this module:
//!
//! ```text
//! read_idx / read_cifar_batch  ->  Dataset (u8 pixels, [C, H, W] per item, labels)
//!   -> split_validation (train / held-out)  ->  Normalizer::fit (training split only)
//!   -> Loader (seeded shuffle per epoch, mini-batches, augmentation)  ->  Batch (f32 NCHW)
//! ```
//!
//! A training loader augments each image ([`AugmentConfig`]: random crop from a zero-,
//! reflect- or black-padded image, horizontal flip, cutout) as its batch is built, from
//! random draws fixed by the seed, the epoch and the image's position in the epoch;
//! [`Loader::epoch_prefetched`] builds the next batches on another thread ([`Prefetch`])
//! while the current one is used, with the same results.
//!
//! [`load`] finds a named dataset ([`DatasetName`]) in a data directory
//! ([`resolve_data_dir`]) and returns its train and test [`Dataset`]s. Pixels stay `u8` in
//! memory (MNIST's 60000 training images are 47 MB) and become `f32` one batch at a time.
//!
//! Every reader checks the sizes a header declares against the file before allocating, and
//! its errors name the file and what is wrong with it.

mod augment;
pub mod cifar;
mod classes;
pub mod csv;
mod dataset;
mod draws;
pub mod idx;
mod loader;
mod normalizer;
mod picture;
mod plan;
mod prefetch;
mod sets;
mod target;
mod transform;

pub use augment::{AugmentConfig, FlipMode, PaddingMode};
pub use cifar::{read_cifar_batch, read_cifar_class_names, CifarBatch};
pub use classes::{class_labels, labels_in, ClassLabels, Classes};
pub use dataset::Dataset;
pub use idx::{read_idx, IdxArray};
pub use loader::{Batch, Batches, Loader};
pub use normalizer::Normalizer;
pub use picture::{item_picture, load_picture, prepare_picture, Framing, Invert};
pub use prefetch::Prefetch;
pub use sets::{
    load, load_cifar10, load_fashion_mnist, load_mnist, resolve_data_dir, DatasetName, TrainTest,
    ARRAYS, DATA_ENV,
};
pub use target::Target;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::{Error, Result};

/// Deflate cannot compress better than about 1032:1; a gzip file claiming more data than
/// this many times its size is rejected before anything is allocated or decompressed.
const MAX_GZIP_RATIO: u64 = 1100;

/// An opened data file, transparently decompressed when it starts with the gzip magic
/// bytes `1f 8b`.
struct Input {
    reader: Box<dyn Read>,
    /// The size of the file on disk.
    file_len: u64,
    /// Whether the file is gzip'd (so its decompressed size is unknown in advance).
    gzip: bool,
}

impl Input {
    /// Opens `path`, sniffing for gzip.
    fn open(path: &Path) -> Result<Input> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut buffered = BufReader::new(file);
        let head = buffered.fill_buf().map_err(|e| Error::io(path, e))?;
        let gzip = head.len() >= 2 && head[..2] == [0x1f, 0x8b];
        let reader: Box<dyn Read> = if gzip {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        Ok(Input {
            reader,
            file_len,
            gzip,
        })
    }

    /// The most decompressed bytes this file can hold (its length when raw).
    fn max_content_len(&self) -> u64 {
        if self.gzip {
            self.file_len.saturating_mul(MAX_GZIP_RATIO)
        } else {
            self.file_len
        }
    }

    /// Fills `buf` from the stream; returns how many bytes were read (fewer than `buf.len()`
    /// only at the end of the data).
    fn read_full(&mut self, path: &Path, buf: &mut [u8]) -> Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(path, e)),
            }
        }
        Ok(filled)
    }

    /// Turns a read error into the crate's error: corrupt compressed data is a format error.
    fn read_error(&self, path: &Path, e: io::Error) -> Error {
        if self.gzip
            && matches!(
                e.kind(),
                io::ErrorKind::InvalidData
                    | io::ErrorKind::InvalidInput
                    | io::ErrorKind::UnexpectedEof
            )
        {
            Error::format(path, format!("corrupt gzip data: {e}"))
        } else {
            Error::io(path, e)
        }
    }
}

/// An empty vector with room for `len` bytes, or a format error when that much memory is not
/// available (instead of aborting the process).
fn reserve_bytes(path: &Path, len: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| Error::format(path, format!("cannot allocate {len} bytes for the data")))?;
    Ok(v)
}

/// Temporary directories for tests that write small files.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    /// A fresh directory under the system temp dir, removed when dropped.
    pub(crate) struct TempDir(PathBuf);

    impl TempDir {
        /// Creates `ferrolearn-{tag}-{pid}-{n}` in the temp dir.
        pub(crate) fn new(tag: &str) -> TempDir {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("ferrolearn-{tag}-{}-{n}", std::process::id()));
            // A leftover from an earlier process with the same pid would hold stale files.
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        /// The directory.
        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
