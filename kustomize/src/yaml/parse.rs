//! YAML text to JSON values, typed the way kustomize types them.

use std::collections::HashMap;

use granit_parser::{Event, Options, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Value};

use super::resolve::{Flavor, Resolved, resolve_plain};

/// Why a YAML text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Line of the problem, from 1 (0 when unknown).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "yaml: line {}: {}", self.line, self.message)
        } else {
            write!(f, "yaml: {}", self.message)
        }
    }
}

/// Nesting deeper than this is refused (an input of thousands of `[` must not overflow the
/// stack).
const MAX_DEPTH: usize = 512;

/// Parses every document of `text`. Empty documents come back as `Value::Null`.
pub(crate) fn parse_documents(text: &str, flavor: Flavor) -> Result<Vec<Value>, YamlError> {
    let mut builder = Builder {
        events: Parser::new_from_str_with_options(text, parser_options()),
        flavor,
        anchors: HashMap::new(),
        depth: 0,
    };
    let mut docs = Vec::new();
    loop {
        let (event, span) = builder.next()?;
        match event {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_, version) => {
                // go-yaml (v2 and v3) only reads YAML 1.1 documents when a `%YAML` directive
                // names the version.
                if version.is_some_and(|v| (v.major, v.minor) != (1, 1)) {
                    return Err(YamlError {
                        line: 0,
                        message: "found incompatible YAML document".into(),
                    });
                }
                builder.anchors.clear();
                let (event, span) = builder.next()?;
                if matches!(event, Event::DocumentEnd) {
                    docs.push(Value::Null);
                    continue;
                }
                let value = builder.node(event, span)?;
                docs.push(value);
            }
            other => {
                return Err(YamlError {
                    line: span.start.line(),
                    message: format!("unexpected event {other:?}"),
                });
            }
        }
    }
    Ok(docs)
}

/// The parser's options: comments are not data, so the parser need not report them.
fn parser_options() -> Options {
    let mut options = Options::default();
    // Another dependency (serde-saphyr) turns the parser's `comments` feature on, and with it
    // comment events, which the builder would otherwise meet between nodes.
    options.set_emit_comments(false);
    options
}

struct Builder<'a> {
    events: Parser<'a, granit_parser::StrInput<'a>>,
    flavor: Flavor,
    anchors: HashMap<usize, Value>,
    depth: usize,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        loop {
            match self.events.next() {
                None => {
                    return Err(YamlError {
                        line: 0,
                        message: "unexpected end of input".into(),
                    });
                }
                Some(Err(e)) => {
                    return Err(YamlError {
                        line: e.marker().line(),
                        message: e.info().to_string(),
                    });
                }
                Some(Ok((Event::Anchor(..), _))) => {}
                Some(Ok(pair)) => return Ok(pair),
            }
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Value, YamlError> {
        let line = span.start.line();
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = self.scalar(&text, style, tag.as_deref(), line)?;
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                Ok(value)
            }
            Event::Alias(id) => self.anchors.get(&id).cloned().ok_or_else(|| YamlError {
                line,
                message: "unknown anchor referenced".into(),
            }),
            Event::SequenceStart(_, anchor, _) => {
                self.enter(line)?;
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span)?);
                }
                self.depth -= 1;
                let value = Value::Array(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                Ok(value)
            }
            Event::MappingStart(_, anchor, _) => {
                self.enter(line)?;
                let value = Value::Object(self.mapping()?);
                self.depth -= 1;
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                Ok(value)
            }
            other => Err(YamlError {
                line,
                message: format!("unexpected event {other:?}"),
            }),
        }
    }

    fn enter(&mut self, line: usize) -> Result<(), YamlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(YamlError {
                line,
                message: format!("exceeded max depth of {MAX_DEPTH}"),
            });
        }
        Ok(())
    }

    fn mapping(&mut self) -> Result<Map<String, Value>, YamlError> {
        let mut map = Map::new();
        // Keys merged in through `<<`, which explicit keys override wherever they appear.
        let mut merged: Vec<(String, Value)> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let line = span.start.line();
            let is_merge =
                matches!(&event, Event::Scalar(t, ScalarStyle::Plain, _, None) if t == "<<");
            let key = self.node(event, span)?;
            let (event, span) = self.next()?;
            let value = self.node(event, span)?;
            if is_merge {
                let sources = match value {
                    Value::Object(m) => vec![m],
                    Value::Array(items) => {
                        let mut maps = Vec::new();
                        for item in items {
                            match item {
                                Value::Object(m) => maps.push(m),
                                _ => {
                                    return Err(YamlError {
                                        line,
                                        message: "map merge requires map or sequence of maps as the value".into(),
                                    });
                                }
                            }
                        }
                        maps
                    }
                    _ => {
                        return Err(YamlError {
                            line,
                            message: "map merge requires map or sequence of maps as the value"
                                .into(),
                        });
                    }
                };
                for source in sources {
                    for (k, v) in source {
                        if !merged.iter().any(|(mk, _)| *mk == k) {
                            merged.push((k, v));
                        }
                    }
                }
                continue;
            }
            if self.flavor == Flavor::V3 && !key.is_string() {
                // go-yaml v3 keeps such keys typed; kustomize's JSON conversion then fails.
                return Err(YamlError {
                    line,
                    message: format!(
                        "json: unsupported type: map[interface {{}}]interface {{}} (key {key} is not a string)"
                    ),
                });
            }
            let key = key_string(key);
            if map.contains_key(&key) {
                return Err(YamlError {
                    line,
                    message: format!("mapping key {key:?} already defined"),
                });
            }
            map.insert(key, value);
        }
        for (k, v) in merged {
            map.entry(k).or_insert(v);
        }
        Ok(map)
    }

    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        line: usize,
    ) -> Result<Value, YamlError> {
        if let Some(tag) = tag {
            let (handle, suffix) = tag.parts();
            let core = (handle == "tag:yaml.org,2002:" || handle == "!!").then_some(suffix);
            return match core {
                Some("str") | Some("binary") | Some("timestamp") => {
                    Ok(Value::String(text.to_owned()))
                }
                Some(kind @ ("int" | "float" | "bool" | "null")) => {
                    let resolved = resolve_plain(text, self.flavor);
                    let ok = matches!(
                        (kind, &resolved),
                        ("int", Resolved::Int(_) | Resolved::Uint(_))
                            | (
                                "float",
                                Resolved::Float(_) | Resolved::Int(_) | Resolved::Uint(_)
                            )
                            | ("bool", Resolved::Bool(_))
                            | ("null", Resolved::Null)
                    );
                    if !ok {
                        return Err(YamlError {
                            line,
                            message: format!("cannot decode {text:?} as a !!{kind}"),
                        });
                    }
                    let resolved = match (kind, resolved) {
                        ("float", Resolved::Int(i)) => Resolved::Float(i as f64),
                        ("float", Resolved::Uint(u)) => Resolved::Float(u as f64),
                        (_, r) => r,
                    };
                    self.json(resolved, text, line)
                }
                // Other tags (local `!foo`, unknown core ones) leave the text a string.
                _ => Ok(Value::String(text.to_owned())),
            };
        }
        match style {
            ScalarStyle::Plain => self.json(resolve_plain(text, self.flavor), text, line),
            _ => Ok(Value::String(text.to_owned())),
        }
    }

    fn json(&self, resolved: Resolved, text: &str, line: usize) -> Result<Value, YamlError> {
        if let Resolved::Float(f) = resolved
            && !f.is_finite()
            && self.flavor == Flavor::V3
        {
            return Err(YamlError {
                line,
                message: format!("json: unsupported value: {text}"),
            });
        }
        Ok(resolved.into_json(text))
    }
}

