//! `x-kubernetes-validations`: CEL rules compiled once per schema and evaluated on create
//! and update the way kube-apiserver's `schema/cel` validator does, on kube-rs' CEL
//! runtime (`kube-cel` over the `cel` crate).
//!
//! # Guarantees
//!
//! * `self` is the node's value, typed by its schema: object fields under their escaped
//!   names (`__namespace__`, `foo__dash__bar`), map keys as they are, `date-time`/`date`
//!   strings as timestamps, `duration` strings as durations, `byte` strings as bytes;
//!   at the root and in embedded resources `apiVersion`, `kind` and `metadata.name` /
//!   `metadata.generateName` only.
//! * Transition rules (those using `oldSelf`) run only when the node correlates with an
//!   old value (object fields by name, `map` list items by key), unless
//!   `optionalOldSelf` makes `oldSelf` an optional.
//! * A failed rule is reported at the node (plus its `fieldPath`) with its `reason`, its
//!   `messageExpression` or `message`, or `failed rule: <rule>`; on update, failures of
//!   non-transition rules inside parts of the object that did not change are ratcheted
//!   away, as upstream does.
//! * A rule that cannot be evaluated refuses the object: evaluation errors are reported as
//!   upstream words them, and a rule using a function or macro this runtime lacks is
//!   refused with a message naming it. Nothing is silently accepted.
//!
//! # Caveats
//!
//! There is no type checker and no cost estimation: a rule referring to an undeclared
//! field fails when evaluated rather than when the CRD is created, and the per-rule and
//! per-call cost budgets are not enforced. The runtime lacks `cel.bind`, `sortBy`, the
//! two-variable comprehensions, `type()` and `dyn()`, and fails optional field selection
//! (`self.?field`) on an absent field: objects reaching such a rule are refused with a
//! message naming what is missing. Failures ratcheted on update are dropped rather than
//! returned as warnings.

use std::collections::BTreeMap;
use std::sync::Arc;

use kube_cel::KubeCelExt;
use kube_cel::cel::objects::{Key, Map as CelMap, OptionalValue};
use kube_cel::cel::{self, Context, ExecutionError, IdedExpr};
use serde_json::Value;

use super::field::{FieldError, Path};
use super::structural::Structural;
use super::types::Rule;

thread_local! {
    /// A context with the standard and Kubernetes CEL libraries; rules run in child scopes.
    static BASE: Context<'static> = Context::default().with_all();
}

/// Parses a CEL expression as Kubernetes does (with optional syntax: `self.?field`).
pub(crate) fn parse(source: &str) -> Result<IdedExpr, String> {
    cel::parser::Parser::default()
        .enable_optional_syntax(true)
        .parse(source)
        .map_err(|e| e.to_string().trim().to_owned())
}

/// One compiled rule.
#[derive(Debug)]
struct Compiled {
    rule: Rule,
    program: Result<IdedExpr, String>,
    message: Option<Result<IdedExpr, String>>,
    uses_old_self: bool,
    /// `fieldPath` as a field path suffix (`spec.foo`, `foo[bar]`), empty if none.
    field_path: String,
}

impl Compiled {
    fn new(rule: &Rule) -> Self {
        let program = parse(&rule.rule);
        let uses_old_self = program
            .as_ref()
            .is_ok_and(|p| p.references().has_variable("oldSelf"));
        let message =
            (!rule.message_expression.trim().is_empty()).then(|| parse(&rule.message_expression));
        Compiled {
            rule: rule.clone(),
            program,
            message,
            uses_old_self,
            field_path: normalize_field_path(&rule.field_path),
        }
    }

    /// `ruleErrorString`: the message if any, else the rule.
    fn error_string(&self) -> String {
        if self.rule.message.trim().is_empty() {
            self.rule.rule.trim().to_owned()
        } else {
            self.rule.message.trim().to_owned()
        }
    }

    /// `ruleMessageOrDefault`.
    fn message_or_default(&self) -> String {
        if self.rule.message.is_empty() {
            format!("failed rule: {}", self.error_string())
        } else {
            self.rule.message.trim().to_owned()
        }
    }
}

/// The compiled rules of a schema, shaped like the schema (only where rules are).
#[derive(Debug, Default)]
pub(crate) struct CelNode {
    rules: Vec<Compiled>,
    /// Rules of `allOf` alternatives at this node (evaluated against the same value).
    all_of: Vec<Compiled>,
    properties: BTreeMap<String, CelNode>,
    additional_properties: Option<Box<CelNode>>,
    items: Option<Box<CelNode>>,
}

