//! How a plain YAML scalar is typed.
//!
//! kustomize reads resources with go-yaml v3 (YAML 1.2 booleans, but YAML 1.1 octals and
//! timestamps still recognised) and its kustomization files, through `sigs.k8s.io/yaml`,
//! with go-yaml v2 (YAML 1.1: `yes`, `on`, `y` are booleans). It prints through go-yaml v2
//! too, which quotes every string that would read back as something else. Both resolvers
//! are written here from their documented behaviour: a first-character hint, a table of
//! words, then Go's integer and float syntax.

use serde_json::{Number, Value};

/// Which go-yaml generation's rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// go-yaml v2 (YAML 1.1 words: `yes`, `no`, `on`, `off`, `y`, `n`).
    V2,
    /// go-yaml v3 (only `true`/`false` as booleans; `0o` octals).
    V3,
}

/// A resolved plain scalar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// A timestamp, already formatted as Go's RFC 3339 with nanoseconds.
    Timestamp(String),
    /// The `<<` merge key.
    Merge,
    Str,
}

impl Resolved {
    /// The JSON value kustomize ends up with for a scalar resolved this way.
    pub(crate) fn into_json(self, text: &str) -> Value {
        match self {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Number(i.into()),
            Resolved::Uint(u) => Value::Number(u.into()),
            Resolved::Float(f) => Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(text.to_owned())),
            Resolved::Timestamp(t) => Value::String(t),
            Resolved::Merge | Resolved::Str => Value::String(text.to_owned()),
        }
    }
}

fn hint(first: u8) -> u8 {
    match first {
        b'+' | b'-' => b'S',
        b'0'..=b'9' => b'D',
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => b'M',
        b'.' => b'.',
        _ => 0,
    }
}

fn word(s: &str, flavor: Flavor) -> Option<Resolved> {
    let yaml11 = flavor == Flavor::V2;
    Some(match s {
        "true" | "True" | "TRUE" => Resolved::Bool(true),
        "false" | "False" | "FALSE" => Resolved::Bool(false),
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" if yaml11 => Resolved::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" if yaml11 => Resolved::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        "<<" => Resolved::Merge,
        _ => return None,
    })
}

/// Resolves a plain (untagged, unquoted) scalar.
pub(crate) fn resolve_plain(s: &str, flavor: Flavor) -> Resolved {
    let Some(&first) = s.as_bytes().first() else {
        return Resolved::Null;
    };
    let h = hint(first);
    if h == 0 {
        return Resolved::Str;
    }
    if let Some(r) = word(s, flavor) {
        return r;
    }
    match h {
        b'.' => match parse_go_float(s) {
            Some(f) => Resolved::Float(f),
            None => Resolved::Str,
        },
        b'D' | b'S' => resolve_number(s, flavor),
        _ => Resolved::Str,
    }
}

fn resolve_number(s: &str, flavor: Flavor) -> Resolved {
    if let Some(t) = parse_timestamp(s) {
        return Resolved::Timestamp(t.rfc3339_nano());
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = go_parse_int(&plain) {
        return int_or_uint(i);
    }
    if is_yaml_style_float(&plain)
        && let Some(f) = parse_go_float(&plain)
    {
        return Resolved::Float(f);
    }
    let prefixed = |prefix: &str, radix: u32| -> Option<Resolved> {
        if let Some(rest) = plain.strip_prefix(prefix) {
            return parse_radix(rest, radix).map(int_or_uint);
        }
        if let Some(rest) = plain.strip_prefix('-').and_then(|r| r.strip_prefix(prefix)) {
            return parse_radix(rest, radix)
                .map(|v| -v)
                .filter(|v| *v >= i128::from(i64::MIN))
                .map(int_or_uint);
        }
        None
    };
    if let Some(r) = prefixed("0b", 2) {
        return r;
    }
    if flavor == Flavor::V3
        && let Some(r) = prefixed("0o", 8)
    {
        return r;
    }
    Resolved::Str
}

fn int_or_uint(v: i128) -> Resolved {
    if let Ok(i) = i64::try_from(v) {
        Resolved::Int(i)
    } else if let Ok(u) = u64::try_from(v) {
        Resolved::Uint(u)
    } else {
        Resolved::Str
    }
}

fn parse_radix(digits: &str, radix: u32) -> Option<i128> {
    if digits.is_empty() || digits.len() > 70 {
        return None;
    }
    let mut v: i128 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        v = v
            .checked_mul(i128::from(radix))?
            .checked_add(i128::from(d))?;
    }
    (v <= i128::from(u64::MAX)).then_some(v)
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint(s, 0, 64)`: an optional
/// sign, then `0x`, `0o`, `0b` or a leading `0` (octal) selects the base.
pub(crate) fn go_parse_int(s: &str) -> Option<i128> {
    let (negative, signed, body) = match s.as_bytes().first() {
        Some(b'-') => (true, true, &s[1..]),
        Some(b'+') => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    let v = parse_radix(digits, radix)?;
    if negative {
        let v = -v;
        (v >= i128::from(i64::MIN)).then_some(v)
    } else if signed {
        // ParseUint refuses a sign, ParseInt caps at i64.
        (v <= i128::from(i64::MAX)).then_some(v)
    } else {
        Some(v)
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat` for the decimal forms YAML can hint at: digits, an optional
/// fraction and exponent, underscores between digits. Out-of-range values fail, as in Go.
fn parse_go_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    // Underscores must sit between digits.
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let before = i > 0 && b[i - 1].is_ascii_digit();
            let after = i + 1 < b.len() && b[i + 1].is_ascii_digit();
            if !before || !after {
                return None;
            }
        }
    }
    let cleaned: String = s.chars().filter(|&c| c != '_').collect();
    if !is_yaml_style_float(&cleaned) {
        return None;
    }
    let f: f64 = cleaned.parse().ok()?;
    f.is_finite().then_some(f)
}

