//! The shape of the schema table: field types, and how each field maps onto JSON.
//!
//! kube-apiserver decodes a protobuf body into a Go struct and the server works on that struct;
//! we turn the body into the JSON that Go's `encoding/json` would write for that struct, which
//! is exactly what a JSON client sends for the same object. Go writes a field depending on its
//! Go type, which the `.proto` files do not say, so every field carries a [`Rule`].

use std::collections::HashMap;
use std::sync::LazyLock;

/// The type of a field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `string`: a JSON string (invalid UTF-8 replaced, as Go's JSON encoder does).
    Str,
    /// `bytes`: a base64 JSON string.
    Bytes,
    /// `bool`.
    Bool,
    /// `int32`: a JSON number.
    Int32,
    /// `int64`: a JSON number.
    Int64,
    /// `meta.v1.Time` (`Timestamp{seconds = 1, nanos = 2}`): RFC 3339 with whole seconds.
    Time,
    /// `meta.v1.MicroTime`: RFC 3339 with microseconds.
    MicroTime,
    /// `resource.Quantity` (`{string = 1}`): the quantity's string.
    Quantity,
    /// `intstr.IntOrString` (`{type = 1, intVal = 2, strVal = 3}`): a JSON number or string.
    IntOrString,
    /// `runtime.RawExtension` (`{raw = 1}`): the embedded JSON document.
    RawExtension,
    /// `meta.v1.FieldsV1` (`{Raw = 1}`): the embedded JSON document.
    FieldsV1,
    /// A message wrapping a Go `[]string` (`{repeated string items = 1}`, such as
    /// `ExtraValue`): a JSON array.
    StringList,
    /// Another message of the table, by qualified name.
    Message(&'static str),
}

/// When Go's JSON encoding writes a singular field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// A value field with `omitempty`: dropped when zero (`""`, `0`, `false`).
    Omit,
    /// A pointer field: written whenever the field is on the wire (gogo-protobuf writes
    /// pointers only when set), zero or not.
    Keep,
    /// A value field without `omitempty`, or a struct: always written, as its zero value
    /// when absent from the wire (structs whose zero value encodes as `null`, like `Time`,
    /// are dropped).
    Always,
}

/// How a field's occurrences on the wire become JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// One value (the last occurrence wins; message occurrences merge).
    Single(Presence),
    /// A list; dropped when empty. Scalars may be packed.
    Repeated,
    /// A map of entry messages `{key = 1, value = 2}` with keys of the given type; dropped
    /// when empty.
    Map(Type),
    /// An embedded struct (`json:",inline"`): its fields are written into the parent object.
    Inline,
}

/// One field of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The protobuf field number.
    pub number: u32,
    /// The JSON name (empty for [`Rule::Inline`]).
    pub name: &'static str,
    /// The type of its values (for maps, of the map's values).
    pub ty: Type,
    /// How it becomes JSON.
    pub rule: Rule,
}

/// A message of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    /// Qualified name, e.g. `core.v1.ConfigMap`.
    pub name: &'static str,
    /// Its fields.
    pub fields: &'static [Field],
}

impl Message {
    /// The field with `number`, if the schema knows it.
    pub fn field(&self, number: u32) -> Option<(usize, &'static Field)> {
        self.fields
            .iter()
            .enumerate()
            .find(|(_, f)| f.number == number)
    }
}

static INDEX: LazyLock<HashMap<&'static str, &'static [Field]>> =
    LazyLock::new(|| super::table::MESSAGES.iter().copied().collect());

/// The message named `name` (e.g. `apps.v1.Deployment`), if the table has it.
pub fn message(name: &str) -> Option<Message> {
    INDEX
        .get_key_value(name)
        .map(|(name, fields)| Message { name, fields })
}

/// Every message of the table.
pub fn messages() -> impl Iterator<Item = Message> {
    super::table::MESSAGES
        .iter()
        .map(|(name, fields)| Message { name, fields })
}

// Constructors for the rows of the table.

/// A field referring to another message.
pub(super) const fn msg(name: &'static str) -> Type {
    Type::Message(name)
}

/// A value field with `omitempty`.
pub(super) const fn opt(number: u32, name: &'static str, ty: Type) -> Field {
    Field {
        number,
        name,
        ty,
        rule: Rule::Single(Presence::Omit),
    }
}

/// A value field always written (no `omitempty`, or a struct).
pub(super) const fn req(number: u32, name: &'static str, ty: Type) -> Field {
    Field {
        number,
        name,
        ty,
        rule: Rule::Single(Presence::Always),
    }
}

/// A pointer field.
pub(super) const fn ptr(number: u32, name: &'static str, ty: Type) -> Field {
    Field {
        number,
        name,
        ty,
        rule: Rule::Single(Presence::Keep),
    }
}

/// A list.
pub(super) const fn rep(number: u32, name: &'static str, ty: Type) -> Field {
    Field {
        number,
        name,
        ty,
        rule: Rule::Repeated,
    }
}

/// A map from `key` to `value`.
pub(super) const fn map(number: u32, name: &'static str, key: Type, value: Type) -> Field {
    Field {
        number,
        name,
        ty: value,
        rule: Rule::Map(key),
    }
}

/// An embedded struct whose fields are written into the parent.
pub(super) const fn inline(number: u32, ty: Type) -> Field {
    Field {
        number,
        name: "",
        ty,
        rule: Rule::Inline,
    }
}
