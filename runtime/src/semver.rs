//! Semantic versions and version ranges as Flux reads them.
//!
//! Flux selects Git tags, OCI tags, chart versions and image tags with the range language
//! of the Go library Masterminds/semver v3. That language differs from Cargo's (the Rust
//! `semver` crate): `1.2` means `~1.2` rather than `^1.2`, ranges are AND-ed by spaces or
//! commas and OR-ed by `||`, and a prerelease version only ever matches an AND group that
//! itself names a prerelease. This module reproduces those rules:
//!
//! - [`Version::parse`] is the lenient parser: an optional `v`, missing minor or patch
//!   (read as 0), leading zeros in the numbers, a `-prerelease` and a `+build`; the
//!   original string is kept ([`Version::original`]) because Flux reports the tag as
//!   written.
//! - [`Version::parse_tag`] additionally wants at least two dots, which is how Flux decides
//!   that a tag is a version at all (`v1.0` and `1` are skipped).
//! - Versions order by semver precedence; build metadata is ignored, so `1.0.0+a` and
//!   `1.0.0+b` compare equal.
//! - [`Constraints::parse`] reads a range; [`Constraints::matches`] checks a version.
//! - [`latest_matching`], [`sort_descending`] and [`latest_image_tag`] are the selection
//!   helpers of GitRepository / OCIRepository / HelmChart and of ImagePolicy.
//!
//! # The range language
//!
//! | range | means |
//! |---|---|
//! | `1.2.3`, `=1.2.3` | exactly 1.2.3 (build metadata ignored) |
//! | `!=1.2.3` `>1.2.3` `<1.2.3` `>=1.2.3` (`=>`) `<=1.2.3` (`=<`) | comparisons |
//! | `1.2`, `1.2.x`, `=1.2` | `>=1.2.0 <1.3.0` |
//! | `1`, `1.x`, `1.*` | `>=1.0.0 <2.0.0` |
//! | `*`, `x`, `X` | any release |
//! | `~1.2.3` (`~>`) | `>=1.2.3 <1.3.0`; `~1` is `>=1.0.0 <2.0.0` |
//! | `^1.2.3` | `>=1.2.3 <2.0.0`; `^0.2.3` is `<0.3.0`; `^0.0.3` is exactly 0.0.3; `^0` is `<1.0.0` |
//! | `1.2 - 1.4.5` | `>=1.2 <=1.4.5` (spaces around `-` required) |
//! | `>=1.0 <2.0`, `>=1.0, <2.0` | both (AND) |
//! | `^1.0 \|\| ^2.0` | either (OR) |
//!
//! A `v` may precede any version in a range. A prerelease version (`1.5.0-rc.1`) passes an
//! AND group only when some comparator of that group carries a prerelease
//! (`>=1.0.0-0 <2.0.0`); then ordinary precedence applies to every comparator of the group.
//!
//! # Caveats
//! Wildcards keep upstream's exact behaviour with operators, including its oddities:
//! `>1.2` is `>=1.3.0`, `<=1.2` is `<1.3.0`, and `^*`, `<=*` and `!=*` only admit 0.x
//! versions the way upstream computes them. One deliberate difference: upstream rewrites
//! hyphen ranges before splitting on `||`, so `3.0||1.0 - 2.0` reads as `>=3.0 || ...`
//! there; here `||` always separates first.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A version or a range could not be read, or a selection found nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SemverError {
    /// The string is not a version (in the lenient sense of [`Version::parse`]).
    #[error("invalid semantic version {input:?}: {reason}")]
    InvalidVersion {
        /// What was parsed.
        input: String,
        /// Why it is not a version.
        reason: &'static str,
    },
    /// The string is not a valid range.
    #[error("improper constraint: {input:?}: {reason}")]
    InvalidConstraint {
        /// The range, or the part of it that failed.
        input: String,
        /// Why it is not a range.
        reason: String,
    },
    /// [`latest_image_tag`] was given no tags at all.
    #[error("version list argument cannot be empty")]
    EmptyVersionList,
    /// [`latest_image_tag`] found no tag that is a version within the range.
    #[error("unable to determine latest version from provided list")]
    NoMatchingVersion,
}

