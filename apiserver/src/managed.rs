//! `metadata.managedFields`: which manager set which fields, recorded on every write as
//! kube-apiserver records them, and the field ownership server-side apply works with.
//!
//! Every create, update and non-apply patch is recorded for its field manager (the
//! `fieldManager` parameter, else the first segment of the client's `User-Agent`) as an
//! `Update` entry owning the fields the write changed; a server-side apply is recorded as
//! an `Apply` entry owning exactly the fields of the applied configuration. Writes through
//! `/status` are recorded with `subresource: status`. Managers left owning nothing are
//! dropped, and at most ten updaters are kept (older ones are folded into
//! `ancient-changes`).
//!
//! Clients may send `managedFields` with an update: valid entries replace the recorded
//! ones (this is how ownership is edited by hand), `[]` or `[{}]` clears them (the object is
//! no longer tracked until the next apply), and anything invalid is ignored in favour of
//! the stored entries.
//!
//! The pieces: [`fieldpath`] (paths and the `FieldsV1` format), [`schema`] (list types,
//! atomic maps and declared fields of a kind), [`typed`] (field sets, comparison, merging
//! and removal on JSON objects) and [`updater`] (managers and how writes move ownership).

pub mod fieldpath;
pub mod schema;
pub mod typed;
pub mod updater;

use serde_json::{Map, Value, json};

use crate::backend::{Part, WriteOptions};
use crate::errors::ApiError;
use crate::object;
use crate::resources::ResourceType;

use self::typed::Typed;
use self::updater::{ApplyFailure, Ignore, Managed, ManagerId};

/// kubectl's client-side apply annotation, kept in sync by `kubectl apply --server-side`.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The most `Update` entries an object keeps.
const MAX_UPDATERS: usize = 10;

/// The longest field manager name.
pub const MAX_FIELD_MANAGER_LENGTH: usize = 128;

/// The field manager of a write: `fieldManager`, else the `User-Agent` up to its first `/`
/// (non-printable characters dropped, at most 128 bytes), as kube-apiserver defaults it.
pub fn manager_or_user_agent(options: &WriteOptions) -> String {
    if let Some(manager) = options.field_manager.as_deref().filter(|m| !m.is_empty()) {
        return manager.to_owned();
    }
    let agent = options.user_agent.as_deref().unwrap_or_default();
    let prefix = agent.split('/').next().unwrap_or_default();
    let mut out = String::new();
    for c in prefix.chars() {
        if c.is_control() {
            continue;
        }
        if out.len() + c.len_utf8() > MAX_FIELD_MANAGER_LENGTH {
            break;
        }
        out.push(c);
    }
    out
}

/// The subresource a write goes through, as recorded in `managedFields`.
fn subresource(part: Part) -> &'static str {
    match part {
        Part::Main => "",
        Part::Status => "status",
    }
}

/// The fields a write through `part` does not own: `status` through the main resource of
/// kinds with a status subresource, everything but `status` through `/status`.
fn ignored(rt: &ResourceType, part: Part) -> Ignore {
    match part {
        Part::Status => Ignore::AllButStatus,
        Part::Main if rt.status_subresource => Ignore::Status,
        Part::Main => Ignore::Nothing,
    }
}

fn managed_fields(object: &Value) -> Option<&Value> {
    object::metadata(object).get("managedFields")
}

fn remove_managed_fields(object: &mut Value) {
    if object.get("metadata").is_some_and(Value::is_object) {
        object::metadata_mut(object).remove("managedFields");
    }
}

fn set_managed_fields(object: &mut Value, managed: &Managed) {
    match managed.encode() {
        Some(entries) => {
            object::metadata_mut(object).insert("managedFields".into(), entries);
        }
        None => remove_managed_fields(object),
    }
}

