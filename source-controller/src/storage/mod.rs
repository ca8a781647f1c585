//! Artifact storage: where artifacts live on disk, how they are written, found, checked,
//! linked, served (by URL) and garbage collected.
//!
//! Layout: `<root>/<lowercase kind>/<namespace>/<name>/<file>`, e.g.
//! `gitrepository/flux-system/podinfo/<commit>.tar.gz`. Directories are created 0700,
//! files end up 0600.
//!
//! # Guarantees
//! - Writes are atomic: a temporary file in the artifact's directory, fsynced, renamed
//!   over the final name. A reader never sees a partial artifact.
//! - Writers of the same artifact are serialised by an exclusive lock on `<file>.lock`
//!   (an `flock`, so separate processes sharing the volume are serialised too).
//! - The digest and size recorded are those of exactly the bytes stored.
//! - Every path is built from validated components and joined under the root: no object
//!   name, namespace or file name can point outside it.
//!
//! All methods block (file system work): call them from `spawn_blocking`.

mod gc;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use sluice_api::meta::Artifact;
use sluice_runtime::artifact::{Digest, DigestAlgorithm, Digester, ExtractOptions};

use crate::ignore::IgnoreRules;

/// Mode of stored artifact files.
const FILE_MODE: u32 = 0o600;
/// Mode of storage directories.
const DIR_MODE: u32 = 0o700;

/// A storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A file system operation failed.
    #[error("{operation} '{path}': {source}")]
    Io {
        /// What was attempted.
        operation: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A kind, namespace, name or file name cannot be used as a path component.
    #[error("invalid path component {0:?}")]
    InvalidComponent(String),
    /// The artifact has no digest to verify against.
    #[error("artifact has no digest")]
    NoDigest,
    /// The artifact's digest cannot be parsed or uses an unsupported algorithm.
    #[error("failed to parse artifact digest '{digest}': {reason}")]
    BadDigest {
        /// The digest as recorded.
        digest: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The stored bytes do not have the recorded digest.
    #[error("computed digest doesn't match '{0}'")]
    DigestMismatch(String),
    /// Archiving or extracting failed.
    #[error(transparent)]
    Artifact(#[from] sluice_runtime::artifact::ArtifactError),
    /// The storage root or advertised address cannot be used.
    #[error("{0}")]
    Config(String),
}

impl StorageError {
    fn io(operation: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            operation,
            path,
            source,
        }
    }
}

/// How the storage is configured (`--storage-path`, the advertised address,
/// `--artifact-retention-ttl`, `--artifact-retention-records`, `--artifact-digest-algo`).
#[derive(Debug, Clone)]
pub struct StorageOptions {
    /// Root directory of the artifacts.
    pub root: PathBuf,
    /// Host (and port) or `http(s)://` prefix the artifact URLs are built from.
    pub advertised_address: String,
    /// Artifacts other than the current one older than this are collected.
    pub retention_ttl: Duration,
    /// At most this many artifacts (the current one included) are kept per object.
    pub retention_records: usize,
    /// Digest algorithm of new artifacts.
    pub digest_algorithm: DigestAlgorithm,
}

/// The artifact storage.
#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
    advertised_address: String,
    retention_ttl: Duration,
    retention_records: usize,
    digest_algorithm: DigestAlgorithm,
}

/// The state of an object's current artifact in storage, see [`Storage::check_current`].
#[derive(Debug)]
pub enum Integrity {
    /// The file is there with the recorded digest.
    Intact,
    /// The file is missing or not a regular file.
    Missing,
    /// The file was there but could not be verified (no digest, bad digest, different
    /// bytes); it has been removed.
    Corrupt(StorageError),
}

/// Holds the lock of one artifact until dropped.
#[derive(Debug)]
pub struct ArtifactLock {
    file: File,
}

