//! Turning a protobuf message into JSON, driven by the schema table: the JSON Go's
//! `encoding/json` writes for the struct gogo-protobuf decodes the message into.

use std::borrow::Cow;

use base64::Engine;
use serde_json::{Map, Value};

use super::ProtobufError;
use super::schema::{self, Message, Presence, Rule, Type};
use super::wire::{self, Fields, WireValue};

/// How deep messages may nest (the deepest path of the table is far shallower; this only
/// bounds the work a hostile body can ask for).
const MAX_DEPTH: usize = 64;

/// Where in the object a value is, for error messages: `Deployment.spec.template.spec`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Path<'a> {
    /// The top: the kind.
    Root(&'a str),
    /// A field of the parent.
    Field(&'a Path<'a>, &'a str),
    /// An element of a list.
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root(kind) => f.write_str(kind),
            Path::Field(parent, "") => parent.fmt(f),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

fn invalid(path: &Path<'_>, message: impl Into<String>) -> ProtobufError {
    ProtobufError::InvalidValue {
        path: path.to_string(),
        message: message.into(),
    }
}

fn wire_error(path: &Path<'_>, source: wire::WireError) -> ProtobufError {
    ProtobufError::Wire {
        path: path.to_string(),
        source,
    }
}

/// Decodes the message `message` encoded in `data` into a JSON object.
///
/// # Errors
/// Malformed wire data, a wire type that does not fit the field's type, values Go would
/// refuse (times out of range, an `IntOrString` of unknown type, invalid embedded JSON), or
/// nesting deeper than [`MAX_DEPTH`].
pub(super) fn message(
    message: Message,
    data: &[u8],
    path: &Path<'_>,
    depth: usize,
) -> Result<Map<String, Value>, ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(invalid(path, "messages are nested too deeply"));
    }
    // Every occurrence of every known field, in wire order; unknown fields are skipped.
    let mut occurrences: Vec<Vec<WireValue<'_>>> = vec![Vec::new(); message.fields.len()];
    for item in Fields::new(data) {
        let (number, value) = item.map_err(|e| wire_error(path, e))?;
        if let Some((index, _)) = message.field(number) {
            occurrences[index].push(value);
        }
    }
    let mut object = Map::new();
    for (field, seen) in message.fields.iter().zip(&occurrences) {
        let here = Path::Field(path, field.name);
        match field.rule {
            Rule::Single(presence) => {
                if presence == Presence::Keep && seen.is_empty() {
                    continue;
                }
                let Some(value) = single(field.ty, seen, &here, depth)? else {
                    continue;
                };
                if presence == Presence::Omit && is_zero(&value) {
                    continue;
                }
                object.insert(field.name.to_owned(), value);
            }
            Rule::Repeated => {
                let items = repeated(field.ty, seen, &here, depth)?;
                if !items.is_empty() {
                    object.insert(field.name.to_owned(), Value::Array(items));
                }
            }
            Rule::Map(key_type) => {
                let entries = map(key_type, field.ty, seen, &here, depth)?;
                if !entries.is_empty() {
                    object.insert(field.name.to_owned(), Value::Object(entries));
                }
            }
            Rule::Inline => match single(field.ty, seen, &here, depth)? {
                Some(Value::Object(inner)) => object.extend(inner),
                _ => return Err(invalid(&here, "an inline field must be a message")),
            },
        }
    }
    Ok(object)
}

/// Go's `omitempty` zero values of scalars.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_i64() == Some(0) || n.as_u64() == Some(0),
        Value::Array(_) | Value::Object(_) => false,
    }
}

/// Whether values of `ty` are varints on the wire (and so may be packed when repeated).
fn is_varint(ty: Type) -> bool {
    matches!(ty, Type::Bool | Type::Int32 | Type::Int64)
}

