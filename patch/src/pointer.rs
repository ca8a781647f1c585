//! JSON pointers (RFC 6901): `/spec/containers/0/image`, with `~1` for `/` and `~0` for `~`.

use serde_json::Value;

use crate::Error;

/// Splits a JSON pointer into its unescaped reference tokens.
///
/// `""` is the whole document (no tokens); every other pointer starts with `/`.
///
/// # Errors
///
/// [`Error::InvalidPointer`] when the pointer does not start with `/` or holds a `~` that
/// is not followed by `0` or `1`.
pub fn parse(pointer: &str) -> Result<Vec<String>, Error> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(invalid(
            pointer,
            "a non-empty pointer must start with \"/\"",
        ));
    };
    rest.split('/')
        .map(|token| {
            unescape(token)
                .ok_or_else(|| invalid(pointer, "\"~\" must be followed by \"0\" or \"1\""))
        })
        .collect()
}

/// Escapes one reference token: `~` becomes `~0`, `/` becomes `~1`.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Builds a pointer from unescaped tokens; the inverse of [`parse`].
pub fn format<S: AsRef<str>>(tokens: &[S]) -> String {
    tokens.iter().fold(String::new(), |mut out, token| {
        out.push('/');
        out.push_str(&escape(token.as_ref()));
        out
    })
}

/// The value `pointer` refers to in `document`, if there is one.
///
/// # Errors
///
/// [`Error::InvalidPointer`] when the pointer is malformed.
pub fn get<'v>(document: &'v Value, pointer: &str) -> Result<Option<&'v Value>, Error> {
    let tokens = parse(pointer)?;
    Ok(resolve(document, &tokens))
}

/// Follows unescaped tokens from `document`; `None` when a step does not exist.
pub(crate) fn resolve<'v>(document: &'v Value, tokens: &[String]) -> Option<&'v Value> {
    tokens
        .iter()
        .try_fold(document, |value, token| match value {
            Value::Object(map) => map.get(token),
            Value::Array(items) => array_index(token).and_then(|i| items.get(i)),
            _ => None,
        })
}

/// Like [`resolve`], mutably.
pub(crate) fn resolve_mut<'v>(document: &'v mut Value, tokens: &[String]) -> Option<&'v mut Value> {
    tokens
        .iter()
        .try_fold(document, |value, token| match value {
            Value::Object(map) => map.get_mut(token),
            Value::Array(items) => array_index(token).and_then(|i| items.get_mut(i)),
            _ => None,
        })
}

/// An array index token as RFC 6901 allows it: `0`, or digits without a leading zero.
/// `-` (past the end) is not an index here; callers that accept it check for it first.
pub(crate) fn array_index(token: &str) -> Option<usize> {
    let digits = token.bytes().all(|b| b.is_ascii_digit());
    if token.is_empty() || !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

fn unescape(token: &str) -> Option<String> {
    if !token.contains('~') {
        return Some(token.to_owned());
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn invalid(pointer: &str, reason: &str) -> Error {
    Error::InvalidPointer {
        pointer: pointer.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_parse_into_unescaped_tokens() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("/", &[""]),
            ("/a/b", &["a", "b"]),
            ("/a~1b/c~0d", &["a/b", "c~d"]),
            ("/~01", &["~1"]),
            (
                "/metadata/annotations/example.com~1team",
                &["metadata", "annotations", "example.com/team"],
            ),
        ];
        for (pointer, tokens) in cases {
            assert_eq!(parse(pointer).unwrap(), *tokens, "{pointer}");
            assert_eq!(format(tokens), *pointer, "{pointer}");
        }
    }

    #[test]
    fn malformed_pointers_are_rejected() {
        for pointer in ["a", "/a~", "/a~2", "a/b"] {
            assert!(
                matches!(parse(pointer), Err(Error::InvalidPointer { .. })),
                "{pointer}"
            );
        }
    }

    #[test]
    fn array_indexes_have_no_leading_zeros_or_signs() {
        let cases = [
            ("0", Some(0)),
            ("10", Some(10)),
            ("01", None),
            ("-1", None),
            ("-", None),
            ("", None),
            ("1a", None),
        ];
        for (token, index) in cases {
            assert_eq!(array_index(token), index, "{token}");
        }
    }

    #[test]
    fn get_follows_maps_and_lists() {
        let doc = json!({"a": [{"b/c": 1}], "": 2});
        assert_eq!(get(&doc, "/a/0/b~1c").unwrap(), Some(&json!(1)));
        assert_eq!(get(&doc, "/").unwrap(), Some(&json!(2)));
        assert_eq!(get(&doc, "").unwrap(), Some(&doc));
        assert_eq!(get(&doc, "/a/1").unwrap(), None);
        assert_eq!(get(&doc, "/a/00").unwrap(), None);
    }
}
