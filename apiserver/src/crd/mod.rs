//! CustomResourceDefinitions: validation of `apiextensions.k8s.io/v1` objects exactly as
//! kube-apiserver validates them on create, so that our generated CRDs are proven
//! acceptable to a real cluster and the local control plane can refuse bad ones with the
//! same field paths and messages as Kubernetes.
//!
//! ```
//! use serde_json::json;
//! use sluice_apiserver::crd::{FieldErrorKind, validate_crd};
//!
//! let crd = json!({
//!     "apiVersion": "apiextensions.k8s.io/v1",
//!     "kind": "CustomResourceDefinition",
//!     "metadata": {"name": "widgets.example.com"},
//!     "spec": {
//!         "group": "example.com",
//!         "names": {"plural": "widgets", "kind": "Widget"},
//!         "scope": "Namespaced",
//!         "versions": [{
//!             "name": "v1", "served": true, "storage": true,
//!             "schema": {"openAPIV3Schema": {
//!                 "type": "object",
//!                 "properties": {"spec": {"properties": {}}}
//!             }}
//!         }]
//!     }
//! });
//! let errors = validate_crd(&crd);
//! assert_eq!(errors.len(), 1);
//! assert_eq!(errors[0].kind, FieldErrorKind::Required);
//! assert_eq!(
//!     errors[0].to_string(),
//!     "spec.validation.openAPIV3Schema.properties[spec].type: Required value: \
//!      must not be empty for specified object fields"
//! );
//! ```

mod cel;
mod coerce;
mod decode;
mod defaults;
mod field;
mod formats;
mod listtype;
mod names;
mod openapi;
mod resource;
mod structural;
mod types;
mod validation;
mod values;

pub use coerce::DecodeError;
pub use field::{FieldError, FieldErrorKind};
pub use resource::{ResourceSchema, SchemaError};
pub use validation::validate_crd;
