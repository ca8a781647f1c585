//! The consumer side: safe extraction of an artifact tarball.

use std::ffi::OsStr;
use std::fs::{self, DirBuilder, FileTimes, OpenOptions};
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use flate2::read::MultiGzDecoder;
use tar::EntryType;

use super::ArtifactError;

/// Limits for [`extract_tarball`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Refuse the archive once its entries' sizes add up to more than this many bytes
    /// (`None`: no limit, which is what Flux's consumers use).
    pub max_size: Option<u64>,
}

/// What [`extract_tarball`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Regular files written.
    pub files: usize,
    /// Directory entries created.
    pub directories: usize,
    /// Sum of the sizes of the files written.
    pub bytes: u64,
    /// Names of the symlink entries skipped.
    pub skipped_symlinks: Vec<String>,
}

/// Extracts a gzip-compressed tarball into `dir` (created if missing), refusing
/// everything that could write outside it.
///
/// # Guarantees
/// - The input must be gzip (several gzip members in a row are read as one stream).
/// - Entry names must be non-empty, relative, free of `\` and of `..` components;
///   `.` components and repeated slashes are ignored. Anything else refuses the whole
///   archive.
/// - Regular files and directories are written. Symlink entries are skipped (and listed
///   in [`Extracted::skipped_symlinks`]), as upstream consumers do; hard links, devices,
///   FIFOs and other types refuse the archive. PAX global headers are ignored.
/// - Nothing is written through a symlink already present under `dir`.
/// - Directories get their archived permissions plus owner rwx; files their archived
///   permissions plus owner rw (never setuid/setgid/sticky); file mtimes are those of
///   the archive, but never in the future.
/// - With [`ExtractOptions::max_size`], the archive is refused as soon as the declared
///   sizes of its entries exceed the limit, before their contents are read.
///
/// On error, entries extracted so far stay in `dir`: extract into a fresh temporary
/// directory and drop it on failure.
///
/// # Errors
/// [`ArtifactError::NotGzip`], [`ArtifactError::ReadArchive`],
/// [`ArtifactError::UnsafeEntry`], [`ArtifactError::UnsupportedEntry`],
/// [`ArtifactError::ExtractTooLarge`] and [`ArtifactError::Io`].
pub fn extract_tarball(
    reader: impl Read,
    dir: &Path,
    options: ExtractOptions,
) -> Result<Extracted, ArtifactError> {
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf().map_err(ArtifactError::ReadArchive)?;
    if !head.starts_with(&[0x1f, 0x8b]) {
        return Err(ArtifactError::NotGzip);
    }
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(ArtifactError::Io {
                operation: "extracting into",
                path: dir.to_owned(),
                source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(ArtifactError::io("creating", dir))?;
        }
        Err(e) => return Err(ArtifactError::io("inspecting", dir)(e)),
    }

    let now = SystemTime::now();
    let mut archive = tar::Archive::new(MultiGzDecoder::new(reader));
    let mut extracted = Extracted::default();
    let mut declared: u64 = 0;
    for entry in archive.entries().map_err(ArtifactError::ReadArchive)? {
        let mut entry = entry.map_err(ArtifactError::ReadArchive)?;
        let name_bytes = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&name_bytes).into_owned();
        let size = entry.size();
        declared = declared.saturating_add(size);
        if let Some(limit) = options.max_size
            && declared > limit
        {
            return Err(ArtifactError::ExtractTooLarge { name, limit });
        }
        let entry_type = entry.header().entry_type();
        if entry_type.is_pax_global_extensions() {
            continue;
        }
        let components = safe_components(&name_bytes, &name)?;
        let mode = entry.header().mode().unwrap_or(0o600) & 0o777;
        match entry_type {
            EntryType::Regular | EntryType::Continuous => {
                let Some((file_name, parents)) = components.split_last() else {
                    return Err(unsafe_entry(&name, "a file cannot replace the root"));
                };
                let parent = ensure_directories(dir, parents, 0o750, &name)?;
                let path = parent.join(OsStr::from_bytes(file_name));
                refuse_symlink(&path, &name)?;
                let mut file = OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(mode | 0o600)
                    .open(&path)
                    .map_err(ArtifactError::io("creating", &path))?;
                let written =
                    io::copy(&mut entry, &mut file).map_err(ArtifactError::ReadArchive)?;
                if written != size {
                    return Err(ArtifactError::ReadArchive(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("only wrote {written} bytes to {name}; expected {size}"),
                    )));
                }
                let mtime = entry
                    .header()
                    .mtime()
                    .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
                    .unwrap_or(now)
                    .min(now);
                file.set_times(FileTimes::new().set_accessed(mtime).set_modified(mtime))
                    .map_err(ArtifactError::io("setting times of", &path))?;
                extracted.files += 1;
                extracted.bytes += written;
            }
            EntryType::Directory => {
                ensure_directories(dir, &components, mode | 0o700, &name)?;
                extracted.directories += 1;
            }
            EntryType::Symlink => extracted.skipped_symlinks.push(name),
            other => {
                return Err(ArtifactError::UnsupportedEntry {
                    name,
                    kind: format!("{other:?}"),
                });
            }
        }
    }
    Ok(extracted)
}

