//! `notification.toolkit.fluxcd.io`: where events go (Providers, selected by Alerts) and
//! the webhooks that trigger reconciles from outside (Receivers).
//!
//! Upstream serves Provider and Alert only as `v1beta3` and Receiver only as `v1`; the
//! event-source reference shared by Alert and Receiver lives in `v1`, as upstream.

pub mod v1;
pub mod v1beta3;
