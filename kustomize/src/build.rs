//! The whole build: accumulate the top kustomization, then what kustomize does last
//! (hash suffixes, name references, vars, local-config removal, sorting, build metadata).

use std::path::Path;

use serde_json::Value;

use crate::kustomization::Selector;
use crate::patch::{self, Options, Parsed};
use crate::resource::ResMap;
use crate::target::{Accumulator, Builder, Target, specs_from_args};
use crate::transform;
use crate::{Error, ORIGIN_ANNOTATION, TRANSFORMER_ANNOTATION};

/// The result of a build: the objects and kustomize's warnings.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    pub objects: Vec<Value>,
    pub warnings: Vec<String>,
}

/// Stack for the build thread: the recursion through nested kustomizations and YAML is
/// bounded (by [`crate::target::MAX_DEPTH`] and the parser's depth limit), and this is
/// enough for the bound in unoptimised builds too, whatever thread the caller is on.
const BUILD_STACK: usize = 64 << 20;

pub(crate) fn build(root: &Path) -> Result<Built, Error> {
    let owned = root.to_path_buf();
    match std::thread::Builder::new()
        .name("kustomize-build".into())
        .stack_size(BUILD_STACK)
        .spawn(move || build_here(&owned))
    {
        Ok(handle) => handle.join().unwrap_or_else(|_| {
            Err(Error::ReadFile {
                path: root.display().to_string(),
                reason: "the build thread panicked".into(),
            })
        }),
        Err(_) => build_here(root),
    }
}

fn build_here(root: &Path) -> Result<Built, Error> {
    let mut builder = Builder::new(root)?;
    let dir = builder.fs.root().to_path_buf();
    let top = builder.load(&dir, None, None)?;
    let mut acc = builder.accumulate(&top, Accumulator::new())?;
    let fail = |reason: String| Error::Transform {
        path: top.file.clone(),
        reason,
    };
    for res in &mut acc.map.list {
        if res.needs_hash {
            let suffix = crate::hash::suffix(&res.obj);
            res.store_previous_id();
            let name = format!("{}-{suffix}", res.name());
            res.set_name(&name);
        }
    }
    crate::nameref::fix(&mut acc.map, &acc.config).map_err(fail)?;
    crate::vars::resolve(&mut acc.map, &acc.vars, &acc.config).map_err(fail)?;
    acc.map
        .list
        .retain(|r| r.annotation("config.kubernetes.io/local-config") != Some("true"));
    sort(&mut acc.map, &top).map_err(fail)?;
    let meta = &top.build_metadata;
    if meta.iter().any(|m| m == "managedByLabel") {
        let pairs = vec![(
            "app.kubernetes.io/managed-by".to_owned(),
            format!("kustomize-{}", crate::KUSTOMIZE_VERSION),
        )];
        let specs = vec![crate::fieldspec::FieldSpec::new("metadata/labels", true)];
        transform::set_pairs(&mut acc.map, &pairs, &specs).map_err(fail)?;
    }
    let keep_origin = meta.iter().any(|m| m == "originAnnotations");
    let keep_transformers = meta.iter().any(|m| m == "transformerAnnotations");
    let objects = acc
        .map
        .list
        .into_iter()
        .map(|mut r| {
            if !keep_origin {
                r.remove_annotation(ORIGIN_ANNOTATION);
            }
            if !keep_transformers {
                r.remove_annotation(TRANSFORMER_ANNOTATION);
            }
            integral_floats_to_integers(&mut r.obj);
            r.obj
        })
        .collect();
    Ok(Built {
        objects,
        warnings: builder.warnings,
    })
}

