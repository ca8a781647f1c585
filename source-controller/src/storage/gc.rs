//! Garbage collection of an object's old artifacts.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::StorageError;

/// At most this many files are looked at per collection, as upstream.
pub const WALK_LIMIT: usize = 1000;

/// Collects the garbage next to `current` (the object's current artifact file): regular
/// files other than `current` and `.lock` files (symlinks and directories are left
/// alone). First every file older than `ttl` goes; then, while more than `records`
/// files remain, the oldest. Lock files of removed artifacts go with them.
pub(super) fn collect(
    current: &Path,
    ttl: Duration,
    records: usize,
) -> Result<Vec<PathBuf>, StorageError> {
    let Some(dir) = current.parent() else {
        return Ok(Vec::new());
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(StorageError::io("reading", dir)(error)),
    };
    let now = SystemTime::now();
    // (modified, path) of every artifact file, the current one included.
    let mut files: Vec<(SystemTime, PathBuf)> = Vec::new();
    for entry in entries.take(WALK_LIMIT) {
        let entry = entry.map_err(StorageError::io("reading", dir))?;
        let path = entry.path();
        let meta = entry
            .metadata()
            .map_err(StorageError::io("reading", &path))?;
        if !meta.is_file() || path.extension().is_some_and(|e| e == "lock") {
            continue;
        }
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(".tmp-") {
            // A write in progress (or one that died): leave it to its writer... unless it
            // is clearly stale.
            if meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_none_or(|age| age <= ttl.max(Duration::from_secs(3600)))
            {
                continue;
            }
        }
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        files.push((modified, path));
    }
    files.sort();
    let mut garbage: Vec<PathBuf> = Vec::new();
    for (modified, path) in &files {
        let expired = now.duration_since(*modified).is_ok_and(|age| age > ttl);
        if path != current && expired {
            garbage.push(path.clone());
        }
    }
    let mut remaining = files.len() - garbage.len();
    for (_, path) in &files {
        if remaining <= records {
            break;
        }
        if path != current && !garbage.contains(path) {
            garbage.push(path.clone());
            remaining -= 1;
        }
    }
    let mut removed = Vec::new();
    let mut failures = Vec::new();
    for path in garbage {
        match fs::remove_file(&path) {
            Ok(()) => {
                let mut lock = path.as_os_str().to_owned();
                lock.push(".lock");
                let _ = fs::remove_file(PathBuf::from(lock));
                removed.push(path);
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => failures.push(format!("{}: {error}", path.display())),
        }
    }
    if !failures.is_empty() {
        return Err(StorageError::Io {
            operation: "garbage collecting",
            path: dir.to_owned(),
            source: io::Error::other(failures.join(", ")),
        });
    }
    Ok(removed)
}
