//! The kustomization file (`kustomize.config.k8s.io/v1beta1`), as kustomize v5 reads it:
//! YAML 1.1 scalars, unknown fields refused, legacy fields folded into their successors.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `null` in the file means the default, as Go's decoder treats it.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The file names kustomize recognises, in its order.
pub(crate) const FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// A kustomization file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Kustomization {
    #[serde(default, deserialize_with = "nullable")]
    pub api_version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// Accepted and ignored, as kustomize does.
    #[serde(default, rename = "metadata")]
    pub _metadata: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub openapi: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub name_prefix: String,
    #[serde(default, deserialize_with = "nullable")]
    pub name_suffix: String,
    #[serde(default, deserialize_with = "nullable")]
    pub namespace: String,
    #[serde(default)]
    pub common_labels: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub labels: Vec<Label>,
    #[serde(default, deserialize_with = "nullable")]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub patches_strategic_merge: Option<Vec<String>>,
    #[serde(default, rename = "patchesJson6902")]
    pub patches_json6902: Option<Vec<Patch>>,
    #[serde(default, deserialize_with = "nullable")]
    pub patches: Vec<Patch>,
    #[serde(default, deserialize_with = "nullable")]
    pub images: Vec<Image>,
    #[serde(default)]
    pub image_tags: Option<Vec<Image>>,
    #[serde(default, deserialize_with = "nullable")]
    pub replacements: Vec<ReplacementField>,
    #[serde(default, deserialize_with = "nullable")]
    pub replicas: Vec<Replica>,
    #[serde(default)]
    pub vars: Option<Vec<Var>>,
    #[serde(default)]
    pub sort_options: Option<SortOptions>,
    #[serde(default, deserialize_with = "nullable")]
    pub resources: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub components: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub crds: Vec<String>,
    #[serde(default)]
    pub bases: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub config_map_generator: Vec<GeneratorArgs>,
    #[serde(default, deserialize_with = "nullable")]
    pub secret_generator: Vec<GeneratorArgs>,
    #[serde(default)]
    pub helm_globals: Option<Value>,
    #[serde(default)]
    pub helm_charts: Option<Value>,
    #[serde(default)]
    pub helm_chart_inflation_generator: Option<Value>,
    #[serde(default)]
    pub generator_options: Option<GeneratorOptions>,
    #[serde(default, deserialize_with = "nullable")]
    pub configurations: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub generators: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub transformers: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub validators: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub build_metadata: Vec<String>,
}

/// An entry of `labels`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Label {
    #[serde(default, deserialize_with = "nullable")]
    pub pairs: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub include_selectors: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub include_templates: bool,
    #[serde(default, deserialize_with = "nullable", rename = "fields")]
    pub field_specs: Vec<FieldSpecArg>,
}

/// A field spec written in a kustomization (`labels[].fields`, configurations).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldSpecArg {
    #[serde(default, deserialize_with = "nullable")]
    pub group: String,
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    #[serde(default, deserialize_with = "nullable")]
    pub create: bool,
}

/// An entry of `patches` or `patchesJson6902`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Patch {
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    #[serde(default, deserialize_with = "nullable")]
    pub patch: String,
    #[serde(default)]
    pub target: Option<Selector>,
    #[serde(default)]
    pub options: Option<PatchOptions>,
}

/// `patches[].options`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PatchOptions {
    #[serde(default, deserialize_with = "nullable")]
    pub allow_name_change: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub allow_kind_change: bool,
}

/// A resource selector (`patches[].target`, replacement `select`/`reject`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Selector {
    #[serde(default, deserialize_with = "nullable")]
    pub group: String,
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub namespace: String,
    #[serde(default, deserialize_with = "nullable")]
    pub annotation_selector: String,
    #[serde(default, deserialize_with = "nullable")]
    pub label_selector: String,
}

