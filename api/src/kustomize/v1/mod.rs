//! `kustomize.toolkit.fluxcd.io/v1`.

mod kustomization;

pub use kustomization::*;

/// The API group of every kind in this module.
pub const GROUP: &str = "kustomize.toolkit.fluxcd.io";
/// The API version of every kind in this module.
pub const VERSION: &str = "v1";