impl CelNode {
    /// Compiles the rules of `s` and below; `None` when there are none.
    pub(crate) fn build(s: &Structural) -> Option<CelNode> {
        let node = CelNode {
            rules: s.x_validations.iter().map(Compiled::new).collect(),
            all_of: s
                .value_validation
                .all_of
                .iter()
                .flat_map(|n| n.x_validations.iter().map(Compiled::new))
                .collect(),
            properties: s
                .properties
                .iter()
                .filter_map(|(k, v)| CelNode::build(v).map(|n| (k.clone(), n)))
                .collect(),
            additional_properties: s
                .additional_properties
                .as_ref()
                .and_then(|ap| ap.structural.as_deref())
                .and_then(CelNode::build)
                .map(Box::new),
            items: s.items.as_deref().and_then(CelNode::build).map(Box::new),
        };
        let empty = node.rules.is_empty()
            && node.all_of.is_empty()
            && node.properties.is_empty()
            && node.additional_properties.is_none()
            && node.items.is_none();
        (!empty).then_some(node)
    }
}

/// The rules of a schema whose expressions do not parse, as `(path, rule, error)`, for
/// refusing the CRD. `path` is the schema path (`openAPIV3Schema.properties[spec]`).
pub(crate) fn compile_errors(rules: &[Rule]) -> Vec<(usize, &'static str, String)> {
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if !rule.rule.trim().is_empty()
            && let Err(e) = parse(&rule.rule)
        {
            out.push((i, "rule", format!("compilation failed: {e}")));
        }
        if !rule.message_expression.trim().is_empty()
            && let Err(e) = parse(&rule.message_expression)
        {
            out.push((
                i,
                "messageExpression",
                format!("messageExpression compilation failed: {e}"),
            ));
        }
    }
    out
}

/// How a node correlates with the old object, for ratcheting.
#[derive(Debug, Clone, Copy)]
enum Corr<'a> {
    /// The node is reachable through correlatable steps; its old value, if it had one.
    Node(Option<&'a Value>),
    /// Correlation was lost above; whether the nearest correlatable ancestor is unchanged.
    Lost(bool),
}

impl<'a> Corr<'a> {
    fn unchanged(self, value: &Value) -> bool {
        match self {
            Corr::Node(Some(old)) => old == value,
            Corr::Node(None) => false,
            Corr::Lost(unchanged) => unchanged,
        }
    }

    fn key(self, value: &Value, key: &str) -> Corr<'a> {
        match self {
            Corr::Node(Some(old)) => match old.get(key) {
                Some(child) => Corr::Node(Some(child)),
                None => Corr::Lost(old == value),
            },
            Corr::Node(None) => Corr::Lost(false),
            lost => lost,
        }
    }

    fn item(self, value: &Value, old_item: Option<&'a Value>) -> Corr<'a> {
        match self {
            Corr::Node(Some(old)) => match old_item {
                Some(item) => Corr::Node(Some(item)),
                None => Corr::Lost(old == value),
            },
            Corr::Node(None) => Corr::Lost(false),
            lost => lost,
        }
    }
}

/// Evaluates the rules of `node` (for schema `s`, the resource root) against `obj`, with
/// `old` on update.
pub(crate) fn validate(
    node: &CelNode,
    s: &Structural,
    obj: &Value,
    old: Option<&Value>,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let corr = match old {
        Some(old) => Corr::Node(Some(old)),
        None => Corr::Node(None),
    };
    walk(node, s, true, &Path::new(""), obj, old, corr, &mut errs);
    errs
}

