//! `source.toolkit.fluxcd.io/v1`.
//!
//! Each kind lives in its own module; its types are re-exported here. Condition reasons
//! specific to one kind are in that kind's `reasons` module (e.g.
//! [`oci_repository::reasons`]); the reasons every source kind shares are in [`reasons`].

pub mod bucket;
pub mod external_artifact;
pub mod git_repository;
pub mod helm_chart;
pub mod helm_repository;
pub mod oci_repository;
pub mod oci_verification;

pub use bucket::*;
pub use external_artifact::*;
pub use git_repository::*;
pub use helm_chart::*;
pub use helm_repository::*;
pub use oci_repository::*;
pub use oci_verification::*;

/// The API group of every kind in this module.
pub const GROUP: &str = "source.toolkit.fluxcd.io";
/// The API version of every kind in this module.
pub const VERSION: &str = "v1";

/// Condition reasons shared by the source kinds (GitRepository, OCIRepository,
/// HelmRepository, HelmChart, Bucket). Reasons of a single kind are in its own module.
pub mod reasons {
    /// The URL in the spec cannot be used (bad scheme, unparsable, a tag in an OCI URL...).
    pub const URL_INVALID: &str = "URLInvalid";
    /// The credentials are missing fields or were refused by the remote.
    pub const AUTHENTICATION_FAILED: &str = "AuthenticationFailed";
    /// The signature or integrity check of the source failed.
    pub const VERIFICATION_ERROR: &str = "VerificationError";
    /// A directory could not be created in the artifact storage.
    pub const DIRECTORY_CREATION_FAILED: &str = "DirectoryCreationFailed";
    /// A stat call on a path in the storage failed.
    pub const STAT_OPERATION_FAILED: &str = "StatOperationFailed";
    /// Reading a file or resolving a remote reference (e.g. a tag) failed.
    pub const READ_OPERATION_FAILED: &str = "ReadOperationFailed";
    /// The lock on the artifact storage could not be taken.
    pub const ACQUIRE_LOCK_FAILED: &str = "AcquireLockFailed";
    /// A path in the spec or the source is not acceptable.
    pub const INVALID_PATH: &str = "InvalidPath";
    /// Writing or reading the artifact archive failed.
    pub const ARCHIVE_OPERATION_FAILED: &str = "ArchiveOperationFailed";
    /// The symlink to the latest artifact could not be updated.
    pub const SYMLINK_UPDATE_FAILED: &str = "SymlinkUpdateFailed";
    /// The stored artifact already matches the upstream revision.
    pub const ARTIFACT_UP_TO_DATE: &str = "ArtifactUpToDate";
    /// A cache read or write failed.
    pub const CACHE_OPERATION_FAILED: &str = "CacheOperationFailed";
    /// Patching the object in the Kubernetes API failed.
    pub const PATCH_OPERATION_FAILED: &str = "PatchOperationFailed";
    /// The `sts` settings of a Bucket cannot be used.
    pub const INVALID_STS_CONFIGURATION: &str = "InvalidSTSConfiguration";
    /// The `provider` settings (and workload identity) cannot be used.
    pub const INVALID_PROVIDER_CONFIGURATION: &str = "InvalidProviderConfiguration";
    /// `ArtifactOutdated`: upstream has a revision newer than the stored artifact.
    pub const NEW_REVISION: &str = "NewRevision";
}