/// Turns floats with an integral value (`1.0`, `1e9`) into integers, as they come out of
/// kustomize: its output passes through JSON, where Go writes such a float as `1`, and a
/// reader of the printed YAML gets an integer. Floats too large for 64 bits stay floats
/// (Go writes `1e+21` and up in exponent form anyway).
fn integral_floats_to_integers(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 1e21
            {
                let as_int = f as i128;
                if let Ok(i) = i64::try_from(as_int) {
                    *v = Value::from(i);
                } else if let Ok(u) = u64::try_from(as_int) {
                    *v = Value::from(u);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// The default legacy order: kinds in kustomize's order, then by GVK, namespace and name.
fn sort(map: &mut ResMap, top: &Target) -> Result<(), String> {
    const FIRST: [&str; 22] = [
        "Namespace",
        "ResourceQuota",
        "StorageClass",
        "CustomResourceDefinition",
        "ServiceAccount",
        "PodSecurityPolicy",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "ConfigMap",
        "Secret",
        "Endpoints",
        "Service",
        "LimitRange",
        "PriorityClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Deployment",
        "StatefulSet",
        "CronJob",
        "PodDisruptionBudget",
    ];
    const LAST: [&str; 2] = [
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ];
    let (first, last): (Vec<String>, Vec<String>) = match &top.kust.sort_options {
        None => (
            FIRST.iter().map(|s| (*s).to_owned()).collect(),
            LAST.iter().map(|s| (*s).to_owned()).collect(),
        ),
        Some(options) => match options.order.as_str() {
            "fifo" => {
                if options.legacy_sort_options.is_some() {
                    return Err("the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'".into());
                }
                return Ok(());
            }
            "legacy" => match &options.legacy_sort_options {
                Some(l) => (l.order_first.clone(), l.order_last.clone()),
                None => (
                    FIRST.iter().map(|s| (*s).to_owned()).collect(),
                    LAST.iter().map(|s| (*s).to_owned()).collect(),
                ),
            },
            _ => return Err("the field 'sortOptions.order' must be one of [fifo, legacy]".into()),
        },
    };
    let rank = |kind: &str| -> i64 {
        if let Some(i) = first.iter().position(|k| k == kind) {
            i as i64 - first.len() as i64
        } else if let Some(i) = last.iter().position(|k| k == kind) {
            1 + i as i64
        } else {
            0
        }
    };
    let gvk_string = |g: &crate::resid::Gvk| {
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_owned()
            } else {
                s.to_owned()
            }
        };
        format!(
            "{}_{}_{}",
            or(&g.group, "~G"),
            or(&g.version, "~V"),
            or(&g.kind, "~K")
        )
    };
    let id_string = |id: &crate::resid::ResId| {
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_owned()
            } else {
                s.to_owned()
            }
        };
        format!(
            "{}|{}|{}",
            id.gvk,
            or(&id.namespace, "~X"),
            or(&id.name, "~N")
        )
    };
    let mut keyed: Vec<(crate::resid::ResId, crate::resource::Resource)> =
        map.list.drain(..).map(|r| (r.cur_id(), r)).collect();
    keyed.sort_by(|(a, _), (b, _)| {
        use std::cmp::Ordering;
        if a.gvk != b.gvk {
            let (ra, rb) = (rank(&a.gvk.kind), rank(&b.gvk.kind));
            if ra != rb {
                return ra.cmp(&rb);
            }
            let (sa, sb) = (gvk_string(&a.gvk), gvk_string(&b.gvk));
            if a.gvk.kind == "Namespace"
                && b.gvk.kind == "Namespace"
                && (a.gvk.group.is_empty() || b.gvk.group.is_empty())
            {
                return sb.cmp(&sa);
            }
            return sa.cmp(&sb);
        }
        let (ia, ib) = (id_string(a), id_string(b));
        if ia == ib {
            Ordering::Equal
        } else {
            ia.cmp(&ib)
        }
    });
    map.list = keyed.into_iter().map(|(_, r)| r).collect();
    Ok(())
}