/// A semantic version, parsed leniently, with the string it was parsed from.
///
/// Equality and ordering are semver precedence: numbers, then prerelease (a prerelease
/// sorts before its release; identifiers compare numerically when both are numbers,
/// numbers sort before words, words compare byte-wise, more identifiers sort later), and
/// build metadata is ignored. Two versions that differ only in build metadata or in a `v`
/// prefix are therefore equal; compare [`Version::original`] to tell them apart.
#[derive(Debug, Clone)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    prerelease: String,
    build: String,
    original: String,
}

impl Version {
    /// Parses a version the way Masterminds' `NewVersion` does: an optional lowercase
    /// `v`, a major number, optionally `.minor` and `.patch` (missing ones are 0), an
    /// optional `-prerelease` of dot-separated `[0-9A-Za-z-]` identifiers (numeric ones
    /// without leading zeros) and an optional `+build` of such identifiers. Leading zeros
    /// in major, minor and patch are tolerated (`v2025.02.03`).
    ///
    /// # Errors
    /// [`SemverError::InvalidVersion`] for anything else, e.g. `1.2.3.4`, `1.0.0p`,
    /// `1.2.beta`, `1.2.3-beta.01`, a number above `u64::MAX`, or surrounding spaces.
    pub fn parse(input: &str) -> Result<Self, SemverError> {
        let invalid = |reason| SemverError::InvalidVersion {
            input: input.to_owned(),
            reason,
        };
        let mut scan = Scanner::new(input);
        scan.eat(b'v');
        let major = scan
            .digits()
            .ok_or(invalid("expected a major version number"))?;
        let minor = if scan.eat(b'.') {
            Some(
                scan.digits()
                    .ok_or(invalid("expected a minor version number"))?,
            )
        } else {
            None
        };
        let patch = if minor.is_some() && scan.eat(b'.') {
            Some(
                scan.digits()
                    .ok_or(invalid("expected a patch version number"))?,
            )
        } else {
            None
        };
        let prerelease = if scan.eat(b'-') {
            scan.identifiers()
                .ok_or(invalid("empty prerelease identifier"))?
        } else {
            ""
        };
        let build = if scan.eat(b'+') {
            scan.identifiers()
                .ok_or(invalid("empty build metadata identifier"))?
        } else {
            ""
        };
        if !scan.at_end() {
            return Err(invalid("unexpected characters"));
        }
        if prerelease
            .split('.')
            .any(|id| id.len() > 1 && id.starts_with('0') && is_numeric(id))
        {
            return Err(invalid("numeric prerelease identifier starts with 0"));
        }
        let number = |digits: Option<&str>| match digits {
            None => Ok(0),
            Some(d) => d
                .parse::<u64>()
                .map_err(|_| invalid("version number too large")),
        };
        Ok(Self {
            major: number(Some(major))?,
            minor: number(minor)?,
            patch: number(patch)?,
            prerelease: prerelease.to_owned(),
            build: build.to_owned(),
            original: input.to_owned(),
        })
    }

    /// Parses a tag as Flux does before considering it a version (fluxcd/pkg
    /// `version.ParseVersion`): it must contain at least two dots, then it is read with
    /// [`Version::parse`]. So `v1.2.3` and `v2025.07.03` are versions, `v1.0`, `v1` and
    /// `1.2-5` are not.
    ///
    /// # Errors
    /// [`SemverError::InvalidVersion`] when the tag has fewer than two dots or does not
    /// parse.
    pub fn parse_tag(tag: &str) -> Result<Self, SemverError> {
        if tag.matches('.').count() < 2 {
            return Err(SemverError::InvalidVersion {
                input: tag.to_owned(),
                reason: "fewer than three dot-separated parts",
            });
        }
        Self::parse(tag)
    }

    /// Builds `major.minor.patch` with no prerelease or build metadata.
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self {
            major,
            minor,
            patch,
            prerelease: String::new(),
            build: String::new(),
            original: format!("{major}.{minor}.{patch}"),
        }
    }

    /// The major number.
    pub fn major(&self) -> u64 {
        self.major
    }
    /// The minor number (0 when the string had none).
    pub fn minor(&self) -> u64 {
        self.minor
    }
    /// The patch number (0 when the string had none).
    pub fn patch(&self) -> u64 {
        self.patch
    }
    /// The prerelease without its `-` (empty for a release).
    pub fn prerelease(&self) -> &str {
        &self.prerelease
    }
    /// The build metadata without its `+` (empty when there is none).
    pub fn build(&self) -> &str {
        &self.build
    }
    /// Whether this is a prerelease.
    pub fn is_prerelease(&self) -> bool {
        !self.prerelease.is_empty()
    }
    /// The string this version was parsed from, e.g. `v1.2` for 1.2.0.
    pub fn original(&self) -> &str {
        &self.original
    }
    /// The numbers as a tuple, for the comparisons that look at them one by one.
    fn triple(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.triple().cmp(&other.triple()).then_with(|| {
            match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                (true, true) => Ordering::Equal,
                // A release ranks above any of its prereleases.
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.prerelease, &other.prerelease),
            }
        })
    }
}

