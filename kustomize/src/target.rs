//! One kustomization directory and the recursion through its bases and components, in
//! kustomize v5's order: resources, generators, components, then transformers.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::fieldspec::FieldSpec;
use crate::fsys::{Fs, Kind};
use crate::konfig::Konfig;
use crate::kustomization::{FILE_NAMES, GeneratorArgs, GeneratorOptions, Kustomization, Var};
use crate::openapi::OpenApi;
use crate::resource::{Behavior, ResMap, Resource};
use crate::yaml::{Flavor, parse_documents};
use crate::{Error, ORIGIN_ANNOTATION};

/// Kustomizations nested deeper than this are refused.
pub(crate) const MAX_DEPTH: usize = 100;

/// What has been built so far at one level.
#[derive(Debug, Clone)]
pub(crate) struct Accumulator {
    pub map: ResMap,
    pub vars: Vec<Var>,
    pub config: Konfig,
}

impl Accumulator {
    pub(crate) fn new() -> Accumulator {
        Accumulator {
            map: ResMap::default(),
            vars: Vec::new(),
            config: Konfig::builtin().clone(),
        }
    }
}

/// A loaded kustomization.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Canonical directory.
    pub dir: PathBuf,
    /// The kustomization file, relative to the build root.
    pub file: String,
    /// The kustomization file's name (`kustomization.yaml`...).
    pub file_name: String,
    pub kust: Kustomization,
    /// The top kustomization's `buildMetadata`, which applies everywhere.
    pub build_metadata: Vec<String>,
    /// Origin path of this directory relative to the top, when origins are tracked.
    pub origin: Option<String>,
    pub openapi: Option<OpenApi>,
}

impl Target {
    fn tracks_origin(&self) -> bool {
        self.origin.is_some()
    }

    fn origin_join(&self, rel: &str) -> String {
        join_clean(self.origin.as_deref().unwrap_or(""), rel)
    }
}