#[allow(clippy::too_many_arguments)]
fn walk(
    node: &CelNode,
    s: &Structural,
    is_root: bool,
    path: &Path,
    value: &Value,
    old_self: Option<&Value>,
    corr: Corr<'_>,
    errs: &mut Vec<FieldError>,
) {
    if value.is_null() {
        return;
    }
    let old_self = old_self.filter(|o| !o.is_null());
    if !node.rules.is_empty() || !node.all_of.is_empty() {
        let embedded = is_root || s.extensions.x_embedded_resource;
        let self_value = to_cel(value, Some(s), embedded);
        let old_value = old_self.map(|o| to_cel(o, Some(s), embedded));
        let ratchet = corr.unchanged(value);
        for rule in node.rules.iter().chain(&node.all_of) {
            evaluate(
                rule,
                s,
                path,
                value,
                &self_value,
                old_value.as_ref(),
                ratchet,
                errs,
            );
        }
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let (child, child_schema) = match s.properties.get(k) {
                    Some(prop) => (node.properties.get(k), Some(prop)),
                    None => (
                        node.additional_properties.as_deref(),
                        s.additional_properties
                            .as_ref()
                            .and_then(|ap| ap.structural.as_deref()),
                    ),
                };
                let (Some(child), Some(child_schema)) = (child, child_schema) else {
                    continue;
                };
                let child_path = if s.properties.contains_key(k) {
                    path.child(k)
                } else {
                    path.key(k)
                };
                let old_child = old_self.and_then(|o| o.get(k));
                walk(
                    child,
                    child_schema,
                    false,
                    &child_path,
                    v,
                    old_child,
                    corr.key(value, k),
                    errs,
                );
            }
        }
        Value::Array(items) => {
            let (Some(child), Some(item_schema)) = (node.items.as_deref(), s.items.as_deref())
            else {
                return;
            };
            let old_items = old_self.and_then(Value::as_array);
            for (i, item) in items.iter().enumerate() {
                // Only items of `map` lists correlate with an old item (by key).
                let old_item = old_items.and_then(|o| map_list_item(s, o, item));
                let ratchet_item = match s.extensions.x_list_type.as_deref() {
                    Some("set") => old_items.and_then(|o| o.iter().find(|x| *x == item)),
                    _ => old_item,
                };
                walk(
                    child,
                    item_schema,
                    false,
                    &path.index(i),
                    item,
                    old_item,
                    corr.item(value, ratchet_item),
                    errs,
                );
            }
        }
        _ => {}
    }
}

fn map_list_item<'a>(s: &Structural, old: &'a [Value], item: &Value) -> Option<&'a Value> {
    if s.extensions.x_list_type.as_deref() != Some("map") {
        return None;
    }
    let keys = s.extensions.x_list_map_keys.as_deref().unwrap_or_default();
    let key_of = |v: &Value| -> Option<Vec<Option<Value>>> {
        let map = v.as_object()?;
        Some(keys.iter().map(|k| map.get(k).cloned()).collect())
    };
    let wanted = key_of(item)?;
    old.iter().find(|o| key_of(o).as_ref() == Some(&wanted))
}

#[allow(clippy::too_many_arguments)]
fn evaluate(
    rule: &Compiled,
    s: &Structural,
    path: &Path,
    value: &Value,
    self_value: &cel::Value,
    old_value: Option<&cel::Value>,
    unchanged: bool,
    errs: &mut Vec<FieldError>,
) {
    let type_ = Value::from(s.generic.type_.as_str());
    let program = match &rule.program {
        Ok(program) => program,
        Err(e) => {
            errs.push(FieldError::invalid(
                path,
                type_,
                format!("rule compile error: compilation failed: {e}"),
            ));
            return;
        }
    };
    let optional_old_self = rule.rule.optional_old_self == Some(true);
    if rule.uses_old_self && old_value.is_none() && !optional_old_self {
        return;
    }
    let old_binding = if optional_old_self {
        Some(match old_value {
            Some(old) => cel::Value::Opaque(Arc::new(OptionalValue::of(old.clone()))),
            None => cel::Value::Opaque(Arc::new(OptionalValue::none())),
        })
    } else {
        old_value.cloned()
    };
    let outcome = BASE.with(|base| {
        let mut ctx = base.new_inner_scope();
        ctx.add_variable_from_value("self", self_value.clone());
        if let Some(old) = &old_binding {
            ctx.add_variable_from_value("oldSelf", old.clone());
        }
        let result = ctx.resolve(program);
        let detail = match &result {
            Ok(cel::Value::Bool(false)) => Some(message(rule, &ctx)),
            _ => None,
        };
        (result, detail)
    });
    let failure_path = if rule.field_path.is_empty() {
        path.clone()
    } else {
        path.child(&rule.field_path)
    };
    match outcome {
        (Ok(cel::Value::Bool(true)), _) => {}
        (Ok(cel::Value::Bool(false)), detail) => {
            if !rule.uses_old_self && unchanged {
                return;
            }
            let detail = detail.unwrap_or_else(|| rule.message_or_default());
            let shown =
                (!matches!(s.generic.type_.as_str(), "object" | "array")).then(|| value.clone());
            errs.push(match rule.rule.reason.as_deref() {
                Some("FieldValueForbidden") => FieldError::forbidden(&failure_path, detail),
                Some("FieldValueRequired") => FieldError::required(&failure_path, detail),
                Some("FieldValueDuplicate") => match shown {
                    Some(v) => FieldError::duplicate(&failure_path, v),
                    None => FieldError::duplicate_omitting_value(&failure_path),
                },
                _ => match shown {
                    Some(v) => FieldError::invalid(&failure_path, v, detail),
                    None => FieldError::invalid_omitting_value(&failure_path, detail),
                },
            });
        }
        (Ok(other), _) => errs.push(FieldError::invalid(
            path,
            type_,
            format!(
                "rule did not evaluate to a bool (got {}) evaluating rule: {}",
                other.type_of(),
                rule.error_string()
            ),
        )),
        (Err(error), _) => errs.push(FieldError::invalid(
            path,
            type_,
            evaluation_error(&error, program, rule),
        )),
    }
}

