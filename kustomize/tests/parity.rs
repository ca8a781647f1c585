//! The parity suite: every directory under `tests/cases/` is built by the real
//! `kubectl kustomize` (the oracle, kustomize v5.8.1) and by `sluice_kustomize`, and the two
//! must agree. One named test per case (`cargo test -p sluice-kustomize --test parity NAME`).
//!
//! For each case:
//! 1. The oracle runs. A case whose name starts with `error-` must be rejected by it, any
//!    other case accepted, so that every case tests what its name claims.
//! 2. The oracle's result must match the one recorded in `tests/expected/` (`CASE.yaml`: its
//!    output; `CASE.error`: its message, with the cases folder written `$CASES`). A changed
//!    oracle, or a case edited without looking at what it now produces, fails here.
//!    `SLUICE_PARITY_RECORD=1` rewrites the records instead and skips steps 3 and 4: review
//!    the records' diff before committing them.
//! 3. When the oracle builds the case, `sluice_kustomize::build_yaml` must give the same
//!    documents in the same order, equal as data (and `build` the same objects). Then the
//!    bytes must be identical too, unless the case is listed in
//!    `tests/parity-byte-exceptions.txt`; data and byte differences are reported apart.
//! 4. When the oracle rejects the case, `sluice_kustomize::build_yaml` must fail too, with a
//!    message that contains every line of `tests/expected/CASE.must-mention` if that file
//!    exists (the field, file or path the error is about).
//!
//! The oracle is found through `$KUBECTL`, else `<workspace root>/.venv/bin/kubectl` (which
//! `.ci/install` installs).

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

/// The suite must keep at least this many cases.
const MINIMUM_CASES: usize = 150;

/// The file names kustomize accepts for a kustomization, in its order of preference.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

