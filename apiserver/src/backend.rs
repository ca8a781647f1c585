//! The object operations behind the HTTP API: get, list, create, update, delete and watch,
//! with Kubernetes' semantics for metadata, preconditions, generations, subresources,
//! finalizers and dry runs. The HTTP layer parses requests into these calls; the built-in
//! controllers (garbage collector, namespace cleanup, workload simulator) call them
//! directly.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::errors::{ApiError, Cause};
use crate::kinds;
use crate::object;
use crate::resources::{Codec, Registry, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{Entry, Revision, Store, StoreError, Watch, Write};

/// How unknown fields in a request body are treated (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Refuse the request (400).
    Strict,
    /// Drop them and answer with a `Warning` header (kubectl's default is Strict).
    #[default]
    Warn,
    /// Drop them silently.
    Ignore,
}

/// Options of create, update and patch.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: run everything but store nothing.
    pub dry_run: bool,
    /// `fieldManager`.
    pub field_manager: Option<String>,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
    /// The client's `User-Agent`: without `fieldManager`, its product name is the field
    /// manager recorded in `managedFields`.
    pub user_agent: Option<String>,
    /// Set by server-side apply, which computes `metadata.managedFields` itself: the write
    /// is not recorded as an update.
    pub applying: bool,
    /// The subresource the write came through when [`Part`] does not say (`scale`), as
    /// recorded in `managedFields`.
    pub subresource: Option<&'static str>,
}

/// What a write produced.
#[derive(Debug, Clone)]
pub struct Written {
    /// The object as stored (or as it would be, for a dry run).
    pub object: Value,
    /// Warnings for the `Warning` response header.
    pub warnings: Vec<String>,
    /// Whether the object was created (201) rather than updated (200).
    pub created: bool,
}

/// Which part of an object an update addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The object itself (status changes ignored when the kind has a status subresource).
    Main,
    /// The `/status` subresource: only status changes are applied.
    Status,
}

/// How dependents are treated when their owner is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Delete the owner now; the garbage collector deletes dependents afterwards.
    #[default]
    Background,
    /// Delete dependents first; the owner stays (with a `foregroundDeletion` finalizer).
    Foreground,
    /// Leave dependents, removing their owner references.
    Orphan,
}

/// Options of delete.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// Dependents' fate.
    pub propagation: Option<Propagation>,
    /// Only delete if the uid matches.
    pub precondition_uid: Option<String>,
    /// Only delete if the resourceVersion matches.
    pub precondition_resource_version: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

/// The result of a delete.
#[derive(Debug, Clone)]
pub struct Deleted {
    /// The object: its final state, or its state with `deletionTimestamp` when finalizers
    /// keep it around.
    pub object: Value,
    /// Whether it is gone now (false while finalizers remain).
    pub gone: bool,
}

/// Options of list and watch.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Parsed `labelSelector`.
    pub labels: LabelSelector,
    /// Parsed `fieldSelector`.
    pub fields: FieldSelector,
    /// `limit` (0 = no limit).
    pub limit: usize,
    /// `continue` token from a previous page.
    pub continue_token: Option<String>,
}

/// A page of a list, served as `<Kind>List`.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// The objects, each serialized as served.
    pub items: Vec<Bytes>,
    /// The list's resourceVersion.
    pub revision: Revision,
    /// A token for the next page, when there is one.
    pub continue_token: Option<String>,
}

/// The object store with Kubernetes semantics on top.
#[derive(Debug)]
pub struct Backend {
    /// The embedded store.
    pub store: Arc<Store>,
    /// What is served.
    pub registry: Arc<Registry>,
}

impl Backend {
    /// A backend over `store` serving `registry`.
    pub fn new(store: Arc<Store>, registry: Arc<Registry>) -> Self {
        Self { store, registry }
    }

    /// Reads one object.
    ///
    /// # Errors
    /// 404 when it does not exist.
    pub fn get(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let entry = self
            .store
            .get(&rt.key(namespace, name))
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
        self.present(rt, &entry.value)
    }

