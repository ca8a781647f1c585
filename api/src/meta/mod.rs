//! Types and constants shared by every Sluice API group: the Flux "meta" package and its
//! conventions (conditions, artifacts, references, annotations, the finalizer, events).

mod acl;
mod artifact;
pub mod conditions;
mod duration;
mod event;
pub mod kustomize;
mod references;

pub use acl::{AccessFrom, NamespaceSelector};
pub use artifact::Artifact;
pub use conditions::{ConditionStatus, ObjectWithConditions};
pub use duration::{DurationError, parse_duration};
pub use event::{Event, EventSeverity, MAX_EVENT_MESSAGE_CHARS, ObjectReference};
pub use references::{
    DependencyReference, KubeConfigReference, LocalObjectReference, NamespacedObjectKindReference,
    NamespacedObjectReference, SecretKeyReference,
};

/// Re-exported so API users need not depend on k8s-openapi to read conditions.
pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

/// The status fields every Flux-style object shares: conditions, the generation last acted
/// on, and the last handled reconcile request token.
pub trait FluxStatus: ObjectWithConditions {
    /// `status.observedGeneration`.
    fn observed_generation(&self) -> Option<i64>;
    /// Sets `status.observedGeneration`.
    fn set_observed_generation(&mut self, generation: Option<i64>);
    /// `status.lastHandledReconcileAt`.
    fn last_handled_reconcile_at(&self) -> Option<&str>;
    /// Sets `status.lastHandledReconcileAt`.
    fn set_last_handled_reconcile_at(&mut self, token: Option<String>);
}

/// Implements [`ObjectWithConditions`] and [`FluxStatus`] for a status struct with the fields
/// `conditions: Option<Vec<Condition>>`, `observed_generation: Option<i64>` and
/// `last_handled_reconcile_at: Option<String>`.
macro_rules! impl_flux_status {
    ($status:ty) => {
        impl $crate::meta::ObjectWithConditions for $status {
            fn conditions(&self) -> &[$crate::meta::Condition] {
                self.conditions.as_deref().unwrap_or_default()
            }
            fn conditions_mut(&mut self) -> &mut Vec<$crate::meta::Condition> {
                self.conditions.get_or_insert_with(Vec::new)
            }
        }
        impl $crate::meta::FluxStatus for $status {
            fn observed_generation(&self) -> Option<i64> {
                self.observed_generation
            }
            fn set_observed_generation(&mut self, generation: Option<i64>) {
                self.observed_generation = generation;
            }
            fn last_handled_reconcile_at(&self) -> Option<&str> {
                self.last_handled_reconcile_at.as_deref()
            }
            fn set_last_handled_reconcile_at(&mut self, token: Option<String>) {
                self.last_handled_reconcile_at = token;
            }
        }
    };
}
pub(crate) use impl_flux_status;

/// The finalizer every Flux-compatible controller puts on the objects it reconciles.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// The finalizer Flagger puts on Canaries with `spec.revertOnDeletion: true`.
pub const FLAGGER_FINALIZER: &str = "finalizer.flagger.app";

/// Annotation whose change asks for an immediate reconcile; its value is an opaque token
/// (the Flux CLI writes an RFC 3339 time) echoed in `status.lastHandledReconcileAt`.
pub const RECONCILE_REQUEST_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";

/// HelmRelease annotation: when equal to the requestedAt token, force a one-off Helm
/// upgrade/install (echoed in `status.lastHandledForceAt`).
pub const FORCE_REQUEST_ANNOTATION: &str = "reconcile.fluxcd.io/forceAt";

/// HelmRelease annotation: when equal to the requestedAt token, reset the failure counters
/// (echoed in `status.lastHandledResetAt`).
pub const RESET_REQUEST_ANNOTATION: &str = "reconcile.fluxcd.io/resetAt";

/// Label that opts ConfigMaps and Secrets into being watched by the controllers that
/// reference them (value `Enabled`).
pub const WATCH_LABEL: &str = "reconcile.fluxcd.io/watch";

/// Annotation on applied objects: `disabled` makes the appliers leave the object alone.
pub const RECONCILE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/reconcile";

/// Annotation on applied objects: `disabled` keeps the object out of garbage collection.
pub const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";

/// Annotation on applied objects: `Merge` or `IfNotPresent` change the apply strategy,
/// `Ignore` skips the object.
pub const SSA_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/ssa";

/// Annotation on applied objects: `enabled` recreates the object when an immutable field
/// changes.
pub const FORCE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/force";

/// Annotation on CRDs and objects: `disabled` turns off post-build variable substitution.
pub const SUBSTITUTE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Label set on every object a Kustomization applies: the Kustomization's name.
pub const KUSTOMIZE_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";

/// Label set on every object a Kustomization applies: the Kustomization's namespace.
pub const KUSTOMIZE_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

/// Label set on every object a HelmRelease applies: the HelmRelease's name.
pub const HELM_NAME_LABEL: &str = "helm.toolkit.fluxcd.io/name";

/// Label set on every object a HelmRelease applies: the HelmRelease's namespace.
pub const HELM_NAMESPACE_LABEL: &str = "helm.toolkit.fluxcd.io/namespace";

/// Prefix of object annotations that are copied verbatim into event metadata (RFC-0008).
pub const EVENT_ANNOTATION_PREFIX: &str = "event.toolkit.fluxcd.io/";