/// Normalised form: `1.2.0-rc.1+build`, without the `v` and with all three numbers.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.prerelease.is_empty() {
            write!(f, "-{}", self.prerelease)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

impl FromStr for Version {
    type Err = SemverError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn is_numeric(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// Precedence of two non-empty prereleases, identifier by identifier.
fn compare_prerelease(left: &str, right: &str) -> Ordering {
    let mut left = left.split('.');
    let mut right = right.split('.');
    loop {
        let ordering = match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            // The one with more identifiers ranks higher.
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(l), Some(r)) => compare_identifier(l, r),
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
}

fn compare_identifier(left: &str, right: &str) -> Ordering {
    // Numbers compare as numbers (as long as they fit in 64 bits, like upstream), and
    // rank below words; words compare byte by byte.
    let number = |id: &str| is_numeric(id).then(|| id.parse::<u64>().ok()).flatten();
    match (number(left), number(right)) {
        (Some(l), Some(r)) => l.cmp(&r),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => left.as_bytes().cmp(right.as_bytes()),
    }
}

/// A byte cursor over ASCII grammar; every helper consumes only on success.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }
    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_str(&mut self, s: &str) -> bool {
        if self.text[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }
    /// Consumes a maximal non-empty run of bytes matching `pred`.
    fn run(&mut self, pred: impl Fn(u8) -> bool) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.text[start..self.pos])
    }
    /// A `.` followed by a non-empty run matching `pred`; the run, or nothing consumed.
    fn dotted(&mut self, pred: impl Fn(u8) -> bool) -> Option<&'a str> {
        let dot = self.pos;
        if self.eat(b'.') {
            if let Some(run) = self.run(pred) {
                return Some(run);
            }
            self.pos = dot;
        }
        None
    }
    fn digits(&mut self) -> Option<&'a str> {
        self.run(|b| b.is_ascii_digit())
    }
    /// Consumes whitespace (Go's `\s`: space, tab, newline, form feed, carriage return);
    /// true when there was some.
    fn whitespace(&mut self) -> bool {
        self.run(|b| b.is_ascii_whitespace()).is_some()
    }
    /// Dot-separated non-empty identifiers of `[0-9A-Za-z-]`, as after `-` or `+`. On
    /// failure (an empty identifier) nothing is consumed.
    fn identifiers(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
        loop {
            if self.run(ident).is_none() {
                self.pos = start;
                return None;
            }
            // A dot continues only if an identifier follows it.
            let dot = self.pos;
            if !self.eat(b'.') {
                break;
            }
            if !self.peek().is_some_and(ident) {
                self.pos = dot;
                break;
            }
        }
        Some(&self.text[start..self.pos])
    }
}

/// The comparison of one comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `=` or no operator: equality, or a tilde range when the version has wildcards.
    Equal,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

/// How much of a comparator's version was written out (the rest is a wildcard or
/// missing). Upstream calls the non-`Full` cases "dirty".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    /// `1.2.3`
    Full,
    /// `1.2`, `1.2.x`
    MajorMinor,
    /// `1`, `1.x`, `1.x.x`
    Major,
    /// `*`, `x`, `x.1.2`
    Any,
}

/// One comparator, e.g. `>= 1.2` or `~1.x`.
#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    /// The operator as written (for display), e.g. `=>`.
    op_text: String,
    /// The version as written (for display), e.g. `1.x`.
    text: String,
    /// The version with wildcards and missing parts read as 0.
    version: Version,
    precision: Precision,
}