/// Lexical `filepath.Join`: joins and cleans `.`/`..`.
pub(crate) fn join_clean(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in base.split('/').chain(rel.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Builds kustomizations under one root.
#[derive(Debug)]
pub(crate) struct Builder {
    pub fs: Fs,
    /// Directories being built, outermost first (cycle detection).
    stack: Vec<PathBuf>,
    /// Deprecation warnings, printed by the CLI.
    pub warnings: Vec<String>,
}

impl Builder {
    pub(crate) fn new(root: &Path) -> Result<Builder, Error> {
        Ok(Builder {
            fs: Fs::new(root)?,
            stack: Vec::new(),
            warnings: Vec::new(),
        })
    }

    /// Loads the kustomization file of `dir`.
    pub(crate) fn load(
        &mut self,
        dir: &Path,
        build_metadata: Option<&[String]>,
        origin: Option<String>,
    ) -> Result<Target, Error> {
        let shown_dir = self.fs.display(dir);
        let mut found = Vec::new();
        for name in FILE_NAMES {
            let path = dir.join(name);
            if path.is_file() {
                found.push((name, path));
            }
        }
        let (name, path) = match found.len() {
            0 => {
                return Err(Error::ReadFile {
                    path: shown_dir,
                    reason: "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory".into(),
                });
            }
            1 => found.remove(0),
            _ => {
                return Err(Error::ReadFile {
                    path: shown_dir,
                    reason: "found multiple kustomization files".into(),
                });
            }
        };
        let file = self.fs.display(&path);
        // The file itself may be a symlink: it must stay inside the root.
        let (path, _) = self.fs.resolve(dir, name)?;
        let text = self.fs.read_path(&path)?;
        let docs = parse_documents(&text, Flavor::V2).map_err(|e| Error::InvalidKustomization {
            path: file.clone(),
            reason: e.to_string(),
        })?;
        let raw = docs.into_iter().next().unwrap_or(Value::Null);
        if !raw.is_object() && !raw.is_null() {
            return Err(Error::InvalidKustomization {
                path: file,
                reason: "the kustomization must be a map".into(),
            });
        }
        let kust = Kustomization::from_value(raw.clone()).map_err(|reason| {
            Error::InvalidKustomization {
                path: file.clone(),
                reason,
            }
        })?;
        self.warnings.extend(kust.deprecation_warnings(&raw));
        let meaningful = raw
            .as_object()
            .map(|m| m.keys().any(|k| k != "apiVersion" && k != "kind"))
            .unwrap_or(false);
        if !meaningful {
            return Err(Error::InvalidKustomization {
                path: file,
                reason: "kustomization.yaml is empty".into(),
            });
        }
        if kust.kind != "Kustomization" && kust.kind != "Component" {
            return Err(Error::InvalidKustomization {
                path: file,
                reason: "kind should be Kustomization or Component".into(),
            });
        }
        let required = if kust.is_component() {
            "kustomize.config.k8s.io/v1alpha1"
        } else {
            "kustomize.config.k8s.io/v1beta1"
        };
        if !kust.api_version.is_empty() && kust.api_version != required {
            return Err(Error::InvalidKustomization {
                path: file,
                reason: format!("apiVersion for {} should be {required}", kust.kind),
            });
        }
        for (field, used) in [
            (
                "helmCharts",
                kust.helm_charts.as_ref().is_some_and(|v| !v.is_null()),
            ),
            (
                "helmChartInflationGenerator",
                kust.helm_chart_inflation_generator
                    .as_ref()
                    .is_some_and(|v| !v.is_null()),
            ),
            (
                "helmGlobals",
                kust.helm_globals.as_ref().is_some_and(|v| !v.is_null()),
            ),
        ] {
            if used {
                return Err(Error::Unsupported {
                    path: file,
                    field: field.into(),
                    reason: "Helm chart inflation is not supported by the native kustomize engine; render the chart with a HelmRelease instead".into(),
                });
            }
        }
        for (field, used) in [
            ("generators", !kust.generators.is_empty()),
            ("transformers", !kust.transformers.is_empty()),
            ("validators", !kust.validators.is_empty()),
            ("configurations", !kust.configurations.is_empty()),
        ] {
            if used {
                return Err(Error::Unsupported {
                    path: file,
                    field: field.into(),
                    reason: "kustomize plugins and transformer configurations are not supported by the native kustomize engine".into(),
                });
            }
        }
        let build_metadata = match build_metadata {
            Some(parent) => parent.to_vec(),
            // Unknown options are ignored, as kustomize ignores them.
            None => kust.build_metadata.clone(),
        };
        let origin = match origin {
            Some(o) => Some(o),
            None if !build_metadata.is_empty() => Some(String::new()),
            None => None,
        };
        let openapi = match kust.openapi.get("path") {
            Some(rel) => {
                let (_, text) = self.fs.read_file(dir, rel)?;
                let doc = parse_documents(&text, Flavor::V3)
                    .map_err(|e| Error::ParseYaml {
                        path: self.fs.display(&dir.join(rel)),
                        reason: e.to_string(),
                    })?
                    .into_iter()
                    .next()
                    .unwrap_or(Value::Null);
                Some(OpenApi::new(doc))
            }
            None => None,
        };
        Ok(Target {
            dir: dir.to_path_buf(),
            file,
            file_name: name.to_owned(),
            kust,
            build_metadata,
            origin,
            openapi,
        })
    }

    /// Builds `target` into `acc` (empty for a kustomization, the parent's for a component).
    pub(crate) fn accumulate(
        &mut self,
        target: &Target,
        mut acc: Accumulator,
    ) -> Result<Accumulator, Error> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Error::Recursion {
                path: target.file.clone(),
                reason: format!("kustomizations nest deeper than {MAX_DEPTH} levels"),
            });
        }
        self.stack.push(target.dir.clone());
        let result = self.accumulate_inner(target, &mut acc);
        self.stack.pop();
        result.map(|()| acc)
    }

    fn accumulate_inner(&mut self, t: &Target, acc: &mut Accumulator) -> Result<(), Error> {
        let mut seen: IdSet = acc.map.list.iter().map(|r| r.cur_id().key()).collect();
        for entry in &t.kust.resources {
            self.accumulate_resource(t, acc, &mut seen, entry)?;
        }
        for crd in &t.kust.crds {
            let (path, text) = self.fs.read_file(&t.dir, crd)?;
            let doc = parse_documents(&text, Flavor::V2)
                .map_err(|e| Error::ParseYaml {
                    path: self.fs.display(&path),
                    reason: e.to_string(),
                })?
                .into_iter()
                .next()
                .unwrap_or(Value::Null);
            crate::crds::load(&doc, &mut acc.config).map_err(|reason| {
                Error::AccumulateResources {
                    path: self.fs.display(&path),
                    reason: format!("loading CRDs: unable to parse open API definition: {reason}"),
                }
            })?;
        }
        self.run_generators(t, acc)?;
        for entry in &t.kust.components {
            let (dir, kind) = self.fs.resolve(&t.dir, entry)?;
            if kind != Kind::Dir {
                return Err(Error::ReadFile {
                    path: self.fs.display(&dir),
                    reason: format!("component '{entry}' must be a directory"),
                });
            }
            self.check_cycle(t, &dir)?;
            let origin = t.origin.as_ref().map(|o| join_clean(o, entry));
            let sub = self.load(&dir, Some(&t.build_metadata), origin)?;
            if !sub.kust.is_component() {
                return Err(Error::AccumulateResources {
                    path: sub.file,
                    reason: format!(
                        "expected kind 'Component' for path '{}' but got '{}'",
                        self.fs.display(&dir),
                        sub.kust.kind
                    ),
                });
            }
            let taken = std::mem::replace(acc, Accumulator::new());
            *acc = self.accumulate(&sub, taken)?;
        }
        crate::build::run_transformers(self, t, acc)?;
        for var in t.kust.vars.iter().flatten() {
            if acc.vars.iter().any(|v| v.name == var.name) {
                return Err(Error::Transform {
                    path: t.file.clone(),
                    reason: format!("var '{}' already encountered", var.name),
                });
            }
            acc.vars.push(var.clone());
        }
        Ok(())
    }

    fn check_cycle(&self, t: &Target, dir: &Path) -> Result<(), Error> {
        for visited in &self.stack {
            if visited.starts_with(dir) {
                return Err(Error::Recursion {
                    path: t.file.clone(),
                    reason: format!(
                        "cycle detected: candidate root '{}' contains visited root '{}'",
                        self.fs.display(dir),
                        self.fs.display(visited)
                    ),
                });
            }
        }
        Ok(())
    }

    fn accumulate_resource(
        &mut self,
        t: &Target,
        acc: &mut Accumulator,
        seen: &mut IdSet,
        entry: &str,
    ) -> Result<(), Error> {
        let (path, kind) = self.fs.resolve(&t.dir, entry)?;
        match kind {
            Kind::File => {
                self.fs.check_within(&t.dir, entry, &path)?;
                let shown = self.fs.display(&path);
                let text = self.fs.read_path(&path)?;
                let mut resources = parse_resources(&text).map_err(|reason| match reason {
                    ParseFailure::Yaml(reason) => Error::ParseYaml {
                        path: shown.clone(),
                        reason,
                    },
                    ParseFailure::Invalid(reason) => Error::AccumulateResources {
                        path: shown.clone(),
                        reason,
                    },
                })?;
                if t.tracks_origin() {
                    let origin = format!("path: {}\n", t.origin_join(entry));
                    for r in &mut resources {
                        r.set_annotation(ORIGIN_ANNOTATION, &origin);
                    }
                }
                append_checked(&mut acc.map, seen, resources).map_err(|reason| {
                    Error::AccumulateResources {
                        path: shown.clone(),
                        reason,
                    }
                })?;
                Ok(())
            }
            Kind::Dir => {
                self.check_cycle(t, &path)?;
                let origin = t.origin.as_ref().map(|o| join_clean(o, entry));
                let sub = self.load(&path, Some(&t.build_metadata), origin)?;
                if sub.kust.is_component() {
                    return Err(Error::AccumulateResources {
                        path: sub.file,
                        reason: format!(
                            "expected kind != 'Component' for path '{}'",
                            self.fs.display(&path)
                        ),
                    });
                }
                let built = self.accumulate(&sub, Accumulator::new())?;
                acc.config.merge(&built.config);
                append_checked(&mut acc.map, seen, built.map.list).map_err(|reason| {
                    Error::AccumulateResources {
                        path: t.file.clone(),
                        reason,
                    }
                })?;
                for var in built.vars {
                    if acc.vars.iter().any(|v| v.name == var.name) {
                        return Err(Error::Transform {
                            path: t.file.clone(),
                            reason: format!("var '{}' already encountered", var.name),
                        });
                    }
                    acc.vars.push(var);
                }
                Ok(())
            }
            Kind::Missing => {
                if looks_remote(entry) {
                    return Err(Error::Unsupported {
                        path: t.file.clone(),
                        field: "resources".into(),
                        reason: format!(
                            "'{entry}' is a remote base; remote bases are not supported (vendor the base into the source, as Flux does with remote bases disabled)"
                        ),
                    });
                }
                Err(Error::ReadFile {
                    path: self.fs.display(&path),
                    reason: format!("accumulating resources: '{entry}': no such file or directory"),
                })
            }
        }
    }

    fn run_generators(&mut self, t: &Target, acc: &mut Accumulator) -> Result<(), Error> {
        let global = t.kust.generator_options.as_ref();
        let gens = t
            .kust
            .config_map_generator
            .iter()
            .map(|g| (g, "ConfigMap"))
            .chain(t.kust.secret_generator.iter().map(|g| (g, "Secret")));
        for (args, kind) in gens {
            let options = GeneratorOptions::merged(args.options.as_ref(), global);
            let mut res = self.generate(t, args, kind, &options).map_err(|reason| {
                Error::AccumulateResources {
                    path: t.file.clone(),
                    reason,
                }
            })?;
            if t.tracks_origin() {
                let origin = format!(
                    "configuredIn: {}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}Generator\n",
                    t.origin_join(&t.file_name)
                );
                res.set_annotation(ORIGIN_ANNOTATION, &origin);
            }
            acc.map
                .absorb(res)
                .map_err(|reason| Error::AccumulateResources {
                    path: t.file.clone(),
                    reason: format!("merging from generator: {reason}"),
                })?;
        }
        Ok(())
    }

    fn generate(
        &self,
        t: &Target,
        args: &GeneratorArgs,
        kind: &str,
        options: &GeneratorOptions,
    ) -> Result<Resource, String> {
        let behavior = match args.behavior.as_str() {
            "merge" => Behavior::Merge,
            "replace" => Behavior::Replace,
            // kustomize reads any other word as "unspecified", which creates.
            _ => Behavior::Create,
        };
        if args.name.is_empty() {
            return Err(format!("a {} must have a name", kind.to_lowercase()));
        }
        let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
        for env in &args.envs {
            let (_, text) = self.fs.read_file(&t.dir, env).map_err(|e| e.to_string())?;
            for (k, v) in parse_env(&text) {
                pairs.push((k, v.into_bytes()));
            }
        }
        for literal in &args.literals {
            let (k, v) = parse_literal(literal)?;
            pairs.push((k, v.into_bytes()));
        }
        for source in &args.files {
            let (key, rel) = parse_file_source(source)?;
            let (path, kind) = self.fs.resolve(&t.dir, &rel).map_err(|e| e.to_string())?;
            self.fs
                .check_within(&t.dir, &rel, &path)
                .map_err(|e| e.to_string())?;
            if kind != Kind::File {
                return Err(format!(
                    "{}: {}",
                    self.fs.display(&path),
                    if kind == Kind::Dir {
                        "directories are not supported as file sources"
                    } else {
                        "no such file or directory"
                    }
                ));
            }
            pairs.push((key, self.fs.read_bytes(&path).map_err(|e| e.to_string())?));
        }
        let mut data = Map::new();
        let mut binary = Map::new();
        let mut seen = std::collections::HashSet::new();
        for (k, v) in pairs {
            // kubectl's kustomize validates no key names (its validator's checks are empty):
            // `bad key`, `export X` and non-ASCII keys all pass. But it writes each key as an
            // untagged YAML scalar and reads the object back, so a key that reads back as
            // something else than a string (`true`, `1`, `null`) cannot become JSON.
            if !matches!(crate::yaml::resolve_json(&k, Flavor::V3), Value::String(_)) {
                return Err(format!(
                    "{} {}: key {k:?}: json: unsupported type: map[interface {{}}]interface {{}}",
                    kind.to_lowercase(),
                    args.name
                ));
            }
            if !seen.insert(k.clone()) {
                return Err(format!(
                    "{} {} illegally repeats the key `{k}`",
                    kind.to_lowercase(),
                    args.name
                ));
            }
            if kind == "Secret" {
                data.insert(k, Value::String(encode_base64(&v)));
            } else {
                match String::from_utf8(v) {
                    Ok(s) => {
                        data.insert(k, Value::String(s));
                    }
                    Err(e) => {
                        binary.insert(k, Value::String(encode_base64(e.as_bytes())));
                    }
                }
            }
        }
        let mut meta = Map::new();
        meta.insert("name".into(), Value::String(args.name.clone()));
        if !args.namespace.is_empty() {
            meta.insert("namespace".into(), Value::String(args.namespace.clone()));
        }
        if !options.labels.is_empty() {
            meta.insert(
                "labels".into(),
                Value::Object(
                    options
                        .labels
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                ),
            );
        }
        if !options.annotations.is_empty() {
            meta.insert(
                "annotations".into(),
                Value::Object(
                    options
                        .annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                ),
            );
        }
        let mut obj = Map::new();
        obj.insert("apiVersion".into(), Value::String("v1".into()));
        obj.insert("kind".into(), Value::String(kind.into()));
        obj.insert("metadata".into(), Value::Object(meta));
        // kustomize always creates a Secret's `data` map, even empty (the hash sees it).
        if !data.is_empty() || kind == "Secret" {
            obj.insert("data".into(), Value::Object(data));
        }
        if !binary.is_empty() {
            obj.insert("binaryData".into(), Value::Object(binary));
        }
        if kind == "Secret" {
            let secret_type = if args.kind.is_empty() {
                "Opaque"
            } else {
                args.kind.as_str()
            };
            obj.insert("type".into(), Value::String(secret_type.into()));
        }
        if options.immutable {
            obj.insert("immutable".into(), Value::Bool(true));
        }
        let mut res = Resource::new(Value::Object(obj));
        res.behavior = behavior;
        res.needs_hash = !options.disable_name_suffix_hash;
        Ok(res)
    }
}

