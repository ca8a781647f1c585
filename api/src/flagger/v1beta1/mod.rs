//! `flagger.app/v1beta1`: Canary, MetricTemplate and AlertProvider, with the Istio and
//! Gateway API shapes the Canary embeds.
//!
//! Unlike the Flux kinds, these statuses have no `observedGeneration` and their conditions
//! carry `lastUpdateTime` (see [`FlaggerCondition`]); the Canary reports its progress in
//! `status.phase`.

mod alert_provider;
mod canary;
mod condition;
pub mod gateway_api;
pub mod istio;
mod metric_template;
mod schemas;

pub use alert_provider::*;
pub use canary::*;
pub use condition::{FlaggerCondition, set_flagger_condition};
pub use metric_template::*;

/// The API group of every kind in this module.
pub const GROUP: &str = "flagger.app";
/// The API version of every kind in this module.
pub const VERSION: &str = "v1beta1";
