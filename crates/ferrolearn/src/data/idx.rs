//! The IDX format of MNIST and Fashion-MNIST, raw or gzip'd.
//!
//! An IDX file is a 4-byte magic (`00 00 TYPE NDIMS`), `NDIMS` big-endian `u32` sizes, then
//! the elements in row-major order. Only unsigned bytes (type `0x08`) are read, which is what
//! MNIST-style image and label files hold.

use std::path::Path;

use super::{reserve_bytes, Input};
use crate::{Error, Result};

/// An n-dimensional array of bytes read from an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The sizes from the header, outermost first (`[60000, 28, 28]` for MNIST images).
    pub dims: Vec<usize>,
    /// The elements in row-major order; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes, raw or gzip'd (recognised by its first two bytes,
/// `1f 8b`).
///
/// The header is checked before anything is allocated: the magic, the element type, the
/// number of dimensions, and that the data length the header declares matches the file (for a
/// raw file exactly; for a gzip file, that the file could hold it, after which the stream is
/// read up to that length and must end exactly there).
///
/// # Errors
/// `Io` when the file cannot be read, `Format` (naming the file) when its contents are not a
/// well-formed IDX byte array.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let mut input = Input::open(path)?;
    let bad = |msg: String| Err(Error::format(path, msg));

    let mut magic = [0u8; 4];
    let got = input.read_full(path, &mut magic)?;
    if got < 4 {
        return bad(format!(
            "{got} bytes of data, too short for an IDX header (4-byte magic)"
        ));
    }
    if magic[0] != 0 || magic[1] != 0 {
        return bad(format!(
            "bad magic {:02x} {:02x} {:02x} {:02x}: an IDX file starts with two zero bytes",
            magic[0], magic[1], magic[2], magic[3]
        ));
    }
    if magic[2] != 0x08 {
        let name = match magic[2] {
            0x09 => "i8",
            0x0B => "i16",
            0x0C => "i32",
            0x0D => "f32",
            0x0E => "f64",
            _ => "unknown",
        };
        return bad(format!(
            "element type 0x{:02x} ({name}) is not supported: only unsigned bytes (0x08)",
            magic[2]
        ));
    }
    let ndims = usize::from(magic[3]);
    if ndims == 0 {
        return bad("the header declares 0 dimensions".into());
    }

    let mut size_bytes = vec![0u8; 4 * ndims];
    let got = input.read_full(path, &mut size_bytes)?;
    if got < size_bytes.len() {
        return bad(format!(
            "the header declares {ndims} dimensions but the data ends after {} of their {} size bytes",
            got,
            size_bytes.len()
        ));
    }
    let dims: Vec<usize> = size_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let Some(len) = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) else {
        return bad(format!("dimensions {dims:?} overflow the address space"));
    };
    let header_len = 4 + 4 * ndims as u64;
    let total = header_len.saturating_add(len as u64);

    let data = if input.gzip {
        if total > input.max_content_len() {
            return bad(format!(
                "the header declares dimensions {dims:?} ({len} bytes of data), more than a \
                 {}-byte gzip file can hold",
                input.file_len
            ));
        }
        let mut data = reserve_bytes(path, len)?;
        data.resize(len, 0);
        let got = input.read_full(path, &mut data)?;
        if got < len {
            return bad(format!(
                "the header declares dimensions {dims:?} ({len} bytes of data) but the data \
                 ends after {got} bytes"
            ));
        }
        if input.read_full(path, &mut [0u8; 1])? != 0 {
            return bad(format!(
                "the data continues past the {len} bytes the header declares (dimensions {dims:?})"
            ));
        }
        data
    } else {
        if input.file_len != total {
            let what = if input.file_len < total {
                "truncated"
            } else {
                "has trailing bytes"
            };
            return bad(format!(
                "{what}: the header declares dimensions {dims:?}, so the file should be \
                 {total} bytes, but it is {} bytes",
                input.file_len
            ));
        }
        let mut data = reserve_bytes(path, len)?;
        data.resize(len, 0);
        let got = input.read_full(path, &mut data)?;
        if got < len {
            return bad(format!(
                "the file shrank while being read ({got} of {len} bytes)"
            ));
        }
        data
    };
    Ok(IdxArray { dims, data })
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;
    use crate::data::test_support::TempDir;

    fn header(type_byte: u8, dims: &[u32]) -> Vec<u8> {
        let mut h = vec![0, 0, type_byte, dims.len() as u8];
        for d in dims {
            h.extend_from_slice(&d.to_be_bytes());
        }
        h
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).expect("in memory");
        enc.finish().expect("in memory")
    }

    fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write temp file");
        path
    }

    fn err(path: &Path) -> String {
        let e = read_idx(path).expect_err("should fail").to_string();
        assert!(
            e.contains(&path.display().to_string()),
            "names the file: {e}"
        );
        e
    }

    #[test]
    fn reads_raw_and_gzip_with_any_number_of_dims() {
        let dir = TempDir::new("idx-ok");
        let mut bytes = header(0x08, &[2, 3, 2]);
        bytes.extend(0..12u8);
        for (name, content) in [("a.idx", bytes.clone()), ("a.idx.gz", gzip(&bytes))] {
            let a = read_idx(write(&dir, name, &content)).expect("valid");
            assert_eq!(a.dims, vec![2, 3, 2]);
            assert_eq!(a.data, (0..12).collect::<Vec<u8>>());
        }
        let mut one_d = header(0x08, &[3]);
        one_d.extend([7, 8, 9]);
        let a = read_idx(write(&dir, "l.idx", &one_d)).expect("valid");
        assert_eq!((a.dims, a.data), (vec![3], vec![7, 8, 9]));
        let empty = read_idx(write(&dir, "e.idx", &header(0x08, &[0, 28, 28]))).expect("valid");
        assert!(empty.data.is_empty());
    }

    #[test]
    fn rejects_corrupt_headers() {
        let dir = TempDir::new("idx-header");
        let e = err(&write(&dir, "short", &[0, 0]));
        assert!(e.contains("too short for an IDX header"), "{e}");
        let e = err(&write(&dir, "magic", b"hello world, not idx"));
        assert!(e.contains("bad magic 68 65 6c 6c"), "{e}");
        let e = err(&write(&dir, "float", &header(0x0D, &[1])));
        assert!(
            e.contains("element type 0x0d (f32) is not supported"),
            "{e}"
        );
        let e = err(&write(&dir, "nodims", &header(0x08, &[])));
        assert!(e.contains("0 dimensions"), "{e}");
        let e = err(&write(&dir, "cut-dims", &header(0x08, &[5, 5, 5])[..10]));
        assert!(
            e.contains("declares 3 dimensions but the data ends after 6"),
            "{e}"
        );
        let e = err(&write(&dir, "overflow", &header(0x08, &[u32::MAX; 4])));
        assert!(e.contains("overflow"), "{e}");
    }

    #[test]
    fn rejects_truncated_and_overlong_raw_files() {
        let dir = TempDir::new("idx-raw-len");
        let mut bytes = header(0x08, &[2, 2]);
        bytes.extend([1, 2, 3]);
        let e = err(&write(&dir, "trunc", &bytes));
        assert!(
            e.contains("truncated") && e.contains("should be 16 bytes, but it is 15"),
            "{e}"
        );
        bytes.extend([4, 5]);
        let e = err(&write(&dir, "long", &bytes));
        assert!(e.contains("trailing bytes"), "{e}");
    }

    #[test]
    fn rejects_truncated_and_overlong_gzip_streams() {
        let dir = TempDir::new("idx-gz-len");
        let mut bytes = header(0x08, &[2, 2]);
        bytes.extend([1, 2, 3]);
        let e = err(&write(&dir, "trunc.gz", &gzip(&bytes)));
        assert!(e.contains("ends after 3 bytes"), "{e}");
        bytes.extend([4, 5]);
        let e = err(&write(&dir, "long.gz", &gzip(&bytes)));
        assert!(e.contains("continues past the 4 bytes"), "{e}");
        let mut cut = gzip(&bytes);
        cut.truncate(cut.len() - 12);
        let e = err(&write(&dir, "cut.gz", &cut));
        assert!(
            e.contains("corrupt gzip data") || e.contains("ends after"),
            "{e}"
        );
    }

    #[test]
    fn a_huge_claim_in_a_tiny_file_fails_before_allocating() {
        let dir = TempDir::new("idx-huge");
        // 4 billion 28x28 images claimed by a 20-byte file: 3.1 TB that must not be allocated.
        let mut bytes = header(0x08, &[4_000_000_000, 28, 28]);
        bytes.extend([0, 0, 0, 0]);
        assert_eq!(bytes.len(), 20);
        let e = err(&write(&dir, "huge", &bytes));
        assert!(
            e.contains("truncated") && e.contains("it is 20 bytes"),
            "{e}"
        );
        let e = err(&write(&dir, "huge.gz", &gzip(&bytes)));
        assert!(
            e.contains("more than a") && e.contains("gzip file can hold"),
            "{e}"
        );
    }
}
