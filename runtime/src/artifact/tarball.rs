//! The producer side: a deterministic tar.gz of a directory, as source-controller writes
//! artifacts.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{EntryType, Header};

use super::{ArtifactError, Digest, DigestAlgorithm, Digester};

/// Mode of every directory in an artifact.
const DIR_MODE: u32 = 0o750;
/// Mode of a regular file in an artifact.
const FILE_MODE: u32 = 0o600;
/// Mode of a file that had any executable bit.
const EXECUTABLE_MODE: u32 = 0o700;

/// What [`write_tarball`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// `sha256:<hex>` of the compressed bytes written.
    pub digest: Digest,
    /// Number of compressed bytes written.
    pub size: u64,
}

/// Writes a gzip-compressed tar of `dir` to `out`, the way Flux's storage archives a
/// source.
///
/// # Guarantees
/// - The walk is depth first in lexical (byte) order of names; the directory itself is
///   the first entry, named `.`; other names are relative, `/`-separated.
/// - Only regular files and directories are archived; symlinks, sockets, FIFOs and
///   devices are skipped silently (symlinks are not followed).
/// - Headers carry nothing of the machine: uid and gid 0, no user or group names, mtime
///   0, and modes 0750 for directories, 0700 for files with any executable bit, 0600 for
///   other files. The same tree therefore always gives the same bytes.
/// - `exclude(relative_path, is_dir)` is asked for every entry below the root; an
///   excluded entry is not written, but an excluded directory is still walked (so that
///   a later ignore rule can re-include a file below it), as upstream does.
///
/// # Errors
/// [`ArtifactError::Io`] when `dir` is not a readable directory or a file cannot be read
/// (or changes size while read); [`ArtifactError::WriteArchive`] when `out` fails.
pub fn write_tarball<W: Write>(
    dir: &Path,
    out: W,
    exclude: impl Fn(&Path, bool) -> bool,
) -> Result<Written, ArtifactError> {
    let meta = fs::metadata(dir).map_err(ArtifactError::io("reading", dir))?;
    if !meta.is_dir() {
        return Err(ArtifactError::Io {
            operation: "archiving",
            path: dir.to_owned(),
            source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    let counted = Counted {
        inner: out,
        digester: Digester::new(DigestAlgorithm::Sha256),
    };
    let mut builder = tar::Builder::new(GzEncoder::new(counted, Compression::default()));
    append_directory(&mut builder, Path::new("."))?;
    walk(&mut builder, dir, Path::new(""), &exclude)?;
    let gzip = builder.into_inner().map_err(ArtifactError::WriteArchive)?;
    let mut counted = gzip.finish().map_err(ArtifactError::WriteArchive)?;
    counted.inner.flush().map_err(ArtifactError::WriteArchive)?;
    let size = counted.digester.size();
    Ok(Written {
        digest: counted.digester.finish(),
        size,
    })
}

fn walk<W: Write>(
    builder: &mut tar::Builder<W>,
    root: &Path,
    relative: &Path,
    exclude: &impl Fn(&Path, bool) -> bool,
) -> Result<(), ArtifactError> {
    let dir = root.join(relative);
    let mut entries = fs::read_dir(&dir)
        .and_then(|entries| entries.collect::<io::Result<Vec<_>>>())
        .map_err(ArtifactError::io("reading", &dir))?;
    entries.sort_by(|a, b| a.file_name().as_bytes().cmp(b.file_name().as_bytes()));
    for entry in entries {
        let path = relative.join(entry.file_name());
        // `file_type` does not follow symlinks.
        let file_type = entry
            .file_type()
            .map_err(ArtifactError::io("reading", entry.path()))?;
        if file_type.is_dir() {
            if !exclude(&path, true) {
                append_directory(builder, &path)?;
            }
            walk(builder, root, &path, exclude)?;
        } else if file_type.is_file() && !exclude(&path, false) {
            append_file(builder, &root.join(&path), &path)?;
        }
    }
    Ok(())
}

fn sanitized_header(entry_type: EntryType, mode: u32, size: u64) -> Header {
    let mut header = Header::new_ustar();
    header.set_entry_type(entry_type);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(size);
    header
}

fn append_directory<W: Write>(
    builder: &mut tar::Builder<W>,
    name: &Path,
) -> Result<(), ArtifactError> {
    let mut header = sanitized_header(EntryType::Directory, DIR_MODE, 0);
    builder
        .append_data(&mut header, name, io::empty())
        .map_err(ArtifactError::WriteArchive)
}

fn append_file<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &Path,
    name: &Path,
) -> Result<(), ArtifactError> {
    let file = fs::File::open(path).map_err(ArtifactError::io("reading", path))?;
    let meta = file
        .metadata()
        .map_err(ArtifactError::io("reading", path))?;
    let mode = if meta.permissions().mode() & 0o111 != 0 {
        EXECUTABLE_MODE
    } else {
        FILE_MODE
    };
    let size = meta.len();
    let mut header = sanitized_header(EntryType::Regular, mode, size);
    // Never write more than the header announces, and notice if the file shrank.
    let mut reader = CountingReader {
        inner: file.take(size),
        count: 0,
    };
    builder
        .append_data(&mut header, name, &mut reader)
        .map_err(ArtifactError::WriteArchive)?;
    if reader.count != size {
        return Err(ArtifactError::Io {
            operation: "archiving",
            path: PathBuf::from(path),
            source: io::Error::new(io::ErrorKind::UnexpectedEof, "file changed while read"),
        });
    }
    Ok(())
}

/// Passes writes through while hashing and counting them.
struct Counted<W> {
    inner: W,
    digester: Digester,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digester.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/nested")).unwrap();
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("b/nested/deep.yaml"), "deep").unwrap();
        fs::write(root.join("a/z.yaml"), "z").unwrap();
        fs::write(root.join("a/y.yaml"), "y").unwrap();
        fs::write(root.join("run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(root.join("secret"), "s").unwrap();
        fs::set_permissions(root.join("secret"), fs::Permissions::from_mode(0o644)).unwrap();
        symlink("/etc/passwd", root.join("link")).unwrap();
        symlink("a", root.join("dirlink")).unwrap();
        dir
    }

    /// (name, entry type, mode, uid, gid, mtime, user name, group name, contents)
    type Row = (
        String,
        EntryType,
        u32,
        u64,
        u64,
        u64,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
    );

    fn entries(bytes: &[u8]) -> Vec<Row> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let header = entry.header().clone();
                let mut contents = Vec::new();
                entry.read_to_end(&mut contents).unwrap();
                (
                    String::from_utf8(entry.path_bytes().into_owned()).unwrap(),
                    header.entry_type(),
                    header.mode().unwrap(),
                    header.uid().unwrap(),
                    header.gid().unwrap(),
                    header.mtime().unwrap(),
                    header.username_bytes().unwrap_or_default().to_vec(),
                    header.groupname_bytes().unwrap_or_default().to_vec(),
                    contents,
                )
            })
            .collect()
    }

    #[test]
    fn the_archive_is_a_lexical_walk_with_sanitised_headers() {
        let dir = tree();
        let mut bytes = Vec::new();
        write_tarball(dir.path(), &mut bytes, |_, _| false).unwrap();
        let rows = entries(&bytes);
        let summary: Vec<(&str, EntryType, u32)> =
            rows.iter().map(|r| (r.0.as_str(), r.1, r.2)).collect();
        assert_eq!(
            summary,
            [
                (".", EntryType::Directory, 0o750),
                ("a", EntryType::Directory, 0o750),
                ("a/y.yaml", EntryType::Regular, 0o600),
                ("a/z.yaml", EntryType::Regular, 0o600),
                ("b", EntryType::Directory, 0o750),
                ("b/nested", EntryType::Directory, 0o750),
                ("b/nested/deep.yaml", EntryType::Regular, 0o600),
                ("run.sh", EntryType::Regular, 0o700),
                ("secret", EntryType::Regular, 0o600),
            ]
        );
        for row in &rows {
            assert_eq!((row.3, row.4, row.5), (0, 0, 0), "{}", row.0);
            assert!(row.6.is_empty() && row.7.is_empty(), "{}", row.0);
        }
        assert_eq!(rows[2].8, b"y");
    }

    #[test]
    fn the_digest_and_size_are_those_of_the_bytes_written() {
        let dir = tree();
        let mut bytes = Vec::new();
        let written = write_tarball(dir.path(), &mut bytes, |_, _| false).unwrap();
        assert_eq!(written.size, bytes.len() as u64);
        assert_eq!(written.digest, Digest::sha256_of(&bytes));
    }

    #[test]
    fn the_same_tree_gives_the_same_bytes() {
        let dir = tree();
        let mut first = Vec::new();
        write_tarball(dir.path(), &mut first, |_, _| false).unwrap();
        // Different mtimes and a different location change nothing.
        let copy = tree();
        fs::write(copy.path().join("a/y.yaml"), "y").unwrap();
        let mut second = Vec::new();
        write_tarball(copy.path(), &mut second, |_, _| false).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn excluded_entries_are_left_out_but_excluded_directories_are_walked() {
        let dir = tree();
        let mut bytes = Vec::new();
        write_tarball(dir.path(), &mut bytes, |path, is_dir| {
            (is_dir && path == Path::new("b")) || path == Path::new("secret")
        })
        .unwrap();
        let names: Vec<String> = entries(&bytes).into_iter().map(|r| r.0).collect();
        assert_eq!(
            names,
            [
                ".",
                "a",
                "a/y.yaml",
                "a/z.yaml",
                "b/nested",
                "b/nested/deep.yaml",
                "run.sh"
            ]
        );
    }

    #[test]
    fn long_names_survive() {
        let dir = tempfile::tempdir().unwrap();
        let long = "d".repeat(120);
        fs::create_dir(dir.path().join(&long)).unwrap();
        fs::write(dir.path().join(&long).join("f".repeat(150)), "x").unwrap();
        let mut bytes = Vec::new();
        write_tarball(dir.path(), &mut bytes, |_, _| false).unwrap();
        let names: Vec<String> = entries(&bytes).into_iter().map(|r| r.0).collect();
        assert_eq!(names[2], format!("{long}/{}", "f".repeat(150)));
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_tarball(&dir.path().join("nope"), Vec::new(), |_, _| false).unwrap_err();
        assert!(matches!(err, ArtifactError::Io { .. }), "{err}");
    }
}