/// Upstream's wording for a rule that failed to evaluate, or a clear refusal naming what
/// this runtime does not support.
fn evaluation_error(error: &ExecutionError, program: &IdedExpr, rule: &Compiled) -> String {
    match error {
        ExecutionError::UndeclaredReference(name) => {
            if program.references().functions().contains(&name.as_str()) {
                format!(
                    "rule uses the CEL function or macro '{name}', which this server's CEL runtime does not support, so the rule cannot be evaluated: {}",
                    rule.error_string()
                )
            } else {
                format!(
                    "undeclared reference to '{name}' evaluating rule: {}",
                    rule.error_string()
                )
            }
        }
        ExecutionError::NoSuchOverload | ExecutionError::UnsupportedTargetType { .. } => format!(
            "'no such overload': call arguments did not match a supported operator, function or macro signature for rule: {}",
            rule.error_string()
        ),
        // The runtime fails `x.?field` on an absent field where CEL yields `optional.none()`.
        ExecutionError::NoSuchKey(key) if rule.rule.rule.contains(".?") => format!(
            "rule uses optional field selection ('.?{key}') on an absent field, which this server's CEL runtime does not support, so the rule cannot be evaluated: {}",
            rule.error_string()
        ),
        ExecutionError::NoSuchKey(key) => {
            format!(
                "no such key: {key} evaluating rule: {}",
                rule.error_string()
            )
        }
        other => format!("{other} evaluating rule: {}", rule.error_string()),
    }
}

/// The message of a failed rule: its `messageExpression` when that evaluates to a usable
/// string, else its `message`, else `failed rule: <rule>`.
fn message(rule: &Compiled, ctx: &Context<'_>) -> String {
    if let Some(Ok(expr)) = &rule.message
        && let Ok(cel::Value::String(text)) = ctx.resolve(expr)
    {
        let trimmed = text.trim();
        if !trimmed.is_empty() && !trimmed.contains('\n') && trimmed.len() <= 5 * 1024 {
            return trimmed.to_owned();
        }
    }
    rule.message_or_default()
}