/// kustomize's built-in transformers for one kustomization, in its order.
pub(crate) fn run_transformers(
    builder: &mut Builder,
    t: &Target,
    acc: &mut Accumulator,
) -> Result<(), Error> {
    let k = &t.kust;
    let fail = |reason: String| Error::Transform {
        path: t.file.clone(),
        reason,
    };
    let openapi = t.openapi.as_ref();
    // patchesStrategicMerge: inline documents or files.
    for entry in k.patches_strategic_merge.iter().flatten() {
        let parsed = match inline_patch(entry) {
            Some(p) => p,
            None => {
                let (_, text) = builder.fs.read_file(&t.dir, entry)?;
                patch::parse(&text).map_err(|e| fail(format!("patch file '{entry}': {e}")))?
            }
        };
        let Parsed::Strategic(docs) = parsed else {
            return Err(fail(format!(
                "patchesStrategicMerge '{entry}' is not a strategic merge patch"
            )));
        };
        for doc in docs {
            patch::apply(
                &mut acc.map,
                &Parsed::Strategic(vec![doc]),
                None,
                Options::default(),
                openapi,
            )
            .map_err(fail)?;
        }
    }
    if k.patches_strategic_merge
        .as_ref()
        .is_some_and(|p| !p.is_empty())
    {
        record(t, acc, "PatchStrategicMergeTransformer");
    }
    for entry in &k.patches {
        let text = patch_text(builder, t, &entry.patch, &entry.path)?;
        let parsed = patch::parse(&text).map_err(fail)?;
        let options = entry
            .options
            .as_ref()
            .map(|o| Options {
                allow_name_change: o.allow_name_change,
                allow_kind_change: o.allow_kind_change,
            })
            .unwrap_or_default();
        patch::apply(
            &mut acc.map,
            &parsed,
            entry.target.as_ref(),
            options,
            openapi,
        )
        .map_err(fail)?;
        record(t, acc, "PatchTransformer");
    }
    let config = acc.config.clone();
    if !k.namespace.is_empty() {
        transform::namespace(&mut acc.map, &k.namespace, &config.namespace).map_err(fail)?;
        record(t, acc, "NamespaceTransformer");
    }
    if !k.name_prefix.is_empty() {
        transform::prefix_suffix(&mut acc.map, &k.name_prefix, &config.name_prefix, true)
            .map_err(fail)?;
        record(t, acc, "PrefixTransformer");
    }
    if !k.name_suffix.is_empty() {
        transform::prefix_suffix(&mut acc.map, &k.name_suffix, &config.name_suffix, false)
            .map_err(fail)?;
        record(t, acc, "SuffixTransformer");
    }
    for label in &k.labels {
        let mut specs = specs_from_args(&label.field_specs);
        if label.include_selectors {
            transform::merge_specs(&mut specs, &config.common_labels).map_err(fail)?;
        } else {
            if label.include_templates {
                transform::merge_specs(&mut specs, &config.template_labels).map_err(fail)?;
            }
            transform::merge_specs(
                &mut specs,
                &[crate::fieldspec::FieldSpec::new("metadata/labels", true)],
            )
            .map_err(fail)?;
        }
        let pairs: Vec<(String, String)> = label
            .pairs
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        transform::set_pairs(&mut acc.map, &pairs, &specs).map_err(fail)?;
        record(t, acc, "LabelTransformer");
    }
    let common = k.common_labels.clone().unwrap_or_default();
    if !common.is_empty() || !k.labels.is_empty() {
        let pairs: Vec<(String, String)> =
            common.iter().map(|(a, b)| (a.clone(), b.clone())).collect();
        transform::set_pairs(&mut acc.map, &pairs, &config.common_labels).map_err(fail)?;
        record(t, acc, "LabelTransformer");
    }
    if !k.common_annotations.is_empty() {
        let pairs: Vec<(String, String)> = k
            .common_annotations
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        transform::set_pairs(&mut acc.map, &pairs, &config.common_annotations).map_err(fail)?;
        record(t, acc, "AnnotationsTransformer");
    }
    for entry in k.patches_json6902.iter().flatten() {
        let Some(target) = &entry.target else {
            return Err(fail("must specify a target for patchesJson6902".into()));
        };
        if target.name.is_empty() {
            return Err(fail("must specify the target name".into()));
        }
        if entry.path.is_empty() && entry.patch.is_empty() {
            return Err(fail("empty file path and empty jsonOp".into()));
        }
        if !entry.path.is_empty() && !entry.patch.is_empty() {
            return Err(fail("must specify a file path or jsonOp, not both".into()));
        }
        let text = patch_text(builder, t, &entry.patch, &entry.path)?;
        let ops = crate::yaml::parse_documents(&text, crate::yaml::Flavor::V2)
            .map_err(|e| fail(format!("decoding {text}: {e}")))?
            .into_iter()
            .next()
            .unwrap_or(Value::Null);
        if !ops.is_array() {
            return Err(fail(format!(
                "decoding {text}: json: cannot unmarshal object into Go value of type jsonpatch.Patch"
            )));
        }
        if ops.as_array().is_some_and(Vec::is_empty) {
            return Err(fail(format!("patch appears to be empty; JsonOp={text}")));
        }
        let selector = Selector {
            name: target.name.clone(),
            ..target.clone()
        };
        patch::apply(
            &mut acc.map,
            &Parsed::Json(ops),
            Some(&selector),
            Options::default(),
            openapi,
        )
        .map_err(fail)?;
        record(t, acc, "PatchJson6902Transformer");
    }
    for replica in &k.replicas {
        transform::replicas(&mut acc.map, &replica.name, replica.count, &config.replicas)
            .map_err(fail)?;
        record(t, acc, "ReplicaCountTransformer");
    }
    for image in &k.images {
        transform::image(&mut acc.map, image, &config.images).map_err(fail)?;
        record(t, acc, "ImageTagTransformer");
    }
    if !k.replacements.is_empty() {
        let mut all = Vec::new();
        for entry in &k.replacements {
            if entry.path.is_empty() {
                all.push(entry.clone());
                continue;
            }
            let (_, text) = builder.fs.read_file(&t.dir, &entry.path)?;
            let docs =
                crate::yaml::parse_documents(&text, crate::yaml::Flavor::V2).map_err(|e| {
                    Error::ParseYaml {
                        path: entry.path.clone(),
                        reason: e.to_string(),
                    }
                })?;
            for doc in docs {
                let items = match doc {
                    Value::Array(items) => items,
                    Value::Null => Vec::new(),
                    other => vec![other],
                };
                for item in items {
                    let r: crate::kustomization::ReplacementField = crate::gojson::from_value(item)
                        .map_err(|e| fail(format!("replacements file '{}': {e}", entry.path)))?;
                    all.push(r);
                }
            }
        }
        crate::replace::apply(&mut acc.map, &all).map_err(fail)?;
        record(t, acc, "ReplacementTransformer");
    }
    Ok(())
}