    /// Lists objects, filtered by the selectors, paged by `limit`/`continue`.
    ///
    /// # Errors
    /// 400 for a malformed continue token, 410 when its snapshot expired.
    pub fn list(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        options: &ListOptions,
    ) -> Result<ListPage, ApiError> {
        let prefix = rt.key_prefix(namespace);
        let (mut after, at) = match &options.continue_token {
            Some(token) => {
                let (revision, start) = decode_continue(token)?;
                (Some(start), Some(revision))
            }
            None => (None, None),
        };
        let filtering = !options.labels.is_empty() || !options.fields.is_empty();
        let mut items = Vec::new();
        let mut revision = None;
        loop {
            // Without filters one store page is the answer; with filters keep reading until
            // the page is full of matches or the prefix is exhausted.
            let chunk = if filtering && options.limit > 0 {
                options.limit.max(500)
            } else {
                options.limit
            };
            let page = self
                .store
                .list(&prefix, after.as_deref(), at.or(revision), chunk)
                .map_err(|error| match error {
                    StoreError::Compacted { .. } => ApiError::gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."),
                    other => other.into(),
                })?;
            revision = Some(page.revision);
            for (key, entry) in &page.items {
                if filtering {
                    let value: Value = serde_json::from_slice(&entry.value)
                        .map_err(|e| ApiError::internal(e.to_string()))?;
                    if !options.labels.matches(&object::labels(&value))
                        || !options.fields.matches(&value)
                    {
                        continue;
                    }
                }
                items.push(self.present_bytes(rt, &entry.value)?);
                if options.limit > 0 && items.len() == options.limit {
                    let more = page.continue_after.is_some()
                        || page.items.last().map(|(k, _)| k) != Some(key);
                    let token = more.then(|| encode_continue(page.revision, key));
                    return Ok(ListPage {
                        items,
                        revision: page.revision,
                        continue_token: token,
                    });
                }
            }
            match page.continue_after {
                Some(next) if options.limit > 0 => after = Some(next.to_string()),
                _ => {
                    return Ok(ListPage {
                        items,
                        revision: page.revision,
                        continue_token: None,
                    });
                }
            }
        }
    }

    /// Starts a store watch for `rt` in `namespace` after `revision`.
    ///
    /// # Errors
    /// 410 when `revision` was compacted.
    pub fn watch(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        revision: Revision,
    ) -> Result<Watch, ApiError> {
        Ok(self.store.watch(&rt.key_prefix(namespace), revision)?)
    }