/// Map keys become strings, as JSON requires: scalars by their text.
fn key_string(key: Value) -> String {
    match key {
        Value::String(s) => s,
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn one(text: &str) -> Value {
        let mut docs = parse_documents(text, Flavor::V3).expect("parses");
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0)
    }

    #[test]
    fn scalars_are_typed_as_go_yaml_v3_types_them() {
        let doc = one(
            "a: yes\nb: 012\nc: '012'\nd: 1.0\ne: ~\nf: 2001-12-14\ng: !!str 5\nh: \"x\"\ni: |\n  l1\n  l2\n",
        );
        assert_eq!(
            doc,
            json!({"a": "yes", "b": 10, "c": "012", "d": 1.0, "e": null,
                   "f": "2001-12-14T00:00:00Z", "g": "5", "h": "x", "i": "l1\nl2\n"})
        );
    }

    #[test]
    fn kustomization_files_use_yaml_1_1_booleans() {
        let docs = parse_documents("a: yes\nb: off\n", Flavor::V2).expect("parses");
        assert_eq!(docs, vec![json!({"a": true, "b": false})]);
    }

    #[test]
    fn anchors_aliases_and_merge_keys_expand() {
        let doc = one("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b]\n");
        assert_eq!(
            doc,
            json!({"base": {"x": 1, "y": 2}, "other": {"x": 1, "y": 3}, "list": [{"x": 1, "y": 2}]})
        );
    }

    #[test]
    fn documents_split_on_markers_and_empty_ones_are_null() {
        let docs = parse_documents("a: 1\n---\n---\nb: 2\n", Flavor::V3).expect("parses");
        assert_eq!(docs, vec![json!({"a": 1}), Value::Null, json!({"b": 2})]);
    }

    #[test]
    fn malformed_yaml_and_duplicate_keys_are_errors_with_a_line() {
        let err = parse_documents("a: 1\nb: [\n", Flavor::V3).expect_err("fails");
        assert!(err.line > 0, "{err}");
        let err = parse_documents("a: 1\na: 2\n", Flavor::V3).expect_err("fails");
        assert_eq!(err.line, 2);
        assert!(err.message.contains("already defined"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let text = "[".repeat(100_000);
        assert!(parse_documents(&text, Flavor::V3).is_err());
    }
}
