//! Decoding JSON values into typed structs the way Go's `encoding/json` decodes them, which
//! is how kustomize reads kustomizations and replacement files.
//!
//! The one difference from serde that matters: Go matches an object's keys to a struct's
//! fields exactly first, then without regard to case (`fieldpath` sets `fieldPath`,
//! `Resources` sets `resources`). kustomize files in the wild rely on it, so the decoder
//! here renames such keys to the field's own name before serde sees them. Everything else
//! (types, unknown fields) is left to the serde derive and `serde_json`.

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// Decodes `value` into `T`, matching struct fields to keys as Go's `encoding/json` does.
pub(crate) fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    T::deserialize(Folding(value))
}

/// Whether two names are equal under Go's case folding (`strings.EqualFold`) for the names
/// met in kustomize's types: ASCII letters fold, as do the two non-ASCII letters that fold
/// to ASCII ones (the Kelvin sign to `k`, the long s to `s`).
fn equal_fold(a: &str, b: &str) -> bool {
    fn fold(c: char) -> char {
        match c {
            '\u{212A}' => 'k',
            '\u{017F}' => 's',
            c => c.to_ascii_lowercase(),
        }
    }
    a.chars().map(fold).eq(b.chars().map(fold))
}

/// Renames the keys of `map` that match a field of `fields` only without regard to case.
/// An exact match wins; a key matching no field stays, for the derive to refuse if the struct
/// denies unknown fields. When two keys land on one field, the later one wins, as in Go.
fn fold_keys(map: Map<String, Value>, fields: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in map {
        let name = if fields.contains(&key.as_str()) {
            key
        } else {
            match fields.iter().find(|f| equal_fold(f, &key)) {
                Some(field) => (*field).to_owned(),
                None => key,
            }
        };
        out.insert(name, value);
    }
    out
}

/// A JSON value being decoded with Go's field matching, all the way down.
struct Folding(Value);

impl<'de> de::Deserializer<'de> for Folding {
    type Error = serde_json::Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            Value::Object(map) => visitor.visit_map(Entries {
                entries: map.into_iter(),
                value: None,
            }),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Folding(other)),
        }
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries {
                entries: fold_keys(map, fields).into_iter(),
                value: None,
            }),
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// The items of an array, each decoded with [`Folding`].
struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|item| seed.deserialize(Folding(item)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// The entries of an object, values decoded with [`Folding`].
struct Entries {
    entries: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(Folding(value)),
            None => Err(de::Error::custom(
                "a map value was asked for before its key",
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Outer {
        #[serde(default)]
        field_path: String,
        #[serde(default)]
        inner: Option<Vec<Inner>>,
        #[serde(default)]
        free: Option<Value>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        kind: String,
    }

    #[test]
    fn keys_match_fields_without_regard_to_case_at_every_depth() {
        let outer: Outer = from_value(json!({
            "FIELDPATH": "a", "Inner": [{"KIND": "b"}], "free": {"Kind": 1}
        }))
        .expect("decodes");
        assert_eq!(
            outer,
            Outer {
                field_path: "a".into(),
                inner: Some(vec![Inner { kind: "b".into() }]),
                // A free-form value keeps its keys as written.
                free: Some(json!({"Kind": 1})),
            }
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_still_refused() {
        assert!(from_value::<Outer>(json!({"fieldPaths": "a"})).is_err());
        assert!(from_value::<Outer>(json!({"fieldpath": 1})).is_err());
        assert!(from_value::<Outer>(json!({"inner": [{"kind": "x", "other": 1}]})).is_err());
    }

    #[test]
    fn go_folds_the_kelvin_sign_and_the_long_s() {
        assert!(equal_fold("kind", "\u{212A}ind"));
        assert!(equal_fold("source", "\u{017F}ource"));
        assert!(!equal_fold("kind", "kinds"));
    }
}
