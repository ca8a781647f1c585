//! # sluice-apiserver
//!
//! The beginnings of Sluice's Kubernetes-API-compatible control plane for local runs and
//! tests (see `DESIGN.md`). What exists so far is [`crd`]: validation of
//! CustomResourceDefinitions exactly as kube-apiserver does it.
//!
//! This crate depends on no other Sluice crate.

pub mod crd;
pub mod store;