/// An entry of `images`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Image {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub new_name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub tag_suffix: String,
    #[serde(default, deserialize_with = "nullable")]
    pub new_tag: String,
    #[serde(default, deserialize_with = "nullable")]
    pub digest: String,
}

/// An entry of `replicas`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Replica {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub count: i64,
}

/// An entry of `replacements`: inline, or a file holding one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ReplacementField {
    #[serde(default)]
    pub source: Option<SourceSelector>,
    #[serde(default, deserialize_with = "nullable")]
    pub targets: Vec<TargetSelector>,
    #[serde(default)]
    pub source_value: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
}

/// A replacement's source.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SourceSelector {
    #[serde(default, deserialize_with = "nullable")]
    pub group: String,
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub namespace: String,
    #[serde(default, deserialize_with = "nullable")]
    pub field_path: String,
    #[serde(default)]
    pub options: Option<FieldOptions>,
}

/// A replacement's target.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TargetSelector {
    #[serde(default)]
    pub select: Option<Selector>,
    #[serde(default, deserialize_with = "nullable")]
    pub reject: Vec<Selector>,
    #[serde(default, deserialize_with = "nullable")]
    pub field_paths: Vec<String>,
    #[serde(default)]
    pub options: Option<FieldOptions>,
}

/// Replacement options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldOptions {
    #[serde(default, deserialize_with = "nullable")]
    pub delimiter: String,
    #[serde(default, deserialize_with = "nullable")]
    pub index: i64,
    /// Accepted; kustomize v5.8.1 does not use it either.
    #[serde(default, deserialize_with = "nullable", rename = "encoding")]
    pub _encoding: String,
    #[serde(default, deserialize_with = "nullable")]
    pub create: bool,
}

/// A legacy var.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Var {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default)]
    pub objref: VarTarget,
    #[serde(default)]
    pub fieldref: Option<FieldRef>,
}

/// A var's object reference.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct VarTarget {
    #[serde(default, deserialize_with = "nullable")]
    pub group: String,
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub api_version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub namespace: String,
}

/// A var's field reference.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct FieldRef {
    #[serde(default, deserialize_with = "nullable")]
    pub field_path: String,
}

/// `sortOptions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SortOptions {
    #[serde(default, deserialize_with = "nullable")]
    pub order: String,
    #[serde(default)]
    pub legacy_sort_options: Option<LegacySortOptions>,
}

/// `sortOptions.legacySortOptions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LegacySortOptions {
    #[serde(default, deserialize_with = "nullable")]
    pub order_first: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub order_last: Vec<String>,
}

/// A `configMapGenerator` or `secretGenerator` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GeneratorArgs {
    #[serde(default, deserialize_with = "nullable")]
    pub namespace: String,
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub behavior: String,
    #[serde(default, deserialize_with = "nullable")]
    pub literals: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub files: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub envs: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub env: String,
    #[serde(default)]
    pub options: Option<GeneratorOptions>,
    /// Secrets only: the secret type.
    #[serde(default, deserialize_with = "nullable", rename = "type")]
    pub kind: String,
}

/// `generatorOptions`, or a generator's `options`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GeneratorOptions {
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub disable_name_suffix_hash: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub immutable: bool,
}

impl GeneratorOptions {
    /// kustomize's `MergeGlobalOptionsIntoLocal`: the generator's own options win; the
    /// global flags turn on what the local ones leave off.
    pub(crate) fn merged(
        local: Option<&GeneratorOptions>,
        global: Option<&GeneratorOptions>,
    ) -> GeneratorOptions {
        let mut out = local.cloned().unwrap_or_default();
        if let Some(global) = global {
            for (k, v) in &global.labels {
                out.labels.entry(k.clone()).or_insert_with(|| v.clone());
            }
            for (k, v) in &global.annotations {
                out.annotations
                    .entry(k.clone())
                    .or_insert_with(|| v.clone());
            }
            out.disable_name_suffix_hash |= global.disable_name_suffix_hash;
            out.immutable |= global.immutable;
        }
        out
    }
}