/// The ids present, for duplicate checks while resources are accumulated.
type IdSet = std::collections::HashSet<(crate::resid::Gvk, String, String)>;

/// Appends `resources`, refusing ids already in `seen` (which tracks `map`).
fn append_checked(
    map: &mut ResMap,
    seen: &mut IdSet,
    resources: Vec<Resource>,
) -> Result<(), String> {
    for res in resources {
        let id = res.cur_id();
        if !seen.insert(id.key()) {
            return Err(format!(
                "may not add resource with an already registered id: {id}"
            ));
        }
        map.list.push(res);
    }
    Ok(())
}

fn looks_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
        || entry.contains("?ref=")
        || entry.contains(".git//")
}

/// Why a resource file could not be read.
#[derive(Debug)]
pub(crate) enum ParseFailure {
    Yaml(String),
    Invalid(String),
}

/// Parses a resource file: every non-empty document, `List` kinds expanded.
pub(crate) fn parse_resources(text: &str) -> Result<Vec<Resource>, ParseFailure> {
    let docs = parse_documents(text, Flavor::V3).map_err(|e| ParseFailure::Yaml(e.to_string()))?;
    let mut out = Vec::new();
    for doc in docs {
        match doc {
            Value::Null => {}
            Value::Object(ref m) if m.is_empty() => {}
            Value::Object(_) => {
                for obj in expand_list(doc).map_err(ParseFailure::Invalid)? {
                    validate(&obj).map_err(ParseFailure::Invalid)?;
                    out.push(Resource::new(obj));
                }
            }
            _ => return Err(ParseFailure::Invalid("missing Resource metadata".into())),
        }
    }
    Ok(out)
}

