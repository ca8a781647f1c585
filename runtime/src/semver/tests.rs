//! The cases come from Masterminds/semver's `version_test.go` and `constraints_test.go`,
//! fluxcd/pkg's `version_test.go` and image-reflector-controller's `semver_test.go`,
//! rewritten as tables.

use super::*;

fn v(s: &str) -> Version {
    Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn range(s: &str) -> Constraints {
    Constraints::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// (input, parses)
const LENIENT_VERSIONS: &[(&str, bool)] = &[
    ("1.2.3", true),
    ("1.2.3-alpha.01", false),
    ("1.2.3+test.01", true),
    ("1.2.3-alpha.-1", true),
    ("v1.2.3", true),
    ("1.0", true),
    ("v1.0", true),
    ("1", true),
    ("v1", true),
    ("1.2.beta", false),
    ("v1.2.beta", false),
    ("foo", false),
    ("1.2-5", true),
    ("v1.2-5", true),
    ("1.2-beta.5", true),
    ("v1.2-beta.5", true),
    ("\n1.2", false),
    ("\nv1.2", false),
    ("1.2.0-x.Y.0+metadata", true),
    ("v1.2.0-x.Y.0+metadata", true),
    ("1.2.0-x.Y.0+metadata-width-hypen", true),
    ("v1.2.0-x.Y.0+metadata-width-hypen", true),
    ("1.2.3-rc1-with-hypen", true),
    ("v1.2.3-rc1-with-hypen", true),
    ("1.2.3-0abc123", true),
    ("1.2.3-beta.01", false),
    ("1.2.3.4", false),
    ("v1.2.3.4", false),
    ("1.2.2147483648", true),
    ("1.2147483648.3", true),
    ("2147483648.3.0", true),
    ("12.3.4.1234", false),
    ("12.23.4.1234", false),
    ("12.3.34.1234", false),
    ("20221209-update-renovatejson-v4", true),
    ("1.1.2+.123", false),
    ("1.0.0-alpha_beta", false),
    ("1.0.0-alpha..", false),
    ("1.0.0-alpha..1", false),
    ("9.8.7+meta+meta", false),
    ("1.2.31----RC-SNAPSHOT.12.09.1--.12+788", false),
    ("01.1.1", true),
    ("1.01.1", true),
    ("1.1.01", true),
    ("v2025.02.03-rc.1", true),
    ("1.0.0p", false),
    ("b1.2.3", false),
    ("V1.2.3", false),
    ("", false),
    ("1.2.3 ", false),
    ("99999999999999999999.0.0", false),
    ("1.0.0-", false),
    ("1.0.0+", false),
];

#[test]
fn lenient_parsing_accepts_exactly_what_upstream_accepts() {
    for &(input, ok) in LENIENT_VERSIONS {
        assert_eq!(Version::parse(input).is_ok(), ok, "{input:?}");
    }
}

#[test]
fn parsing_keeps_the_original_string() {
    for input in [
        "1.2.3",
        "v1.2.3",
        "1.0",
        "v1.0",
        "1",
        "v1",
        "1.2-5",
        "v1.2-5",
        "1.2-beta.5",
        "v1.2-beta.5",
        "1.2.0-x.Y.0+metadata",
        "v1.2.0-x.Y.0+metadata",
        "1.2.0-x.Y.0+metadata-width-hypen",
        "v1.2.0-x.Y.0+metadata-width-hypen",
        "1.2.3-rc1-with-hypen",
        "v1.2.3-rc1-with-hypen",
    ] {
        assert_eq!(v(input).original(), input);
    }
}

#[test]
fn display_normalises_missing_parts_and_drops_the_v() {
    for (input, shown) in [
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("1.0", "1.0.0"),
        ("v1.0", "1.0.0"),
        ("1", "1.0.0"),
        ("v1", "1.0.0"),
        ("1.2-5", "1.2.0-5"),
        ("v1.2-5", "1.2.0-5"),
        ("1.2-beta.5", "1.2.0-beta.5"),
        ("v1.2-beta.5", "1.2.0-beta.5"),
        ("1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata"),
        ("v1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata"),
        ("1.2.3-rc1-with-hypen", "1.2.3-rc1-with-hypen"),
        ("v2025.02.03-rc.1", "2025.2.3-rc.1"),
    ] {
        assert_eq!(v(input).to_string(), shown, "{input}");
    }
}

#[test]
fn parts_are_exposed_separately() {
    let version = v("1.2.3-beta.1+build.123");
    assert_eq!(version.major(), 1);
    assert_eq!(version.minor(), 2);
    assert_eq!(version.patch(), 3);
    assert_eq!(version.prerelease(), "beta.1");
    assert_eq!(version.build(), "build.123");
    assert!(version.is_prerelease());
}

/// (left, right, ordering of left against right)
const PRECEDENCE: &[(&str, &str, Ordering)] = &[
    ("1.2.3", "1.5.1", Ordering::Less),
    ("2.2.3", "1.5.1", Ordering::Greater),
    ("2.2.3", "2.2.2", Ordering::Greater),
    ("3.2-beta", "3.2-beta", Ordering::Equal),
    ("1.3", "1.1.4", Ordering::Greater),
    ("4.2", "4.2-beta", Ordering::Greater),
    ("4.2-beta", "4.2", Ordering::Less),
    ("4.2-alpha", "4.2-beta", Ordering::Less),
    ("4.2-alpha", "4.2-alpha", Ordering::Equal),
    ("4.2-beta.2", "4.2-beta.1", Ordering::Greater),
    ("4.2-beta2", "4.2-beta1", Ordering::Greater),
    ("4.2-beta", "4.2-beta.2", Ordering::Less),
    ("4.2-beta", "4.2-beta.foo", Ordering::Less),
    ("4.2-beta.2", "4.2-beta", Ordering::Greater),
    ("4.2-beta.foo", "4.2-beta", Ordering::Greater),
    ("1.2+bar", "1.2+baz", Ordering::Equal),
    ("1.0.0-beta.4", "1.0.0-beta.-2", Ordering::Less),
    ("1.0.0-beta.-2", "1.0.0-beta.-3", Ordering::Less),
    ("1.0.0-beta.-3", "1.0.0-beta.5", Ordering::Greater),
    ("1.5.1", "1.5.1", Ordering::Equal),
    ("3.2.0-beta.1", "3.2.0-beta.5", Ordering::Less),
    ("3.2-beta.4", "3.2-beta.2", Ordering::Greater),
    ("7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.103", Ordering::Less),
    (
        "7.43.0-SNAPSHOT.FOO",
        "7.43.0-SNAPSHOT.103",
        Ordering::Greater,
    ),
    ("7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.BAR", Ordering::Less),
    ("v1.0.0", "1.0.0", Ordering::Equal),
    ("1.0.0-Z", "1.0.0-a", Ordering::Less),
];

#[test]
fn versions_order_by_precedence_ignoring_build_metadata() {
    for &(left, right, ordering) in PRECEDENCE {
        assert_eq!(v(left).cmp(&v(right)), ordering, "{left} vs {right}");
        assert_eq!(
            v(right).cmp(&v(left)),
            ordering.reverse(),
            "{right} vs {left}"
        );
    }
}

#[test]
fn a_tag_is_a_version_only_with_at_least_two_dots() {
    for (tag, ok) in [
        ("v1.2.3", true),
        ("v2025.07.03", true),
        ("v1.0", false),
        ("v1", false),
        ("v1.2.beta", false),
        ("v1.2-5", false),
        ("v1.2-beta5", false),
        ("\nv1.2", false),
        ("v1.2.0-x.Y.0+metadata", true),
        ("v1.2.0-x.Y.0+metadata-width-hypen", true),
        ("v1.2.3-rc1-with-hypen", true),
        ("v1.2.3.4", false),
        ("1.0", false),
        ("1.0-rc.1", true),
    ] {
        assert_eq!(Version::parse_tag(tag).is_ok(), ok, "{tag:?}");
    }
}

/// (range, OR groups, comparators in the first group) or `None` when refused.
const RANGES: &[(&str, Option<(usize, usize)>)] = &[
    (">= 1.1", Some((1, 1))),
    (">40.50.60, < 50.70", Some((1, 2))),
    ("2.0", Some((1, 1))),
    ("v2.3.5-20161202202307-sha.e8fc5e5", Some((1, 1))),
    ("v1.2.3-0abc", Some((1, 1))),
    ("v1.2.3-beta.01", None),
    (">= bar", None),
    ("BAR >= 1.2.3", None),
    (">= 1.2.3 < 2.0", Some((1, 2))),
    (">= 1.2.3 < 2.0 || => 3.0 < 4", Some((2, 2))),
    (">= 1.2.3, < 2.0", Some((1, 2))),
    (">= 1.2.3, < 2.0 || => 3.0, < 4", Some((2, 2))),
    ("3 - 4 || => 3.0, < 4", Some((2, 2))),
    ("12.3.4.1234", None),
    ("12.23.4.1234", None),
    ("12.3.34.1234", None),
    ("12.3.34 ~1.2.3", Some((1, 2))),
    ("12.3.34~ 1.2.3", None),
    ("1.0.0 - 2.0.0, <=2.0.0", Some((1, 3))),
    ("foo", None),
    // image-reflector-controller's valid and invalid policy ranges.
    ("1.0.x", Some((1, 1))),
    ("^1.0", Some((1, 1))),
    ("=1.0.0", Some((1, 1))),
    ("~1.0", Some((1, 1))),
    (">=1.0", Some((1, 1))),
    (">0,<2.0", Some((1, 2))),
    ("1.0.0p", None),
    ("1x", None),
    ("x1", None),
    ("-1", None),
    ("a", None),
    ("", None),
    // Dangling separators and operators.
    (" ", None),
    ("1.0 ||", None),
    ("|| 1.0", None),
    ("1.0,", None),
    ("1.0,,2.0", None),
    ("1.0 - ", None),
    ("> = 1.0", None),
    ("1.0.0<2", None),
    (">=1.0 - 2.0", None),
    ("1.0 - 2.0 - 3.0", None),
    ("1|2", None),
    ("<v0.2.1", Some((1, 1))),
    ("1.2 - 1.4.5", Some((1, 2))),
    ("1.0 - 2.0<3", Some((1, 3))),
    ("  >=1.0 <2.0  ", Some((1, 2))),
    ("\t>=1.0\n<2.0", Some((1, 2))),
];

#[test]
fn ranges_are_accepted_or_refused_like_upstream() {
    for &(input, expected) in RANGES {
        match (Constraints::parse(input), expected) {
            (Ok(c), Some((ors, ands))) => {
                assert_eq!(c.groups.len(), ors, "{input:?} OR groups");
                assert_eq!(c.groups[0].comparators.len(), ands, "{input:?} AND count");
            }
            (Err(e), None) => {
                assert!(matches!(e, SemverError::InvalidConstraint { .. }), "{e}");
            }
            (result, _) => panic!("{input:?}: unexpected {result:?}"),
        }
    }
}

/// Single comparators, each its own range (upstream's per-comparator checks). When the
/// comparator names a prerelease, prereleases are admitted.
const COMPARATOR_CHECKS: &[(&str, &str, bool)] = &[
    ("=2.0.0", "1.2.3", false),
    ("=2.0.0", "2.0.0", true),
    ("=2.0", "1.2.3", false),
    ("=2.0", "2.0.0", true),
    ("=2.0", "2.0.1", true),
    ("4.1", "4.1.0", true),
    ("!=4.1.0", "4.1.0", false),
    ("!=4.1.0", "4.1.1", true),
    ("!=4.1", "4.1.0", false),
    ("!=4.1", "4.1.1", false),
    ("!=4.1", "5.1.0-alpha.1", false),
    ("!=4.1.0", "5.1.0-alpha.1", false),
    ("!=4.1-alpha", "4.1.0", true),
    ("!=4.1", "5.1.0", true),
    ("<11", "0.1.0", true),
    ("<11", "11.1.0", false),
    ("<1.1", "0.1.0", true),
    ("<1.1", "1.1.0", false),
    ("<1.1", "1.1.1", false),
    ("<=11", "1.2.3", true),
    ("<=11", "12.2.3", false),
    ("<=11", "11.2.3", true),
    ("<=1.1", "1.2.3", false),
    ("<=1.1", "0.1.0", true),
    ("<=1.1", "1.1.0", true),
    ("<=1.1", "1.1.1", true),
    (">1.1", "4.1.0", true),
    (">1.1", "1.1.0", false),
    (">0", "0", false),
    (">0", "1", true),
    (">0", "0.0.1-alpha", false),
    (">0.0", "0.0.1-alpha", false),
    (">0-0", "0.0.1-alpha", false),
    (">0.0-0", "0.0.1-alpha", false),
    (">0", "0.0.0-alpha", false),
    (">0-0", "0.0.0-alpha", false),
    (">0.0.0-0", "0.0.0-alpha", true),
    (">1.2.3-alpha.1", "1.2.3-alpha.2", true),
    (">1.2.3-alpha.1", "1.3.3-alpha.2", true),
    (">11", "11.1.0", false),
    (">11.1", "11.1.0", false),
    (">11.1", "11.1.1", false),
    (">11.1", "11.2.1", true),
    (">=11", "11.1.2", true),
    (">=11.1", "11.1.2", true),
    (">=11.1", "11.0.2", false),
    (">=1.1", "4.1.0", true),
    (">=1.1", "1.1.0", true),
    (">=1.1", "0.0.9", false),
    (">=0", "0.0.1-alpha", false),
    (">=0.0", "0.0.1-alpha", false),
    (">=0-0", "0.0.1-alpha", true),
    (">=0.0-0", "0.0.1-alpha", true),
    (">=0", "0.0.0-alpha", false),
    (">=0-0", "0.0.0-alpha", true),
    (">=0.0.0-0", "0.0.0-alpha", true),
    (">=0.0.0-0", "1.2.3", true),
    (">=0.0.0-0", "3.4.5-beta.1", true),
    ("<0", "0.0.0-alpha", false),
    ("<0-z", "0.0.0-alpha", true),
    (">=0", "0", true),
    ("=0", "1", false),
    ("*", "1", true),
    ("*", "4.5.6", true),
    ("*", "1.2.3-alpha.1", false),
    ("*-0", "1.2.3-alpha.1", true),
    ("2.*", "1", false),
    ("2.*", "3.4.5", false),
    ("2.*", "2.1.1", true),
    ("2.1.*", "2.1.1", true),
    ("2.1.*", "2.2.1", false),
    ("2", "1", false),
    ("2", "3.4.5", false),
    ("2", "2.1.1", true),
    ("2.1", "2.1.1", true),
    ("2.1", "2.2.1", false),
    ("~1.2.3", "1.2.4", true),
    ("~1.2.3", "1.3.4", false),
    ("~1.2", "1.2.4", true),
    ("~1.2", "1.3.4", false),
    ("~1", "1.2.4", true),
    ("~1", "2.3.4", false),
    ("~0.2.3", "0.2.5", true),
    ("~0.2.3", "0.3.5", false),
    ("~1.2.3-beta.2", "1.2.3-beta.4", true),
    // Unlike npm, prereleases are not scoped to the same patch release.
    ("~1.2.3-beta.2", "1.2.4-beta.2", true),
    ("~1.2.3-beta.2", "1.3.4-beta.2", false),
    ("^1.2.3", "1.8.9", true),
    ("^1.2.3", "2.8.9", false),
    ("^1.2.3", "1.2.1", false),
    ("^1.1.0", "2.1.0", false),
    ("^1.2.0", "2.2.1", false),
    ("^1.2.0", "1.2.1-alpha.1", false),
    ("^1.2.0-alpha.0", "1.2.1-alpha.1", true),
    ("^1.2.0-alpha.0", "1.2.1-alpha.0", true),
    ("^1.2.0-alpha.2", "1.2.0-alpha.1", false),
    ("^1.2", "1.8.9", true),
    ("^1.2", "2.8.9", false),
    ("^1", "1.8.9", true),
    ("^1", "2.8.9", false),
    ("^0.2.3", "0.2.5", true),
    ("^0.2.3", "0.5.6", false),
    ("^0.2", "0.2.5", true),
    ("^0.2", "0.5.6", false),
    ("^0.0.3", "0.0.3", true),
    ("^0.0.3", "0.0.4", false),
    ("^0.0", "0.0.3", true),
    ("^0.0", "0.1.4", false),
    ("^0.0", "1.0.4", false),
    ("^0", "0.2.3", true),
    ("^0", "1.1.4", false),
    ("^0.2.3-beta.2", "0.2.3-beta.4", true),
    ("^0.2.3-beta.2", "0.2.4-beta.2", true),
    ("^0.2.3-beta.2", "0.3.4-beta.2", false),
    ("^0.2.3-beta.2", "0.2.3-beta.2", true),
];

#[test]
fn single_comparators_check_like_upstream() {
    for &(input, version, expected) in COMPARATOR_CHECKS {
        assert_eq!(
            range(input).matches(&v(version)),
            expected,
            "{input:?} vs {version}"
        );
    }
}

/// Whole ranges: AND groups, OR groups, hyphen ranges, wildcards, prerelease admission.
const RANGE_CHECKS: &[(&str, &str, bool)] = &[
    ("*", "1.2.3", true),
    ("~0.0.0", "1.2.3", true),
    ("0.x.x", "1.2.3", false),
    ("0.0.x", "1.2.3", false),
    ("0.0.0", "1.2.3", false),
    ("^0.0.0", "1.2.3", false),
    ("= 2.0", "1.2.3", false),
    ("= 2.0", "2.0.0", true),
    ("4.1", "4.1.0", true),
    ("4.1.x", "4.1.3", true),
    ("1.x", "1.4", true),
    ("!=4.1", "4.1.0", false),
    ("!=4.1-alpha", "4.1.0-alpha", false),
    ("!=4.1-alpha", "4.1.1-alpha", false),
    ("!=4.1-alpha", "4.1.0", true),
    ("!=4.1", "5.1.0", true),
    ("!=4.x", "5.1.0", true),
    ("!=4.x", "4.1.0", false),
    ("!=4.1.x", "4.2.0", true),
    ("!=4.2.x", "4.2.3", false),
    (">1.1", "4.1.0", true),
    (">1.1", "1.1.0", false),
    ("<1.1", "0.1.0", true),
    ("<1.1", "1.1.0", false),
    ("<1.1", "1.1.1", false),
    ("<1.x", "1.1.1", false),
    ("<1.x", "0.1.1", true),
    ("<1.x", "2.0.0", false),
    ("<2.x", "1.1.1", true),
    ("<1.x", "2.1.1", false),
    ("<1.1.x", "1.2.1", false),
    ("<1.1.x", "1.1.500", false),
    ("<1.1.x", "1.0.500", true),
    ("<1.2.x", "1.1.1", true),
    (">=1.1", "4.1.0", true),
    (">=1.1", "4.1.0-beta", false),
    (">=1.1", "1.1.0", true),
    (">=1.1", "0.0.9", false),
    ("<=1.1", "0.1.0", true),
    ("<=1.1", "0.1.0-alpha", false),
    ("<=1.1-a", "0.1.0-alpha", true),
    ("<=1.1", "1.1.0", true),
    ("<=1.x", "1.1.0", true),
    ("<=2.x", "3.0.0", false),
    ("<=2.x", "3.1.0", false),
    ("<=1.1", "1.1.1", true),
    ("<=1.1.x", "1.2.500", false),
    ("<=4.5", "3.4.0", true),
    ("<=4.5", "3.7.0", true),
    ("<=4.5", "4.6.3", false),
    (">1.1, <2", "1.1.1", false),
    (">1.1, <2", "1.2.1", true),
    (">1.1, <3", "4.3.2", false),
    (">=1.1, <2, !=1.2.3", "1.2.3", false),
    (">1.1 <2", "1.1.1", false),
    (">1.1 <2", "1.2.1", true),
    (">1.1    <3", "4.3.2", false),
    (">=1.1    <2    !=1.2.3", "1.2.3", false),
    (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
    (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false),
    (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true),
    (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
    (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
    (">=1.1 <2 !=1.2.3", "1.2.3", false),
    (">=1.1 <2 !=1.2.3 || > 3", "4.1.2", true),
    (">=1.1 <2 !=1.2.3 || > 3", "3.1.2", false),
    (">=1.1 <2 !=1.2.3 || >= 3", "3.0.0", true),
    (">=1.1 <2 !=1.2.3 || > 3", "3.0.0", false),
    (">=1.1 <2 !=1.2.3 || > 3", "1.2.3", false),
    ("> 1.1, <     2", "1.1.1", false),
    (">   1.1, <2", "1.2.1", true),
    (">1.1, <  3", "4.3.2", false),
    (">= 1.1, <     2, !=1.2.3", "1.2.3", false),
    ("> 1.1 < 2", "1.1.1", false),
    (">1.1 < 2", "1.2.1", true),
    ("> 1.1    <3", "4.3.2", false),
    (">=1.1    < 2    != 1.2.3", "1.2.3", false),
    (">= 1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
    (">= 1.1, <2, != 1.2.3 || > 3", "3.1.2", false),
    (">= 1.1, <2, != 1.2.3 || >= 3", "3.0.0", true),
    (">= 1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
    (">= 1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
    (">= 1.1 <2 != 1.2.3", "1.2.3", false),
    (">= 1.1 <2 != 1.2.3 || > 3", "4.1.2", true),
    (">= 1.1 <2 != 1.2.3 || > 3", "3.1.2", false),
    (">= 1.1 <2 != 1.2.3 || >= 3", "3.0.0", true),
    (">= 1.1 < 2 !=1.2.3 || > 3", "3.0.0", false),
    (">=1.1 < 2 !=1.2.3 || > 3", "1.2.3", false),
    (">= 1.0.0  <= 2.0.0-beta", "1.0.1-beta", true),
    (">= 1.0.0  <= 2.0.0-beta", "1.0.1", true),
    (">= 1.0.0  <= 2.0.0-beta", "3.0.0", false),
    (">= 1.0.0  <= 2.0.0-beta || > 3", "1.0.1-beta", true),
    (">= 1.0.0  <= 2.0.0-beta || > 3", "3.0.1-beta", false),
    (
        ">= 1.0.0  <= 2.0.0-beta != 1.0.1 || > 3",
        "1.0.1-beta",
        true,
    ),
    (
        ">= 1.0.0  <= 2.0.0-beta != 1.0.1-beta || > 3",
        "1.0.1-beta",
        false,
    ),
    (">= 1.0.0-0  <= 2.0.0", "1.0.1-beta", true),
    ("1.1 - 2", "1.1.1", true),
    ("1.1 - 3", "4.3.2", false),
    ("1.5.0 - 4.5", "3.7.0", true),
    ("1.1-3", "4.3.2", false),
    ("^1.1", "1.1.1", true),
    ("^1.1", "1.1.1-alpha", false),
    ("^1.1.1-alpha", "1.1.1-beta", true),
    ("^1.1.1-beta", "1.1.1-alpha", false),
    ("^1.1", "4.3.2", false),
    ("^1.12.7", "1.6.6", false),
    ("^1.x", "1.1.1", true),
    ("^2.x", "1.1.1", false),
    ("^1.x", "2.1.1", false),
    ("^1.x", "1.1.1-beta1", false),
    ("^1.1.2-alpha", "1.2.1-beta1", true),
    ("^1.2.x-alpha", "1.1.1-beta1", false),
    ("^0.0.1", "0.0.1", true),
    ("^0.0.1", "0.3.1", false),
    ("^0.0.1", "0.1.3", false),
    ("^0.2", "0.3.0", false),
    ("^0.2", "0.1.1", false),
    ("^0.0.3", "0.1.1", false),
    ("^0.0.3", "0.0.2", false),
    ("~*", "2.1.1", true),
    ("~1", "2.1.1", false),
    ("~1", "1.3.5", true),
    ("~1", "1.4", true),
    ("~1", "1.3.5-beta", false),
    ("~1.x", "2.1.1", false),
    ("~1.x", "1.3.5", true),
    ("~1.x", "1.4", true),
    ("~1.x", "1.3.5-beta", false),
    ("~1.1", "1.1.1", true),
    ("~1.1", "1.1.1-alpha", false),
    ("~1.1-alpha", "1.1.1-beta", true),
    ("~1.1.1-beta", "1.1.1-alpha", false),
    ("~1.1.1-beta", "1.1.1", true),
    ("~1.3.6-alpha", "1.3.5-beta", false),
    ("~1.3.5-alpha", "1.3.5-beta", true),
    ("~1.3.5-beta", "1.3.5-alpha", false),
    ("~1.2.3", "1.2.5", true),
    ("~1.2.3", "1.2.2", false),
    ("~1.2.3", "1.3.2", false),
    ("~1.1", "1.2.3", false),
    ("~1.3", "2.4.5", false),
    ("~1", "2.1.2", false),
    ("2.x", "1.2.3", false),
    ("2", "1.2.3", false),
    ("> 1.2.3", "1.2.3-beta.1", false),
    // Ranges AND-ed with other comparators.
    ("1.0.0 - 2.0.0 <=2.0.0", "1.5.0", true),
    ("1.0.0 - 2.0.0, <=2.0.0", "1.5.0", true),
    ("2 - 3, 4.0.0 - 5.1", "3.0.0", false),
    // Prerelease admission is decided per AND group (the reference's examples).
    (">=1.0.0-0 <2.0.0", "1.5.0-rc.1", true),
    (">= 1.8.0-rc.0", "1.9.0-rc.1", true),
    (">=1.0.0-alpha", "2.0.0-beta", true),
    (">=1.0.0 <2.0.0", "1.5.0-rc.1", false),
    (">=2.0.0 || >=1.0.0-0 <2.0.0", "1.5.0-rc.1", true),
    (">=1.0.0-0 <2.0.0 || >=3.0.0", "3.1.0-rc.1", false),
    // `v` on either side.
    ("v1.0.x", "1.0.1", true),
    ("1.0.x", "v1.0.1", true),
    ("<v0.2.1", "0.2.0", true),
    ("<v0.2.1", "0.2.1", false),
    // Build metadata never counts.
    ("=1.2.3+one", "1.2.3+two", true),
    ("!=1.2.3+one", "1.2.3", false),
];

#[test]
fn ranges_check_like_upstream() {
    for &(input, version, expected) in RANGE_CHECKS {
        assert_eq!(
            range(input).matches(&v(version)),
            expected,
            "{input:?} vs {version}"
        );
    }
}

#[test]
fn ranges_display_as_upstream_prints_them() {
    for (input, shown) in [
        ("*", "*"),
        (">=1.2.3", ">=1.2.3"),
        (">= 1.2.3", ">=1.2.3"),
        (
            "2.x,   >=1.2.3 || >4.5.6, < 5.7",
            "2.x >=1.2.3 || >4.5.6 <5.7",
        ),
        (
            "2.x,   >=1.2.3 || >4.5.6, < 5.7 || >40.50.60, < 50.70",
            "2.x >=1.2.3 || >4.5.6 <5.7 || >40.50.60 <50.70",
        ),
        ("1.2", "1.2"),
        ("1.2.3", "1.2.3"),
        ("<=1.2.3", "<=1.2.3"),
        ("1 <=1.2.3", "1 <=1.2.3"),
        ("1, <=1.2.3", "1 <=1.2.3"),
        (">1, <=1.2.3", ">1 <=1.2.3"),
        ("> 1 , <=1.2.3", ">1 <=1.2.3"),
        ("=> 1.0", "=>1.0"),
        // Hyphen ranges as the comparators they stand for.
        ("2 - 3", ">=2 <=3"),
        ("2 - 3, 2 - 3", ">=2 <=3 >=2 <=3"),
        ("2 - 3, 4.0.0 - 5.1", ">=2 <=3 >=4.0.0 <=5.1"),
        ("2 - 3 4.0.0 - 5.1", ">=2 <=3 >=4.0.0 <=5.1"),
        ("1.0.0 - 2.0.0 <=2.0.0", ">=1.0.0 <=2.0.0 <=2.0.0"),
    ] {
        let shown_range = range(input).to_string();
        assert_eq!(shown_range, shown, "{input:?}");
        // What is displayed parses again.
        assert_eq!(range(&shown_range).to_string(), shown);
    }
}

#[test]
fn an_invalid_range_names_the_failing_part() {
    let err = Constraints::parse(">=1.0 || 1.0.0p").expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "improper constraint: \" 1.0.0p\": comparators must be separated by a space or a comma"
    );
    let err = Constraints::parse("1x").expect_err("invalid");
    assert!(err.to_string().contains("\"1x\""), "{err}");
}

#[test]
fn sorting_keeps_matching_versions_highest_first_and_stable() {
    let sorted = sort_descending(
        Some(&range(">= 1.2.0, < 1.3.0")),
        [
            "v1.2.0",
            "v1.2.3",
            "v1.3.0",
            "1.2.4",
            "v1.1.0",
            "something-invalid",
            "v1.2.4",
            "another-invalid",
            "1.2.4",
        ],
    );
    let originals: Vec<&str> = sorted.iter().map(Version::original).collect();
    assert_eq!(originals, ["1.2.4", "v1.2.4", "1.2.4", "v1.2.3", "v1.2.0"]);
}

#[test]
fn sorting_without_a_range_keeps_every_version_tag() {
    let sorted = sort_descending(None, ["1.0", "0.1.0", "2.0.0-rc.1", "2.0.0"]);
    let originals: Vec<&str> = sorted.iter().map(Version::original).collect();
    assert_eq!(originals, ["2.0.0", "2.0.0-rc.1", "0.1.0"]);
}

#[test]
fn image_policy_picks_the_original_tag_of_the_highest_match() {
    let cases: &[(&str, &[&str], Result<&str, SemverError>)] = &[
        (
            "1.0.x",
            &["1.0.0", "1.0.0.1", "1.0.0p", "1.0.1", "1.2.0", "0.1.0"],
            Ok("1.0.1"),
        ),
        ("1.0.x", &["v1.2.3", "v1.0.0", "v0.1.0"], Ok("v1.0.0")),
        ("v1.0.x", &["1.2.3", "1.0.1", "0.1.0"], Ok("1.0.1")),
        (
            "1.0.x",
            &["b1.2.3", "b1.0.0", "b0.1.0"],
            Err(SemverError::NoMatchingVersion),
        ),
        ("1.0.x", &[], Err(SemverError::EmptyVersionList)),
        ("1.0.x", &["1.2.0"], Err(SemverError::NoMatchingVersion)),
        // Equal precedence: the first tag wins.
        ("1.0.x", &["1.0.1+a", "v1.0.1", "1.0.1+b"], Ok("1.0.1+a")),
        // Prereleases only with a prerelease comparator.
        ("^1.0", &["1.0.0", "1.1.0-rc.1"], Ok("1.0.0")),
        (">=1.0.0-0", &["1.0.0", "1.1.0-rc.1"], Ok("1.1.0-rc.1")),
    ];
    for (policy, tags, expected) in cases {
        let result = latest_image_tag(&range(policy), tags);
        assert_eq!(result.as_deref(), expected.as_deref(), "{policy} {tags:?}");
    }
}

#[test]
fn equal_precedence_is_broken_by_the_callers_key() {
    // (tag, committer time): Flux picks the newest commit among tags that differ only in
    // build metadata.
    let tags = [
        ("v1.0.0+old", 10),
        ("v1.0.0+new", 30),
        ("v1.0.0+middle", 20),
        ("v0.9.0", 99),
        ("v2.0.0", 1),
        ("not-a-version", 1000),
    ];
    let (winner, version) =
        latest_matching(&range("1.x"), tags, |t| t.0, |t| t.1).expect("a match");
    assert_eq!(winner.0, "v1.0.0+new");
    assert_eq!(version.original(), "v1.0.0+new");

    let (winner, _) = latest_matching(&range(">=0.1"), tags, |t| t.0, |t| t.1).expect("a match");
    assert_eq!(
        winner.0, "v2.0.0",
        "precedence first, the key only for ties"
    );

    assert!(latest_matching(&range(">=3"), tags, |t| t.0, |t| t.1).is_none());
}

#[test]
fn full_ties_go_to_the_later_candidate() {
    let tags = ["1.0.0+a", "1.0.0+b"];
    let (winner, _) = latest_matching(&range("*"), tags, |t| *t, |_| ()).expect("a match");
    assert_eq!(winner, "1.0.0+b");
}
