//! String formats as custom resources are validated against them: the formats
//! kube-apiserver supports for CRDs (`apiextensions-apiserver` strips every other format
//! from a schema before validating), each checked as kube-openapi's `strfmt` registry
//! checks it.
//!
//! # Caveats
//!
//! `email` is a simplified RFC 5322 address check (Go uses `net/mail.ParseAddress`), and
//! `isbn`/`creditcard` follow the published check digit algorithms rather than
//! govalidator's regular expressions.

use std::sync::LazyLock;

use regex::Regex;

/// The format of a schema node as the validator sees it: formats Kubernetes does not
/// support for the node's type are dropped (`StripUnsupportedFormatsPostProcessor`).
pub(crate) fn effective(type_: &str, int_or_string: bool, format: &str) -> String {
    if format.is_empty() {
        return String::new();
    }
    let type_ = if int_or_string { "" } else { type_ };
    let kept = match type_ {
        "" | "string" => SUPPORTED_STRING.contains(&normalize(format).as_str()),
        "integer" => format == "int32" || format == "int64",
        "number" => format == "float" || format == "double",
        _ => false,
    };
    if kept {
        format.to_owned()
    } else {
        String::new()
    }
}

/// Supported string formats, normalized (no dashes).
const SUPPORTED_STRING: &[&str] = &[
    "bsonobjectid",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "byte",
    "password",
    "date",
    "duration",
    "datetime",
    "k8sshortname",
    "k8slongname",
];

/// go-openapi's name normalization: dashes removed, case ignored.
fn normalize(format: &str) -> String {
    format.replace('-', "").to_lowercase()
}

/// Whether a string format is one the registry knows (so that values are checked).
pub(crate) fn known(format: &str) -> bool {
    SUPPORTED_STRING.contains(&normalize(format).as_str())
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|_| Regex::new("$^").expect("an empty pattern compiles"))
}

static HOSTNAME: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$",
    )
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
});
static UUID3: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
});
static UUID4: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$")
});
static UUID5: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$")
});
static TIME_OF_DAY: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")
});
static SSN: LazyLock<Regex> = LazyLock::new(|| regex(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$"));
static HEXCOLOR: LazyLock<Regex> = LazyLock::new(|| regex(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"));
static RGBCOLOR: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$",
    )
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:[^<>]*<)?[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?>?$",
    )
});
static SCALA_DURATION: LazyLock<Regex> = LazyLock::new(|| regex(r"(\d+)\s*([A-Za-zµ]+)"));

/// Whether `value` is valid for the (known) string `format`.
pub(crate) fn validates(format: &str, value: &str) -> bool {
    match normalize(format).as_str() {
        "bsonobjectid" => value.len() == 24 && value.bytes().all(|b| b.is_ascii_hexdigit()),
        "uri" => is_request_uri(value),
        "email" => EMAIL.is_match(value.trim()),
        "hostname" => {
            HOSTNAME.is_match(value)
                && value.len() <= 255
                && value.split('.').all(|p| p.len() <= 63)
        }
        "ipv4" => value.contains('.') && parse_ip_sloppy(value).is_some(),
        "ipv6" => value.contains(':') && value.parse::<std::net::Ipv6Addr>().is_ok(),
        "cidr" => is_cidr(value),
        "mac" => is_mac(value),
        "uuid" => UUID.is_match(value),
        "uuid3" => UUID3.is_match(value),
        "uuid4" => UUID4.is_match(value),
        "uuid5" => UUID5.is_match(value),
        "isbn" => is_isbn10(value) || is_isbn13(value),
        "isbn10" => is_isbn10(value),
        "isbn13" => is_isbn13(value),
        "creditcard" => is_credit_card(value),
        "ssn" => SSN.is_match(value),
        "hexcolor" => HEXCOLOR.is_match(value),
        "rgbcolor" => RGBCOLOR.is_match(value),
        "byte" => is_base64(value),
        "password" => true,
        "date" => is_date(value),
        "duration" => is_duration(value),
        "datetime" => is_date_time(value),
        "k8sshortname" => is_short_name(value),
        "k8slongname" => is_long_name(value),
        _ => true,
    }
}

/// `net/url.ParseRequestURI`: an absolute URI, or an absolute path, without a fragment.
fn is_request_uri(value: &str) -> bool {
    if value.is_empty() || value.contains(' ') || value.contains('#') {
        return false;
    }
    if value.starts_with('/') {
        return true;
    }
    let Some((scheme, _)) = value.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `netutils.ParseIPSloppy` for IPv4: leading zeros tolerated.
fn parse_ip_sloppy(value: &str) -> Option<[u8; 4]> {
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() != 4 {
        if let Ok(v6) = value.parse::<std::net::Ipv6Addr>() {
            return v6.to_ipv4_mapped().map(|v4| v4.octets());
        }
        return None;
    }
    let mut out = [0u8; 4];
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out[i] = part.parse::<u8>().ok()?;
    }
    Some(out)
}

fn is_cidr(value: &str) -> bool {
    let Some((ip, prefix)) = value.split_once('/') else {
        return false;
    };
    let Ok(bits) = prefix.parse::<u8>() else {
        return false;
    };
    if !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if ip.contains(':') {
        ip.parse::<std::net::Ipv6Addr>().is_ok() && bits <= 128
    } else {
        parse_ip_sloppy(ip).is_some() && bits <= 32
    }
}