/// Expands `kind: List` (and `*List` kinds with `items`) into their items.
pub(crate) fn expand_list(doc: Value) -> Result<Vec<Value>, String> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.ends_with("List")
        && let Some(items) = doc.get("items").and_then(Value::as_array)
    {
        let mut out = Vec::new();
        for item in items {
            match item {
                Value::Object(m) if m.is_empty() => {}
                Value::Object(_) => out.push(item.clone()),
                _ => return Err("list items must be maps".into()),
            }
        }
        return Ok(out);
    }
    Ok(vec![doc])
}

fn validate(obj: &Value) -> Result<(), String> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = crate::resid::str_at(obj, &["metadata", "name"]);
    if kind.is_empty() {
        return Err(format!("missing kind in object {}", short(obj)));
    }
    if name.is_empty() {
        return Err(format!("missing metadata.name in object {}", short(obj)));
    }
    Ok(())
}

fn short(obj: &Value) -> String {
    let mut out = String::new();
    crate::hash::go_json(obj, &mut out);
    out
}

fn parse_literal(source: &str) -> Result<(String, String), String> {
    let invalid = || format!("invalid literal source {source}, expected key=value");
    if source.starts_with('=') {
        return Err(invalid());
    }
    let (k, v) = source.split_once('=').ok_or_else(invalid)?;
    let b = v.as_bytes();
    let v = if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &v[1..v.len() - 1]
    } else {
        v
    };
    Ok((k.to_owned(), v.to_owned()))
}