/// The value of a singular field from all its occurrences: the last scalar wins, message
/// occurrences are concatenated (which is protobuf's merge). With no occurrence, the zero
/// value. `None` when the value encodes as JSON `null` (a zero `Time`, an empty
/// `RawExtension`).
fn single(
    ty: Type,
    seen: &[WireValue<'_>],
    path: &Path<'_>,
    depth: usize,
) -> Result<Option<Value>, ProtobufError> {
    match ty {
        Type::Str | Type::Bytes | Type::Bool | Type::Int32 | Type::Int64 => match seen.last() {
            Some(value) => scalar(ty, value, path).map(Some),
            None => Ok(Some(zero(ty))),
        },
        _ => {
            let bytes = concatenate(seen, path)?;
            embedded(ty, &bytes, path, depth)
        }
    }
}

fn zero(ty: Type) -> Value {
    match ty {
        Type::Bool => Value::Bool(false),
        Type::Int32 | Type::Int64 => Value::from(0),
        _ => Value::String(String::new()),
    }
}

fn scalar(ty: Type, value: &WireValue<'_>, path: &Path<'_>) -> Result<Value, ProtobufError> {
    match (ty, value) {
        (Type::Str, WireValue::Bytes(bytes)) => {
            // Go keeps any bytes in a string and its JSON encoder replaces invalid UTF-8.
            Ok(Value::String(String::from_utf8_lossy(bytes).into_owned()))
        }
        (Type::Bytes, WireValue::Bytes(bytes)) => Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        )),
        (Type::Bool, WireValue::Varint(v)) => Ok(Value::Bool(*v != 0)),
        // gogo-protobuf accumulates into the Go type, which truncates like these casts.
        (Type::Int32, WireValue::Varint(v)) => Ok(Value::from(*v as i32)),
        (Type::Int64, WireValue::Varint(v)) => Ok(Value::from(*v as i64)),
        (ty, value) => Err(ProtobufError::WrongWireType {
            path: path.to_string(),
            wire_type: value.wire_type(),
            expected: type_name(ty),
        }),
    }
}

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Str => "string",
        Type::Bytes => "bytes",
        Type::Bool => "bool",
        Type::Int32 => "int32",
        Type::Int64 => "int64",
        _ => "message",
    }
}

/// The bytes of all occurrences of an embedded message, concatenated.
fn concatenate<'a>(
    seen: &[WireValue<'a>],
    path: &Path<'_>,
) -> Result<Cow<'a, [u8]>, ProtobufError> {
    let mut parts = Vec::with_capacity(seen.len());
    for value in seen {
        match value {
            WireValue::Bytes(bytes) => parts.push(*bytes),
            other => {
                return Err(ProtobufError::WrongWireType {
                    path: path.to_string(),
                    wire_type: other.wire_type(),
                    expected: "message",
                });
            }
        }
    }
    Ok(match parts.as_slice() {
        [] => Cow::Borrowed(&[][..]),
        [one] => Cow::Borrowed(*one),
        many => Cow::Owned(many.concat()),
    })
}

