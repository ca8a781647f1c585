//! Every kind round-trips: the manifests under `tests/manifests/<Kind>/` are read strictly
//! into their Rust type, written back, and must equal what was read. A field the type does
//! not know is reported with its path, at every depth of every manifest.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::path::{Path, PathBuf};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray,
};
use pretty_assertions::assert_eq;
use serde_json::Value;
use sluice_api::parse::{self, ParseError};
use sluice_api::{flagger, helm, image, kustomize, notification, source};

/// Reads `text` as the Rust type for `kind` and writes it back as JSON.
fn reserialize(kind: &str, text: &str) -> Result<Value, ParseError> {
    fn through<T>(text: &str) -> Result<Value, ParseError>
    where
        T: kube::Resource<DynamicType = ()> + serde::de::DeserializeOwned + serde::Serialize,
    {
        let typed: T = parse::object_from_yaml(text)?;
        Ok(serde_json::to_value(&typed).expect("typed objects serialize"))
    }
    macro_rules! dispatch {
        ($($kind:literal => $type:ty),* $(,)?) => {
            match kind {
                $($kind => through::<$type>(text),)*
                other => panic!("no Rust type registered for kind {other}"),
            }
        };
    }
    dispatch! {
        "GitRepository" => source::v1::GitRepository,
        "Kustomization" => kustomize::v1::Kustomization,
        "HelmRelease" => helm::v2::HelmRelease,
        "Provider" => notification::v1beta3::Provider,
        "Alert" => notification::v1beta3::Alert,
        "Receiver" => notification::v1::Receiver,
        "ImageRepository" => image::v1::ImageRepository,
        "ImagePolicy" => image::v1::ImagePolicy,
        "ImageUpdateAutomation" => image::v1::ImageUpdateAutomation,
        "Canary" => flagger::v1beta1::Canary,
        "MetricTemplate" => flagger::v1beta1::MetricTemplate,
        "AlertProvider" => flagger::v1beta1::AlertProvider,
        "OCIRepository" => source::v1::OCIRepository,
        "HelmRepository" => source::v1::HelmRepository,
        "HelmChart" => source::v1::HelmChart,
        "Bucket" => source::v1::Bucket,
        "ExternalArtifact" => source::v1::ExternalArtifact,
    }
}

fn manifests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests")
}

/// Every fixture as (kind, file, text).
fn fixtures() -> Vec<(String, PathBuf, String)> {
    let mut out = Vec::new();
    let mut kinds: Vec<_> = std::fs::read_dir(manifests_dir())
        .expect("manifests dir")
        .flatten()
        .collect();
    kinds.sort_by_key(|e| e.file_name());
    for kind_dir in kinds {
        let kind = kind_dir.file_name().to_string_lossy().into_owned();
        let mut files: Vec<_> = std::fs::read_dir(kind_dir.path())
            .expect("kind dir")
            .flatten()
            .collect();
        files.sort_by_key(|e| e.file_name());
        for file in files {
            let path = file.path();
            let text = std::fs::read_to_string(&path).expect("readable fixture");
            out.push((kind.clone(), path, text));
        }
    }
    out
}

fn crd_for_kind(kind: &str) -> CustomResourceDefinition {
    // Generating the CRDs takes a while; every test uses the same ones.
    static CRDS: std::sync::OnceLock<Vec<CustomResourceDefinition>> = std::sync::OnceLock::new();
    CRDS.get_or_init(sluice_api::crds::all)
        .iter()
        .find(|crd| crd.spec.names.kind == kind)
        .cloned()
        .unwrap_or_else(|| panic!("no CRD for kind {kind}"))
}

#[test]
fn every_kind_has_a_typical_and_a_full_manifest() {
    for crd in sluice_api::crds::all() {
        let dir = manifests_dir().join(&crd.spec.names.kind);
        let count = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        assert!(
            count >= 2,
            "{} needs at least two manifests in {}",
            crd.spec.names.kind,
            dir.display()
        );
        assert!(
            dir.join("full.yaml").exists(),
            "{} needs a full.yaml setting nearly every field",
            crd.spec.names.kind
        );
    }
}

#[test]
fn every_manifest_round_trips_unchanged() {
    let fixtures = fixtures();
    assert!(!fixtures.is_empty());
    for (kind, path, text) in fixtures {
        let original: Value = sluice_api::yaml::from_str(&text).expect("fixture is YAML");
        assert_eq!(
            original["kind"],
            Value::String(kind.clone()),
            "{}: kind matches its folder",
            path.display()
        );
        let written =
            reserialize(&kind, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            written,
            original,
            "{} changed in a round trip",
            path.display()
        );
    }
}

