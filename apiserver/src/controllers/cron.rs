//! CronJob schedules as Kubernetes reads them (the "standard" cron format of
//! robfig/cron): five fields (minute, hour, day of month, month, day of week) with `*`,
//! `?`, lists, ranges, steps and month and weekday names, the descriptors `@yearly`,
//! `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`, and
//! `@every <duration>`. As in cron, when either day field is restricted by a `*`-less
//! expression and the other is not `*`, a day matches when either does.

use std::time::Duration;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

use super::util;

/// A schedule could not be parsed; the messages follow robfig/cron's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Not five fields.
    #[error("expected exactly 5 fields, found {found}: [{text}]")]
    FieldCount {
        /// How many fields there were.
        found: usize,
        /// The schedule.
        text: String,
    },
    /// A value is not a number or name.
    #[error("failed to parse int from {0}: strconv.Atoi: parsing {0:?}: invalid syntax")]
    NotANumber(String),
    /// A value is below its field's minimum.
    #[error("beginning of range ({value}) below minimum ({min}): {expression}")]
    BelowMinimum {
        /// The value.
        value: u32,
        /// The field's minimum.
        min: u32,
        /// The expression it was in.
        expression: String,
    },
    /// A value is above its field's maximum.
    #[error("end of range ({value}) above maximum ({max}): {expression}")]
    AboveMaximum {
        /// The value.
        value: u32,
        /// The field's maximum.
        max: u32,
        /// The expression it was in.
        expression: String,
    },
    /// A range ends before it starts.
    #[error("beginning of range ({start}) beyond end of range ({end}): {expression}")]
    Backwards {
        /// Where it starts.
        start: u32,
        /// Where it ends.
        end: u32,
        /// The expression it was in.
        expression: String,
    },
    /// A step of zero.
    #[error("step of range should be a positive number: {0}")]
    Step(String),
    /// An unknown `@` descriptor, or a bad `@every` duration.
    #[error("unrecognized descriptor: {0}")]
    Descriptor(String),
    /// A time zone inside the schedule (Kubernetes wants `spec.timeZone`).
    #[error("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")]
    TimeZoneInSchedule,
}

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `@every <duration>`: fixed intervals.
    Every(Duration),
    /// Five cron fields as bit sets.
    Fields(Fields),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Fields {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// The day-of-month field started with `*` or `?`.
    days_star: bool,
    /// The day-of-week field started with `*` or `?`.
    weekdays_star: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl Schedule {
    /// Parses a schedule.
    ///
    /// # Errors
    /// See [`ScheduleError`].
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let text = text.trim();
        if text.starts_with("TZ=") || text.starts_with("CRON_TZ=") {
            return Err(ScheduleError::TimeZoneInSchedule);
        }
        if let Some(descriptor) = text.strip_prefix('@') {
            let fields = match descriptor {
                "yearly" | "annually" => "0 0 1 1 *",
                "monthly" => "0 0 1 * *",
                "weekly" => "0 0 * * 0",
                "daily" | "midnight" => "0 0 * * *",
                "hourly" => "0 * * * *",
                other => {
                    let every = other
                        .strip_prefix("every ")
                        .and_then(|d| util::parse_duration(d.trim()))
                        .ok_or_else(|| ScheduleError::Descriptor(text.to_owned()))?;
                    // robfig/cron rounds intervals below a second up to one second.
                    let every = Duration::from_secs(every.as_secs().max(1));
                    return Ok(Self {
                        kind: Kind::Every(every),
                    });
                }
            };
            return Self::parse(fields);
        }
        let parts: Vec<&str> = text.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(ScheduleError::FieldCount {
                found: parts.len(),
                text: parts.join(" "),
            });
        }
        let starred = |field: &str| field.starts_with('*') || field.starts_with('?');
        Ok(Self {
            kind: Kind::Fields(Fields {
                minutes: field(parts[0], 0, 59, &[])?,
                hours: field(parts[1], 0, 23, &[])?,
                days: field(parts[2], 1, 31, &[])?,
                months: field(parts[3], 1, 12, &MONTHS)?,
                weekdays: field(parts[4], 0, 6, &WEEKDAYS)?,
                days_star: starred(parts[2]),
                weekdays_star: starred(parts[4]),
            }),
        })
    }

    /// The first scheduled time strictly after `after`, in `zone`.
    pub fn next_after(&self, after: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        match &self.kind {
            Kind::Every(every) => {
                let whole = Timestamp::from_second(after.as_second()).ok()?;
                Some(util::plus(whole, *every))
            }
            Kind::Fields(fields) => fields.next_after(after, zone),
        }
    }
}

impl Fields {
    fn next_after(&self, after: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        let local = after.to_zoned(zone.clone()).datetime();
        // The next whole minute.
        let mut t: DateTime = local
            .with()
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
            .checked_add(1.minute())
            .ok()?;
        let limit = t.year() + 5;
        while t.year() <= limit {
            let bit = |set: u64, value: i64| set & (1u64 << value) != 0;
            if !bit(self.months, i64::from(t.month())) {
                t = t
                    .first_of_month()
                    .checked_add(1.month())
                    .ok()?
                    .start_of_day();
                continue;
            }
            if !self.day_matches(&t) {
                t = t.start_of_day().checked_add(1.day()).ok()?;
                continue;
            }
            if !bit(self.hours, i64::from(t.hour())) {
                t = t
                    .with()
                    .minute(0)
                    .build()
                    .ok()?
                    .checked_add(1.hour())
                    .ok()?;
                continue;
            }
            if !bit(self.minutes, i64::from(t.minute())) {
                t = t.checked_add(1.minute()).ok()?;
                continue;
            }
            let zoned: Zoned = t.to_zoned(zone.clone()).ok()?;
            let found = zoned.timestamp();
            // A time skipped by a DST change resolves later; make sure we move forward.
            if found > after {
                return Some(found);
            }
            t = t.checked_add(1.minute()).ok()?;
        }
        None
    }

