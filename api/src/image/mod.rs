//! `image.toolkit.fluxcd.io`: scanning container registries for tags (ImageRepository),
//! choosing the latest image by a policy (ImagePolicy), and committing the chosen images
//! back to Git (ImageUpdateAutomation).

pub mod v1;