    /// Creates an object in `namespace` (None for cluster-scoped kinds).
    ///
    /// # Errors
    /// 400 for a body that does not decode, 409 when it exists, 404/403 for a missing or
    /// terminating namespace, 422 for invalid fields.
    pub fn create(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        body: Value,
        options: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let (mut object, warnings) = self.decode(rt, body, options.field_validation)?;
        let meta = object::metadata_mut(&mut object);
        if meta
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            match meta
                .get("generateName")
                .and_then(Value::as_str)
                .filter(|g| !g.is_empty())
            {
                Some(prefix) => {
                    let generated = object::generate_name(prefix);
                    meta.insert("name".into(), Value::from(generated));
                }
                None => {
                    return Err(ApiError::invalid(
                        &rt.kind,
                        &rt.group,
                        "",
                        vec![Cause::new(
                            "FieldValueRequired",
                            "metadata.name",
                            "Required value: name or generateName is required",
                        )],
                    ));
                }
            }
        }
        let name = object::name(&object).unwrap_or_default().to_owned();
        self.check_namespace(rt, namespace, &mut object)?;
        let mut causes: Vec<Cause> = object::validate_name(rt.name_rule, &name)
            .into_iter()
            .map(|problem| {
                Cause::new(
                    "FieldValueInvalid",
                    "metadata.name",
                    &format!("Invalid value: {name:?}: {problem}"),
                )
            })
            .collect();
        causes.extend(object::validate_metadata(&object));
        if !causes.is_empty() {
            return Err(ApiError::invalid(&rt.kind, &rt.group, &name, causes));
        }
        if rt.namespaced {
            self.require_active_namespace(namespace.unwrap_or_default())?;
        }
        let meta = object::metadata_mut(&mut object);
        for owned in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
            "selfLink",
        ] {
            meta.remove(owned);
        }
        meta.insert("uid".into(), Value::from(object::new_uid()));
        meta.insert(
            "creationTimestamp".into(),
            Value::from(object::now_rfc3339()),
        );
        if rt.has_generation {
            meta.insert("generation".into(), Value::from(1));
        } else {
            meta.remove("generation");
        }
        if rt.status_subresource
            && let Some(fields) = object.as_object_mut()
        {
            fields.remove("status");
        }
        kinds::prepare_create(self, rt, &mut object)?;
        crate::managed::record_update(&mut object, None, options, rt, Part::Main);
        let key = rt.key(namespace, &name);
        if options.dry_run {
            if self.store.get(&key).is_some() {
                return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
            }
            return Ok(Written {
                object: self.present_value(rt, object)?,
                warnings,
                created: true,
            });
        }
        let event = self.store.write::<ApiError, _>(&key, |current, revision| {
            if current.is_some() {
                return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
            }
            Ok(Write::Put(with_resource_version(&mut object, revision)?))
        })?;
        let stored = event.map(|e| e.value.clone()).unwrap_or_default();
        kinds::after_write(self, rt, &stored);
        Ok(Written {
            object: self.present(rt, &stored)?,
            warnings,
            created: true,
        })
    }

    /// Replaces an object (`PUT`), or its status with [`Part::Status`].
    ///
    /// # Errors
    /// 404 when missing, 409 on a stale resourceVersion, 400/422 for bad bodies.
    pub fn update(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        body: Value,
        part: Part,
        options: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let mut object = body;
        if !object.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
            ));
        }
        if let Some(body_name) = object::name(&object)
            && body_name != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        object::metadata_mut(&mut object).insert("name".into(), Value::from(name));
        self.check_namespace(rt, namespace, &mut object)?;
        let requested_version = object::resource_version(&object).map_err(ApiError::bad_request)?;
        let causes = object::validate_metadata(&object);
        if !causes.is_empty() {
            return Err(ApiError::invalid(&rt.kind, &rt.group, name, causes));
        }
        if requested_version.is_none() && matches!(rt.codec, Codec::Custom(_)) {
            return Err(ApiError::invalid(
                &rt.kind,
                &rt.group,
                name,
                vec![Cause::new(
                    "FieldValueInvalid",
                    "metadata.resourceVersion",
                    "Invalid value: 0x0: must be specified for an update",
                )],
            ));
        }
        self.modify(
            rt,
            namespace,
            name,
            options,
            |current| {
                if let Some(requested) = requested_version
                    && requested != current.revision
                {
                    return Err(ApiError::conflict(&rt.group, &rt.plural, name));
                }
                Ok(object.clone())
            },
            part,
        )
    }

    /// Applies `change` to the current object under the store's writer lock and stores the
    /// result with every server-side rule applied: immutable metadata carried over, status
    /// or spec kept depending on `part`, generation bumped on spec changes, finalizer-driven
    /// deletion completed. Used by update and every kind of patch.
    ///
    /// # Errors
    /// 404 when the object is missing, or whatever `change` returns.
    pub fn modify<F>(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        options: &WriteOptions,
        change: F,
        part: Part,
    ) -> Result<Written, ApiError>
    where
        F: FnOnce(&Current) -> Result<Value, ApiError>,
    {
        let key = rt.key(namespace, name);
        let mut outcome: Option<Value> = None;
        let mut warnings = Vec::new();
        let event = self.store.write::<ApiError, _>(&key, |entry, revision| {
            let entry = entry.ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
            let old: Value = serde_json::from_slice(&entry.value)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            let current = Current {
                object: self.present_value(rt, old.clone())?,
                revision: entry.revision,
            };
            let requested = change(&current)?;
            let (mut new, decode_warnings) =
                self.decode(rt, requested, options.field_validation)?;
            warnings.extend(decode_warnings);
            merge_server_owned(rt, &old, &mut new, part);
            kinds::prepare_update(self, rt, &old, &mut new)?;
            crate::managed::record_update(&mut new, Some(&old), options, rt, part);
            if rt.has_generation
                && object::spec_view(&old, rt.status_subresource)
                    != object::spec_view(&new, rt.status_subresource)
            {
                let generation = object::metadata(&old)
                    .get("generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                object::metadata_mut(&mut new)
                    .insert("generation".into(), Value::from(generation + 1));
            }
            let mut unchanged_view = new.clone();
            object::metadata_mut(&mut unchanged_view).insert(
                "resourceVersion".into(),
                Value::from(entry.revision.to_string()),
            );
            if unchanged_view == old {
                outcome = Some(old);
                return Ok(Write::Unchanged);
            }
            if options.dry_run {
                outcome = Some(new);
                return Ok(Write::Unchanged);
            }
            if object::is_terminating(&new)
                && object::finalizers(&new).is_empty()
                && !kinds::has_pending_finalization(rt, &new)
            {
                return Ok(Write::Delete(with_resource_version(&mut new, revision)?));
            }
            Ok(Write::Put(with_resource_version(&mut new, revision)?))
        })?;
        let stored = match event {
            Some(event) => {
                kinds::after_write(self, rt, &event.value);
                serde_json::from_slice(&event.value)
                    .map_err(|e| ApiError::internal(e.to_string()))?
            }
            None => outcome.unwrap_or(Value::Null),
        };
        Ok(Written {
            object: self.present_value(rt, stored)?,
            warnings,
            created: false,
        })
    }

    /// Deletes an object, or starts its deletion when finalizers (including the garbage
    /// collector's `foregroundDeletion` and `orphan`) must run first.
    ///
    /// # Errors
    /// 404 when missing, 409 when a precondition fails.
    pub fn delete(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let key = rt.key(namespace, name);
        let mut gone = false;
        let mut dry: Option<Value> = None;
        let event = self.store.write::<ApiError, _>(&key, |entry, revision| {
            let entry = entry.ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
            let mut object: Value = serde_json::from_slice(&entry.value).map_err(|e| ApiError::internal(e.to_string()))?;
            if let Some(uid) = &options.precondition_uid
                && object::meta_str(&object, "uid") != Some(uid.as_str())
            {
                return Err(ApiError::conflict_with(format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", object::meta_str(&object, "uid").unwrap_or_default()), None));
            }
            if let Some(version) = &options.precondition_resource_version
                && entry.revision.to_string() != *version
            {
                return Err(ApiError::conflict_with(format!("Precondition failed: ResourceVersion in precondition: {version}, ResourceVersion in object meta: {}", entry.revision), None));
            }
            let mut finalizers = object::finalizers(&object);
            match options.propagation {
                Some(Propagation::Foreground) if !finalizers.iter().any(|f| f == "foregroundDeletion") => finalizers.push("foregroundDeletion".into()),
                Some(Propagation::Orphan) if !finalizers.iter().any(|f| f == "orphan") => finalizers.push("orphan".into()),
                _ => {}
            }
            let pending = !finalizers.is_empty() || kinds::has_pending_finalization(rt, &object);
            if !pending {
                gone = true;
                if options.dry_run {
                    dry = Some(object);
                    return Ok(Write::Unchanged);
                }
                return Ok(Write::Delete(with_resource_version(&mut object, revision)?));
            }
            let before = object.clone();
            let meta = object::metadata_mut(&mut object);
            if !finalizers.is_empty() {
                meta.insert("finalizers".into(), json!(finalizers));
            }
            if meta.get("deletionTimestamp").is_none_or(Value::is_null) {
                meta.insert("deletionTimestamp".into(), Value::from(object::now_rfc3339()));
                meta.insert("deletionGracePeriodSeconds".into(), Value::from(0));
                if rt.has_generation {
                    let generation = meta.get("generation").and_then(Value::as_i64).unwrap_or(0);
                    meta.insert("generation".into(), Value::from(generation + 1));
                }
                kinds::prepare_terminating(rt, &mut object);
            }
            if options.dry_run || object == before {
                dry = Some(object);
                return Ok(Write::Unchanged);
            }
            Ok(Write::Put(with_resource_version(&mut object, revision)?))
        })?;
        let object = match event {
            Some(event) => {
                kinds::after_write(self, rt, &event.value);
                self.present(rt, &event.value)?
            }
            None => self.present_value(rt, dry.unwrap_or(Value::Null))?,
        };
        Ok(Deleted { object, gone })
    }

    /// Decodes a request body (or a patched object) for `rt`: type meta checked, unknown
    /// fields handled per `validation`, converted to the stored form.
    fn decode(
        &self,
        rt: &ResourceType,
        body: Value,
        validation: FieldValidation,
    ) -> Result<(Value, Vec<String>), ApiError> {
        let api_version = body
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default();
        if !body.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
            ));
        }
        if api_version != rt.api_version() {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({api_version}) does not match the expected API version ({})",
                rt.api_version()
            )));
        }
        if kind != rt.kind {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({kind}) does not match the expected kind ({})",
                rt.kind
            )));
        }
        let (value, unknown) = match &rt.codec {
            Codec::Builtin(decoder) => {
                let decoded = (decoder.decode)(body).map_err(|error| {
                    ApiError::bad_request(format!(
                        "{} in version \"{}\" cannot be handled as a {}: {error}",
                        rt.kind, rt.version, rt.kind
                    ))
                })?;
                (decoded.value, decoded.unknown_fields)
            }
            Codec::Custom(schema) => {
                let (value, unknown) = crate::custom::decode(rt, schema, body)?;
                (crate::custom::to_storage(self, rt, value), unknown)
            }
        };
        let mut warnings = Vec::new();
        if !unknown.is_empty() {
            match validation {
                FieldValidation::Strict => {
                    let fields = unknown
                        .iter()
                        .map(|f| format!("unknown field \"{f}\""))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(ApiError::bad_request(format!(
                        "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {fields}",
                        rt.kind, rt.version, rt.kind
                    )));
                }
                FieldValidation::Warn => {
                    warnings.extend(unknown.iter().map(|f| format!("unknown field \"{f}\"")))
                }
                FieldValidation::Ignore => {}
            }
        }
        Ok((value, warnings))
    }

    /// Checks the object's namespace against the URL's and fills it in.
    fn check_namespace(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        object: &mut Value,
    ) -> Result<(), ApiError> {
        let meta = object::metadata_mut(object);
        if rt.namespaced {
            let url = namespace.unwrap_or_default();
            match meta
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            {
                Some(body) if body != url => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => {
                    meta.insert("namespace".into(), Value::from(url));
                }
            }
        } else {
            meta.remove("namespace");
        }
        Ok(())
    }

    /// Refuses writes into a missing or terminating namespace, as the NamespaceLifecycle
    /// admission plugin does.
    fn require_active_namespace(&self, namespace: &str) -> Result<(), ApiError> {
        let Some(entry) = self.store.get(&format!("core/namespaces/{namespace}")) else {
            return Err(ApiError::not_found("", "namespaces", namespace));
        };
        let value: Value =
            serde_json::from_slice(&entry.value).map_err(|e| ApiError::internal(e.to_string()))?;
        if object::is_terminating(&value) {
            return Err(ApiError::forbidden(format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            )));
        }
        Ok(())
    }

    /// The stored bytes as served for `rt` (version conversion where storage is shared).
    pub fn present(&self, rt: &ResourceType, stored: &[u8]) -> Result<Value, ApiError> {
        let value: Value =
            serde_json::from_slice(stored).map_err(|e| ApiError::internal(e.to_string()))?;
        self.present_value(rt, value)
    }

    fn present_bytes(&self, rt: &ResourceType, stored: &Bytes) -> Result<Bytes, ApiError> {
        if !self.needs_conversion(rt) {
            return Ok(stored.clone());
        }
        let value = self.present(rt, stored)?;
        Ok(Bytes::from(
            serde_json::to_vec(&value).map_err(|e| ApiError::internal(e.to_string()))?,
        ))
    }

    /// Converts a stored object to `rt`'s version.
    pub fn present_value(&self, rt: &ResourceType, mut value: Value) -> Result<Value, ApiError> {
        match &rt.codec {
            Codec::Builtin(decoder) => {
                if let Some(convert) = decoder.from_storage {
                    value = convert(value);
                }
            }
            Codec::Custom(schema) => crate::custom::present(self, rt, schema, &mut value),
        }
        Ok(value)
    }

    fn needs_conversion(&self, rt: &ResourceType) -> bool {
        match &rt.codec {
            Codec::Builtin(decoder) => decoder.from_storage.is_some(),
            // Custom resources are read through their schema (pruning, defaults).
            Codec::Custom(_) => true,
        }
    }

    /// The revision of the store (the list resourceVersion of an empty list).
    pub fn revision(&self) -> Revision {
        self.store.revision()
    }

    /// The stored entry under a key (for controllers working on raw keys).
    pub fn entry(&self, key: &str) -> Option<Entry> {
        self.store.get(key)
    }
}