fn unsafe_entry(name: &str, reason: &'static str) -> ArtifactError {
    ArtifactError::UnsafeEntry {
        name: name.to_owned(),
        reason,
    }
}

/// The name's normal components, or why the name is refused.
fn safe_components<'a>(bytes: &'a [u8], name: &str) -> Result<Vec<&'a [u8]>, ArtifactError> {
    if bytes.is_empty() {
        return Err(unsafe_entry(name, "empty name"));
    }
    if bytes.starts_with(b"/") {
        return Err(unsafe_entry(name, "absolute path"));
    }
    if bytes.contains(&b'\\') {
        return Err(unsafe_entry(name, "backslash in name"));
    }
    let mut components = Vec::new();
    for component in bytes.split(|&b| b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => return Err(unsafe_entry(name, "parent directory component")),
            normal => components.push(normal),
        }
    }
    Ok(components)
}

fn refuse_symlink(path: &Path, name: &str) -> Result<(), ArtifactError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            Err(unsafe_entry(name, "would write through a symlink"))
        }
        _ => Ok(()),
    }
}

/// Creates the directories `components` below `root` one by one (new ones with `mode`),
/// refusing to pass through a symlink or a file; returns the deepest one.
fn ensure_directories(
    root: &Path,
    components: &[&[u8]],
    mode: u32,
    name: &str,
) -> Result<PathBuf, ArtifactError> {
    let mut path = root.to_path_buf();
    for component in components {
        path.push(OsStr::from_bytes(component));
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(unsafe_entry(name, "would write through a symlink"));
            }
            Ok(_) => {
                return Err(ArtifactError::Io {
                    operation: "creating directory",
                    path,
                    source: io::Error::new(io::ErrorKind::AlreadyExists, "a file is in the way"),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                DirBuilder::new()
                    .mode(mode)
                    .create(&path)
                    .map_err(ArtifactError::io("creating directory", &path))?;
            }
            Err(e) => return Err(ArtifactError::io("inspecting", &path)(e)),
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::write_tarball;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    /// Builds a tar.gz from raw entries, bypassing the `tar` crate's own name checks
    /// (it refuses `..` and absolute paths when asked politely).
    struct Crafted {
        tar: tar::Builder<Vec<u8>>,
    }

    impl Crafted {
        fn new() -> Self {
            Self {
                tar: tar::Builder::new(Vec::new()),
            }
        }

        fn entry(mut self, name: &[u8], kind: EntryType, data: &[u8], link: &[u8]) -> Self {
            let mut header = tar::Header::new_gnu();
            let raw = &mut header.as_old_mut().name;
            raw[..name.len()].copy_from_slice(name);
            let target = &mut header.as_old_mut().linkname;
            target[..link.len()].copy_from_slice(link);
            header.set_entry_type(kind);
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
            header.set_cksum();
            self.tar.append(&header, data).unwrap();
            self
        }

        fn file(self, name: &str, data: &str) -> Self {
            self.entry(name.as_bytes(), EntryType::Regular, data.as_bytes(), b"")
        }

        fn gzip(self) -> Vec<u8> {
            let tar = self.tar.into_inner().unwrap();
            let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
            gz.write_all(&tar).unwrap();
            gz.finish().unwrap()
        }
    }

    /// A scratch area whose `root/` is the extraction target; everything else in it is
    /// "outside".
    struct Scratch {
        dir: tempfile::TempDir,
    }

    impl Scratch {
        fn new() -> Self {
            Self {
                dir: tempfile::tempdir().unwrap(),
            }
        }
        fn root(&self) -> PathBuf {
            self.dir.path().join("root")
        }
        /// Every path under the scratch area that is not under `root/`.
        fn outside(&self) -> Vec<PathBuf> {
            let mut found = Vec::new();
            let mut stack = vec![self.dir.path().to_path_buf()];
            while let Some(dir) = stack.pop() {
                for entry in fs::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.starts_with(self.root()) {
                        continue;
                    }
                    if path.is_dir() {
                        stack.push(path.clone());
                    }
                    found.push(path);
                }
            }
            found
        }
    }

    fn extract(archive: &[u8], scratch: &Scratch) -> Result<Extracted, ArtifactError> {
        extract_tarball(archive, &scratch.root(), ExtractOptions::default())
    }

    #[test]
    fn a_written_tarball_extracts_to_the_same_tree() {
        let source = tempfile::tempdir().unwrap();
        fs::create_dir_all(source.path().join("deploy/base")).unwrap();
        fs::write(
            source.path().join("deploy/base/cm.yaml"),
            "kind: ConfigMap\n",
        )
        .unwrap();
        fs::write(source.path().join("run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(
            source.path().join("run.sh"),
            fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let mut bytes = Vec::new();
        write_tarball(source.path(), &mut bytes, |_, _| false).unwrap();

        let scratch = Scratch::new();
        let extracted = extract(&bytes, &scratch).unwrap();
        assert_eq!(extracted.files, 2);
        assert_eq!(extracted.directories, 3, ". deploy deploy/base");
        let root = scratch.root();
        assert_eq!(
            fs::read_to_string(root.join("deploy/base/cm.yaml")).unwrap(),
            "kind: ConfigMap\n"
        );
        let mode = |p: &str| fs::metadata(root.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("run.sh"), 0o700);
        assert_eq!(mode("deploy/base/cm.yaml"), 0o600);
        assert_eq!(mode("deploy"), 0o750);
        assert_eq!(
            fs::metadata(root.join("run.sh"))
                .unwrap()
                .modified()
                .unwrap(),
            SystemTime::UNIX_EPOCH,
            "the archive's zero mtime is kept"
        );
        assert!(scratch.outside().is_empty());
    }

    #[test]
    fn escaping_names_are_refused_and_nothing_lands_outside() {
        for name in ["../x", "/etc/x", "a/../../x", "a/..", "..", "a\\..\\x", ""] {
            let scratch = Scratch::new();
            let archive = Crafted::new().file("ok", "fine").file(name, "evil").gzip();
            let err = extract(&archive, &scratch).unwrap_err();
            assert!(
                matches!(err, ArtifactError::UnsafeEntry { .. }),
                "{name:?}: {err}"
            );
            assert!(
                scratch.outside().is_empty(),
                "{name:?}: {:?}",
                scratch.outside()
            );
        }
    }

    #[test]
    fn symlinks_are_skipped_and_cannot_be_written_through() {
        let scratch = Scratch::new();
        let archive = Crafted::new()
            .entry(b"escape", EntryType::Symlink, b"", b"/")
            .entry(b"up", EntryType::Symlink, b"", b"..")
            .file("escape/etc/x", "evil")
            .file("up/x", "evil")
            .file("kept", "yes")
            .gzip();
        let extracted = extract(&archive, &scratch).unwrap();
        assert_eq!(extracted.skipped_symlinks, ["escape", "up"]);
        let root = scratch.root();
        // The names became plain directories inside the root.
        assert_eq!(
            fs::read_to_string(root.join("escape/etc/x")).unwrap(),
            "evil"
        );
        assert!(
            !fs::symlink_metadata(root.join("escape"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(root.join("kept")).unwrap(), "yes");
        assert!(scratch.outside().is_empty(), "{:?}", scratch.outside());
    }

    #[test]
    fn a_symlink_already_in_the_target_is_not_followed() {
        let scratch = Scratch::new();
        fs::create_dir_all(scratch.root()).unwrap();
        let outside = scratch.dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, scratch.root().join("link")).unwrap();
        let archive = Crafted::new().file("link/x", "evil").gzip();
        let err = extract(&archive, &scratch).unwrap_err();
        assert!(matches!(err, ArtifactError::UnsafeEntry { .. }), "{err}");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    }

    #[test]
    fn hard_links_devices_and_fifos_are_refused() {
        for (kind, link) in [
            (EntryType::Link, b"/etc/passwd".as_slice()),
            (EntryType::Char, b"".as_slice()),
            (EntryType::Block, b"".as_slice()),
            (EntryType::Fifo, b"".as_slice()),
        ] {
            let scratch = Scratch::new();
            let archive = Crafted::new().entry(b"special", kind, b"", link).gzip();
            let err = extract(&archive, &scratch).unwrap_err();
            assert!(
                matches!(err, ArtifactError::UnsupportedEntry { .. }),
                "{kind:?}: {err}"
            );
            assert!(!scratch.root().join("special").exists(), "{kind:?}");
            assert!(scratch.outside().is_empty());
        }
    }

    #[test]
    fn a_huge_entry_is_refused_before_its_contents_are_read() {
        // The header claims 1 TiB; no data follows. The limit must trip first.
        let mut header = tar::Header::new_gnu();
        header.set_path("huge").unwrap();
        header.set_entry_type(EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(1 << 40);
        header.set_cksum();
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(header.as_bytes()).unwrap();
        let archive = gz.finish().unwrap();
        let scratch = Scratch::new();
        let err = extract_tarball(
            archive.as_slice(),
            &scratch.root(),
            ExtractOptions {
                max_size: Some(100 << 20),
            },
        )
        .unwrap_err();
        assert!(
            matches!(err, ArtifactError::ExtractTooLarge { .. }),
            "{err}"
        );
        assert!(!scratch.root().join("huge").exists());
    }

    #[test]
    fn the_size_limit_counts_all_entries_together() {
        let archive = Crafted::new().file("a", "12345").file("b", "67890").gzip();
        let scratch = Scratch::new();
        let err = extract_tarball(
            archive.as_slice(),
            &scratch.root(),
            ExtractOptions { max_size: Some(8) },
        )
        .unwrap_err();
        assert!(
            matches!(&err, ArtifactError::ExtractTooLarge { name, .. } if name == "b"),
            "{err}"
        );
        let scratch = Scratch::new();
        extract_tarball(
            archive.as_slice(),
            &scratch.root(),
            ExtractOptions { max_size: Some(10) },
        )
        .unwrap();
    }

    #[test]
    fn a_plain_tar_is_refused_as_not_gzip() {
        let tar = Crafted::new().file("a", "b").tar.into_inner().unwrap();
        let scratch = Scratch::new();
        let err = extract(&tar, &scratch).unwrap_err();
        assert!(matches!(err, ArtifactError::NotGzip), "{err}");
    }

    #[test]
    fn a_truncated_archive_is_an_error() {
        let archive = Crafted::new().file("a", &"x".repeat(10_000)).gzip();
        let scratch = Scratch::new();
        let err = extract(&archive[..archive.len() / 2], &scratch).unwrap_err();
        assert!(matches!(err, ArtifactError::ReadArchive(_)), "{err}");
    }

    #[test]
    fn restrictive_modes_still_leave_the_owner_in_control() {
        let mut header = tar::Header::new_gnu();
        header.set_path("locked").unwrap();
        header.set_entry_type(EntryType::Directory);
        header.set_mode(0o000);
        header.set_size(0);
        header.set_cksum();
        let mut tar = tar::Builder::new(Vec::new());
        tar.append(&header, io::empty()).unwrap();
        let mut file = tar::Header::new_gnu();
        file.set_path("locked/f").unwrap();
        file.set_entry_type(EntryType::Regular);
        file.set_mode(0o4000);
        file.set_size(1);
        file.set_cksum();
        tar.append(&file, b"x".as_slice()).unwrap();
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&tar.into_inner().unwrap()).unwrap();
        let scratch = Scratch::new();
        extract(&gz.finish().unwrap(), &scratch).unwrap();
        let mode = |p: &str| {
            fs::metadata(scratch.root().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        };
        assert_eq!(mode("locked"), 0o700);
        assert_eq!(mode("locked/f"), 0o600, "no setuid, owner can read");
    }
}
