//! `helm.toolkit.fluxcd.io`: HelmReleases, which install, upgrade, test, roll back and
//! uninstall Helm releases from a chart produced by a source.

pub mod v2;