fn parse_file_source(source: &str) -> Result<(String, String), String> {
    let n = source.matches('=').count();
    if n == 0 {
        let base = source
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(source);
        return Ok((base.to_owned(), source.to_owned()));
    }
    if n == 1 && source.starts_with('=') {
        return Err(format!(
            "missing key name for file path {:?} in source {source:?}",
            &source[1..]
        ));
    }
    if n == 1 && source.ends_with('=') {
        return Err(format!(
            "missing file path for key name {:?} in source {source:?}",
            &source[..source.len() - 1]
        ));
    }
    if n > 1 {
        return Err(format!(
            "source {source:?} key name or file path contains '='"
        ));
    }
    let (k, p) = source.split_once('=').unwrap_or((source, source));
    Ok((k.to_owned(), p.to_owned()))
}

/// Base64 as kustomize writes generated data: standard encoding, and once the text reaches
/// 70 characters (in practice 72: base64 comes in fours), cut into 70-character lines each ending in a newline (the last included).
/// The hash in the name is computed over this text, so the layout matters.
fn encode_base64(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    if encoded.len() < LINE {
        return encoded;
    }
    let mut out = String::with_capacity(encoded.len() + encoded.len() / LINE + 1);
    // Base64 is ASCII, so cutting at any byte offset is a character boundary.
    for chunk in encoded.as_bytes().chunks(LINE) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Env files: `KEY=VALUE` lines; blank lines and `#` comments skipped; keys are taken as
/// written, unvalidated, as kubectl's kustomize takes them. A key alone has an empty value:
/// kustomize would read it from its own process environment, which a build must not leak
/// into objects.
pub(crate) fn parse_env(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let mut line = line.strip_suffix('\r').unwrap_or(line);
        if n == 0 {
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, v),
            None => (line, ""),
        };
        out.push((key.to_owned(), value.to_owned()));
    }
    out
}

