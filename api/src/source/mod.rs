//! `source.toolkit.fluxcd.io`: where desired state comes from (Git, OCI, Helm repositories,
//! buckets) and the artifacts the source-controller produces from it.

pub mod v1;