impl Comparator {
    /// Whether `v` passes; `prereleases` says whether the comparator's AND group admits
    /// prerelease versions at all.
    fn admits(&self, v: &Version, prereleases: bool) -> bool {
        if v.is_prerelease() && !prereleases {
            return false;
        }
        let c = &self.version;
        match self.op {
            Op::Equal if self.precision == Precision::Full => v == c,
            Op::Equal | Op::Tilde => self.tilde(v),
            Op::NotEqual => self.not_equal(v),
            Op::Greater => self.greater(v),
            Op::Less => v < c,
            Op::GreaterEqual => v >= c,
            Op::LessEqual => self.less_equal(v),
            Op::Caret => self.caret(v),
        }
    }

    /// At least the version, with the same major and, unless the minor is a wildcard,
    /// the same minor. `~0.0.0` and a bare wildcard admit everything from there up.
    fn tilde(&self, v: &Version) -> bool {
        let c = &self.version;
        if v < c {
            return false;
        }
        if c.triple() == (0, 0, 0) && matches!(self.precision, Precision::Full | Precision::Any) {
            return true;
        }
        v.major == c.major && (self.precision == Precision::Major || v.minor == c.minor)
    }

    /// Differs from the version in a part that was written out.
    fn not_equal(&self, v: &Version) -> bool {
        let c = &self.version;
        match self.precision {
            Precision::Full => v != c,
            _ if v.major != c.major => true,
            Precision::Major => false,
            Precision::MajorMinor => {
                v.minor != c.minor || compare_prerelease_or_release(v, c) != Ordering::Equal
            }
            Precision::Any => v.minor != c.minor || v.patch != c.patch || v != c,
        }
    }

    /// Above the whole wildcard range: `>1` needs 2.0.0, `>1.2` needs 1.3.0.
    fn greater(&self, v: &Version) -> bool {
        let c = &self.version;
        match self.precision {
            Precision::Full => v > c,
            _ if v.major != c.major => v.major > c.major,
            Precision::Major => false,
            Precision::MajorMinor => v.minor > c.minor,
            Precision::Any => v > c,
        }
    }

    /// Within or below the wildcard range: `<=1.2` admits every 1.2.x.
    fn less_equal(&self, v: &Version) -> bool {
        let c = &self.version;
        if self.precision == Precision::Full {
            return v <= c;
        }
        if v.major > c.major {
            return false;
        }
        !(v.major == c.major && v.minor > c.minor && self.precision != Precision::Major)
    }

    /// At least the version, below the next change of its first non-zero part (or of the
    /// first wildcard part).
    fn caret(&self, v: &Version) -> bool {
        let c = &self.version;
        if v < c {
            return false;
        }
        if c.major > 0 || self.precision == Precision::Major {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.precision == Precision::MajorMinor {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        v.patch == c.patch
    }
}

/// Compares only the prerelease parts (a release counts as the empty prerelease).
fn compare_prerelease_or_release(v: &Version, c: &Version) -> Ordering {
    if v.prerelease.is_empty() && c.prerelease.is_empty() {
        Ordering::Equal
    } else {
        compare_prerelease(&v.prerelease, &c.prerelease)
    }
}

/// An AND group of comparators.
#[derive(Debug, Clone)]
struct Group {
    comparators: Vec<Comparator>,
    /// Some comparator names a prerelease, so prerelease versions may pass.
    admits_prereleases: bool,
}

/// A version range in Masterminds/semver v3 syntax (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Constraints {
    groups: Vec<Group>,
}

impl Constraints {
    /// Parses a range.
    ///
    /// # Errors
    /// [`SemverError::InvalidConstraint`] for an empty range or group, an unknown operator,
    /// a malformed version (`1.0.0p`, `1x`, `x1`, `-1`, `a`), comparators not separated by
    /// a space or comma, or a dangling `-` or `,`.
    pub fn parse(range: &str) -> Result<Self, SemverError> {
        let groups = range
            .split("||")
            .map(parse_group)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { groups })
    }

    /// Whether `version` satisfies the range: it passes every comparator of at least one
    /// OR group, where a prerelease version can only pass a group with a prerelease
    /// comparator.
    pub fn matches(&self, version: &Version) -> bool {
        self.groups.iter().any(|group| {
            group
                .comparators
                .iter()
                .all(|c| c.admits(version, group.admits_prereleases))
        })
    }
}

impl FromStr for Constraints {
    type Err = SemverError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Comparators as written (operator and version, no inner spaces), AND groups joined by
/// spaces, OR groups by ` || `; hyphen ranges appear as their `>=`/`<=` pair.
impl fmt::Display for Constraints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.groups.iter().enumerate() {
            if i > 0 {
                f.write_str(" || ")?;
            }
            for (j, c) in group.comparators.iter().enumerate() {
                if j > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{}{}", c.op_text, c.text)?;
            }
        }
        Ok(())
    }
}

