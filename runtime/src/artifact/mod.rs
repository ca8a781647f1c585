//! Source artifacts: the tar.gz + digest that source-controller produces and every other
//! controller consumes, in Flux's format.
//!
//! - Producer side: [`write_tarball`] archives a directory deterministically (lexical
//!   walk, a `.` root entry, only regular files and directories, uid/gid 0, no user or
//!   group names, zero mtimes, modes 0750 / 0600 / 0700) and returns the `sha256:<hex>`
//!   digest and size of exactly the bytes written.
//! - Consumer side: [`ArtifactFetcher`] downloads `status.artifact.url` (retrying 5xx,
//!   404 as [`ArtifactError::NotFound`], optional `SOURCE_CONTROLLER_LOCALHOST` host
//!   override, optional size limit), checks the bytes against `status.artifact.digest`
//!   ([`Digest`]) and extracts them with [`extract_tarball`], which refuses or skips
//!   everything that could write outside the target directory.
//!
//! Digests cannot match upstream's byte for byte (Go's deflate output differs from
//! ours); what holds is that the digest is that of the served bytes.

mod digest;
mod extract;
mod fetch;
mod tarball;

pub use digest::{Digest, DigestAlgorithm, Digester};
pub use extract::{ExtractOptions, Extracted, extract_tarball};
pub use fetch::{ArtifactFetcher, LOCALHOST_ENV};
pub use tarball::{Written, write_tarball};

use std::path::PathBuf;

/// Downloading, verifying, extracting or writing an artifact failed.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The artifact URL cannot be used.
    #[error("invalid artifact URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The server answered 404: the artifact is not (or no longer) there. Consumers
    /// requeue and wait for source-controller to produce it.
    #[error("file not found: {url}")]
    NotFound {
        /// The URL requested.
        url: String,
    },
    /// The server answered something other than 200 or 404 (after retries for 5xx).
    #[error("failed to download archive from {url} (status: {status})")]
    Status {
        /// The URL requested.
        url: String,
        /// The last status received.
        status: http::StatusCode,
    },
    /// The connection failed or broke off (after retries).
    #[error("failed to download archive from {url}: {source}")]
    Download {
        /// The URL requested.
        url: String,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The download took longer than the configured timeout.
    #[error("timed out downloading archive from {url}")]
    Timeout {
        /// The URL requested.
        url: String,
    },
    /// The download is bigger than the configured maximum.
    #[error("artifact is bigger than the max download size of {limit} bytes")]
    DownloadTooLarge {
        /// The maximum in bytes.
        limit: u64,
    },
    /// The digest string is not `<algorithm>:<hex>` (or bare hex) with a known algorithm.
    #[error("invalid digest {digest:?}: {reason}")]
    InvalidDigest {
        /// The digest as given.
        digest: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// The bytes do not have the expected digest.
    #[error("computed digest {actual} doesn't match provided '{expected}'")]
    DigestMismatch {
        /// The digest the artifact was supposed to have.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// The archive does not start with a gzip header.
    #[error("requires gzip-compressed body")]
    NotGzip,
    /// The archive is corrupt (bad gzip or tar framing).
    #[error("tar error: {0}")]
    ReadArchive(#[source] std::io::Error),
    /// An entry's name is empty, absolute, has a backslash or a `..` component, or would
    /// be written through a symlink.
    #[error("tar contained invalid name {name:?}: {reason}")]
    UnsafeEntry {
        /// The entry name, lossily decoded.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An entry is neither a regular file, a directory nor a symlink (symlinks are
    /// skipped): hard links, devices, FIFOs and the like are refused.
    #[error("tar file entry {name:?} contained unsupported file type {kind}")]
    UnsupportedEntry {
        /// The entry name, lossily decoded.
        name: String,
        /// The tar entry type.
        kind: String,
    },
    /// The entries add up to more than the extraction limit.
    #[error("tar {name:?} is bigger than max archive size of {limit} bytes")]
    ExtractTooLarge {
        /// The entry that crossed the limit.
        name: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A file system operation failed.
    #[error("{operation} {path}: {source}")]
    Io {
        /// What was attempted, e.g. `writing`.
        operation: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Writing the archive failed.
    #[error("writing the archive: {0}")]
    WriteArchive(#[source] std::io::Error),
}

impl ArtifactError {
    /// Whether the artifact was not found (HTTP 404): the caller should requeue rather
    /// than report a failure, as the source may simply not be ready yet.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    pub(crate) fn io(
        operation: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            operation,
            path,
            source,
        }
    }
}
