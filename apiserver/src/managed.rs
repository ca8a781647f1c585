//! `metadata.managedFields`: which manager set which fields, for server-side apply.
//!
//! Every write records an entry for its field manager (`operation: Update`, or `Apply` for
//! server-side apply), listing the fields the request set in the `FieldsV1` format.

use serde_json::Value;

use crate::backend::Part;
use crate::resources::ResourceType;

/// Records that `manager` updated `object` (previously `old`).
///
/// Managed-fields tracking is introduced with server-side apply; until then the entries a
/// client sends are kept as they are.
pub fn record_update(
    object: &mut Value,
    old: Option<&Value>,
    manager: Option<&str>,
    rt: &ResourceType,
    part: Part,
) {
    let _ = (object, old, manager, rt, part);
}
