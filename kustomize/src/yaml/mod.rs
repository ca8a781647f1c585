//! Reading and writing YAML the way kustomize does: typed by go-yaml's rules on the way in,
//! printed by go-yaml v2's rules on the way out.

mod emit;
mod parse;
mod resolve;

pub(crate) use emit::emit_document;
pub(crate) use parse::parse_documents;
pub(crate) use resolve::{Flavor, format_float};

/// Prints objects as one YAML stream, documents separated by `---`, as `kubectl kustomize`
/// prints its build.
pub(crate) fn stream(objects: &[serde_json::Value]) -> String {
    let mut out = String::new();
    for (i, object) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        emit_document(object, &mut out);
    }
    out
}

/// Types a scalar's text as a plain YAML scalar would be typed.
pub(crate) fn resolve_json(text: &str, flavor: Flavor) -> serde_json::Value {
    resolve::resolve_plain(text, flavor).into_json(text)
}
