//! The CIFAR-10 binary format: batches of 3073-byte records, raw (`.bin`) or gzip'd
//! (`.bin.gz`).
//!
//! Each record is one label byte (0..9) followed by the 32x32 image as three 1024-byte planes
//! (red, green, blue), each row-major: already the `[C, H, W]` layout of one NCHW item.

use std::io::Read;
use std::path::Path;

use super::{reserve_bytes, Input};
use crate::{Error, Result};

/// Bytes per image: 3 channels of 32x32.
pub const IMAGE_BYTES: usize = 3 * 32 * 32;
/// Bytes per record: the label, then the image.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// The number of CIFAR-10 classes; labels are below it.
pub const NUM_CLASSES: usize = 10;
/// The largest class-names file read (the real one is 61 bytes).
const MAX_META_BYTES: u64 = 1 << 16;

/// The images and labels of one CIFAR-10 batch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CifarBatch {
    /// Pixels in NCHW order (`[N, 3, 32, 32]`), 0..255.
    pub images: Vec<u8>,
    /// One label per image, each below [`NUM_CLASSES`].
    pub labels: Vec<u8>,
}

impl CifarBatch {
    /// The number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the batch holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels as `f32` in NCHW order, unscaled (0.0..=255.0).
    pub fn images_f32(&self) -> Vec<f32> {
        self.images.iter().map(|&p| f32::from(p)).collect()
    }
}

/// Reads one CIFAR-10 batch file (`data_batch_1.bin`, `test_batch.bin.gz`, ...).
///
/// A raw file's length must be a multiple of the 3073-byte record, checked before anything is
/// allocated; a gzip'd file is decompressed record by record and must end on a record
/// boundary. Every label must be below 10. Any number of records is accepted (the official
/// batches hold 10000).
///
/// # Errors
/// `Io` when the file cannot be read, `Format` naming the file and the record at fault.
pub fn read_cifar_batch(path: impl AsRef<Path>) -> Result<CifarBatch> {
    let path = path.as_ref();
    let mut input = Input::open(path)?;
    let bad = |msg: String| Err(Error::format(path, msg));
    let record = RECORD_BYTES as u64;
    let (mut images, mut labels) = if input.gzip {
        (Vec::new(), Vec::new())
    } else {
        if input.file_len % record != 0 {
            return bad(format!(
                "{} bytes is not a whole number of {RECORD_BYTES}-byte records \
                 (1 label + {IMAGE_BYTES} pixels): {} records and {} bytes left over",
                input.file_len,
                input.file_len / record,
                input.file_len % record
            ));
        }
        let n = (input.file_len / record) as usize;
        (
            reserve_bytes(path, n * IMAGE_BYTES)?,
            reserve_bytes(path, n)?,
        )
    };
    let mut buf = vec![0u8; RECORD_BYTES];
    loop {
        let got = input.read_full(path, &mut buf)?;
        if got == 0 {
            break;
        }
        let i = labels.len();
        if got < RECORD_BYTES {
            return bad(format!(
                "record {i} is cut short: {got} of {RECORD_BYTES} bytes (the data ends inside it)"
            ));
        }
        if usize::from(buf[0]) >= NUM_CLASSES {
            return bad(format!(
                "record {i}: label {} is not a CIFAR-10 class (0..9)",
                buf[0]
            ));
        }
        labels.push(buf[0]);
        images.extend_from_slice(&buf[1..]);
    }
    Ok(CifarBatch { images, labels })
}

/// Reads the class names from `batches.meta.txt`: one per line, blank lines ignored, exactly
/// [`NUM_CLASSES`] of them.
///
/// # Errors
/// `Io` when the file cannot be read; `Format` when it is too large, not UTF-8, or does not
/// hold ten names.
pub fn read_cifar_class_names(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut text = String::new();
    file.take(MAX_META_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => Error::format(path, "not UTF-8 text"),
            _ => Error::io(path, e),
        })?;
    if text.len() as u64 > MAX_META_BYTES {
        return Err(Error::format(
            path,
            format!("larger than {MAX_META_BYTES} bytes: not a class-names file"),
        ));
    }
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if names.len() != NUM_CLASSES {
        return Err(Error::format(
            path,
            format!(
                "{} class names, expected {NUM_CLASSES} (one per line)",
                names.len()
            ),
        ));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;
    use crate::data::test_support::TempDir;

    /// Two records: label 3 with every pixel = its channel index, label 9 with pixel = 200.
    fn two_records() -> Vec<u8> {
        let mut bytes = vec![3u8];
        for c in 0..3u8 {
            bytes.extend(std::iter::repeat_n(c, 1024));
        }
        bytes.push(9);
        bytes.extend(std::iter::repeat_n(200u8, IMAGE_BYTES));
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(bytes).expect("in memory");
        enc.finish().expect("in memory")
    }

    #[test]
    fn reads_raw_and_gzip_batches() {
        let dir = TempDir::new("cifar-ok");
        let bytes = two_records();
        for (name, content) in [("b.bin", bytes.clone()), ("b.bin.gz", gzip(&bytes))] {
            let path = dir.path().join(name);
            std::fs::write(&path, content).expect("write");
            let b = read_cifar_batch(&path).expect("valid");
            assert_eq!(b.labels, vec![3, 9]);
            assert_eq!(b.len(), 2);
            assert_eq!(b.images.len(), 2 * IMAGE_BYTES);
            assert_eq!(
                (b.images[0], b.images[1024], b.images[2047], b.images[2048]),
                (0, 1, 1, 2)
            );
            assert_eq!(b.images_f32()[IMAGE_BYTES], 200.0);
        }
    }

    #[test]
    fn rejects_partial_records_and_bad_labels() {
        let dir = TempDir::new("cifar-bad");
        let mut bytes = two_records();
        bytes.pop();
        let path = dir.path().join("short.bin");
        std::fs::write(&path, &bytes).expect("write");
        let e = read_cifar_batch(&path).unwrap_err().to_string();
        assert!(
            e.contains("short.bin") && e.contains("1 records and 3072 bytes left over"),
            "{e}"
        );
        let path = dir.path().join("short.bin.gz");
        std::fs::write(&path, gzip(&bytes)).expect("write");
        let e = read_cifar_batch(&path).unwrap_err().to_string();
        assert!(e.contains("record 1 is cut short: 3072 of 3073"), "{e}");
        let mut bytes = two_records();
        bytes[RECORD_BYTES] = 10;
        let path = dir.path().join("label.bin");
        std::fs::write(&path, &bytes).expect("write");
        let e = read_cifar_batch(&path).unwrap_err().to_string();
        assert!(
            e.contains("record 1: label 10 is not a CIFAR-10 class"),
            "{e}"
        );
    }

    #[test]
    fn class_names_need_ten_lines() {
        let dir = TempDir::new("cifar-meta");
        let path = dir.path().join("batches.meta.txt");
        let names = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";
        std::fs::write(&path, names).expect("write");
        let got = read_cifar_class_names(&path).expect("valid");
        assert_eq!((got[0].as_str(), got[9].as_str()), ("airplane", "truck"));
        std::fs::write(&path, "a\nb\n").expect("write");
        let e = read_cifar_class_names(&path).unwrap_err().to_string();
        assert!(e.contains("2 class names, expected 10"), "{e}");
    }
}