/// With origin tracking on, records that a built-in transformer ran: every resource gets
/// an entry in its transformations annotation (or, lacking an origin, the transformer as
/// its origin), as kustomize's `AddTransformerAnnotation` does.
fn record(t: &Target, acc: &mut Accumulator, kind: &str) {
    let Some(origin) = &t.origin else {
        return;
    };
    let configured_in = crate::target::join_clean(origin, &t.file_name);
    for res in &mut acc.map.list {
        if res.annotation(ORIGIN_ANNOTATION).is_none() {
            let value = format!(
                "configuredIn: {configured_in}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n"
            );
            res.set_annotation(ORIGIN_ANNOTATION, &value);
            continue;
        }
        let mut value = res
            .annotation(TRANSFORMER_ANNOTATION)
            .unwrap_or_default()
            .to_owned();
        value.push_str(&format!(
            "- configuredIn: {configured_in}\n  configuredBy:\n    apiVersion: builtin\n    kind: {kind}\n"
        ));
        res.set_annotation(TRANSFORMER_ANNOTATION, &value);
    }
}

/// A `patchesStrategicMerge` entry written inline (YAML with a map), not a file name.
fn inline_patch(entry: &str) -> Option<Parsed> {
    if !entry.contains('\n') && !entry.trim_start().starts_with('{') {
        return None;
    }
    match patch::parse(entry) {
        Ok(p @ Parsed::Strategic(_)) => Some(p),
        _ => None,
    }
}

fn patch_text(builder: &Builder, t: &Target, inline: &str, path: &str) -> Result<String, Error> {
    let fail = |reason: String| Error::Transform {
        path: t.file.clone(),
        reason,
    };
    match (inline.trim().is_empty(), path.is_empty()) {
        (true, true) => Err(fail("must specify one of patch and path".into())),
        (false, false) => Err(fail("patch and path can't be set at the same time".into())),
        (false, true) => Ok(inline.to_owned()),
        (true, false) => {
            let (_, text) = builder.fs.read_file(&t.dir, path)?;
            Ok(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn integral_floats_come_out_as_integers_as_after_kustomizes_json_pass() {
        let mut v = json!({"a": 1.0, "b": [1e9, 0.5], "c": 3, "d": 1e20, "e": "1.0"});
        integral_floats_to_integers(&mut v);
        assert_eq!(
            v,
            json!({"a": 1, "b": [1_000_000_000, 0.5], "c": 3, "d": 1e20, "e": "1.0"})
        );
        assert!(v["a"].is_i64());
        assert!(v["d"].is_f64(), "beyond 64 bits a float stays a float");
    }
}