/// The v2 encoder's question: would this string, printed plain, read back as something other
/// than a string? (Then it is double-quoted.)
pub(crate) fn needs_quotes_v2(s: &str) -> bool {
    !matches!(resolve_plain(s, Flavor::V2), Resolved::Str) || is_base60_float(s)
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`, YAML 1.1's sexagesimal numbers.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&c) = b.first() else { return false };
    if !(c == b'+' || c == b'-' || c.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    let mut i = 0;
    if b[0] == b'+' || b[0] == b'-' {
        i = 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        let n = i - start;
        if n == 0 || (n == 2 && b[start] > b'5') {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// A parsed YAML timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Timestamp {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Offset from UTC in seconds; `None` is UTC.
    offset: Option<i32>,
}

impl Timestamp {
    /// Formats as Go's `time.RFC3339Nano` (how a `time.Time` marshals to JSON).
    pub(crate) fn rfc3339_nano(&self) -> String {
        let mut out = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.nanos > 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        match self.offset {
            None | Some(0) => out.push('Z'),
            Some(off) => {
                let sign = if off < 0 { '-' } else { '+' };
                let abs = off.unsigned_abs();
                out.push_str(&format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60));
            }
        }
        out
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// Parses the timestamp forms go-yaml accepts: `YYYY-M-D`, optionally followed by `T`/`t`
/// and `H:M:S[.frac]` with `Z` or `±hh:mm`, or by a space and `H:M:S[.frac]` (no zone).
pub(crate) fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let mut i = 0;
    // Reads one or two digits (Go's non-fixed getnum).
    let num12 = |i: &mut usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < 2 {
            *i += 1;
        }
        if *i == start {
            return None;
        }
        s[start..*i].parse().ok()
    };
    let year: i64 = s[..4].parse().ok()?;
    i += 5;
    let month = num12(&mut i)?;
    if i >= b.len() || b[i] != b'-' {
        return None;
    }
    i += 1;
    let day = num12(&mut i)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ts = Timestamp {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset: None,
    };
    if i == b.len() {
        return Some(ts);
    }
    let zoned = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    i += 1;
    ts.hour = num12(&mut i)?;
    if i >= b.len() || b[i] != b':' {
        return None;
    }
    i += 1;
    ts.minute = num12(&mut i)?;
    if i >= b.len() || b[i] != b':' {
        return None;
    }
    i += 1;
    ts.second = num12(&mut i)?;
    if ts.hour >= 24 || ts.minute >= 60 || ts.second >= 60 {
        return None;
    }
    if i + 1 < b.len() && (b[i] == b'.' || b[i] == b',') && b[i + 1].is_ascii_digit() {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        let mut nanos: u32 = 0;
        for (k, c) in digits.bytes().take(9).enumerate() {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - k as u32);
        }
        ts.nanos = nanos;
    }
    if !zoned {
        return (i == b.len()).then_some(ts);
    }
    if i < b.len() && b[i] == b'Z' {
        i += 1;
        return (i == b.len()).then_some(ts);
    }
    // ±hh:mm
    if b.len() - i != 6 || !(b[i] == b'+' || b[i] == b'-') || b[i + 3] != b':' {
        return None;
    }
    let hh: i32 = s[i + 1..i + 3].parse().ok()?;
    let mm: i32 = s[i + 4..i + 6].parse().ok()?;
    if !s[i + 1..i + 3].bytes().all(|c| c.is_ascii_digit())
        || !s[i + 4..i + 6].bytes().all(|c| c.is_ascii_digit())
        || hh >= 24
        || mm >= 60
    {
        return None;
    }
    let off = hh * 3600 + mm * 60;
    ts.offset = Some(if b[i] == b'-' { -off } else { off });
    Some(ts)
}

/// Formats a float as Go's `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest digits that
/// round-trip, in exponent form when the exponent is below -4 or at least 6, unless the
/// value is integral and small enough to travel through JSON as an integer (kustomize's
/// output passes through JSON, where `1.0` becomes `1`).
pub(crate) fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        let as_int = f as i128;
        if let Ok(i) = i64::try_from(as_int) {
            return i.to_string();
        }
        if let Ok(u) = u64::try_from(as_int) {
            return u.to_string();
        }
    }
    go_format_g(f)
}