/// Field specs from a kustomization's `labels[].fields`.
pub(crate) fn specs_from_args(args: &[crate::kustomization::FieldSpecArg]) -> Vec<FieldSpec> {
    args.iter()
        .map(|a| FieldSpec {
            gvk: crate::resid::Gvk::new(&a.group, &a.version, &a.kind),
            path: a.path.clone(),
            create: a.create,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_drop_matching_outer_quotes() {
        assert_eq!(parse_literal("a=b").expect("ok"), ("a".into(), "b".into()));
        assert_eq!(
            parse_literal("a=\"b c\"").expect("ok"),
            ("a".into(), "b c".into())
        );
        assert_eq!(
            parse_literal("a='b").expect("ok"),
            ("a".into(), "'b".into())
        );
        assert_eq!(
            parse_literal("a=b=c").expect("ok"),
            ("a".into(), "b=c".into())
        );
        assert!(parse_literal("=b").is_err());
        assert!(parse_literal("ab").is_err());
    }

    #[test]
    fn generated_base64_is_cut_into_lines_from_70_characters() {
        assert_eq!(encode_base64(b"abc"), "YWJj");
        // 51 bytes encode to 68 characters, 52 to 72.
        assert!(!encode_base64(&[b'x'; 51]).contains('\n'));
        let long = encode_base64(&[b'x'; 52]);
        assert_eq!(long.len(), 72 + 2);
        assert_eq!(long.find('\n'), Some(70));
        assert!(long.ends_with('\n'));
        assert_eq!(long.lines().count(), 2);
    }

    #[test]
    fn env_files_parse_as_kustomize_parses_them() {
        let env = "\u{feff}A=1\n# comment\n\n  B=2 \r\nC\nD=x=y\nexport E = 5\n";
        assert_eq!(
            parse_env(env),
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "2 ".into()),
                ("C".into(), String::new()),
                ("D".into(), "x=y".into()),
                ("export E ".into(), " 5".into())
            ]
        );
    }

    #[test]
    fn file_sources_take_the_base_name_or_a_key() {
        assert_eq!(
            parse_file_source("dir/app.properties").expect("ok"),
            ("app.properties".into(), "dir/app.properties".into())
        );
        assert_eq!(
            parse_file_source("k=dir/app.properties").expect("ok"),
            ("k".into(), "dir/app.properties".into())
        );
        assert!(parse_file_source("=x").is_err());
        assert!(parse_file_source("a=b=c").is_err());
    }

    #[test]
    fn origin_paths_join_and_clean() {
        assert_eq!(join_clean("", "x.yaml"), "x.yaml");
        assert_eq!(join_clean("base", "../other/x.yaml"), "other/x.yaml");
        assert_eq!(join_clean("", "../base"), "../base");
    }
}