/// CEL's reserved words, which are escaped as `__word__` when used as field names.
const RESERVED: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// A property name as CEL sees it, or `None` when it cannot be accessed from CEL.
pub(crate) fn escape(name: &str) -> Option<String> {
    let first = name.chars().next()?;
    if first.is_ascii_digit() {
        return None;
    }
    if RESERVED.contains(&name) {
        return Some(format!("__{name}__"));
    }
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '_' if chars.peek() == Some(&'_') => {
                chars.next();
                out.push_str("__underscores__");
            }
            '.' => out.push_str("__dot__"),
            '-' => out.push_str("__dash__"),
            '/' => out.push_str("__slash__"),
            c if c.is_ascii_alphanumeric() || c == '_' => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

fn string(s: &str) -> cel::Value {
    cel::Value::String(Arc::new(s.to_owned()))
}

/// Converts a JSON value to a CEL value typed by its schema.
fn to_cel(value: &Value, s: Option<&Structural>, embedded: bool) -> cel::Value {
    match value {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => {
            let number_type = s.is_some_and(|s| s.generic.type_ == "number");
            match (n.as_i64(), n.as_u64()) {
                (Some(i), _) if !number_type => cel::Value::Int(i),
                (None, Some(u)) if !number_type => cel::Value::UInt(u),
                _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            }
        }
        Value::String(text) => {
            let format = s.map_or("", |s| s.value_validation.format.as_str());
            let int_or_string = s.is_some_and(|s| s.extensions.x_int_or_string);
            if int_or_string {
                return string(text);
            }
            match format {
                "date-time" | "datetime" => chrono::DateTime::parse_from_rfc3339(text)
                    .map(cel::Value::Timestamp)
                    .unwrap_or_else(|_| string(text)),
                "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|dt| cel::Value::Timestamp(dt.and_utc().fixed_offset()))
                    .unwrap_or_else(|| string(text)),
                "duration" => super::formats::go_duration(text)
                    .and_then(|nanos| i64::try_from(nanos).ok())
                    .map(|nanos| cel::Value::Duration(chrono::Duration::nanoseconds(nanos)))
                    .unwrap_or_else(|| string(text)),
                "byte" => {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .map(|b| cel::Value::Bytes(Arc::new(b)))
                        .unwrap_or_else(|_| string(text))
                }
                _ => string(text),
            }
        }
        Value::Array(items) => {
            let item_schema = s.and_then(|s| s.items.as_deref());
            let embedded_items = item_schema.is_some_and(|i| i.extensions.x_embedded_resource);
            cel::Value::List(Arc::new(
                items
                    .iter()
                    .map(|i| to_cel(i, item_schema, embedded_items))
                    .collect(),
            ))
        }
        Value::Object(map) => {
            let mut out: std::collections::HashMap<Key, cel::Value> =
                std::collections::HashMap::new();
            let is_map =
                s.is_some_and(|s| s.properties.is_empty() && s.additional_properties.is_some());
            for (k, v) in map {
                if embedded && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let child = s.and_then(|s| match s.properties.get(k) {
                    Some(p) => Some(p),
                    None => s
                        .additional_properties
                        .as_ref()
                        .and_then(|ap| ap.structural.as_deref()),
                });
                let embedded_child = child.is_some_and(|c| c.extensions.x_embedded_resource);
                let converted = to_cel(v, child, embedded_child);
                if is_map {
                    out.insert(Key::String(Arc::new(k.clone())), converted);
                } else if let Some(name) = escape(k) {
                    out.insert(Key::String(Arc::new(name)), converted);
                }
            }
            if embedded {
                for k in ["apiVersion", "kind"] {
                    if let Some(Value::String(v)) = map.get(k) {
                        out.insert(Key::String(Arc::new(k.to_owned())), string(v));
                    }
                }
                if let Some(Value::Object(meta)) = map.get("metadata") {
                    let mut m: std::collections::HashMap<Key, cel::Value> =
                        std::collections::HashMap::new();
                    for k in ["name", "generateName"] {
                        if let Some(Value::String(v)) = meta.get(k) {
                            m.insert(Key::String(Arc::new(k.to_owned())), string(v));
                        }
                    }
                    out.insert(
                        Key::String(Arc::new("metadata".to_owned())),
                        cel::Value::Map(CelMap { map: Arc::new(m) }),
                    );
                }
            }
            cel::Value::Map(CelMap { map: Arc::new(out) })
        }
    }
}

/// `ValidFieldPath` rendered as a field path: `.spec.foo` → `spec.foo`,
/// `.map['key.with.dots']` → `map[key.with.dots]`, `.list[0]` → `list[0]`.
fn normalize_field_path(field_path: &str) -> String {
    let mut out = String::new();
    let mut rest = field_path.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&after[..end]);
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']").unwrap_or(after.len());
            out.push('[');
            out.push_str(&after[..end]);
            out.push(']');
            rest = after.get(end + 2..).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').unwrap_or(after.len());
            out.push('[');
            out.push_str(&after[..end]);
            out.push(']');
            rest = after.get(end + 1..).unwrap_or("");
        } else {
            out.push_str(rest);
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::structural::new_structural;
    use serde_json::json;

    fn schema(v: Value) -> Structural {
        new_structural(&crate::crd::decode::props_for_test(&v)).expect("structural")
    }

    fn run(s: &Structural, obj: Value, old: Option<Value>) -> Vec<String> {
        let node = CelNode::build(s).expect("rules");
        validate(&node, s, &obj, old.as_ref())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn field_names_are_escaped_like_kubernetes() {
        assert_eq!(escape("namespace").as_deref(), Some("__namespace__"));
        assert_eq!(escape("foo-bar").as_deref(), Some("foo__dash__bar"));
        assert_eq!(escape("a.b/c").as_deref(), Some("a__dot__b__slash__c"));
        assert_eq!(escape("a__b").as_deref(), Some("a__underscores__b"));
        assert_eq!(escape("my_field").as_deref(), Some("my_field"));
        assert_eq!(escape("1x"), None);
        assert_eq!(escape("a b"), None);
    }

    #[test]
    fn field_paths_normalize_to_kubernetes_paths() {
        assert_eq!(normalize_field_path(".spec.foo"), "spec.foo");
        assert_eq!(normalize_field_path(".m['a.b']"), "m[a.b]");
        assert_eq!(normalize_field_path(".l[0].x"), "l[0].x");
    }

    #[test]
    fn failed_rules_are_reported_at_their_node_with_their_message() {
        let s = schema(json!({
            "type": "object",
            "properties": {"spec": {
                "type": "object",
                "x-kubernetes-validations": [
                    {"rule": "!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))",
                     "message": "serviceAccountName can only be used with provider azure or aws"},
                    {"rule": "self.replicas <= 3", "fieldPath": ".replicas", "reason": "FieldValueForbidden"},
                ],
                "properties": {
                    "provider": {"type": "string"},
                    "serviceAccountName": {"type": "string"},
                    "replicas": {"type": "integer", "x-kubernetes-validations": [
                        {"rule": "self >= 0", "messageExpression": "'replicas must not be negative, got ' + string(self)"},
                    ]},
                },
            }},
        }));
        let ok = run(
            &s,
            json!({"spec": {"provider": "aws", "serviceAccountName": "x", "replicas": 1}}),
            None,
        );
        assert!(ok.is_empty(), "{ok:?}");
        let errs = run(
            &s,
            json!({"spec": {"provider": "generic", "serviceAccountName": "x", "replicas": 5}}),
            None,
        );
        assert_eq!(
            errs,
            vec![
                "spec: Invalid value: serviceAccountName can only be used with provider azure or aws",
                "spec.replicas: Forbidden: failed rule: self.replicas <= 3",
            ]
        );
        let errs = run(&s, json!({"spec": {"replicas": -1}}), None);
        assert_eq!(
            errs,
            vec!["spec.replicas: Invalid value: -1: replicas must not be negative, got -1"]
        );
    }

    #[test]
    fn transition_rules_run_only_on_update_and_unchanged_parts_ratchet() {
        let s = schema(json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {
                "name": {"type": "string", "x-kubernetes-validations": [
                    {"rule": "self == oldSelf", "message": "name is immutable"},
                ]},
                "size": {"type": "integer", "x-kubernetes-validations": [{"rule": "self < 10"}]},
            }}},
        }));
        assert!(run(&s, json!({"spec": {"name": "a"}}), None).is_empty());
        assert_eq!(
            run(
                &s,
                json!({"spec": {"name": "b"}}),
                Some(json!({"spec": {"name": "a"}}))
            ),
            vec![r#"spec.name: Invalid value: "b": name is immutable"#]
        );
        // An invalid size that was already stored ratchets; a new invalid size does not.
        assert!(
            run(
                &s,
                json!({"spec": {"name": "a", "size": 20}}),
                Some(json!({"spec": {"name": "a", "size": 20}}))
            )
            .is_empty()
        );
        assert_eq!(
            run(
                &s,
                json!({"spec": {"name": "a", "size": 30}}),
                Some(json!({"spec": {"name": "a", "size": 20}}))
            ),
            vec!["spec.size: Invalid value: 30: failed rule: self < 10"]
        );
    }

    #[test]
    fn typed_values_and_root_fields_are_available() {
        let s = schema(json!({
            "type": "object",
            "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('a') && self.kind == 'Thing'"}],
            "properties": {"spec": {"type": "object", "properties": {
                "at": {"type": "string", "format": "date-time"},
                "every": {"type": "string", "format": "duration"},
                "port": {"x-kubernetes-int-or-string": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            }, "x-kubernetes-validations": [
                {"rule": "self.at > timestamp('2020-01-01T00:00:00Z')"},
                {"rule": "self.every < duration('1h')"},
                {"rule": "self.labels.all(k, k.startsWith('x-'))"},
                {"rule": "self.?port.orValue(0) != 'bad'"},
            ]}},
        }));
        let obj = json!({"apiVersion": "x/v1", "kind": "Thing", "metadata": {"name": "abc"},
            "spec": {"at": "2024-01-01T00:00:00Z", "every": "5m", "port": 80, "labels": {"x-a": "1"}}});
        let errs = run(&s, obj, None);
        assert!(errs.is_empty(), "{errs:?}");
        let obj = json!({"apiVersion": "x/v1", "kind": "Thing", "metadata": {"name": "zz"},
            "spec": {"at": "2019-01-01T00:00:00Z", "every": "2h", "port": "bad", "labels": {"y": "1"}}});
        assert_eq!(run(&s, obj, None).len(), 5);
    }

    #[test]
    fn unsupported_functions_refuse_with_a_message_naming_them() {
        let s = schema(json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}},
                "x-kubernetes-validations": [{"rule": "self.x.noSuchFunction()"}]}},
        }));
        let errs = run(&s, json!({"spec": {"x": "a"}}), None);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("'noSuchFunction'"), "{errs:?}");
        assert!(
            errs[0].starts_with(r#"spec: Invalid value: "object": "#),
            "{errs:?}"
        );
    }

    #[test]
    fn common_kubernetes_cel_features_evaluate_and_missing_ones_are_named() {
        let s = schema(json!({
            "type": "object",
            "properties": {
                "l": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                "s": {"type": "string"},
                "n": {"type": "integer"},
                "q": {"type": "string"},
                "d": {"type": "string", "format": "duration"},
            },
        }));
        let obj =
            json!({"l": [{"name": "a"}, {"name": "b"}], "s": "abc", "n": 3, "q": "2Mi", "d": "5s"});
        let value = to_cel(&obj, Some(&s), false);
        let eval = |e: &str| {
            BASE.with(|base| {
                let mut ctx = base.new_inner_scope();
                ctx.add_variable_from_value("self", value.clone());
                parse(e).map(|p| ctx.resolve(&p))
            })
        };
        for e in [
            "self.l.all(x, x.name != '') && self.l.exists(x, x.name == 'a')",
            "self.l.exists_one(x, x.name == 'a') && size(self.l) <= 5 && self.l.size() == 2",
            "self.s.matches('^a') && self.s.startsWith('a') && self.s.contains('b')",
            "int(self.n) == 3 && string(self.n) == '3' && self.n % 2 == 1",
            "self.l.map(x, x.name).size() == 2 && self.l.filter(x, x.name == 'a').size() == 1",
            "'a' in self.l.map(x, x.name) && has(self.l) && !has(self.zz)",
            "self.s.lowerAscii() == 'abc' && self.s.split('b').size() == 2",
            "quantity(self.q).isGreaterThan(quantity('1Mi'))",
            "isURL('https://x.com') && url('https://x.com/p').getHost() == 'x.com'",
            "self.d > duration('1s') && timestamp('2024-01-01T00:00:00Z') < timestamp('2025-01-01T00:00:00Z')",
            "(self.n > 2 ? true : false) && self.s + 'x' == 'abcx'",
            "[1, 2, 3].sum() == 6 && sets.contains([1, 2], [1]) && math.greatest(1, 2) == 2",
            "self.?s.orValue('') == 'abc'",
        ] {
            assert!(
                matches!(eval(e), Ok(Ok(cel::Value::Bool(true)))),
                "{e}: {:?}",
                eval(e)
            );
        }
        for (e, missing) in [
            ("cel.bind(x, 1, x == 1)", "bind"),
            ("self.l.sortBy(x, x.name).size() == 2", "sortBy"),
            ("type(self.s) == string", "type"),
        ] {
            match eval(e) {
                Ok(Err(ExecutionError::UndeclaredReference(name))) => assert_eq!(*name, missing),
                other => panic!("{e}: {other:?}"),
            }
        }
    }

    #[test]
    fn syntax_errors_are_compile_errors() {
        let rules = vec![Rule {
            rule: "self.x ==".into(),
            ..Rule::default()
        }];
        let errs = compile_errors(&rules);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].1, "rule");
    }
}