fn go_format_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    // Rust's `{:e}` yields the shortest round-trip digits: `d.ddde[-]x`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (head, tail) = digits.split_at(1);
        let mut out = format!("{sign}{head}");
        if !tail.is_empty() {
            out.push('.');
            out.push_str(tail);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        out.push_str(&format!("e{esign}{:02}", exp.abs()));
        out
    } else if exp < 0 {
        format!("{sign}0.{}{}", "0".repeat((-exp - 1) as usize), digits)
    } else {
        let point = (exp + 1) as usize;
        if digits.len() <= point {
            format!("{sign}{}{}", digits, "0".repeat(point - digits.len()))
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_resolution_matches_kustomize_reading_resources() {
        let cases: &[(&str, Resolved)] = &[
            ("yes", Resolved::Str),
            ("on", Resolved::Str),
            ("true", Resolved::Bool(true)),
            ("012", Resolved::Int(10)),
            ("0o12", Resolved::Int(10)),
            ("0x1F", Resolved::Int(31)),
            ("1e3", Resolved::Float(1000.0)),
            ("1.0", Resolved::Float(1.0)),
            ("~", Resolved::Null),
            ("", Resolved::Null),
            ("08", Resolved::Float(8.0)),
            ("1_000", Resolved::Int(1000)),
            ("+inf", Resolved::Str),
            ("0x", Resolved::Str),
            ("-0b101", Resolved::Int(-5)),
            ("1.2.3", Resolved::Str),
            (
                "2001-12-14",
                Resolved::Timestamp("2001-12-14T00:00:00Z".into()),
            ),
            (
                "2001-12-14t21:59:43.10-05:00",
                Resolved::Timestamp("2001-12-14T21:59:43.1-05:00".into()),
            ),
            (
                "2001-12-14 21:59:43.10",
                Resolved::Timestamp("2001-12-14T21:59:43.1Z".into()),
            ),
            ("2001-13-14", Resolved::Str),
            ("12345678901234567890", Resolved::Uint(12345678901234567890)),
        ];
        for (input, want) in cases {
            assert_eq!(&resolve_plain(input, Flavor::V3), want, "{input}");
        }
    }

    #[test]
    fn v2_quotes_what_would_not_read_back_as_a_string() {
        let quoted = [
            "yes",
            "y",
            "N",
            "on",
            "Off",
            "true",
            "null",
            "Null",
            "~",
            "",
            "012",
            "08",
            "0x1F",
            "0o12",
            "1e3",
            "1.",
            ".5",
            "+1",
            "-1",
            "1_000",
            "1__2",
            "0b101",
            "1:20",
            "190:20:30",
            "2001-12-14",
            ".inf",
            "-.inf",
            ".NaN",
            "1e+21",
        ];
        for s in quoted {
            assert!(needs_quotes_v2(s), "{s} should be quoted");
        }
        let plain = [
            "+inf", "inf", "NaN", "nan", "0x", "_1", "a1", "<<", "=", "1.2.3", "v1", "1a",
        ];
        for s in plain {
            assert!(!needs_quotes_v2(s), "{s} should be plain");
        }
    }

    #[test]
    fn floats_format_as_go_does_after_a_json_round_trip() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1000.0, "1000"),
            (1.5, "1.5"),
            (1234567.5, "1.2345675e+06"),
            (123456.5, "123456.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e21, "1e+21"),
            (1e20, "1e+20"),
            (-2.5, "-2.5"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float(*f), *want, "{f}");
        }
    }
}
