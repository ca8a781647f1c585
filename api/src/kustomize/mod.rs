//! `kustomize.toolkit.fluxcd.io`: Kustomizations, which build a directory of a source's
//! artifact with kustomize and apply the result to a cluster.

pub mod v1;