impl Drop for ArtifactLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl Storage {
    /// Opens (creating if needed) the storage root.
    ///
    /// # Errors
    /// [`StorageError::Config`] when the root exists but is not a directory, or
    /// [`StorageError::Io`] when it cannot be created.
    pub fn new(options: StorageOptions) -> Result<Self, StorageError> {
        match fs::metadata(&options.root) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(StorageError::Config(format!(
                    "invalid dir path: {}",
                    options.root.display()
                )));
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                create_dirs(&options.root)?;
            }
            Err(error) => {
                return Err(StorageError::io("reading", &options.root)(error));
            }
        }
        Ok(Self {
            root: options.root,
            advertised_address: options.advertised_address,
            retention_ttl: options.retention_ttl,
            retention_records: options.retention_records,
            digest_algorithm: options.digest_algorithm,
        })
    }

    /// The storage root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The advertised address URLs are built from.
    pub fn advertised_address(&self) -> &str {
        &self.advertised_address
    }

    /// The digest algorithm of new artifacts.
    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        self.digest_algorithm
    }

    /// The storage path of an artifact: `<lowercase kind>/<namespace>/<name>/<file>`.
    ///
    /// # Errors
    /// [`StorageError::InvalidComponent`] when a part is empty, `.`, `..` or contains `/`.
    pub fn artifact_path(
        kind: &str,
        namespace: &str,
        name: &str,
        file: &str,
    ) -> Result<String, StorageError> {
        for part in [kind, namespace, name, file] {
            check_component(part)?;
        }
        Ok(format!(
            "{}/{namespace}/{name}/{file}",
            kind.to_ascii_lowercase()
        ))
    }

    /// A new artifact for an object (digest, size and update time still empty), with
    /// its path and URL.
    ///
    /// # Errors
    /// See [`Storage::artifact_path`].
    pub fn new_artifact(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        revision: &str,
        file: &str,
    ) -> Result<Artifact, StorageError> {
        let path = Self::artifact_path(kind, namespace, name, file)?;
        let mut artifact = Artifact {
            url: String::new(),
            path,
            revision: revision.to_owned(),
            digest: String::new(),
            last_update_time: Time(jiff::Timestamp::now()),
            size: None,
            metadata: None,
        };
        self.set_artifact_url(&mut artifact);
        Ok(artifact)
    }

    /// The URL of a storage path: `http://<advertised>/<path>`, or `<advertised>/<path>`
    /// when the advertised address already has a scheme.
    pub fn url_for(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        let address = self.advertised_address.trim_end_matches('/');
        if address.starts_with("http://") || address.starts_with("https://") {
            format!("{address}/{path}")
        } else {
            format!("http://{address}/{path}")
        }
    }

    /// Rewrites the artifact's URL from its path and the current advertised address (so
    /// a changed `--storage-adv-addr` reaches every status on the next reconcile). Returns
    /// whether the URL changed.
    pub fn set_artifact_url(&self, artifact: &mut Artifact) -> bool {
        if artifact.path.is_empty() {
            return false;
        }
        let url = self.url_for(&artifact.path);
        let changed = artifact.url != url;
        artifact.url = url;
        changed
    }

    /// The local file of a storage path, joined under the root component by component.
    ///
    /// # Errors
    /// [`StorageError::InvalidComponent`] for an absolute path or a `..` component.
    pub fn local_path(&self, path: &str) -> Result<PathBuf, StorageError> {
        let mut out = self.root.clone();
        for component in Path::new(path).components() {
            match component {
                Component::Normal(part) => out.push(part),
                Component::CurDir => {}
                _ => return Err(StorageError::InvalidComponent(path.to_owned())),
            }
        }
        Ok(out)
    }

    /// The directory of an object's artifacts: `<root>/<kind>/<namespace>/<name>`.
    ///
    /// # Errors
    /// [`StorageError::InvalidComponent`].
    pub fn object_dir(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<PathBuf, StorageError> {
        for part in [kind, namespace, name] {
            check_component(part)?;
        }
        Ok(self
            .root
            .join(kind.to_ascii_lowercase())
            .join(namespace)
            .join(name))
    }

    /// Whether the artifact's file exists as a regular file (a symlink does not count).
    pub fn artifact_exists(&self, artifact: &Artifact) -> bool {
        self.local_path(&artifact.path)
            .ok()
            .and_then(|p| fs::symlink_metadata(p).ok())
            .is_some_and(|m| m.is_file())
    }

    /// Checks the stored bytes against the artifact's digest.
    ///
    /// # Errors
    /// [`StorageError::NoDigest`], [`StorageError::BadDigest`],
    /// [`StorageError::DigestMismatch`] or [`StorageError::Io`].
    pub fn verify_artifact(&self, artifact: &Artifact) -> Result<(), StorageError> {
        if artifact.digest.is_empty() {
            return Err(StorageError::NoDigest);
        }
        let expected = Digest::parse(&artifact.digest).map_err(|e| StorageError::BadDigest {
            digest: artifact.digest.clone(),
            reason: e.to_string(),
        })?;
        let path = self.local_path(&artifact.path)?;
        let mut file = File::open(&path).map_err(StorageError::io("opening", &path))?;
        let mut digester = Digester::new(expected.algorithm());
        io::copy(&mut file, &mut digester).map_err(StorageError::io("reading", &path))?;
        if digester.finish() != expected {
            return Err(StorageError::DigestMismatch(artifact.digest.clone()));
        }
        Ok(())
    }

    /// The integrity check of an object's current artifact at the start of a reconcile:
    /// a missing file is [`Integrity::Missing`]; a file that fails
    /// [`Storage::verify_artifact`] is removed and reported as [`Integrity::Corrupt`].
    ///
    /// # Errors
    /// Removing a corrupt file failed.
    pub fn check_current(&self, artifact: &Artifact) -> Result<Integrity, StorageError> {
        if !self.artifact_exists(artifact) {
            return Ok(Integrity::Missing);
        }
        match self.verify_artifact(artifact) {
            Ok(()) => Ok(Integrity::Intact),
            Err(error) => {
                self.remove(artifact)?;
                Ok(Integrity::Corrupt(error))
            }
        }
    }

    /// Creates the artifact's directory.
    ///
    /// # Errors
    /// [`StorageError::Io`].
    pub fn mkdir_all(&self, artifact: &Artifact) -> Result<(), StorageError> {
        let path = self.local_path(&artifact.path)?;
        match path.parent() {
            Some(dir) => create_dirs(dir),
            None => Ok(()),
        }
    }

    /// Takes the exclusive lock of an artifact (`<file>.lock`), waiting for other holders.
    ///
    /// # Errors
    /// [`StorageError::Io`] when the lock file cannot be opened or locked.
    pub fn lock(&self, artifact: &Artifact) -> Result<ArtifactLock, StorageError> {
        let path = lock_path(&self.local_path(&artifact.path)?);
        if let Some(dir) = path.parent() {
            create_dirs(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(StorageError::io("opening lock", &path))?;
        file.lock().map_err(StorageError::io("locking", &path))?;
        Ok(ArtifactLock { file })
    }

    /// Archives `dir` as the artifact (a deterministic tar.gz, see
    /// [`sluice_runtime::artifact::write_tarball`]), leaving out what `rules` ignore, and
    /// records digest, size and update time on `artifact`.
    ///
    /// # Errors
    /// [`StorageError::Config`] when `dir` is not a directory; [`StorageError::Io`] or
    /// [`StorageError::Artifact`] when reading or writing fails.
    pub fn archive(
        &self,
        artifact: &mut Artifact,
        dir: &Path,
        rules: Option<&IgnoreRules>,
    ) -> Result<(), StorageError> {
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            _ => {
                return Err(StorageError::Config(format!(
                    "invalid dir path: {}",
                    dir.display()
                )));
            }
        }
        self.write_atomically(artifact, |out| {
            sluice_runtime::artifact::write_tarball(dir, out, |path, is_dir| {
                rules.is_some_and(|r| r.is_ignored(path, is_dir))
            })?;
            Ok(())
        })
    }

    /// Stores the bytes of `reader` as the artifact (atomically), recording digest, size
    /// and update time.
    ///
    /// # Errors
    /// [`StorageError::Io`].
    pub fn copy_from(
        &self,
        artifact: &mut Artifact,
        mut reader: impl Read,
    ) -> Result<(), StorageError> {
        self.write_atomically(artifact, |out| {
            io::copy(&mut reader, out).map_err(StorageError::io("writing", "artifact"))?;
            Ok(())
        })
    }

    /// Writes the artifact through `write` into a temporary file next to it, then renames
    /// it into place with mode 0600; digest and size are computed over the bytes written.
    fn write_atomically(
        &self,
        artifact: &mut Artifact,
        write: impl FnOnce(&mut dyn Write) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let path = self.local_path(&artifact.path)?;
        let dir = path
            .parent()
            .ok_or_else(|| StorageError::InvalidComponent(artifact.path.clone()))?
            .to_owned();
        create_dirs(&dir)?;
        let temp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&dir)
            .map_err(StorageError::io("creating a temporary file in", &dir))?;
        let temp_path = temp.path().to_owned();
        let (size, digest) = {
            let mut file: &fs::File = temp.as_file();
            let mut writer = DigestingWriter {
                inner: io::BufWriter::with_capacity(256 * 1024, &mut file),
                digester: Digester::new(self.digest_algorithm),
            };
            write(&mut writer)?;
            writer
                .inner
                .flush()
                .map_err(StorageError::io("writing", &temp_path))?;
            let DigestingWriter { inner, digester } = writer;
            drop(inner);
            (digester.size(), digester.finish())
        };
        temp.as_file()
            .sync_all()
            .map_err(StorageError::io("syncing", &temp_path))?;
        fs::set_permissions(&temp_path, fs::Permissions::from_mode(FILE_MODE))
            .map_err(StorageError::io("setting the mode of", &temp_path))?;
        temp.persist(&path)
            .map_err(|e| StorageError::io("renaming into", &path)(e.error))?;
        artifact.digest = digest.to_string();
        artifact.size = i64::try_from(size).ok();
        artifact.last_update_time = Time(jiff::Timestamp::now());
        Ok(())
    }

    /// Points the symlink `link_name` (e.g. `latest.tar.gz`), in the artifact's
    /// directory, at the artifact; returns the link's URL. The link is replaced
    /// atomically.
    ///
    /// # Errors
    /// [`StorageError::InvalidComponent`] or [`StorageError::Io`].
    pub fn symlink(&self, artifact: &Artifact, link_name: &str) -> Result<String, StorageError> {
        check_component(link_name)?;
        let path = self.local_path(&artifact.path)?;
        let (Some(dir), Some(target)) = (path.parent(), path.file_name()) else {
            return Err(StorageError::InvalidComponent(artifact.path.clone()));
        };
        let link = dir.join(link_name);
        let temp = dir.join(format!(".tmp-{link_name}-{:016x}", rand_suffix()));
        std::os::unix::fs::symlink(target, &temp).map_err(StorageError::io("linking", &temp))?;
        fs::rename(&temp, &link).map_err(|e| {
            let _ = fs::remove_file(&temp);
            StorageError::io("renaming into", &link)(e)
        })?;
        let link_path = match artifact.path.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/{link_name}"),
            None => link_name.to_owned(),
        };
        Ok(self.url_for(&link_path))
    }

    /// Removes the symlink `link_name` next to the artifact if it is a symlink (Git
    /// removes its deprecated `latest.tar.gz`). Returns whether one was removed.
    ///
    /// # Errors
    /// [`StorageError::Io`] when removing fails.
    pub fn remove_symlink(
        &self,
        artifact: &Artifact,
        link_name: &str,
    ) -> Result<bool, StorageError> {
        check_component(link_name)?;
        let path = self.local_path(&artifact.path)?;
        let Some(dir) = path.parent() else {
            return Ok(false);
        };
        let link = dir.join(link_name);
        match fs::symlink_metadata(&link) {
            Ok(meta) if meta.file_type().is_symlink() => {
                fs::remove_file(&link).map_err(StorageError::io("removing", &link))?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Removes the artifact's file (and its lock file).
    ///
    /// # Errors
    /// [`StorageError::Io`] for anything but a missing file.
    pub fn remove(&self, artifact: &Artifact) -> Result<(), StorageError> {
        let path = self.local_path(&artifact.path)?;
        remove_if_exists(&path)?;
        remove_if_exists(&lock_path(&path))
    }

    /// Removes every artifact of an object (its whole directory), on deletion. Returns
    /// whether there was anything to remove.
    ///
    /// # Errors
    /// [`StorageError::Io`] or [`StorageError::InvalidComponent`].
    pub fn remove_all(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<bool, StorageError> {
        let dir = self.object_dir(kind, namespace, name)?;
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(StorageError::io("removing", &dir)(error)),
        }
    }

    /// Extracts the artifact into a fresh directory under `into` and copies its
    /// `from_path` (a file or directory inside it, clamped to the artifact root) to
    /// `to` (used for GitRepository includes).
    ///
    /// # Errors
    /// [`StorageError::Io`] (e.g. `from_path` does not exist) or
    /// [`StorageError::Artifact`] when extraction fails.
    pub fn copy_to_path(
        &self,
        artifact: &Artifact,
        from_path: &str,
        to: &Path,
        scratch: &Path,
    ) -> Result<(), StorageError> {
        let path = self.local_path(&artifact.path)?;
        let file = File::open(&path).map_err(StorageError::io("opening", &path))?;
        let unpack = tempfile::Builder::new()
            .prefix("unpack-")
            .tempdir_in(scratch)
            .map_err(StorageError::io("creating a directory in", scratch))?;
        sluice_runtime::artifact::extract_tarball(
            io::BufReader::new(file),
            unpack.path(),
            ExtractOptions::default(),
        )?;
        let source = secure_join(unpack.path(), from_path)?;
        let meta = fs::symlink_metadata(&source).map_err(StorageError::io("stat", &source))?;
        if let Some(parent) = to.parent() {
            create_dirs(parent)?;
        }
        if meta.is_dir() {
            copy_dir(&source, to)
        } else {
            fs::copy(&source, to)
                .map(|_| ())
                .map_err(StorageError::io("copying", &source))
        }
    }

    /// Removes old artifacts of the object whose current artifact is `current`: files
    /// older than the retention TTL, then the oldest until at most the retention records
    /// remain; never the current one. Returns the files removed.
    ///
    /// # Errors
    /// [`StorageError::Io`] when the directory cannot be walked (removal failures are
    /// reported together at the end).
    pub fn garbage_collect(&self, current: &Artifact) -> Result<Vec<PathBuf>, StorageError> {
        let path = self.local_path(&current.path)?;
        gc::collect(&path, self.retention_ttl, self.retention_records)
    }
}

/// Joins `relative` under `root` the way Flux's secure join does for user paths: `..`
/// never climbs above `root`, absolute paths are taken relative to it, and symlinks met
/// on the way are not followed outside (they are resolved within `root` when relative,
/// and clamped otherwise).
///
/// # Errors
/// [`StorageError::Io`] with `ELOOP` after 255 symlinks (a loop).
pub fn secure_join(root: &Path, relative: &str) -> Result<PathBuf, StorageError> {
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    let mut budget = 255;
    let mut pending: Vec<std::ffi::OsString> = Path::new(relative)
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    while let Some(part) = pending.pop() {
        if part == ".." {
            parts.pop();
            continue;
        }
        let candidate: PathBuf = std::iter::once(root.as_os_str().to_owned())
            .chain(parts.iter().cloned())
            .chain(std::iter::once(part.clone()))
            .collect();
        match fs::read_link(&candidate) {
            Ok(target) if budget > 0 => {
                budget -= 1;
                if target.is_absolute() {
                    parts.clear();
                }
                let mut more: Vec<std::ffi::OsString> = target
                    .components()
                    .rev()
                    .filter_map(|c| match c {
                        Component::Normal(p) => Some(p.to_owned()),
                        Component::ParentDir => Some("..".into()),
                        _ => None,
                    })
                    .collect();
                pending.append(&mut more);
            }
            Ok(_) => {
                return Err(StorageError::io("resolving", root.join(relative))(
                    io::Error::from_raw_os_error(40),
                ));
            }
            Err(_) => parts.push(part),
        }
    }
    let mut out = root.to_owned();
    out.extend(parts);
    Ok(out)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), StorageError> {
    create_dirs(to)?;
    let entries = fs::read_dir(from).map_err(StorageError::io("reading", from))?;
    for entry in entries {
        let entry = entry.map_err(StorageError::io("reading", from))?;
        let kind = entry
            .file_type()
            .map_err(StorageError::io("reading", entry.path()))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target).map_err(StorageError::io("copying", entry.path()))?;
        }
    }
    Ok(())
}

fn check_component(part: &str) -> Result<(), StorageError> {
    if part.is_empty() || part == "." || part == ".." || part.contains('/') || part.contains('\0') {
        return Err(StorageError::InvalidComponent(part.to_owned()));
    }
    Ok(())
}

fn create_dirs(dir: &Path) -> Result<(), StorageError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(StorageError::io("creating", dir))
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn remove_if_exists(path: &Path) -> Result<(), StorageError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(StorageError::io("removing", path)(error)),
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// Hashes and counts what passes through.
struct DigestingWriter<W> {
    inner: W,
    digester: Digester,
}

impl<W: Write> Write for DigestingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digester.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests;
