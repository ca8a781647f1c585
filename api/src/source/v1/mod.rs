//! `source.toolkit.fluxcd.io/v1`.

mod git_repository;

pub use git_repository::*;

/// The API group of every kind in this module.
pub const GROUP: &str = "source.toolkit.fluxcd.io";
/// The API version of every kind in this module.
pub const VERSION: &str = "v1";