/// Struct fields of built-in kinds that Go always serializes: the empty object of a kind
/// already has them, so a create (or the first apply's `before-first-apply`) does not own
/// them as such (no `.` for them in `fieldsV1`), as with kube-apiserver.
const ALWAYS_PRESENT: &[&[&str]] = &[
    &["metadata"],
    &["spec"],
    &["status"],
    &["spec", "template"],
    &["spec", "template", "metadata"],
    &["spec", "template", "spec"],
    &["spec", "strategy"],
    &["spec", "updateStrategy"],
    &["spec", "jobTemplate"],
    &["spec", "jobTemplate", "metadata"],
    &["spec", "jobTemplate", "spec"],
    &["spec", "jobTemplate", "spec", "template"],
    &["spec", "jobTemplate", "spec", "template", "metadata"],
    &["spec", "jobTemplate", "spec", "template", "spec"],
    &["spec", "scaleTargetRef"],
    &["spec", "resources"],
    &["template"],
    &["template", "metadata"],
    &["template", "spec"],
    &["involvedObject"],
    &["source"],
    &["regarding"],
];

/// Lists of built-in kinds that Go serializes as `null` when empty (no `omitempty`): the
/// pod's containers.
const NULL_WHEN_EMPTY: &[&[&str]] = &[
    &["spec", "containers"],
    &["spec", "template", "spec", "containers"],
    &[
        "spec",
        "jobTemplate",
        "spec",
        "template",
        "spec",
        "containers",
    ],
    &["template", "spec", "containers"],
];

/// The empty object of `rt`'s kind, shaped like `like`: for built-in kinds, the struct
/// fields Go always serializes, where `like` has them; for custom resources, nothing.
fn empty_object(rt: &ResourceType, like: &Value) -> Value {
    let mut empty = json!({});
    if !matches!(rt.codec, crate::resources::Codec::Builtin(_)) {
        return empty;
    }
    for path in ALWAYS_PRESENT {
        let pointer: String = path.iter().map(|p| format!("/{p}")).collect();
        if !like.pointer(&pointer).is_some_and(Value::is_object) {
            continue;
        }
        let mut node = &mut empty;
        for step in *path {
            node = &mut node[*step];
            if !node.is_object() {
                *node = json!({});
            }
        }
    }
    for path in NULL_WHEN_EMPTY {
        let pointer: String = path.iter().map(|p| format!("/{p}")).collect();
        let Some((last, parent)) = path.split_last() else {
            continue;
        };
        let parent: String = parent.iter().map(|p| format!("/{p}")).collect();
        if like.pointer(&pointer).is_some_and(Value::is_array)
            && let Some(parent) = empty.pointer_mut(&parent).and_then(Value::as_object_mut)
        {
            parent.insert((*last).to_owned(), Value::Null);
        }
    }
    empty
}

/// Whether the request clears `managedFields`: an empty list, or one empty entry.
fn is_reset(requested: Option<&Value>) -> bool {
    let empty_entry = |entry: &Value| {
        entry.as_object().is_some_and(|fields| {
            fields
                .values()
                .all(|v| v.is_null() || v.as_str() == Some(""))
        })
    };
    match requested {
        Some(Value::Array(list)) => list.is_empty() || (list.len() == 1 && empty_entry(&list[0])),
        _ => false,
    }
}

/// The managers an update starts from: the request's valid entries, none when the request
/// clears them, else the stored ones (always the stored ones through a subresource).
fn decode_live_or_new(live: &Value, new: &Value, ignore_new: bool) -> Managed {
    let stored = || Managed::decode(managed_fields(live)).unwrap_or_default();
    if ignore_new {
        return stored();
    }
    let requested = managed_fields(new);
    if is_reset(requested) {
        return Managed::default();
    }
    match Managed::decode(requested) {
        Ok(managed) if !managed.is_empty() => managed,
        _ => stored(),
    }
}

