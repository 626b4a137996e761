//! Crash-safe file replacement, for state that must survive `kill -9`.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Replaces `path` with `contents` so that a crash at any moment leaves either the old file or
/// the new one: write a sibling temp file, fsync it, rename it over `path`, fsync the folder.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |out| out.write_all(contents)).map(drop)
}

/// [`write_atomic`] of what `write` streams into the file, which never holds more than
/// [`SYNC_EVERY`] bytes unsynced: large contents are neither built in memory first nor left
/// for one long flush, which would stall every other fsync on the same disk (ext4 commits
/// all dirty data of a file system together) for as long as it takes. Answers the size
/// written.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<u64> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let size = {
        let mut out = BufWriter::with_capacity(1 << 20, Synced::new(File::create(&temp)?));
        write(&mut out)?;
        let synced = out
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        synced.file.sync_all()?;
        synced.size
    };
    fs::rename(&temp, path)?;
    sync_folder_of(path)?;
    Ok(size)
}

/// Fsyncs the folder holding `path`, which makes a file created, renamed or removed there
/// durable.
pub fn sync_folder_of(path: &Path) -> std::io::Result<()> {
    File::open(path.parent().unwrap_or_else(|| Path::new(".")))?.sync_all()
}

/// Removes `path`; one already gone is no error.
pub fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// How much [`write_atomic_with`] writes between two fsyncs.
pub const SYNC_EVERY: u64 = 4 << 20;

/// A file that fsyncs itself every [`SYNC_EVERY`] bytes, and counts what it was given.
struct Synced {
    file: File,
    unsynced: u64,
    size: u64,
}

impl Synced {
    fn new(file: File) -> Self {
        Self {
            file,
            unsynced: 0,
            size: 0,
        }
    }
}

impl Write for Synced {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.file.write(bytes)?;
        self.unsynced += written as u64;
        self.size += written as u64;
        if self.unsynced >= SYNC_EVERY {
            self.file.sync_data()?;
            self.unsynced = 0;
        }
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_contents_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("fake-kit-durable-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        // Streamed, past several fsyncs.
        let big = vec![b'x'; usize::try_from(SYNC_EVERY).unwrap() * 2 + 7];
        let size = write_atomic_with(&path, |out| {
            out.write_all(&big[..10])?;
            out.write_all(&big[10..])
        })
        .unwrap();
        assert_eq!(size, big.len() as u64);
        assert_eq!(fs::read(&path).unwrap(), big);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(dir).unwrap();
    }
}
