//! File access confined to the build root.
//!
//! Every path a kustomization names is checked before it is read: absolute paths are
//! refused, `..` may not climb out of the root, and symlinks are resolved before the check,
//! so a link pointing outside is refused too. On top of that, kustomize's own rule holds:
//! files (resources, patches, generator inputs) must sit in or below the directory of the
//! kustomization that names them; only directories (bases, components) may be reached
//! through `..`, and then only inside the root.

use std::path::{Component, Path, PathBuf};

use crate::Error;

/// The confined view of the file system for one build.
#[derive(Debug, Clone)]
pub(crate) struct Fs {
    /// The canonical root: nothing outside it is read.
    root: PathBuf,
}

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    Missing,
}

impl Fs {
    /// Confines reads to `root`, which must be an existing directory.
    pub(crate) fn new(root: &Path) -> Result<Fs, Error> {
        let canonical = root.canonicalize().map_err(|e| Error::ReadFile {
            path: root.display().to_string(),
            reason: io_reason(&e),
        })?;
        if !canonical.is_dir() {
            return Err(Error::ReadFile {
                path: root.display().to_string(),
                reason: "must build at directory: not a directory".into(),
            });
        }
        Ok(Fs { root: canonical })
    }

    /// The canonical root.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// A path for messages: relative to the root when inside it.
    pub(crate) fn display(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
            Ok(rel) => rel.display().to_string(),
            Err(_) => path.display().to_string(),
        }
    }

    /// Resolves `rel`, as written in the kustomization in directory `dir` (canonical), to a
    /// canonical path inside the root; `Kind::Missing` when nothing is there.
    ///
    /// # Errors
    ///
    /// [`Error::EscapeRoot`] for absolute paths and paths leading outside the root, directly
    /// or through a symlink.
    pub(crate) fn resolve(&self, dir: &Path, rel: &str) -> Result<(PathBuf, Kind), Error> {
        let written = Path::new(rel);
        let shown = || self.display(&dir.join(rel));
        if written.is_absolute() || written.has_root() {
            return Err(Error::EscapeRoot {
                path: rel.to_owned(),
                reason: "absolute paths are not allowed".into(),
            });
        }
        // Lexical check first, so that `../../etc/passwd` is refused even if it exists.
        let mut lexical = dir.to_path_buf();
        for component in written.components() {
            match component {
                Component::ParentDir => {
                    if !lexical.pop() || !lexical.starts_with(&self.root) {
                        return Err(Error::EscapeRoot {
                            path: shown(),
                            reason: format!("'{rel}' leads outside the build root"),
                        });
                    }
                }
                Component::Normal(part) => lexical.push(part),
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => {
                    return Err(Error::EscapeRoot {
                        path: rel.to_owned(),
                        reason: "absolute paths are not allowed".into(),
                    });
                }
            }
        }
        if !lexical.starts_with(&self.root) {
            return Err(Error::EscapeRoot {
                path: shown(),
                reason: format!("'{rel}' leads outside the build root"),
            });
        }
        if std::fs::symlink_metadata(&lexical).is_err() {
            return Ok((lexical, Kind::Missing));
        }
        let canonical = lexical.canonicalize().map_err(|e| Error::ReadFile {
            path: shown(),
            reason: io_reason(&e),
        })?;
        if !canonical.starts_with(&self.root) {
            return Err(Error::EscapeRoot {
                path: shown(),
                reason: format!("'{rel}' is a symlink leading outside the build root"),
            });
        }
        let kind = if canonical.is_dir() {
            Kind::Dir
        } else {
            Kind::File
        };
        Ok((canonical, kind))
    }

    /// Reads the file `rel` named by the kustomization in `dir`, which must be in or below
    /// `dir` (kustomize's load restriction).
    ///
    /// # Errors
    ///
    /// [`Error::EscapeRoot`] as [`Fs::resolve`], or when the file is outside `dir`;
    /// [`Error::ReadFile`] when it is missing, a directory or unreadable.
    pub(crate) fn read_file(&self, dir: &Path, rel: &str) -> Result<(PathBuf, String), Error> {
        let (path, kind) = self.resolve(dir, rel)?;
        self.check_within(dir, rel, &path)?;
        match kind {
            Kind::Missing => Err(Error::ReadFile {
                path: self.display(&path),
                reason: "no such file or directory".into(),
            }),
            Kind::Dir => Err(Error::ReadFile {
                path: self.display(&path),
                reason: "is a directory, not a file".into(),
            }),
            Kind::File => {
                let text = self.read_path(&path)?;
                Ok((path, text))
            }
        }
    }

    /// Refuses `path` (canonical) unless it is in or below `dir`.
    pub(crate) fn check_within(&self, dir: &Path, rel: &str, path: &Path) -> Result<(), Error> {
        if path.starts_with(dir) {
            Ok(())
        } else {
            Err(Error::EscapeRoot {
                path: self.display(path),
                reason: format!("file '{rel}' is not in or below '{}'", self.display(dir)),
            })
        }
    }

    /// Reads a canonical path already checked.
    pub(crate) fn read_path(&self, path: &Path) -> Result<String, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::ReadFile {
            path: self.display(path),
            reason: io_reason(&e),
        })?;
        String::from_utf8(bytes).map_err(|_| Error::ReadFile {
            path: self.display(path),
            reason: "not valid UTF-8".into(),
        })
    }

    /// Reads a canonical path as bytes.
    pub(crate) fn read_bytes(&self, path: &Path) -> Result<Vec<u8>, Error> {
        std::fs::read(path).map_err(|e| Error::ReadFile {
            path: self.display(path),
            reason: io_reason(&e),
        })
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("app/sub")).expect("mkdir");
        std::fs::write(root.join("app/a.yaml"), "a: 1\n").expect("write");
        std::fs::write(root.join("top.yaml"), "t: 1\n").expect("write");
        std::fs::write(dir.path().join("secret.txt"), "s").expect("write");
        dir
    }

    #[test]
    fn paths_inside_the_kustomization_directory_are_read() {
        let dir = tree();
        let fs = Fs::new(&dir.path().join("root")).expect("root");
        let app = fs.root().join("app");
        let (_, text) = fs.read_file(&app, "a.yaml").expect("reads");
        assert_eq!(text, "a: 1\n");
        let (_, text) = fs.read_file(&app, "sub/../a.yaml").expect("reads");
        assert_eq!(text, "a: 1\n");
    }

    #[test]
    fn escapes_are_refused() {
        let dir = tree();
        let fs = Fs::new(&dir.path().join("root")).expect("root");
        let app = fs.root().join("app");
        let cases = [
            "../../secret.txt",
            "/etc/passwd",
            "../top.yaml",
            "sub/../../../secret.txt",
        ];
        for case in cases {
            let err = fs.read_file(&app, case).expect_err(case);
            assert!(matches!(err, Error::EscapeRoot { .. }), "{case}: {err}");
        }
        // A directory above the kustomization but inside the root may be resolved (bases).
        let (_, kind) = fs.resolve(&app, "..").expect("resolves");
        assert_eq!(kind, Kind::Dir);
        assert!(fs.resolve(fs.root(), "..").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_pointing_outside_are_refused() {
        let dir = tree();
        let root = dir.path().join("root");
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("app/link.yaml"))
            .expect("symlink");
        std::os::unix::fs::symlink(root.join("app/a.yaml"), root.join("app/inside.yaml"))
            .expect("symlink");
        let fs = Fs::new(&root).expect("root");
        let app = fs.root().join("app");
        let err = fs.read_file(&app, "link.yaml").expect_err("refused");
        assert!(matches!(err, Error::EscapeRoot { .. }), "{err}");
        let (_, text) = fs.read_file(&app, "inside.yaml").expect("reads");
        assert_eq!(text, "a: 1\n");
    }

    #[test]
    fn missing_files_are_read_errors() {
        let dir = tree();
        let fs = Fs::new(&dir.path().join("root")).expect("root");
        let err = fs.read_file(fs.root(), "nope.yaml").expect_err("missing");
        assert!(matches!(err, Error::ReadFile { .. }), "{err}");
    }
}
