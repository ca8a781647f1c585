//! GitRepository performance: clone-to-artifact time and peak memory against the git CLI
//! (`git clone --depth 1` + `tar czf` + `sha256sum`), and the cost of a no-change poll.
//!
//! Run with `cargo bench -p sluice-source-controller --bench git`. A repository of
//! 10,000 files and 1,000 commits is generated with `git fast-import` and served over
//! smart HTTP (nginx + fcgiwrap + `git http-backend`, from `sluice_testkit`) on
//! 127.0.0.1. Each clone-to-artifact run happens in a fresh child process (this binary
//! re-executed with `--child <side>`), so its peak RSS can be read with
//! `getrusage(RUSAGE_CHILDREN)` (which covers the git subprocesses too) without the
//! parent's own history polluting it.
//!
//! Environment:
//! - `SLUICE_BENCH_SCALE` (default 1.0) multiplies the file and commit counts;
//! - `SLUICE_BENCH_RUNS` (default 5) clone-to-artifact runs per side, after one warm-up;
//! - `SLUICE_BENCH_POLLS` (default 30) no-change polls per side, after three warm-ups.
//!
//! See `BENCHMARKS.md` for the method and the recorded numbers.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use nix::sys::resource::{UsageWho, getrusage};
use sluice_runtime::artifact::DigestAlgorithm;
use sluice_source_controller::git::{Credentials, GitOptions, Reference, Session, auth};
use sluice_source_controller::ignore::IgnoreRules;
use sluice_source_controller::storage::{Storage, StorageOptions};
use sluice_testkit::git_servers::{GitHttpOptions, GitHttpServer};

/// Branch of the generated repository.
const BRANCH: &str = "main";
/// Files per directory of the generated tree.
const FILES_PER_DIR: usize = 100;
/// Files changed by every commit after the first.
const FILES_PER_COMMIT: usize = 10;
/// Timeout of a Git session, as the reconciler's default `spec.timeout`.
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        let side = args.get(pos + 1).context("--child needs a side")?;
        let url = args.get(pos + 2).context("--child needs a URL")?;
        let work = args
            .get(pos + 3)
            .context("--child needs a work directory")?;
        return child(side, url, Path::new(work));
    }
    // `cargo test --benches` runs bench binaries with no `--bench`: only build there.
    if !args.iter().any(|a| a == "--bench") {
        println!("git bench: pass --bench (cargo bench) to run");
        return Ok(());
    }
    parent()
}

/// Settings from the environment.
struct Settings {
    files: usize,
    commits: usize,
    runs: usize,
    polls: usize,
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| anyhow!("{name}={text:?} is not a number")),
        Err(_) => Ok(default),
    }
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let scale: f64 = env_number("SLUICE_BENCH_SCALE", 1.0)?;
        if !(scale > 0.0 && scale <= 10.0) {
            bail!("SLUICE_BENCH_SCALE must be in (0, 10], got {scale}");
        }
        // Rounded counts of at least one; the scale is bounded, so the casts are exact.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let scaled = |n: usize| ((n as f64 * scale).round() as usize).max(1);
        let runs: usize = env_number("SLUICE_BENCH_RUNS", 5)?;
        let polls: usize = env_number("SLUICE_BENCH_POLLS", 30)?;
        if runs == 0 || polls == 0 {
            bail!("SLUICE_BENCH_RUNS and SLUICE_BENCH_POLLS must be at least 1");
        }
        Ok(Self {
            files: scaled(10_000),
            commits: scaled(1_000),
            runs,
            polls,
        })
    }
}

