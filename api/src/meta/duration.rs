//! Go-style durations (`1m0s`, `500ms`, `1h30m`), as Flux writes them in specs.

use std::time::Duration;

/// A duration string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}")]
pub struct DurationError {
    /// The text that was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Parses a Go `time.Duration` string: a sequence of decimal numbers, each with an optional
/// fraction and a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), such as `1m30s` or `1.5h`.
/// A bare `0` is accepted, as in Go. Negative durations are refused.
///
/// # Errors
/// [`DurationError`] when the text is empty, has a number without a unit, an unknown unit,
/// or overflows.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let fail = |reason| DurationError {
        input: input.to_owned(),
        reason,
    };
    if input.is_empty() {
        return Err(fail("empty duration"));
    }
    if input == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = input.strip_prefix('+').unwrap_or(input);
    if rest.starts_with('-') {
        return Err(fail("negative durations are not allowed"));
    }
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| fail("missing unit"))?;
        if number_len == 0 {
            return Err(fail("expected a number"));
        }
        let (number, after) = rest.split_at(number_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after_unit) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            _ => return Err(fail("unknown unit")),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(fail("expected a number"));
        }
        if fraction.contains('.') {
            return Err(fail("more than one decimal point"));
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| fail("number too large"))?
        };
        let mut nanos = whole
            .checked_mul(unit_nanos)
            .ok_or_else(|| fail("duration too large"))?;
        // Fractions beyond nanosecond precision are truncated, as Go does.
        let mut scale = unit_nanos;
        for digit in fraction.bytes().take(30) {
            scale /= 10;
            nanos += u128::from(digit - b'0') * scale;
        }
        total_nanos = total_nanos
            .checked_add(nanos)
            .ok_or_else(|| fail("duration too large"))?;
        rest = after_unit;
    }
    let secs =
        u64::try_from(total_nanos / 1_000_000_000).map_err(|_| fail("duration too large"))?;
    // The remainder is below 10^9, so it always fits.
    let subsec = u32::try_from(total_nanos % 1_000_000_000).unwrap_or(0);
    Ok(Duration::new(secs, subsec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_like_go() {
        let cases = [
            ("0", Duration::ZERO),
            ("1m0s", Duration::from_secs(60)),
            ("10m", Duration::from_secs(600)),
            ("1h30m", Duration::from_secs(5400)),
            ("500ms", Duration::from_millis(500)),
            ("1.5h", Duration::from_secs(5400)),
            ("2.5s", Duration::from_millis(2500)),
            ("1us", Duration::from_micros(1)),
            ("3ns", Duration::from_nanos(3)),
            ("1h0m0s", Duration::from_secs(3600)),
            (".5s", Duration::from_millis(500)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn malformed_durations_are_refused() {
        for text in [
            "",
            "1",
            "m",
            "1x",
            "-1s",
            "1..5s",
            "s1",
            "1.s.",
            "99999999999999999999999h",
        ] {
            assert!(parse_duration(text).is_err(), "{text} should fail");
        }
    }
}