fn parse_group(text: &str) -> Result<Group, SemverError> {
    let invalid = |reason: &str| SemverError::InvalidConstraint {
        input: text.to_owned(),
        reason: reason.to_owned(),
    };
    let mut scan = Scanner::new(text);
    let mut comparators = Vec::new();
    scan.whitespace();
    if scan.at_end() {
        return Err(invalid("empty range"));
    }
    loop {
        let op_start = scan.pos;
        let op = scan_operator(&mut scan);
        let op_text = &text[op_start..scan.pos];
        scan.whitespace();
        let Some(lower) = scan_partial(&mut scan) else {
            return Err(invalid("expected a version"));
        };
        // `A - B` (spaces required) is `>= A, <= B`; only between bare versions.
        let mut after_range = false;
        let before_hyphen = scan.pos;
        if op.is_none() && scan.whitespace() && scan.eat(b'-') && scan.whitespace() {
            if let Some(upper) = scan_partial(&mut scan) {
                comparators.push(lower.comparator(Op::GreaterEqual, ">=")?);
                comparators.push(upper.comparator(Op::LessEqual, "<=")?);
                after_range = true;
            } else {
                scan.pos = before_hyphen;
            }
        } else {
            scan.pos = before_hyphen;
        }
        if !after_range {
            comparators.push(lower.comparator(op.unwrap_or(Op::Equal), op_text)?);
        }
        let spaced = scan.whitespace();
        if scan.at_end() {
            break;
        }
        if scan.eat(b',') {
            scan.whitespace();
        } else if !spaced && !after_range {
            return Err(invalid(
                "comparators must be separated by a space or a comma",
            ));
        }
    }
    let admits_prereleases = comparators.iter().any(|c| c.version.is_prerelease());
    Ok(Group {
        comparators,
        admits_prereleases,
    })
}

/// Reads an operator, longest first (`>=` before `>`); `None` when there is none.
fn scan_operator(scan: &mut Scanner<'_>) -> Option<Op> {
    const OPERATORS: [(&str, Op); 11] = [
        ("!=", Op::NotEqual),
        (">=", Op::GreaterEqual),
        ("=>", Op::GreaterEqual),
        ("<=", Op::LessEqual),
        ("=<", Op::LessEqual),
        ("~>", Op::Tilde),
        (">", Op::Greater),
        ("<", Op::Less),
        ("=", Op::Equal),
        ("~", Op::Tilde),
        ("^", Op::Caret),
    ];
    OPERATORS
        .iter()
        .find(|(text, _)| scan.eat_str(text))
        .map(|&(_, op)| op)
}

/// A version as written in a range: parts may be wildcards or missing.
struct Partial<'a> {
    /// The whole text, e.g. `v1.x-rc.1`.
    text: &'a str,
    major: &'a str,
    minor: Option<&'a str>,
    patch: Option<&'a str>,
    /// With its leading `-`, or empty.
    prerelease: &'a str,
}

/// Reads `v?P(.P)?(.P)?(-pre)?(+build)?` where each `P` is a run of digits and `x X *`.
/// Validation of the numbers happens in [`Partial::comparator`].
fn scan_partial<'a>(scan: &mut Scanner<'a>) -> Option<Partial<'a>> {
    let start = scan.pos;
    let part = |b: u8| b.is_ascii_digit() || matches!(b, b'x' | b'X' | b'*');
    scan.eat(b'v');
    let Some(major) = scan.run(part) else {
        scan.pos = start;
        return None;
    };
    let minor = scan.dotted(part);
    let patch = minor.and_then(|_| scan.dotted(part));
    let pre_start = scan.pos;
    if !(scan.eat(b'-') && scan.identifiers().is_some()) {
        scan.pos = pre_start;
    }
    let prerelease = &scan.text[pre_start..scan.pos];
    let build_start = scan.pos;
    if !(scan.eat(b'+') && scan.identifiers().is_some()) {
        scan.pos = build_start;
    }
    Some(Partial {
        text: &scan.text[start..scan.pos],
        major,
        minor,
        patch,
        prerelease,
    })
}