fn repeated(
    ty: Type,
    seen: &[WireValue<'_>],
    path: &Path<'_>,
    depth: usize,
) -> Result<Vec<Value>, ProtobufError> {
    let mut items = Vec::with_capacity(seen.len());
    for value in seen {
        match value {
            WireValue::Bytes(packed) if is_varint(ty) => {
                for v in wire::packed_varints(packed) {
                    let v = v.map_err(|e| wire_error(path, e))?;
                    items.push(scalar(ty, &WireValue::Varint(v), path)?);
                }
            }
            _ => {
                let here = Path::Index(path, items.len());
                let item = single(ty, std::slice::from_ref(value), &here, depth)?;
                items.push(item.unwrap_or(Value::Null));
            }
        }
    }
    Ok(items)
}

fn map(
    key_type: Type,
    value_type: Type,
    seen: &[WireValue<'_>],
    path: &Path<'_>,
    depth: usize,
) -> Result<Map<String, Value>, ProtobufError> {
    let mut entries = Map::new();
    for entry in seen {
        let WireValue::Bytes(bytes) = entry else {
            return Err(ProtobufError::WrongWireType {
                path: path.to_string(),
                wire_type: entry.wire_type(),
                expected: "map entry",
            });
        };
        let (mut keys, mut values) = (Vec::new(), Vec::new());
        for item in Fields::new(bytes) {
            match item.map_err(|e| wire_error(path, e))? {
                (1, value) => keys.push(value),
                (2, value) => values.push(value),
                _ => {}
            }
        }
        let key = match single(key_type, &keys, path, depth)? {
            Some(Value::String(key)) => key,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let here = Path::Field(path, &key);
        let value = single(value_type, &values, &here, depth)?.unwrap_or(Value::Null);
        entries.insert(key, value);
    }
    Ok(entries)
}

/// An embedded message: one of the table, or a type with its own JSON form.
fn embedded(
    ty: Type,
    bytes: &[u8],
    path: &Path<'_>,
    depth: usize,
) -> Result<Option<Value>, ProtobufError> {
    match ty {
        Type::Message(name) => {
            let Some(found) = schema::message(name) else {
                return Err(ProtobufError::UnknownMessage(name.to_owned()));
            };
            message(found, bytes, path, depth + 1).map(|o| Some(Value::Object(o)))
        }
        Type::Time => time(bytes, false, path),
        Type::MicroTime => time(bytes, true, path),
        Type::Quantity => {
            let fields = small_message(bytes, path)?;
            match fields.string(1, path)? {
                // The zero Quantity encodes as "0".
                None => Ok(Some(Value::String("0".to_owned()))),
                Some(s) if s.is_empty() => Err(invalid(
                    path,
                    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                )),
                Some(s) => Ok(Some(Value::String(s))),
            }
        }
        Type::IntOrString => {
            let fields = small_message(bytes, path)?;
            match fields.varint(1, path)?.unwrap_or(0) {
                0 => Ok(Some(Value::from(
                    fields.varint(2, path)?.unwrap_or(0) as i32
                ))),
                1 => Ok(Some(Value::String(
                    fields.string(3, path)?.unwrap_or_default(),
                ))),
                other => Err(invalid(
                    path,
                    format!("impossible IntOrString.Type {}", other as i64),
                )),
            }
        }
        Type::RawExtension | Type::FieldsV1 => {
            let fields = small_message(bytes, path)?;
            match fields.bytes(1, path)? {
                None | Some([]) => Ok(None),
                Some(raw) => serde_json::from_slice(raw)
                    .map(Some)
                    .map_err(|e| invalid(path, format!("embedded object is not JSON: {e}"))),
            }
        }
        Type::StringList => {
            let fields = small_message(bytes, path)?;
            let mut items = Vec::new();
            for value in fields.all(1) {
                items.push(scalar(Type::Str, value, path)?);
            }
            Ok(Some(Value::Array(items)))
        }
        Type::Str | Type::Bytes | Type::Bool | Type::Int32 | Type::Int64 => {
            Err(invalid(path, "a scalar is not a message"))
        }
    }
}

/// The fields of a small fixed message (`Timestamp`, `Quantity`, `IntOrString`...).
struct SmallMessage<'a> {
    fields: Vec<(u32, WireValue<'a>)>,
}

fn small_message<'a>(bytes: &'a [u8], path: &Path<'_>) -> Result<SmallMessage<'a>, ProtobufError> {
    let fields = Fields::new(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| wire_error(path, e))?;
    Ok(SmallMessage { fields })
}

impl<'a> SmallMessage<'a> {
    fn all(&self, number: u32) -> impl Iterator<Item = &WireValue<'a>> {
        self.fields
            .iter()
            .filter(move |(n, _)| *n == number)
            .map(|(_, v)| v)
    }

    fn last(&self, number: u32) -> Option<&WireValue<'a>> {
        self.all(number).last()
    }

    fn mismatch(value: &WireValue<'_>, path: &Path<'_>, expected: &'static str) -> ProtobufError {
        ProtobufError::WrongWireType {
            path: path.to_string(),
            wire_type: value.wire_type(),
            expected,
        }
    }

    fn varint(&self, number: u32, path: &Path<'_>) -> Result<Option<u64>, ProtobufError> {
        match self.last(number) {
            None => Ok(None),
            Some(WireValue::Varint(v)) => Ok(Some(*v)),
            Some(other) => Err(Self::mismatch(other, path, "varint")),
        }
    }

    fn bytes(&self, number: u32, path: &Path<'_>) -> Result<Option<&'a [u8]>, ProtobufError> {
        match self.last(number) {
            None => Ok(None),
            Some(WireValue::Bytes(b)) => Ok(Some(b)),
            Some(other) => Err(Self::mismatch(other, path, "bytes")),
        }
    }

    fn string(&self, number: u32, path: &Path<'_>) -> Result<Option<String>, ProtobufError> {
        Ok(self
            .bytes(number, path)?
            .map(|b| String::from_utf8_lossy(b).into_owned()))
    }
}

/// `meta.v1.Time` and `MicroTime`: an empty message is the zero time (JSON `null`); `Time`
/// keeps whole seconds, `MicroTime` microseconds (nanoseconds truncated towards zero).
fn time(bytes: &[u8], micro: bool, path: &Path<'_>) -> Result<Option<Value>, ProtobufError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let fields = small_message(bytes, path)?;
    let seconds = fields.varint(1, path)?.unwrap_or(0) as i64;
    let nanos = if micro {
        let nanos = i64::from(fields.varint(2, path)?.unwrap_or(0) as i32);
        nanos - nanos % 1000
    } else {
        0
    };
    let out_of_range = || invalid(path, "Time.MarshalJSON: year outside of range [0,9999]");
    let total = i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
    let timestamp = jiff::Timestamp::from_nanosecond(total).map_err(|_| out_of_range())?;
    let civil = timestamp.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    if civil.year() < 0 {
        return Err(out_of_range());
    }
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        civil.year(),
        civil.month(),
        civil.day(),
        civil.hour(),
        civil.minute(),
        civil.second()
    );
    if micro {
        text.push_str(&format!(".{:06}", civil.subsec_nanosecond() / 1000));
    }
    text.push('Z');
    Ok(Some(Value::String(text)))
}