impl Kustomization {
    /// Parses a kustomization from its JSON form.
    pub(crate) fn from_value(value: Value) -> Result<Kustomization, String> {
        let mut k: Kustomization = match value {
            Value::Null => Kustomization::default(),
            other => crate::gojson::from_value(other).map_err(|e| e.to_string())?,
        };
        k.fix();
        Ok(k)
    }

    /// Folds the legacy fields into their successors (kustomize's `FixKustomization`).
    fn fix(&mut self) {
        if self.kind.is_empty() {
            self.kind = "Kustomization".into();
        }
        if let Some(bases) = self.bases.take() {
            self.resources.extend(bases);
        }
        if let Some(tags) = self.image_tags.take() {
            self.images.extend(tags);
        }
        for g in self
            .config_map_generator
            .iter_mut()
            .chain(self.secret_generator.iter_mut())
        {
            if !g.env.is_empty() {
                let env = std::mem::take(&mut g.env);
                g.envs.push(env);
            }
        }
    }

    /// kustomize's deprecation warnings for the fields in use.
    pub(crate) fn deprecation_warnings(&self, raw: &Value) -> Vec<String> {
        let fix = "Run 'kustomize edit fix' to update your Kustomization automatically.";
        let mut out = Vec::new();
        let has = |f: &str| raw.get(f).is_some_and(|v| !v.is_null());
        let mut warn = |field: &str, instead: &str, experimental: bool| {
            out.push(format!(
                "# Warning: '{field}' is deprecated. Please use '{instead}' instead. {}{fix}",
                if experimental { "[EXPERIMENTAL] " } else { "" }
            ));
        };
        if has("bases") {
            warn("bases", "resources", false);
        }
        if has("commonLabels") {
            warn("commonLabels", "labels", false);
        }
        if has("imageTags") {
            warn("imageTags", "images", false);
        }
        if has("patchesJson6902") {
            warn("patchesJson6902", "patches", false);
        }
        if has("patchesStrategicMerge") {
            warn("patchesStrategicMerge", "patches", false);
        }
        if has("vars") {
            warn("vars", "replacements", true);
        }
        out
    }

    pub(crate) fn is_component(&self) -> bool {
        self.kind == "Component"
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn legacy_fields_fold_into_their_successors() {
        let k = Kustomization::from_value(json!({
            "resources": ["a.yaml"], "bases": ["../base"],
            "images": [{"name": "a"}], "imageTags": [{"name": "b"}],
            "configMapGenerator": [{"name": "c", "env": "x.env", "envs": ["y.env"]}]
        }))
        .expect("valid");
        assert_eq!(k.resources, vec!["a.yaml", "../base"]);
        assert_eq!(k.images.len(), 2);
        assert_eq!(k.config_map_generator[0].envs, vec!["y.env", "x.env"]);
        assert_eq!(k.kind, "Kustomization");
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_refused() {
        assert!(Kustomization::from_value(json!({"resourcez": []})).is_err());
        assert!(Kustomization::from_value(json!({"commonLabels": {"a": 1}})).is_err());
        assert!(Kustomization::from_value(json!({"namePrefix": true})).is_err());
    }

    #[test]
    fn local_generator_options_win_over_global_ones() {
        let local = GeneratorOptions {
            labels: [("a".to_owned(), "local".to_owned())].into(),
            ..GeneratorOptions::default()
        };
        let global = GeneratorOptions {
            labels: [
                ("a".to_owned(), "global".to_owned()),
                ("b".to_owned(), "global".to_owned()),
            ]
            .into(),
            disable_name_suffix_hash: true,
            ..GeneratorOptions::default()
        };
        let merged = GeneratorOptions::merged(Some(&local), Some(&global));
        assert_eq!(merged.labels["a"], "local");
        assert_eq!(merged.labels["b"], "global");
        assert!(merged.disable_name_suffix_hash);
    }
}