/// `net.ParseMAC`: 6, 8 or 20 octets separated by `:` or `-`, or dotted groups of four.
fn is_mac(value: &str) -> bool {
    let octets_ok = |sep: char| {
        let parts: Vec<&str> = value.split(sep).collect();
        matches!(parts.len(), 6 | 8 | 20)
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    if value.contains(':') {
        return octets_ok(':');
    }
    if value.contains('-') {
        return octets_ok('-');
    }
    let groups: Vec<&str> = value.split('.').collect();
    matches!(groups.len(), 3 | 4 | 10)
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn digits_only(value: &str) -> String {
    value.chars().filter(|c| !matches!(c, ' ' | '-')).collect()
}

fn is_isbn10(value: &str) -> bool {
    let s = digits_only(value);
    if s.len() != 10 {
        return false;
    }
    let mut sum = 0;
    for (i, c) in s.chars().enumerate() {
        let digit = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'X' if i == 9 => 10,
            _ => return false,
        };
        sum += (i as u32 + 1) * digit;
    }
    sum.is_multiple_of(11)
}

fn is_isbn13(value: &str) -> bool {
    let s = digits_only(value);
    if s.len() != 13 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = s
        .bytes()
        .enumerate()
        .map(|(i, b)| (b - b'0') as u32 * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    sum.is_multiple_of(10)
}

/// A Luhn-valid number of 13 to 19 digits (other characters are ignored, as govalidator
/// strips them).
fn is_credit_card(value: &str) -> bool {
    let digits: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn is_base64(value: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .is_ok()
}

/// `time.Parse("2006-01-02", s)`.
pub(crate) fn is_date(value: &str) -> bool {
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &value[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    if !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

/// strfmt's `IsDateTime`: a date, a `t`, and a time of day with a zone.
pub(crate) fn is_date_time(value: &str) -> bool {
    if value.len() < 4 {
        return false;
    }
    let lower = value.to_lowercase();
    let parts: Vec<&str> = lower.split('t').collect();
    if parts.len() < 2 || !is_date(parts[0]) {
        return false;
    }
    let Some(caps) = TIME_OF_DAY.captures(parts[1]) else {
        return false;
    };
    let field = |i: usize| caps.get(i).map_or("", |m| m.as_str());
    field(1) <= "23" && field(2) <= "59" && field(3) <= "59"
}

/// Go's `time.ParseDuration`, or strfmt's Scala-like fallback (`3 days`, `1 hour`).
pub(crate) fn is_duration(value: &str) -> bool {
    go_duration(value).is_some() || scala_duration(value)
}

/// Parses a Go duration (`1h30m`, `-1.5s`, `0`) into nanoseconds.
pub(crate) fn go_duration(value: &str) -> Option<i128> {
    let (negative, mut rest) = match value.as_bytes().first() {
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        _ => (false, value),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." {
            return None;
        }
        let amount: f64 = number.parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let nanos = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += amount * nanos;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let nanos = total as i128;
    Some(if negative { -nanos } else { nanos })
}

fn scala_duration(value: &str) -> bool {
    const UNITS: &[&[&str]] = &[
        &["ns", "nano"],
        &["us", "µs", "micro"],
        &["ms", "milli"],
        &["s", "sec"],
        &["m", "min"],
        &["h", "hr", "hour"],
        &["d", "day"],
        &["w", "wk", "week"],
    ];
    SCALA_DURATION.captures_iter(value).any(|caps| {
        let unit = caps.get(2).map_or("", |m| m.as_str()).trim().to_lowercase();
        UNITS.iter().any(|variants| {
            let last = variants.len() - 1;
            variants
                .iter()
                .enumerate()
                .any(|(i, v)| (i == last && unit.starts_with(v)) || v.eq_ignore_ascii_case(&unit))
        })
    })
}

fn is_short_name(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
}

fn is_long_name(value: &str) -> bool {
    value.len() <= 253 && value.split('.').all(is_short_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_formats_are_stripped_by_type() {
        assert_eq!(effective("string", false, "date-time"), "date-time");
        assert_eq!(effective("string", false, "int32"), "");
        assert_eq!(effective("integer", false, "int32"), "int32");
        assert_eq!(effective("integer", false, "date-time"), "");
        assert_eq!(effective("number", false, "double"), "double");
        assert_eq!(effective("boolean", false, "byte"), "");
    }

    #[test]
    fn string_formats_check_like_strfmt() {
        let table = [
            ("date-time", "2024-01-02T03:04:05Z", true),
            ("date-time", "2024-01-02T03:04:05.123+02:00", true),
            ("date-time", "2024-01-02 03:04:05", false),
            ("date-time", "yesterday", false),
            ("date", "2024-02-29", true),
            ("date", "2023-02-29", false),
            ("duration", "1h30m", true),
            ("duration", "3 days", true),
            ("duration", "soon", false),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", true),
            ("uuid", "not-a-uuid", false),
            ("ipv4", "10.0.0.1", true),
            ("ipv4", "10.0.0", false),
            ("ipv6", "::1", true),
            ("cidr", "10.0.0.0/8", true),
            ("cidr", "10.0.0.0", false),
            ("hostname", "example.com", true),
            ("hostname", "-bad-", false),
            ("byte", "aGVsbG8=", true),
            ("byte", "not base64!", false),
            ("uri", "https://example.com/x", true),
            ("uri", "example", false),
            ("mac", "00:1a:2b:3c:4d:5e", true),
            ("email", "a@example.com", true),
            ("email", "nobody", false),
            ("k8s-short-name", "web-1", true),
            ("k8s-short-name", "Web", false),
        ];
        for (format, value, ok) in table {
            assert!(known(format), "{format}");
            assert_eq!(validates(format, value), ok, "{format} {value}");
        }
    }
}