/// The current state of an object, as given to the change function of [`Backend::modify`].
#[derive(Debug, Clone)]
pub struct Current {
    /// The object as served for the request's version.
    pub object: Value,
    /// Its resourceVersion.
    pub revision: Revision,
}

/// Carries the server-owned parts of `old` into `new`: identity and deletion metadata, the
/// generation, and (depending on `part`) the status or everything but the status.
fn merge_server_owned(rt: &ResourceType, old: &Value, new: &mut Value, part: Part) {
    if part == Part::Status {
        let status = new.get("status").cloned();
        // Server-side apply has recorded its managedFields on `new` already.
        let managed_fields = object::metadata(new).get("managedFields").cloned();
        *new = old.clone();
        if let Some(managed_fields) = managed_fields {
            object::metadata_mut(new).insert("managedFields".into(), managed_fields);
        }
        match status {
            Some(status) => new["status"] = status,
            None => {
                if let Some(fields) = new.as_object_mut() {
                    fields.remove("status");
                }
            }
        }
        return;
    }
    if rt.status_subresource {
        match old.get("status") {
            Some(status) => new["status"] = status.clone(),
            None => {
                if let Some(fields) = new.as_object_mut() {
                    fields.remove("status");
                }
            }
        }
    }
    let old_meta = object::metadata(old).clone();
    let meta = object::metadata_mut(new);
    for owned in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "namespace",
        "name",
    ] {
        match old_meta.get(owned) {
            Some(value) => {
                meta.insert(owned.into(), value.clone());
            }
            None => {
                meta.remove(owned);
            }
        }
    }
    if let Some(fields) = new.as_object_mut() {
        fields.insert(
            "apiVersion".into(),
            old.get("apiVersion").cloned().unwrap_or(Value::Null),
        );
        fields.insert(
            "kind".into(),
            old.get("kind").cloned().unwrap_or(Value::Null),
        );
    }
}

/// Writes `revision` into `metadata.resourceVersion` and serializes the object.
fn with_resource_version(object: &mut Value, revision: Revision) -> Result<Bytes, ApiError> {
    object::metadata_mut(object)
        .insert("resourceVersion".into(), Value::from(revision.to_string()));
    serde_json::to_vec(object)
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// A continue token: the list revision and the last key returned, base64-encoded JSON as
/// kube-apiserver does.
fn encode_continue(revision: Revision, key: &str) -> String {
    use base64::Engine;
    let token = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": key});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Result<(Revision, String), ApiError> {
    use base64::Engine;
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let revision = value.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let start = value
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(bad)?
        .to_owned();
    Ok((revision, start))
}
