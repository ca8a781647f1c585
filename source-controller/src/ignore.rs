//! Exclusion rules for artifacts: `.sourceignore` files and `spec.ignore`, with the
//! semantics of Flux's `sourceignore` package (which builds on go-git's gitignore matcher).
//!
//! - Patterns use gitignore syntax: `#` comments and blank lines are skipped, `!` negates,
//!   a trailing `/` matches directories only, a pattern containing `/` is matched from the
//!   directory that defines it (glob match, `**` for any number of directories), a pattern
//!   without `/` matches any path component. Components match as Go's `filepath.Match`
//!   does (`*`, `?`, `[a-z]`, `[^a-z]`, `\` escapes).
//! - A pattern matches a path when it matches a prefix of it: ignoring `/apps` ignores
//!   `apps/x.yaml` too, and `!/apps/` re-includes every file below `apps/`.
//! - The last matching pattern wins.
//! - For Git and OCI sources ([`IgnoreRules::for_source`]): the VCS patterns (`.git/`,
//!   `.gitignore`, `.gitmodules`, `.gitattributes`) always apply; `.sourceignore` files are
//!   read from every directory (except `.git`), each scoped to its directory; `spec.ignore`
//!   comes after them (so it takes precedence); the default exclusions (images, archives,
//!   CI files) apply **only when there is no user pattern at all**, as upstream's code
//!   does.
//! - For Buckets ([`IgnoreRules::exact`]): only the given patterns.

use std::fs;
use std::io;
use std::path::{Component, Path};

/// The file read from every directory of a source.
pub const IGNORE_FILE: &str = ".sourceignore";

/// Patterns that always apply to Git and OCI sources.
pub const VCS_PATTERNS: &[&str] = &[".git/", ".gitignore", ".gitmodules", ".gitattributes"];

/// Patterns that apply when there is no user pattern at all.
pub const DEFAULT_PATTERNS: &[&str] = &[
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
];

/// One gitignore pattern, scoped to the directory (`domain`) that defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    domain: Vec<String>,
    parts: Vec<String>,
    inclusion: bool,
    dir_only: bool,
    glob: bool,
}

/// What one pattern says about a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    NoMatch,
    Exclude,
    Include,
}

impl Pattern {
    /// Parses one pattern line defined in the directory `domain` (path components relative
    /// to the source root; empty for the root).
    pub fn parse(line: &str, domain: &[String]) -> Self {
        let (inclusion, mut text) = match line.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        if !text.ends_with("\\ ") {
            text = text.trim_end_matches(' ');
        }
        let dir_only = text.ends_with('/');
        if dir_only {
            text = &text[..text.len() - 1];
        }
        Self {
            domain: domain.to_vec(),
            parts: text.split('/').map(str::to_owned).collect(),
            inclusion,
            dir_only,
            glob: text.contains('/'),
        }
    }

    fn verdict(&self, path: &[String], is_dir: bool) -> Verdict {
        if path.len() <= self.domain.len() || path[..self.domain.len()] != self.domain[..] {
            return Verdict::NoMatch;
        }
        let rest = &path[self.domain.len()..];
        let matched = if self.glob {
            self.glob_match(rest, is_dir)
        } else {
            self.name_match(rest, is_dir)
        };
        match (matched, self.inclusion) {
            (false, _) => Verdict::NoMatch,
            (true, true) => Verdict::Include,
            (true, false) => Verdict::Exclude,
        }
    }

    /// A pattern without `/`: matches any component; a directory-only pattern matching the
    /// last component of a file does not count.
    fn name_match(&self, path: &[String], is_dir: bool) -> bool {
        let pattern = &self.parts[0];
        for (i, name) in path.iter().enumerate() {
            if !go_match(pattern, name) {
                continue;
            }
            return !(self.dir_only && !is_dir && i == path.len() - 1);
        }
        false
    }