/// Records a create (`old` is `None`), update or non-apply patch of `object` in its
/// `metadata.managedFields`. Writes made by server-side apply
/// ([`WriteOptions::applying`]) are already recorded and left alone.
pub fn record_update(
    object: &mut Value,
    old: Option<&Value>,
    options: &WriteOptions,
    rt: &ResourceType,
    part: Part,
) {
    if options.applying {
        return;
    }
    let mut manager = manager_or_user_agent(options);
    if manager.is_empty() {
        manager = "unknown".into();
    }
    let sub = options.subresource.unwrap_or(subresource(part));
    let empty;
    let live = match old {
        Some(old) => old,
        None => {
            empty = empty_object(rt, object);
            &empty
        }
    };
    let mut managed = decode_live_or_new(live, object, !sub.is_empty());
    remove_managed_fields(object);
    if managed.is_empty() && old.is_some() {
        // Objects whose managers were cleared stay untracked until someone applies.
        return;
    }
    let shape = schema::of(rt);
    let typed = Typed::new(&*shape);
    let id = ManagerId::update(&manager, &rt.api_version(), sub);
    updater::update(
        &typed,
        live,
        object,
        &mut managed,
        &id,
        ignored(rt, part),
        &object::now_rfc3339(),
    );
    updater::cap_updaters(&mut managed, MAX_UPDATERS);
    set_managed_fields(object, &managed);
}

/// A server-side apply request.
#[derive(Debug, Clone, Copy)]
pub struct Apply<'a> {
    /// The applying field manager.
    pub manager: &'a str,
    /// Take ownership of conflicting fields instead of failing.
    pub force: bool,
    /// The main resource or `/status`.
    pub part: Part,
}

