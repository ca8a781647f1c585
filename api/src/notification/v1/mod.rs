//! `notification.toolkit.fluxcd.io/v1`.

mod receiver;
mod reference;

pub use receiver::*;
pub use reference::*;

/// The API group of every kind in this module.
pub const GROUP: &str = "notification.toolkit.fluxcd.io";
/// The API version of every kind in this module.
pub const VERSION: &str = "v1";