    fn day_matches(&self, t: &DateTime) -> bool {
        let day = self.days & (1u64 << t.day()) != 0;
        let weekday = self.weekdays & (1u64 << t.weekday().to_sunday_zero_offset()) != 0;
        if self.days_star || self.weekdays_star {
            day && weekday
        } else {
            day || weekday
        }
    }
}

/// Parses one field into a bit set of the values it allows.
fn field(text: &str, min: u32, max: u32, names: &[&str]) -> Result<u64, ScheduleError> {
    let mut bits = 0u64;
    for expression in text.split(',') {
        let (range, step) = match expression.split_once('/') {
            Some((range, step)) => {
                let step = number(step, &[])?;
                if step == 0 {
                    return Err(ScheduleError::Step(expression.to_owned()));
                }
                (range, Some(step))
            }
            None => (expression, None),
        };
        let (start, end) = if range == "*" || range == "?" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (number(a, names)?, number(b, names)?)
        } else {
            let start = number(range, names)?;
            // `a/n` runs from a to the maximum.
            (start, if step.is_some() { max } else { start })
        };
        if start < min {
            return Err(ScheduleError::BelowMinimum {
                value: start,
                min,
                expression: expression.to_owned(),
            });
        }
        if end > max {
            return Err(ScheduleError::AboveMaximum {
                value: end,
                max,
                expression: expression.to_owned(),
            });
        }
        if start > end {
            return Err(ScheduleError::Backwards {
                start,
                end,
                expression: expression.to_owned(),
            });
        }
        let step = step.unwrap_or(1);
        let mut value = start;
        while value <= end {
            bits |= 1u64 << value;
            value += step;
        }
    }
    Ok(bits)
}

/// A number, or a name from `names` (its index; months count from 1).
fn number(text: &str, names: &[&str]) -> Result<u32, ScheduleError> {
    let lower = text.to_ascii_lowercase();
    if let Some(index) = names.iter().position(|n| *n == lower) {
        let offset = if names.len() == 12 { 1 } else { 0 };
        return Ok(u32::try_from(index).unwrap_or(0) + offset);
    }
    text.parse()
        .map_err(|_| ScheduleError::NotANumber(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn next(schedule: &str, after: &str) -> String {
        Schedule::parse(schedule)
            .unwrap()
            .next_after(at(after), &TimeZone::UTC)
            .unwrap()
            .to_string()
    }

    #[test]
    fn schedules_fire_at_the_next_matching_minute() {
        let cases = [
            ("* * * * *", "2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z"),
            ("* * * * *", "2026-03-01T10:00:30Z", "2026-03-01T10:01:00Z"),
            (
                "*/15 * * * *",
                "2026-03-01T10:07:00Z",
                "2026-03-01T10:15:00Z",
            ),
            ("0 3 * * *", "2026-03-01T10:07:00Z", "2026-03-02T03:00:00Z"),
            (
                "30 9 * * mon-fri",
                "2026-03-06T10:00:00Z",
                "2026-03-09T09:30:00Z",
            ),
            (
                "0 0 1 jan *",
                "2026-03-01T00:00:00Z",
                "2027-01-01T00:00:00Z",
            ),
            ("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
            ("@hourly", "2026-03-01T10:07:00Z", "2026-03-01T11:00:00Z"),
            ("@weekly", "2026-03-01T10:07:00Z", "2026-03-08T00:00:00Z"),
            (
                "5/20 * * * *",
                "2026-03-01T10:06:00Z",
                "2026-03-01T10:25:00Z",
            ),
            (
                "0 12 13 * fri",
                "2026-03-01T00:00:00Z",
                "2026-03-06T12:00:00Z",
            ),
        ];
        for (schedule, after, expected) in cases {
            assert_eq!(next(schedule, after), expected, "{schedule} after {after}");
        }
    }

    #[test]
    fn every_descriptors_add_their_interval() {
        assert_eq!(
            next("@every 2s", "2026-03-01T10:00:00.5Z"),
            "2026-03-01T10:00:02Z"
        );
        assert_eq!(
            next("@every 1m30s", "2026-03-01T10:00:00Z"),
            "2026-03-01T10:01:30Z"
        );
    }

    #[test]
    fn time_zones_move_the_schedule() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let schedule = Schedule::parse("0 9 * * *").unwrap();
        let found = schedule
            .next_after(at("2026-01-10T00:00:00Z"), &berlin)
            .unwrap();
        assert_eq!(found.to_string(), "2026-01-10T08:00:00Z");
    }

    #[test]
    fn bad_schedules_are_refused_with_robfig_messages() {
        let cases = [
            (
                "every tuesday",
                "expected exactly 5 fields, found 2: [every tuesday]",
            ),
            ("61 * * * *", "end of range (61) above maximum (59): 61"),
            ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
            (
                "x * * * *",
                "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            (
                "5-1 * * * *",
                "beginning of range (5) beyond end of range (1): 5-1",
            ),
            (
                "*/0 * * * *",
                "step of range should be a positive number: */0",
            ),
            ("@fortnightly", "unrecognized descriptor: @fortnightly"),
            (
                "TZ=UTC * * * * *",
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ),
        ];
        for (schedule, message) in cases {
            assert_eq!(
                Schedule::parse(schedule).unwrap_err().to_string(),
                message,
                "{schedule}"
            );
        }
    }
}
