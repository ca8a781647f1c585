//! `notification.toolkit.fluxcd.io/v1beta3`.

mod alert;
mod provider;

pub use alert::*;
pub use provider::*;

/// The API group of every kind in this module.
pub const GROUP: &str = "notification.toolkit.fluxcd.io";
/// The API version of every kind in this module.
pub const VERSION: &str = "v1beta3";