#[test]
fn every_manifest_matches_the_group_and_version_of_its_crd() {
    for (kind, path, text) in fixtures() {
        let crd = crd_for_kind(&kind);
        let value: Value = sluice_api::yaml::from_str(&text).expect("fixture is YAML");
        let served: Vec<String> = crd
            .spec
            .versions
            .iter()
            .map(|v| format!("{}/{}", crd.spec.group, v.name))
            .collect();
        let api_version = value["apiVersion"].as_str().unwrap_or_default().to_owned();
        assert!(
            served.contains(&api_version),
            "{}: {api_version} is not served ({served:?})",
            path.display()
        );
    }
}

#[test]
fn unknown_fields_are_reported_with_their_path_at_every_depth() {
    let mut checked = 0;
    for (kind, path, text) in fixtures() {
        let crd = crd_for_kind(&kind);
        let schema = crd.spec.versions[0]
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .expect("CRDs have a schema");
        let document: Value = sluice_api::yaml::from_str(&text).expect("fixture is YAML");
        let mut struct_paths = Vec::new();
        collect_struct_paths(&document, schema, &mut Vec::new(), &mut struct_paths);
        for node in struct_paths {
            let mut broken = document.clone();
            insert_field(&mut broken, &node, "sluiceTypo");
            let text = serde_json::to_string(&broken).expect("json");
            let want = render(&node, "sluiceTypo");
            match reserialize(&kind, &text) {
                Err(ParseError::UnknownField { path: got }) => {
                    assert_eq!(got, want, "{}", path.display());
                    checked += 1;
                }
                other => panic!(
                    "{}: expected unknown field {want}, got {other:?}",
                    path.display()
                ),
            }
        }
    }
    assert!(checked > 0);
}

#[test]
fn a_value_of_the_wrong_type_is_reported_with_its_path() {
    let text = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: a}\nspec:\n  url: https://example.com/a\n  interval: 1m\n  include:\n  - repository: {name: b}\n    toPath: [not, a, string]\n";
    match parse::object_from_yaml::<source::v1::GitRepository>(text) {
        Err(ParseError::InvalidValue { path, .. }) => assert_eq!(path, "spec.include[0].toPath"),
        other => panic!("expected an invalid value error, got {other:?}"),
    }
}

#[test]
fn malformed_yaml_is_reported_as_malformed() {
    let result = parse::object_from_yaml::<source::v1::GitRepository>("spec: [unclosed");
    assert!(
        matches!(result, Err(ParseError::Malformed(_))),
        "{result:?}"
    );
}

#[test]
fn a_manifest_of_another_kind_is_refused() {
    let text =
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata: {name: a}\nspec: {}\n";
    let result = parse::object_from_yaml::<source::v1::GitRepository>(text);
    assert!(
        matches!(result, Err(ParseError::WrongType { .. })),
        "{result:?}"
    );
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Paths (from the document root) of every mapping in `value` whose schema is a closed
/// struct: it lists properties and neither keeps unknown fields nor is a free-form map.
fn collect_struct_paths(
    value: &Value,
    schema: &JSONSchemaProps,
    here: &mut Vec<Step>,
    out: &mut Vec<Vec<Step>>,
) {
    let preserves = schema.x_kubernetes_preserve_unknown_fields == Some(true);
    match value {
        Value::Object(map) => {
            let Some(properties) = schema.properties.as_ref() else {
                return;
            };
            if preserves || schema.additional_properties.is_some() {
                return;
            }
            // ObjectMeta is described as a bare object; everything else with properties is ours.
            out.push(here.clone());
            for (key, child) in map {
                if let Some(child_schema) = properties.get(key) {
                    here.push(Step::Key(key.clone()));
                    collect_struct_paths(child, child_schema, here, out);
                    here.pop();
                }
            }
        }
        Value::Array(items) => {
            if let Some(JSONSchemaPropsOrArray::Schema(item_schema)) = schema.items.as_ref() {
                for (index, item) in items.iter().enumerate() {
                    here.push(Step::Index(index));
                    collect_struct_paths(item, item_schema, here, out);
                    here.pop();
                }
            }
        }
        _ => {}
    }
}

fn insert_field(document: &mut Value, at: &[Step], key: &str) {
    let mut node = document;
    for step in at {
        node = match step {
            Step::Key(k) => &mut node[k.as_str()],
            Step::Index(i) => &mut node[*i],
        };
    }
    node.as_object_mut()
        .expect("struct paths point at mappings")
        .insert(key.to_owned(), Value::Bool(true));
}

fn render(at: &[Step], key: &str) -> String {
    let mut out = String::new();
    for step in at {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
    out
}
