//! `image.toolkit.fluxcd.io/v1`.
//!
//! Each kind's condition reasons are in its module's `reasons`, e.g.
//! [`image_policy::reasons`].

pub mod image_policy;
pub mod image_repository;
pub mod image_update_automation;

pub use image_policy::{
    AlphabeticalPolicy, ImagePolicy, ImagePolicyChoice, ImagePolicySpec, ImagePolicyStatus,
    ImageRef, NumericalPolicy, ReflectionPolicy, SemVerPolicy, SortOrder, TagFilter,
};
pub use image_repository::{
    ImageProvider, ImageRepository, ImageRepositorySpec, ImageRepositoryStatus, ScanResult,
};
pub use image_update_automation::{
    CommitSpec, CommitUser, CrossNamespaceSourceReference, GitCheckoutSpec, GitSpec,
    ImageUpdateAutomation, ImageUpdateAutomationSpec, ImageUpdateAutomationStatus, PushSpec,
    SigningKey, SigningKeyType, SourceKind, UpdateStrategy, UpdateStrategyName,
};

/// The API group of every kind in this module.
pub const GROUP: &str = "image.toolkit.fluxcd.io";
/// The API version of every kind in this module.
pub const VERSION: &str = "v1";