/// Deterministic text for file `index` at `version`: 1–4 KiB of hex words, so it neither
/// compresses to nothing nor is incompressible.
fn file_contents(index: usize, version: usize) -> String {
    let mut state = (index as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(version as u64)
        .wrapping_add(1);
    let mut next = || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let lines = 16 + (next() % 48);
    let mut text = format!("# file {index} version {version}\n");
    for _ in 0..lines {
        for _ in 0..6 {
            let _ = write!(text, "{:08x} ", next() & 0xFFFF_FFFF);
        }
        text.push('\n');
    }
    text
}

fn file_path(index: usize) -> String {
    format!(
        "dir{:03}/file{:05}.txt",
        index / FILES_PER_DIR,
        index % FILES_PER_DIR
    )
}

fn push_data(stream: &mut Vec<u8>, data: &[u8]) {
    stream.extend_from_slice(format!("data {}\n", data.len()).as_bytes());
    stream.extend_from_slice(data);
    stream.push(b'\n');
}

/// A `git fast-import` stream: the first commit adds every file, each later one rewrites
/// `FILES_PER_COMMIT` of them.
fn fast_import_stream(files: usize, commits: usize) -> Vec<u8> {
    let mut stream = Vec::new();
    for commit in 1..=commits {
        let time = 1_700_000_000 + commit * 60;
        stream.extend_from_slice(
            format!(
                "commit refs/heads/{BRANCH}\nmark :{commit}\ncommitter Bench <bench@example.com> {time} +0000\n"
            )
            .as_bytes(),
        );
        push_data(&mut stream, format!("commit {commit}").as_bytes());
        if commit > 1 {
            stream.extend_from_slice(format!("from :{}\n", commit - 1).as_bytes());
        }
        let changed: Vec<usize> = if commit == 1 {
            (0..files).collect()
        } else {
            (0..FILES_PER_COMMIT)
                .map(|j| (commit * 7919 + j * 104_729) % files)
                .collect()
        };
        for index in changed {
            stream.extend_from_slice(format!("M 100644 inline {}\n", file_path(index)).as_bytes());
            push_data(&mut stream, file_contents(index, commit).as_bytes());
        }
        stream.push(b'\n');
    }
    stream
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .with_context(|| format!("running git {args:?}"))?;
    if !output.status.success() {
        bail!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Fills the bare repository at `bare` and returns the head commit.
fn generate(bare: &Path, settings: &Settings) -> anyhow::Result<String> {
    let stream = fast_import_stream(settings.files, settings.commits);
    let mut import = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(bare)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .spawn()
        .context("running git fast-import")?;
    import
        .stdin
        .take()
        .context("git fast-import has no stdin")?
        .write_all(&stream)
        .context("writing the fast-import stream")?;
    let status = import.wait().context("waiting for git fast-import")?;
    if !status.success() {
        bail!("git fast-import failed: {status}");
    }
    // A packed repository, as a hosted one would be.
    git(bare, &["repack", "-a", "-d", "-q"])?;
    git(bare, &["rev-parse", &format!("refs/heads/{BRANCH}")])
}

/// One clone-to-artifact run as measured by a child process.
struct Run {
    elapsed: Duration,
    /// Largest peak RSS of the child and of any process it waited for, KiB.
    peak_rss_kib: i64,
    commit: String,
    size: u64,
}

fn run_child(side: &str, url: &str, work: &Path) -> anyhow::Result<Run> {
    let exe = std::env::current_exe().context("locating the bench binary")?;
    let output = Command::new(exe)
        .args(["--child", side, url])
        .arg(work)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running the {side} child"))?;
    if !output.status.success() {
        bail!(
            "{side} child failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [micros, rss, commit, size] = fields.as_slice() else {
        bail!("{side} child printed {text:?}");
    };
    Ok(Run {
        elapsed: Duration::from_micros(micros.parse()?),
        peak_rss_kib: rss.parse()?,
        commit: (*commit).to_owned(),
        size: size.parse()?,
    })
}

/// Runs one side in this (child) process and prints
/// `<microseconds> <peak RSS KiB> <commit> <artifact bytes>`.
fn child(side: &str, url: &str, work: &Path) -> anyhow::Result<()> {
    let start = Instant::now();
    let (commit, size) = match side {
        "sluice" => sluice_pipeline(url, work)?,
        "cli" => cli_pipeline(url, work)?,
        other => bail!("unknown side {other:?}"),
    };
    let elapsed = start.elapsed();
    let own = getrusage(UsageWho::RUSAGE_SELF)?.max_rss();
    let children = getrusage(UsageWho::RUSAGE_CHILDREN)?.max_rss();
    println!(
        "{} {} {commit} {size}",
        elapsed.as_micros(),
        own.max(children)
    );
    Ok(())
}

/// What the reconciler does for a new revision: resolve the ref, shallow checkout into a
/// scratch directory, archive it (with the `.sourceignore` defaults) into storage under
/// the artifact lock, digesting on the way.
fn sluice_pipeline(url: &str, work: &Path) -> anyhow::Result<(String, u64)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let scheme = auth::parse_scheme(url).map_err(|e| anyhow!(e))?;
        let credentials = Credentials::default().with_url_userinfo(url);
        let session = Session::new(
            url,
            scheme,
            &credentials,
            &GitOptions::default(),
            GIT_TIMEOUT,
        )?;
        let resolved = session
            .resolve(&Reference::Branch(BRANCH.to_owned()))
            .await?;
        let scratch = tempfile::Builder::new()
            .prefix("gitrepository-")
            .tempdir_in(work)?;
        let dir = scratch.path().join("checkout");
        let commit = session.checkout(&resolved, &dir, &[], false).await?;
        let storage = Storage::new(StorageOptions {
            root: work.join("storage"),
            advertised_address: "localhost".to_owned(),
            retention_ttl: Duration::from_secs(60),
            retention_records: 2,
            digest_algorithm: DigestAlgorithm::Sha256,
        })?;
        let mut artifact = storage.new_artifact(
            "GitRepository",
            "default",
            "bench",
            &commit.revision(),
            &format!("{}.tar.gz", commit.hash),
        )?;
        let artifact = tokio::task::spawn_blocking(move || {
            storage.mkdir_all(&artifact)?;
            let _lock = storage.lock(&artifact)?;
            let rules = IgnoreRules::for_source(&dir, None)?;
            storage.archive(&mut artifact, &dir, Some(&rules))?;
            Ok::<_, anyhow::Error>(artifact)
        })
        .await??;
        drop(scratch);
        if !artifact.digest.starts_with("sha256:") {
            bail!("artifact has no sha256 digest: {:?}", artifact.digest);
        }
        let size = artifact
            .size
            .and_then(|s| u64::try_from(s).ok())
            .context("artifact has no size")?;
        Ok((commit.hash, size))
    })
}

fn run_tool(program: &str, args: &[&str], dir: &Path) -> anyhow::Result<String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {program}"))?;
    if !output.status.success() {
        bail!(
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The git CLI baseline: `git clone --depth 1`, `tar czf` without `.git`, `sha256sum`.
fn cli_pipeline(url: &str, work: &Path) -> anyhow::Result<(String, u64)> {
    let checkout = work.join("clone");
    let checkout_text = checkout.display().to_string();
    run_tool(
        "git",
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--branch",
            BRANCH,
            url,
            &checkout_text,
        ],
        work,
    )?;
    let archive = work.join("artifact.tar.gz");
    let archive_text = archive.display().to_string();
    run_tool(
        "tar",
        &[
            "czf",
            &archive_text,
            "--exclude=.git",
            "-C",
            &checkout_text,
            ".",
        ],
        work,
    )?;
    let sum = run_tool("sha256sum", &[&archive_text], work)?;
    if sum.split_whitespace().next().is_none_or(|h| h.len() != 64) {
        bail!("sha256sum printed {sum:?}");
    }
    let commit = run_tool("git", &["rev-parse", "HEAD"], &checkout)?;
    let size = std::fs::metadata(&archive)?.len();
    Ok((commit.trim().to_owned(), size))
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Times the reconciler's no-change poll (a new session and one `resolve`, compared with
/// the stored revision) and, for reference, `git ls-remote` from the CLI.
fn polls(
    url: &str,
    head: &str,
    settings: &Settings,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stored = sluice_source_controller::git::revision(Some(BRANCH), head);
    let mut sluice = Vec::new();
    runtime.block_on(async {
        let scheme = auth::parse_scheme(url).map_err(|e| anyhow!(e))?;
        for i in 0..settings.polls + 3 {
            let start = Instant::now();
            let credentials = Credentials::default().with_url_userinfo(url);
            let session = Session::new(
                url,
                scheme,
                &credentials,
                &GitOptions::default(),
                GIT_TIMEOUT,
            )?;
            let resolved = session
                .resolve(&Reference::Branch(BRANCH.to_owned()))
                .await?;
            if resolved.revision() != stored {
                bail!("poll resolved {} instead of {stored}", resolved.revision());
            }
            drop(session);
            if i >= 3 {
                sluice.push(start.elapsed());
            }
        }
        Ok::<_, anyhow::Error>(())
    })?;
    let mut cli = Vec::new();
    let here = std::env::temp_dir();
    for i in 0..settings.polls + 3 {
        let start = Instant::now();
        let out = run_tool(
            "git",
            &["ls-remote", url, &format!("refs/heads/{BRANCH}")],
            &here,
        )?;
        if !out.starts_with(head) {
            bail!("git ls-remote printed {out:?}, expected {head}");
        }
        if i >= 3 {
            cli.push(start.elapsed());
        }
    }
    Ok((sluice, cli))
}

fn parent() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let total = Instant::now();
    let server = GitHttpServer::start(GitHttpOptions::default())?;
    let bare = server.create_repo("bench.git")?;
    let generated = Instant::now();
    let head = generate(&bare, &settings)?;
    println!(
        "repository: {} files, {} commits, generated in {:.1} s; head {head}",
        settings.files,
        settings.commits,
        generated.elapsed().as_secs_f64()
    );
    let url = server.http_url("bench.git");

    let work = tempfile::Builder::new().prefix("sluice-bench-").tempdir()?;
    let mut results: Vec<(&str, Vec<Run>)> = vec![("sluice", Vec::new()), ("cli", Vec::new())];
    // One warm-up each (page cache, nginx workers), then the sides alternate so that
    // background load on the shared machine hits both alike.
    for round in 0..=settings.runs {
        for (side, runs) in &mut results {
            let dir: PathBuf = work.path().join(format!("{side}-{round}"));
            std::fs::create_dir(&dir)?;
            let run = run_child(side, &url, &dir)?;
            std::fs::remove_dir_all(&dir)?;
            if run.commit != head {
                bail!("{side} checked out {} instead of {head}", run.commit);
            }
            if round > 0 {
                runs.push(run);
            }
        }
    }
    println!(
        "\nclone-to-artifact, median of {} runs (after 1 warm-up):",
        settings.runs
    );
    println!(
        "| side | median ms | min ms | max ms | peak RSS MiB (max over runs) | artifact KiB |"
    );
    println!("|---|---|---|---|---|---|");
    for (side, runs) in &results {
        let times: Vec<Duration> = runs.iter().map(|r| r.elapsed).collect();
        let min = times.iter().min().copied().unwrap_or_default();
        let max = times.iter().max().copied().unwrap_or_default();
        let rss = runs
            .iter()
            .map(|r| r.peak_rss_kib)
            .max()
            .unwrap_or_default();
        let size = runs.first().map(|r| r.size).unwrap_or_default();
        #[allow(clippy::cast_precision_loss)] // KiB counts far below 2^52.
        let rss_mib = rss as f64 / 1024.0;
        println!(
            "| {side} | {:.0} | {:.0} | {:.0} | {rss_mib:.1} | {} |",
            millis(median(times)),
            millis(min),
            millis(max),
            size / 1024
        );
    }

    let (sluice, cli) = polls(&url, &head, &settings)?;
    println!(
        "\nno-change poll, {} polls (after 3 warm-ups):",
        settings.polls
    );
    println!("| side | median ms | p90 ms | max ms |");
    println!("|---|---|---|---|");
    for (side, mut times) in [
        ("sluice Session::new + resolve", sluice),
        ("git ls-remote", cli),
    ] {
        times.sort();
        let p90 = times[(times.len() * 9 / 10).min(times.len() - 1)];
        let max = times.last().copied().unwrap_or_default();
        println!(
            "| {side} | {:.1} | {:.1} | {:.1} |",
            millis(median(times)),
            millis(p90),
            millis(max)
        );
    }
    println!("\ntotal bench time {:.0} s", total.elapsed().as_secs_f64());
    Ok(())
}