    /// A pattern with `/`: matched component by component from the domain, `**` standing
    /// for any number of directories; a match of a prefix of the path counts.
    fn glob_match(&self, mut path: &[String], is_dir: bool) -> bool {
        let mut matched = false;
        let mut traverse = false;
        for (i, part) in self.parts.iter().enumerate() {
            if part.is_empty() {
                traverse = false;
                continue;
            }
            if part == "**" {
                if i == self.parts.len() - 1 {
                    break;
                }
                traverse = true;
                continue;
            }
            if part.contains("**") {
                return false;
            }
            if path.is_empty() {
                return false;
            }
            if traverse {
                traverse = false;
                while let Some((first, rest)) = path.split_first() {
                    path = rest;
                    if go_match(part, first) {
                        matched = true;
                        break;
                    } else if path.is_empty() {
                        matched = false;
                    }
                }
            } else {
                if !go_match(part, &path[0]) {
                    return false;
                }
                matched = true;
                path = &path[1..];
            }
        }
        if matched && self.dir_only && !is_dir && path.is_empty() {
            matched = false;
        }
        matched
    }
}

/// Parses gitignore text: one pattern per line, skipping lines that start with `#` and
/// blank lines.
pub fn parse_patterns(text: &str, domain: &[String]) -> Vec<Pattern> {
    text.lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| Pattern::parse(line, domain))
        .collect()
}

/// A set of patterns deciding which paths of a source are left out of its artifact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
}

impl IgnoreRules {
    /// Exactly these patterns, nothing added (Buckets).
    pub fn exact(patterns: Vec<Pattern>) -> Self {
        Self { patterns }
    }

    /// The rules of a Git or OCI source whose user patterns are `user` (the
    /// `.sourceignore` patterns, then `spec.ignore`): the VCS patterns first, then the
    /// user patterns, or the default exclusions when there is no user pattern.
    pub fn with_defaults(user: Vec<Pattern>) -> Self {
        let mut patterns: Vec<Pattern> = VCS_PATTERNS
            .iter()
            .map(|p| Pattern::parse(p, &[]))
            .collect();
        if user.is_empty() {
            patterns.extend(DEFAULT_PATTERNS.iter().map(|p| Pattern::parse(p, &[])));
        } else {
            patterns.extend(user);
        }
        Self { patterns }
    }

    /// The rules of the checkout in `root`: its `.sourceignore` files and then `spec`
    /// (`spec.ignore`), with the VCS patterns and, when there are no user patterns, the
    /// defaults.
    ///
    /// # Errors
    /// A directory or `.sourceignore` file that cannot be read.
    pub fn for_source(root: &Path, spec: Option<&str>) -> io::Result<Self> {
        let mut user = load_ignore_files(root)?;
        if let Some(spec) = spec {
            user.extend(parse_patterns(spec, &[]));
        }
        Ok(Self::with_defaults(user))
    }