impl Partial<'_> {
    fn comparator(&self, op: Op, op_text: &str) -> Result<Comparator, SemverError> {
        let wildcard = |p: &str| matches!(p, "x" | "X" | "*");
        let is_open = |p: Option<&str>| p.is_none_or(wildcard);
        // Wildcard and missing parts become 0; what follows the first of them is ignored,
        // and so is build metadata.
        let (precision, written) = if wildcard(self.major) {
            (Precision::Any, format!("0.0.0{}", self.prerelease))
        } else if is_open(self.minor) {
            (
                Precision::Major,
                format!("{}.0.0{}", self.major, self.prerelease),
            )
        } else if is_open(self.patch) {
            let minor = self.minor.unwrap_or_default();
            (
                Precision::MajorMinor,
                format!("{}.{minor}.0{}", self.major, self.prerelease),
            )
        } else {
            (Precision::Full, self.text.to_owned())
        };
        let version = Version::parse(&written).map_err(|e| SemverError::InvalidConstraint {
            input: format!("{op_text}{}", self.text),
            reason: e.to_string(),
        })?;
        Ok(Comparator {
            op,
            op_text: op_text.to_owned(),
            text: self.text.to_owned(),
            version,
            precision,
        })
    }
}

/// Picks the highest version among `candidates` that satisfies `range`, as
/// GitRepository, OCIRepository and HelmChart do.
///
/// `tag` gives each candidate's tag, read with [`Version::parse_tag`] (candidates that
/// are not versions are skipped). Among candidates of equal precedence (they differ in
/// build metadata or `v` prefix), the greatest `tie_key` wins, e.g. the committer time of
/// a tag's commit (GitRepository) or a chart's `created` time (HelmChart); if that ties
/// too, the later candidate wins.
///
/// Returns the winner and its version, or `None` when nothing matches.
pub fn latest_matching<T, K: Ord>(
    range: &Constraints,
    candidates: impl IntoIterator<Item = T>,
    tag: impl Fn(&T) -> &str,
    tie_key: impl Fn(&T) -> K,
) -> Option<(T, Version)> {
    let mut best: Option<(T, Version, K)> = None;
    for candidate in candidates {
        let Ok(version) = Version::parse_tag(tag(&candidate)) else {
            continue;
        };
        if !range.matches(&version) {
            continue;
        }
        let key = tie_key(&candidate);
        let better = best.as_ref().is_none_or(|(_, best_version, best_key)| {
            (&version, &key).cmp(&(best_version, best_key)) != Ordering::Less
        });
        if better {
            best = Some((candidate, version, key));
        }
    }
    best.map(|(candidate, version, _)| (candidate, version))
}

/// The tags that are versions ([`Version::parse_tag`]) and satisfy `range` (all of them
/// when `range` is `None`), highest first; equal versions keep their input order
/// (fluxcd/pkg `version.Sort`).
pub fn sort_descending<'a>(
    range: Option<&Constraints>,
    tags: impl IntoIterator<Item = &'a str>,
) -> Vec<Version> {
    let mut versions: Vec<Version> = tags
        .into_iter()
        .filter_map(|tag| Version::parse_tag(tag).ok())
        .filter(|v| range.is_none_or(|r| r.matches(v)))
        .collect();
    // A stable sort keeps the input order of equal versions.
    versions.sort_by(|a, b| b.cmp(a));
    versions
}

/// ImagePolicy's semver policy: the tag, as written, of the highest version among `tags`
/// within `range`. A `v` prefix is accepted on either side: the range `v1.0.x` admits
/// `1.0.1`, the range `1.0.x` admits `v1.0.1`. Tags that are not versions are skipped;
/// among equal versions the first one wins.
///
/// # Errors
/// [`SemverError::EmptyVersionList`] when `tags` is empty,
/// [`SemverError::NoMatchingVersion`] when no tag qualifies.
pub fn latest_image_tag<S: AsRef<str>>(
    range: &Constraints,
    tags: &[S],
) -> Result<String, SemverError> {
    if tags.is_empty() {
        return Err(SemverError::EmptyVersionList);
    }
    let mut latest: Option<Version> = None;
    for tag in tags {
        if let Ok(version) = Version::parse_tag(tag.as_ref())
            && range.matches(&version)
            && latest.as_ref().is_none_or(|l| version > *l)
        {
            latest = Some(version);
        }
    }
    latest
        .map(|v| v.original)
        .ok_or(SemverError::NoMatchingVersion)
}

#[cfg(test)]
mod tests;