struct Suite {
    kubectl: PathBuf,
    cases: PathBuf,
    expected: PathBuf,
    byte_exceptions: BTreeSet<String>,
    record: bool,
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let kubectl = match common::kubectl() {
        Ok(kubectl) => kubectl,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let byte_exceptions = match read_byte_exceptions(&tests.join("parity-byte-exceptions.txt")) {
        Ok(exceptions) => exceptions,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let suite = Arc::new(Suite {
        kubectl,
        cases: tests.join("cases"),
        expected: tests.join("expected"),
        byte_exceptions,
        record: std::env::var_os("SLUICE_PARITY_RECORD").is_some_and(|v| v == "1"),
    });
    let names = match case_names(&suite.cases) {
        Ok(names) => names,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };

    let mut trials = Vec::new();
    {
        let suite = Arc::clone(&suite);
        let names = names.clone();
        trials.push(Trial::test(
            "suite::is_complete_and_consistent",
            move || check_suite(&suite, &names),
        ));
    }
    for name in names {
        let suite = Arc::clone(&suite);
        trials.push(Trial::test(format!("case::{name}"), move || {
            check_case(&suite, &name)
        }));
    }
    libtest_mimic::run(&args, trials).exit_code()
}

/// The case directories, sorted.
fn case_names(cases: &Path) -> Result<Vec<String>, String> {
    let entries =
        fs::read_dir(cases).map_err(|e| format!("cannot list {}: {e}", cases.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", cases.display()))?;
        if entry.path().is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Case names from the allow-list: one per line, `#` starts a comment.
fn read_byte_exceptions(path: &Path) -> Result<BTreeSet<String>, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The suite is big enough, and its records and allow-list name only existing cases.
fn check_suite(suite: &Suite, names: &[String]) -> Result<(), Failed> {
    let mut problems = Vec::new();
    if names.len() < MINIMUM_CASES {
        problems.push(format!(
            "only {} cases, at least {MINIMUM_CASES} wanted",
            names.len()
        ));
    }
    let known: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    for name in &suite.byte_exceptions {
        if !known.contains(name.as_str()) {
            problems.push(format!("parity-byte-exceptions.txt names no case: {name}"));
        } else if name.starts_with("error-") {
            problems.push(format!(
                "parity-byte-exceptions.txt names an error case: {name}"
            ));
        }
    }
    let records = fs::read_dir(&suite.expected)
        .map_err(|e| format!("cannot list {}: {e}", suite.expected.display()))?;
    for record in records {
        let record = record.map_err(|e| e.to_string())?.file_name();
        let record = record.to_string_lossy();
        let case = record
            .rsplit_once('.')
            .map_or(record.as_ref(), |(stem, _)| stem);
        if !known.contains(case) {
            problems.push(format!("tests/expected/{record} belongs to no case"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

fn check_case(suite: &Suite, name: &str) -> Result<(), Failed> {
    let dir = suite.cases.join(name);
    if !KUSTOMIZATION_FILES
        .iter()
        .any(|file| dir.join(file).is_file())
    {
        return Err(format!("{} has no kustomization file at its root", dir.display()).into());
    }

    // 1. The oracle, and what the case claims.
    let oracle = common::run_kubectl(&suite.kubectl, &dir);
    match (&oracle, name.starts_with("error-")) {
        (Ok(output), true) => {
            return Err(format!(
                "kubectl accepted a case named error-*, so it does not test what it claims; \
                 it printed:\n{}",
                head(output, 30)
            )
            .into());
        }
        (Err(message), false) => {
            return Err(format!("kubectl rejected a case meant to build: {message}").into());
        }
        _ => {}
    }

    // 2. The record.
    let (record, stale, text) = match &oracle {
        Ok(output) => ("yaml", "error", output.clone()),
        Err(message) => ("error", "yaml", normalize_error(message, &suite.cases)),
    };
    let record = suite.expected.join(format!("{name}.{record}"));
    let stale = suite.expected.join(format!("{name}.{stale}"));
    if suite.record {
        fs::write(&record, &text).map_err(|e| format!("write {}: {e}", record.display()))?;
        if stale.exists() {
            fs::remove_file(&stale).map_err(|e| format!("remove {}: {e}", stale.display()))?;
        }
        return Ok(());
    }
    let recorded = fs::read_to_string(&record).map_err(|e| {
        format!(
            "no record of the oracle's result at {} ({e}): run with SLUICE_PARITY_RECORD=1, \
             check the record shows what the case is about, and commit it",
            record.display()
        )
    })?;
    if recorded != text {
        return Err(format!(
            "kubectl's result differs from the record {} (is it {}?); {}",
            record.display(),
            common::ORACLE,
            common::describe_text_difference(&recorded, &text)
        )
        .into());
    }

    // 3 and 4. Sluice against the oracle.
    match oracle {
        Ok(output) => compare_success(suite, name, &dir, &output),
        Err(message) => compare_failure(suite, name, &dir, &message),
    }
}

fn compare_success(suite: &Suite, name: &str, dir: &Path, expected: &str) -> Result<(), Failed> {
    let actual = sluice_kustomize::build_yaml(dir)
        .map_err(|error| format!("kubectl built this case, sluice failed: {error}"))?;
    let expected_documents = common::parse_documents(expected)
        .map_err(|error| format!("cannot read kubectl's output as YAML: {error}"))?;
    let actual_documents = common::parse_documents(&actual).map_err(|error| {
        format!(
            "cannot read sluice's output as YAML: {error}\n{}",
            head(&actual, 40)
        )
    })?;
    if let Some(difference) = common::compare_documents(&expected_documents, &actual_documents) {
        return Err(format!("DATA differs from kubectl:\n{difference}").into());
    }
    let objects = sluice_kustomize::build(dir)
        .map_err(|error| format!("build_yaml succeeded but build failed: {error}"))?;
    if let Some(difference) = common::compare_documents(&expected_documents, &objects) {
        return Err(format!(
            "the printed YAML agrees with kubectl but build()'s objects differ:\n{difference}"
        )
        .into());
    }
    let identical = actual == expected;
    let excepted = suite.byte_exceptions.contains(name);
    match (identical, excepted) {
        (true, true) => Err(format!(
            "the output is byte-identical now: remove {name} from parity-byte-exceptions.txt"
        )
        .into()),
        (false, false) => Err(format!(
            "BYTES differ from kubectl (the data is equal; list the case in \
             parity-byte-exceptions.txt with a reason if this is accepted):\n{}",
            common::describe_text_difference(expected, &actual)
        )
        .into()),
        _ => Ok(()),
    }
}

fn compare_failure(suite: &Suite, name: &str, dir: &Path, oracle: &str) -> Result<(), Failed> {
    let error = match sluice_kustomize::build_yaml(dir) {
        Ok(output) => {
            return Err(format!(
                "kubectl rejected this case but sluice built it.\nkubectl: {}\nsluice printed:\n{}",
                oracle.trim(),
                head(&output, 30)
            )
            .into());
        }
        Err(error) => error.to_string(),
    };
    if error.trim().is_empty() {
        return Err("sluice failed with an empty message".into());
    }
    let mentions = suite.expected.join(format!("{name}.must-mention"));
    if let Ok(mentions) = fs::read_to_string(&mentions) {
        let missing: Vec<&str> = mentions
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !error.contains(line))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "sluice's error does not mention {missing:?}.\nsluice: {error}\nkubectl: {}",
                oracle.trim()
            )
            .into());
        }
    }
    Ok(())
}

/// The oracle's message from its `error:` line on (warnings and logs before it go), with what
/// changes between machines and runs replaced: the location of the cases (`$CASES`), Go
/// pointers, git's path and curl's timings (remote bases).
fn normalize_error(message: &str, cases: &Path) -> String {
    let message = match message.find("error: ") {
        Some(at) if at == 0 || message[..at].ends_with('\n') => &message[at..],
        _ => message,
    };
    let mut message = message
        .replace("'/usr/local/bin/git ", "'git ")
        .replace("'/usr/bin/git ", "'git ");
    message = hide_timings(&message);
    let mut spellings = vec![cases.display().to_string()];
    if let Ok(canonical) = cases.canonicalize() {
        spellings.push(canonical.display().to_string());
    }
    spellings.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for spelling in spellings {
        message = message.replace(&spelling, "$CASES");
    }
    hide_addresses(&message)
}

/// The message with curl's `after 12 ms` written `after ? ms`.
fn hide_timings(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" after ") {
        let (head, tail) = rest.split_at(at + " after ".len());
        out.push_str(head);
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(" ms") {
            out.push('?');
            rest = &tail[digits..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// The message with Go pointers (`&{0x25482bab0ea0 <nil>}`) written `0x?`: they change with
/// every run.
fn hide_addresses(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("0x") {
        out.push_str(&rest[..at]);
        let digits = rest[at + 2..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count();
        if digits >= 6 {
            out.push_str("0x?");
        } else {
            out.push_str(&rest[at..at + 2 + digits]);
        }
        rest = &rest[at + 2 + digits..];
    }
    out.push_str(rest);
    out
}

fn head(text: &str, lines: usize) -> String {
    let mut out: String = text.lines().take(lines).collect::<Vec<_>>().join("\n");
    if text.lines().count() > lines {
        out.push_str("\n...");
    }
    out
}