    /// Whether `relative` (a path below the source root, `/`-separated components) is
    /// excluded.
    pub fn is_ignored(&self, relative: &Path, is_dir: bool) -> bool {
        let components: Vec<String> = relative
            .components()
            .filter_map(|c| match c {
                Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        self.is_ignored_components(&components, is_dir)
    }

    /// Like [`IgnoreRules::is_ignored`] for a path already split into components.
    pub fn is_ignored_components(&self, path: &[String], is_dir: bool) -> bool {
        for pattern in self.patterns.iter().rev() {
            match pattern.verdict(path, is_dir) {
                Verdict::NoMatch => continue,
                Verdict::Exclude => return true,
                Verdict::Include => return false,
            }
        }
        false
    }

    /// Whether a slash-separated key (a bucket object key, `dir/file.yaml`) is excluded.
    pub fn is_ignored_key(&self, key: &str, is_dir: bool) -> bool {
        let components: Vec<String> = key
            .split('/')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        self.is_ignored_components(&components, is_dir)
    }
}

/// Reads the `.sourceignore` of `root` and of every directory below it (not `.git`, not
/// through symlinks), each scoped to its directory, parents before children and siblings
/// in name order.
///
/// # Errors
/// A directory or file that cannot be read (a missing `.sourceignore` is fine).
pub fn load_ignore_files(root: &Path) -> io::Result<Vec<Pattern>> {
    let mut patterns = Vec::new();
    load_dir(root, &mut Vec::new(), &mut patterns)?;
    Ok(patterns)
}

fn load_dir(dir: &Path, domain: &mut Vec<String>, out: &mut Vec<Pattern>) -> io::Result<()> {
    match fs::symlink_metadata(dir.join(IGNORE_FILE)) {
        Ok(meta) if meta.is_file() => {
            let text = fs::read(dir.join(IGNORE_FILE))?;
            out.extend(parse_patterns(&String::from_utf8_lossy(&text), domain));
        }
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let mut entries = fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        if entry.file_type()?.is_dir() && name != ".git" {
            domain.push(name.to_string_lossy().into_owned());
            load_dir(&entry.path(), domain, out)?;
            domain.pop();
        }
    }
    Ok(())
}

/// Go's `filepath.Match` for one path component; a malformed pattern matches nothing.
pub fn go_match(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    match_from(&pattern, &name).unwrap_or(false)
}

/// `Err` for a malformed pattern.
fn match_from(pattern: &[char], name: &[char]) -> Result<bool, ()> {
    let Some((&first, rest)) = pattern.split_first() else {
        return Ok(name.is_empty());
    };
    match first {
        '*' => {
            let mut rest = rest;
            while let Some(('*', more)) = rest.split_first() {
                rest = more;
            }
            for split in 0..=name.len() {
                if split > 0 && name[split - 1] == '/' {
                    break;
                }
                if match_from(rest, &name[split..])? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        '?' => match name.split_first() {
            Some((&c, tail)) if c != '/' => match_from(rest, tail),
            _ => Ok(false),
        },
        '[' => {
            let (matches, consumed) = match_class(rest, name.first().copied())?;
            if !matches {
                return Ok(false);
            }
            match_from(&rest[consumed..], &name[1..])
        }
        '\\' => {
            let Some((&escaped, rest)) = rest.split_first() else {
                return Err(());
            };
            match name.split_first() {
                Some((&c, tail)) if c == escaped => match_from(rest, tail),
                _ => Ok(false),
            }
        }
        c => match name.split_first() {
            Some((&n, tail)) if n == c => match_from(rest, tail),
            _ => Ok(false),
        },
    }
}

/// Matches `c` against the class starting after `[`; returns whether it matched and how
/// many pattern characters the class used (including the closing `]`).
fn match_class(class: &[char], c: Option<char>) -> Result<(bool, usize), ()> {
    let mut i = 0;
    let negated = class.first() == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let Some(&start) = class.get(i) else {
            return Err(());
        };
        if start == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let (low, next) = class_char(class, i)?;
        let (high, next) = if class.get(next) == Some(&'-') && class.get(next + 1) != Some(&']') {
            class_char(class, next + 1)?
        } else {
            (low, next)
        };
        if let Some(c) = c
            && low <= c
            && c <= high
        {
            matched = true;
        }
        i = next;
    }
    match c {
        None | Some('/') => Ok((false, i)),
        Some(_) => Ok((matched != negated, i)),
    }
}

fn class_char(class: &[char], i: usize) -> Result<(char, usize), ()> {
    match class.get(i) {
        Some('\\') => class.get(i + 1).map(|&c| (c, i + 2)).ok_or(()),
        Some('-') | Some(']') | None => Err(()),
        Some(&c) => Ok((c, i + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn rules(user: &str) -> IgnoreRules {
        IgnoreRules::with_defaults(parse_patterns(user, &[]))
    }

    #[test]
    fn go_filepath_match_rules() {
        let cases = [
            ("*.txt", "foo.txt", true),
            ("*.txt", "foo.yaml", false),
            ("**.txt", "foo.txt", true),
            ("f?o", "foo", true),
            ("f?o", "fo", false),
            ("[a-c]at", "bat", true),
            ("[^a-c]at", "bat", false),
            ("[^a-c]at", "rat", true),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("a[", "a", false),
            ("*", "", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(go_match(pattern, name), want, "{pattern} vs {name}");
        }
    }

    #[test]
    fn defaults_apply_only_without_user_patterns() {
        let defaults = rules("");
        assert!(defaults.is_ignored(Path::new("logo.png"), false));
        assert!(defaults.is_ignored(Path::new(".github/workflows/ci.yaml"), false));
        assert!(defaults.is_ignored(Path::new("deep/dir/.sops.yaml"), false));
        assert!(!defaults.is_ignored(Path::new("deploy.yaml"), false));
        let user = rules("*.txt");
        assert!(!user.is_ignored(Path::new("logo.png"), false));
        assert!(user.is_ignored(Path::new("notes.txt"), false));
    }

    #[test]
    fn vcs_patterns_always_apply() {
        let user = rules("*.txt");
        assert!(user.is_ignored(Path::new(".git"), true));
        assert!(user.is_ignored(Path::new(".git/config"), false));
        assert!(user.is_ignored(Path::new("sub/.gitignore"), false));
        assert!(user.is_ignored(Path::new(".gitmodules"), false));
    }

    #[test]
    fn the_last_matching_pattern_wins_and_negation_reincludes() {
        let r = rules("**.txt\n!keep.txt");
        assert!(r.is_ignored(Path::new("foo.txt"), false));
        assert!(!r.is_ignored(Path::new("keep.txt"), false));
        let r = rules("**.txt\n!**.txt");
        assert!(!r.is_ignored(Path::new("foo.txt"), false));
    }

    #[test]
    fn anchored_directory_allow_list_keeps_only_those_directories() {
        // The upstream nested-dir fixture: `/*`, `!/apps/`, `!/clusters/`.
        let r = rules("/*\n!/apps/\n!/clusters/\n");
        assert!(r.is_ignored(Path::new("README.md"), false));
        assert!(r.is_ignored(Path::new("infra"), true));
        assert!(r.is_ignored(Path::new("infra/x.yaml"), false));
        assert!(!r.is_ignored(Path::new("apps"), true));
        assert!(!r.is_ignored(Path::new("apps/podinfo/deploy.yaml"), false));
        assert!(!r.is_ignored(Path::new("clusters/prod/flux.yaml"), false));
    }

    #[test]
    fn directory_only_patterns_do_not_match_files_of_that_name() {
        let r = rules("build/");
        assert!(r.is_ignored(Path::new("build"), true));
        assert!(r.is_ignored(Path::new("build/out.yaml"), false));
        assert!(r.is_ignored(Path::new("sub/build/out.yaml"), false));
        assert!(!r.is_ignored(Path::new("build"), false));
    }

    #[test]
    fn double_star_spans_directories() {
        let r = rules("a/**/z.yaml\n");
        assert!(r.is_ignored(Path::new("a/z.yaml"), false));
        assert!(r.is_ignored(Path::new("a/b/c/z.yaml"), false));
        assert!(!r.is_ignored(Path::new("b/z.yaml"), false));
        let r = rules("logs/**");
        assert!(r.is_ignored(Path::new("logs/x/y"), false));
    }

    #[test]
    fn comments_blank_lines_and_trailing_spaces() {
        let patterns = parse_patterns("# comment\n\n   \nfoo.yaml  \n", &[]);
        assert_eq!(patterns.len(), 1);
        let r = IgnoreRules::with_defaults(patterns);
        assert!(r.is_ignored(Path::new("foo.yaml"), false));
    }

    #[test]
    fn nested_sourceignore_files_are_scoped_to_their_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("sub/deeper")).unwrap();
        fs::create_dir_all(root.join("other")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::write(root.join(".sourceignore"), "root.txt\n").unwrap();
        fs::write(root.join("sub/.sourceignore"), "*.yaml\n").unwrap();
        fs::write(root.join(".git/.sourceignore"), "*\n").unwrap();
        let r = IgnoreRules::for_source(root, None).unwrap();
        assert!(r.is_ignored(Path::new("root.txt"), false));
        assert!(r.is_ignored(Path::new("sub/root.txt"), false));
        assert!(r.is_ignored(Path::new("sub/a.yaml"), false));
        assert!(r.is_ignored(Path::new("sub/deeper/a.yaml"), false));
        assert!(!r.is_ignored(Path::new("other/a.yaml"), false));
        assert!(!r.is_ignored(Path::new("a.yaml"), false));
        // User patterns exist, so the defaults are off.
        assert!(!r.is_ignored(Path::new("logo.png"), false));
    }

    #[test]
    fn spec_patterns_come_after_sourceignore_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".sourceignore"), "**.txt\n").unwrap();
        let r = IgnoreRules::for_source(dir.path(), Some("!**.txt")).unwrap();
        assert!(!r.is_ignored(Path::new("foo.txt"), false));
        let r = IgnoreRules::for_source(dir.path(), None).unwrap();
        assert!(r.is_ignored(Path::new("foo.txt"), false));
    }

    #[test]
    fn exact_rules_add_nothing() {
        let r = IgnoreRules::exact(parse_patterns("*.md", &[]));
        assert!(!r.is_ignored(Path::new(".git/config"), false));
        assert!(r.is_ignored_key("docs/README.md", false));
        assert!(!r.is_ignored_key("deploy.yaml", false));
    }

    #[test]
    fn the_root_itself_is_never_ignored() {
        assert!(!rules("*").is_ignored(&PathBuf::new(), true));
    }
}