/// Applies `config` to `live` (an empty object when creating) and returns the object to
/// store, with its `managedFields`.
///
/// # Errors
/// 400 for a configuration of another kind or one that sets `managedFields`; 409 with the
/// conflicting fields when other managers own fields `config` changes (unless forced);
/// 500, as kube-apiserver answers, when the configuration does not fit the kind's schema.
pub fn apply(
    live: &Value,
    config: &Value,
    rt: &ResourceType,
    request: Apply<'_>,
) -> Result<Value, ApiError> {
    let api_version = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = config
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if api_version != rt.api_version() || kind != rt.kind {
        return Err(ApiError::bad_request(format!(
            "invalid object type: {}",
            gvk(api_version, kind)
        )));
    }
    if managed_fields(config).is_some_and(|m| !m.is_null()) {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let stored = Managed::decode(managed_fields(live))
        .map_err(|e| ApiError::internal(format!("failed to decode managed fields: {e}")))?;
    let mut live_object = live.clone();
    remove_managed_fields(&mut live_object);
    let shape = schema::of(rt);
    let typed = Typed::new(&*shape);
    let version = rt.api_version();
    let sub = subresource(request.part);
    let ignore = ignored(rt, request.part);
    let now = object::now_rfc3339();
    let attempt = |force: bool| -> Result<(Value, Managed), ApplyFailure> {
        let mut managed = stored.clone();
        if managed.is_empty() {
            // Whatever the object already holds belongs to someone: the fields that were
            // there before the first apply.
            let before = ManagerId::update("before-first-apply", &version, sub);
            updater::update(
                &typed,
                &empty_object(rt, &live_object),
                &live_object,
                &mut managed,
                &before,
                ignore,
                &now,
            );
            updater::cap_updaters(&mut managed, MAX_UPDATERS);
        }
        let id = ManagerId::apply(request.manager, sub);
        let changed = updater::apply(
            &typed,
            &live_object,
            config,
            &version,
            &mut managed,
            &id,
            force,
            ignore,
        )?;
        if let Some(entry) = managed.entries.get_mut(&id) {
            entry.set = updater::strip_meta(&entry.set);
            if changed.is_some() {
                entry.time = Some(now.clone());
            }
            if entry.set.is_empty() {
                managed.entries.remove(&id);
            }
        }
        Ok((changed.unwrap_or_else(|| live_object.clone()), managed))
    };
    let outcome = match attempt(request.force) {
        // `kubectl apply --server-side` takes over the fields it applied client-side before.
        Err(ApplyFailure::Conflicts(conflicts)) if request.manager == "kubectl" => {
            match allowed_by_last_applied(&typed, live, rt) {
                Some(allowed) => {
                    let remaining: Vec<_> = conflicts
                        .into_iter()
                        .filter(|c| !allowed.contains(&c.path))
                        .collect();
                    if remaining.is_empty() {
                        attempt(true)
                    } else {
                        Err(ApplyFailure::Conflicts(remaining))
                    }
                }
                None => Err(ApplyFailure::Conflicts(conflicts)),
            }
        }
        other => other,
    };
    let (mut object, managed) = outcome.map_err(|failure| match failure {
        ApplyFailure::Conflicts(conflicts) => {
            let (message, details) = updater::conflict_message(&conflicts);
            ApiError::conflict_with(message, Some(details))
        }
        ApplyFailure::Config(problems) => unknown_error(format!(
            "failed to create typed patch object ({}): {problems}",
            describe(config)
        )),
        ApplyFailure::Merge(problems) => {
            unknown_error(format!("failed to merge config: {problems}"))
        }
    })?;
    if request.manager == "kubectl" && has_last_applied(&object) {
        set_last_applied(&mut object, config);
    }
    set_managed_fields(&mut object, &managed);
    Ok(object)
}

/// `apps/v1, Kind=Deployment`, or `/v1, Kind=ConfigMap` for the core group.
fn gvk(api_version: &str, kind: &str) -> String {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    format!("{group}/{version}, Kind={kind}")
}

/// `namespace/name; apps/v1, Kind=Deployment`, as upstream names the object in errors.
fn describe(object: &Value) -> String {
    format!(
        "{}/{}; {}",
        object::meta_str(object, "namespace").unwrap_or_default(),
        object::meta_str(object, "name").unwrap_or_default(),
        gvk(
            object
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            object
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
        )
    )
}

/// A 500 without a reason: how kube-apiserver reports errors of the field manager that
/// are not API statuses.
fn unknown_error(message: String) -> ApiError {
    ApiError {
        code: 500,
        reason: "",
        message,
        details: None,
    }
}

fn last_applied(object: &Value) -> Option<&str> {
    object::metadata(object)
        .get("annotations")
        .and_then(|a| a.get(LAST_APPLIED_ANNOTATION))
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

fn has_last_applied(object: &Value) -> bool {
    last_applied(object).is_some()
}

/// Keeps the client-side apply annotation in step with what was applied server-side.
fn set_last_applied(object: &mut Value, config: &Value) {
    let mut applied = config.clone();
    if let Some(annotations) = applied
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
    let text = format!("{applied}\n");
    let meta = object::metadata_mut(object);
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(LAST_APPLIED_ANNOTATION.into(), Value::String(text));
    }
}

/// The fields the client-side apply annotation shows kubectl applied and still match the
/// live object: conflicts on them do not stop `kubectl apply --server-side`.
fn allowed_by_last_applied(
    typed: &Typed<'_>,
    live: &Value,
    rt: &ResourceType,
) -> Option<fieldpath::FieldSet> {
    let applied: Value = serde_json::from_str(last_applied(live)?).ok()?;
    if applied.get("apiVersion").and_then(Value::as_str) != Some(rt.api_version().as_str()) {
        return None;
    }
    let set = typed.config_field_set(&applied).ok()?;
    let mut live = live.clone();
    remove_managed_fields(&mut live);
    let comparison = typed.compare(&applied, &live);
    Some(
        set.difference(&comparison.modified)
            .difference(&comparison.added)
            .difference(&comparison.removed),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Registry;
    use pretty_assertions::assert_eq;

    fn config_maps() -> std::sync::Arc<ResourceType> {
        Registry::with_builtins()
            .get("", "v1", "configmaps")
            .expect("served")
    }

    fn options(manager: Option<&str>, agent: Option<&str>) -> WriteOptions {
        WriteOptions {
            field_manager: manager.map(str::to_owned),
            user_agent: agent.map(str::to_owned),
            ..WriteOptions::default()
        }
    }

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "default", "uid": "u"}, "data": data})
    }

    fn entries(object: &Value) -> Vec<(String, String, Value)> {
        object["metadata"]["managedFields"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|e| {
                        (
                            e["manager"].as_str().unwrap_or_default().to_owned(),
                            e["operation"].as_str().unwrap_or_default().to_owned(),
                            e["fieldsV1"].clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn the_field_manager_defaults_to_the_user_agent_product() {
        assert_eq!(
            manager_or_user_agent(&options(None, Some("kubectl/v1.37.1 (linux/amd64)"))),
            "kubectl"
        );
        assert_eq!(
            manager_or_user_agent(&options(Some("flux"), Some("kubectl/v1"))),
            "flux"
        );
        assert_eq!(manager_or_user_agent(&options(None, None)), "");
        let long = "x".repeat(300);
        assert_eq!(
            manager_or_user_agent(&options(None, Some(&long))).len(),
            MAX_FIELD_MANAGER_LENGTH
        );
    }

    #[test]
    fn creates_are_recorded_and_untracked_objects_stay_untracked() {
        let rt = config_maps();
        let mut created = cm(json!({"k": "v"}));
        record_update(
            &mut created,
            None,
            &options(Some("me"), None),
            &rt,
            Part::Main,
        );
        assert_eq!(
            entries(&created),
            vec![(
                "me".to_owned(),
                "Update".to_owned(),
                json!({"f:data": {".": {}, "f:k": {}}})
            )]
        );
        let mut cleared = cm(json!({"k": "w"}));
        cleared["metadata"]["managedFields"] = json!([]);
        record_update(
            &mut cleared,
            Some(&created),
            &options(Some("me"), None),
            &rt,
            Part::Main,
        );
        assert!(cleared["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn creates_of_built_ins_do_not_own_the_structs_go_always_serializes() {
        let registry = Registry::with_builtins();
        let rt = registry.get("apps", "v1", "deployments").expect("served");
        let mut created = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 1, "strategy": {"rollingUpdate": {"maxSurge": 1}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app"}]}}}});
        record_update(
            &mut created,
            None,
            &options(Some("kubectl-create"), None),
            &rt,
            Part::Main,
        );
        assert_eq!(
            entries(&created)[0].2,
            json!({
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}},
                    "f:template": {
                        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                        "f:spec": {"f:containers": {
                            "k:{\"name\":\"app\"}": {".": {}, "f:name": {}}}}
                    }
                }
            })
        );
    }

    #[test]
    fn writes_through_scale_are_recorded_with_their_subresource() {
        let registry = Registry::with_builtins();
        let rt = registry.get("apps", "v1", "deployments").expect("served");
        let deployment = |replicas: i64| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "uid": "u"}, "spec": {"replicas": replicas}})
        };
        let mut created = deployment(1);
        record_update(
            &mut created,
            None,
            &options(Some("creator"), None),
            &rt,
            Part::Main,
        );
        let mut scaled = deployment(3);
        let scale = WriteOptions {
            subresource: Some("scale"),
            ..options(Some("scaler"), None)
        };
        record_update(&mut scaled, Some(&created), &scale, &rt, Part::Main);
        let list = scaled["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .clone();
        let scaler = list.iter().find(|e| e["manager"] == "scaler").unwrap();
        assert_eq!(scaler["subresource"], "scale");
        assert_eq!(scaler["apiVersion"], "apps/v1");
        assert_eq!(scaler["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
        assert!(list.iter().all(|e| e["manager"] != "creator"));
    }

    #[test]
    fn invalid_managed_fields_in_a_request_are_replaced_by_the_stored_ones() {
        let rt = config_maps();
        let mut created = cm(json!({"k": "v"}));
        record_update(
            &mut created,
            None,
            &options(Some("me"), None),
            &rt,
            Part::Main,
        );
        let mut updated = cm(json!({"k": "v", "l": "w"}));
        updated["metadata"]["managedFields"] = json!([{"manager": "forged"}]);
        record_update(
            &mut updated,
            Some(&created),
            &options(Some("other"), None),
            &rt,
            Part::Main,
        );
        let managers: Vec<String> = entries(&updated).into_iter().map(|e| e.0).collect();
        assert_eq!(managers.len(), 2);
        assert!(managers.contains(&"me".to_owned()));
        assert!(managers.contains(&"other".to_owned()));
    }

    #[test]
    fn apply_owns_its_config_and_conflicts_with_a_different_value() {
        let rt = config_maps();
        let mut live = cm(json!({"k": "v"}));
        record_update(
            &mut live,
            None,
            &options(Some("creator"), None),
            &rt,
            Part::Main,
        );
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a"}, "data": {"k": "changed", "mine": "x"}});
        let request = Apply {
            manager: "applier",
            force: false,
            part: Part::Main,
        };
        let error = apply(&live, &config, &rt, request).unwrap_err();
        assert_eq!(error.code, 409);
        assert_eq!(
            error.message,
            "Apply failed with 1 conflict: conflict with \"creator\" using v1: .data.k"
        );
        let same_value = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a"}, "data": {"k": "v", "mine": "x"}});
        let applied = apply(&live, &same_value, &rt, request).unwrap();
        assert_eq!(applied["data"], json!({"k": "v", "mine": "x"}));
        let forced = apply(
            &live,
            &config,
            &rt,
            Apply {
                force: true,
                ..request
            },
        )
        .unwrap();
        let owners = entries(&forced);
        assert_eq!(owners[0].0, "applier");
        assert_eq!(owners[0].2, json!({"f:data": {"f:k": {}, "f:mine": {}}}));
        assert_eq!(owners[1].0, "creator");
        assert_eq!(owners[1].2, json!({"f:data": {}}));
    }

    #[test]
    fn the_first_apply_to_an_untracked_object_gives_its_fields_to_before_first_apply() {
        let rt = config_maps();
        let live = cm(json!({"k": "v", "other": "o"}));
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a"}, "data": {"k": "new"}});
        let request = Apply {
            manager: "applier",
            force: false,
            part: Part::Main,
        };
        assert_eq!(
            apply(&live, &config, &rt, request).unwrap_err().message,
            "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.k"
        );
        let forced = apply(
            &live,
            &config,
            &rt,
            Apply {
                force: true,
                ..request
            },
        )
        .unwrap();
        assert_eq!(
            entries(&forced),
            vec![
                (
                    "applier".to_owned(),
                    "Apply".to_owned(),
                    json!({"f:data": {"f:k": {}}})
                ),
                (
                    "before-first-apply".to_owned(),
                    "Update".to_owned(),
                    json!({"f:data": {".": {}, "f:other": {}}})
                ),
            ]
        );
    }

    #[test]
    fn apply_refuses_other_kinds_and_managed_fields() {
        let rt = config_maps();
        let request = Apply {
            manager: "m",
            force: false,
            part: Part::Main,
        };
        let wrong = json!({"apiVersion": "apps/v1", "kind": "Deployment"});
        assert_eq!(
            apply(&json!({}), &wrong, &rt, request).unwrap_err().message,
            "invalid object type: apps/v1, Kind=Deployment"
        );
        let managed = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "managedFields": []}});
        assert_eq!(
            apply(&json!({}), &managed, &rt, request)
                .unwrap_err()
                .message,
            "metadata.managedFields must be nil"
        );
    }
}
