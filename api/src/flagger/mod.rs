//! `flagger.app`: progressive delivery. A Canary drives the release of a workload through
//! traffic shifting, metric analysis and webhooks; MetricTemplates define custom metric
//! queries and AlertProviders the chat endpoints that receive the analysis alerts.

pub mod v1beta1;
