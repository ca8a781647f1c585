//! # sluice-api
//!
//! Rust types for every custom resource Sluice serves, with the exact API groups, versions,
//! kinds, names and field names of Flux v2 and Flagger, so that manifests written for those
//! projects parse unchanged:
//!
//! | module | group / version | kinds |
//! |---|---|---|
//! | [`source::v1`] | `source.toolkit.fluxcd.io/v1` | GitRepository, OCIRepository, HelmRepository, HelmChart, Bucket, ExternalArtifact |
//! | [`kustomize::v1`] | `kustomize.toolkit.fluxcd.io/v1` | Kustomization |
//! | [`helm::v2`] | `helm.toolkit.fluxcd.io/v2` | HelmRelease |
//! | [`notification::v1beta3`], [`notification::v1`] | `notification.toolkit.fluxcd.io` | Provider, Alert; Receiver |
//! | [`image::v1`] | `image.toolkit.fluxcd.io/v1` | ImageRepository, ImagePolicy, ImageUpdateAutomation |
//! | [`flagger::v1beta1`] | `flagger.app/v1beta1` | Canary, MetricTemplate, AlertProvider |
//!
//! Shared pieces live in [`meta`]: conditions and their kstatus helpers, artifacts, object
//! references, annotation keys, the finalizer and the event payload sent to the
//! notification endpoint. [`crds::all`] returns the finished `CustomResourceDefinition`s
//! (the `crdgen` binary writes them to `manifests/crds/`), and [`parse`] reads manifests
//! strictly, naming the path of any field it does not know.
//!
//! This crate does no I/O and depends on no other Sluice crate.

pub mod crds;
pub mod flagger;
pub mod helm;
pub mod image;
pub mod kustomize;
pub mod meta;
pub mod notification;
pub mod parse;
pub mod schema;
pub mod source;
pub mod yaml;
