//! `helm.toolkit.fluxcd.io/v2`.

mod helm_release;

pub use helm_release::*;

/// The API group of every kind in this module.
pub const GROUP: &str = "helm.toolkit.fluxcd.io";
/// The API version of every kind in this module.
pub const VERSION: &str = "v2";
