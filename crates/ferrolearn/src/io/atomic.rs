//! Atomic, durable file writes: the bytes go to `NAME.tmp` in the same directory, are
//! flushed to disk, and the temporary file is renamed over `NAME`; the directory is then
//! flushed so the rename survives a power cut. A reader (or a crash at any moment) sees the
//! old file or the whole new one, never half of one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `bytes` to `path` atomically and durably (see the module documentation); on
/// failure the temporary file is removed and the error names the file concerned.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_path(path);
    let written = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        // The rename error is the one worth reporting; a leftover temporary file is harmless.
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_parent(path)
}

/// Flushes the directory holding `path`, so renames into it are on disk.
pub fn sync_parent(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Directories can be opened (read-only) and synced on Unix; elsewhere this is skipped.
    if cfg!(unix) {
        let dir = fs::File::open(parent).map_err(|e| Error::io(parent, e))?;
        dir.sync_all().map_err(|e| Error::io(parent, e))?;
    }
    Ok(())
}

/// `dir/name.ext` -> `dir/name.ext.tmp`.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_one() {
        let dir = std::env::temp_dir().join(format!("ferrolearn-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.bin");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert!(!tmp_path(&path).exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_temporary_file() {
        let path = std::env::temp_dir()
            .join("ferrolearn-atomic-no-such-dir")
            .join("x.png");
        let err = write_atomic(&path, b"png").unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(err.to_string().contains("x.png.tmp"), "{err}");
    }
}
