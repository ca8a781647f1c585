//! Field specs: where in which kinds a transformer writes (`spec/template/metadata/labels`
//! in Deployments...), and the walk that finds (or creates) those fields.

use serde_json::{Map, Value};

use crate::resid::Gvk;

/// One field spec: a path, the kinds it applies to, and whether missing fields are created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldSpec {
    pub gvk: Gvk,
    pub path: String,
    pub create: bool,
}

impl FieldSpec {
    pub(crate) fn new(path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            gvk: Gvk::default(),
            path: path.to_owned(),
            create,
        }
    }
}

/// Whether `spec` applies to `obj` (its GVK selected by the spec's), without allocating.
fn matches_object(spec: &FieldSpec, obj: &Value) -> bool {
    let g = &spec.gvk;
    if g.group.is_empty() && g.version.is_empty() && g.kind.is_empty() {
        return true;
    }
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if !g.kind.is_empty() && g.kind != kind {
        return false;
    }
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    (g.group.is_empty() || g.group == group) && (g.version.is_empty() || g.version == version)
}

/// What kind of node the last path element is created as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreateKind {
    /// A map (labels, annotations).
    Map,
    /// A scalar (names, namespaces, counts); created as `null` for the setter to fill.
    Scalar,
}

/// Splits a field spec path on `/`, honouring `\/` escapes.
pub(crate) fn split_path(path: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'/') {
            cur.push('/');
            chars.next();
        } else if c == '/' {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

/// The callback a walk calls on each field found.
pub(crate) type SetFn<'a> = dyn FnMut(&mut Value) -> Result<(), String> + 'a;

/// Applies `set` to every field `spec` names in `obj` (lists along the path are walked
/// element by element), creating missing fields when the spec says so. Specs for other
/// kinds are skipped.
///
/// # Errors
///
/// A message when the path crosses a scalar, or from `set`.
pub(crate) fn apply(
    obj: &mut Value,
    spec: &FieldSpec,
    create_kind: Option<CreateKind>,
    set: &mut SetFn<'_>,
) -> Result<(), String> {
    if !matches_object(spec, obj) {
        return Ok(());
    }
    let path = split_path(&spec.path);
    walk(obj, &path, spec.create, create_kind, set).map_err(|e| {
        format!(
            "considering field '{}' of object {}: {e}",
            spec.path,
            crate::resid::ResId::of(obj)
        )
    })
}

fn walk(
    node: &mut Value,
    path: &[String],
    create: bool,
    create_kind: Option<CreateKind>,
    set: &mut SetFn<'_>,
) -> Result<(), String> {
    if path.is_empty() {
        return set(node);
    }
    match node {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for item in items {
                walk(item, path, create, create_kind, set)?;
            }
            Ok(())
        }
        Value::Object(map) => walk_map(map, path, create, create_kind, set),
        _ => Err("expected sequence or mapping node".into()),
    }
}

fn walk_map(
    map: &mut Map<String, Value>,
    path: &[String],
    create: bool,
    create_kind: Option<CreateKind>,
    set: &mut SetFn<'_>,
) -> Result<(), String> {
    let (name, is_seq) = match path[0].strip_suffix("[]") {
        Some(n) => (n, true),
        None => (path[0].as_str(), false),
    };
    if name.is_empty() {
        return Err("cannot set or create an empty field name".into());
    }
    let last = path.len() <= 1;
    let creating = create && create_kind.is_some() && !is_seq;
    if !map.contains_key(name) {
        if !creating {
            return Ok(());
        }
        let fresh = if last {
            match create_kind {
                Some(CreateKind::Map) => Value::Object(Map::new()),
                _ => Value::Null,
            }
        } else {
            Value::Object(Map::new())
        };
        map.insert(name.to_owned(), fresh);
    }
    let Some(field) = map.get_mut(name) else {
        return Ok(());
    };
    if field.is_null() && creating && (!last || create_kind == Some(CreateKind::Map)) {
        *field = Value::Object(Map::new());
    }
    if is_seq && field.is_null() {
        return Ok(());
    }
    walk(field, &path[1..], create, create_kind, set)
}

/// A field spec table, written as `group:version:Kind path [create]` lines (`-` for an
/// empty part, `*` for any kind).
pub(crate) fn table(text: &str) -> Vec<FieldSpec> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut parts = line.split_whitespace();
            let gvk = parts.next().unwrap_or("*");
            let path = parts.next().unwrap_or("");
            let create = parts.next() == Some("create");
            FieldSpec {
                gvk: parse_gvk(gvk),
                path: path.to_owned(),
                create,
            }
        })
        .collect()
}

/// `group:version:Kind`, with `-` for an empty part; `*` is any.
pub(crate) fn parse_gvk(s: &str) -> Gvk {
    if s == "*" {
        return Gvk::default();
    }
    let parts: Vec<&str> = s.split(':').collect();
    let part = |i: usize| {
        parts
            .get(i)
            .map(|p| if *p == "-" { "" } else { *p })
            .unwrap_or("")
            .to_owned()
    };
    Gvk {
        group: part(0),
        version: part(1),
        kind: part(2),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn set_to(value: &'static str) -> impl FnMut(&mut Value) -> Result<(), String> {
        move |v: &mut Value| {
            *v = Value::String(value.to_owned());
            Ok(())
        }
    }

    #[test]
    fn walks_lists_and_creates_only_when_asked() {
        let mut obj = json!({"kind": "Deployment", "spec": {"template": {"spec": {
            "containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}}});
        let spec = FieldSpec::new("spec/template/spec/containers[]/image", false);
        apply(&mut obj, &spec, Some(CreateKind::Scalar), &mut set_to("y")).expect("applies");
        assert_eq!(
            obj["spec"]["template"]["spec"]["containers"][0]["image"],
            "y"
        );
        assert!(
            obj["spec"]["template"]["spec"]["containers"][1]
                .get("image")
                .is_none()
        );

        let spec = FieldSpec::new("spec/selector/matchLabels", true);
        let mut labels = |v: &mut Value| {
            crate::resource::ensure_object(v).insert("a".into(), json!("b"));
            Ok(())
        };
        apply(&mut obj, &spec, Some(CreateKind::Map), &mut labels).expect("applies");
        assert_eq!(obj["spec"]["selector"], json!({"matchLabels": {"a": "b"}}));
    }

    #[test]
    fn specs_for_other_kinds_do_not_apply() {
        let mut obj = json!({"apiVersion": "v1", "kind": "Service", "spec": {}});
        let mut spec = FieldSpec::new("spec/selector", true);
        spec.gvk = parse_gvk("apps:-:Deployment");
        apply(&mut obj, &spec, Some(CreateKind::Map), &mut set_to("x")).expect("applies");
        assert_eq!(obj["spec"], json!({}));
    }

    #[test]
    fn escaped_slashes_stay_in_field_names() {
        assert_eq!(
            split_path("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret"),
            vec![
                "metadata",
                "annotations",
                "nginx.ingress.kubernetes.io/auth-secret"
            ]
        );
    }
}
