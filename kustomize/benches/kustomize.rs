//! Whole-process time and peak memory of `sluice kustomize DIR` against `kubectl kustomize DIR`
//! (kustomize v5.8.1) on the same generated trees, in the same run. The method is written up in
//! `kustomize/BENCHMARKS.md`.
//!
//! ```text
//! cargo bench -p sluice-kustomize --bench kustomize             # all trees
//! cargo bench -p sluice-kustomize --bench kustomize -- medium   # trees whose name contains "medium"
//! cargo bench -p sluice-kustomize --bench kustomize -- --quick  # 3 runs per tree, a smoke test
//! ```
//!
//! Environment: `KUBECTL` (else `<workspace>/.venv/bin/kubectl`), `SLUICE_BIN` (else the bench
//! builds `sluice-cli` in release mode into its own target directory), `SLUICE_BENCH_RUNS`
//! (timed runs per tool and tree; defaults below), `SLUICE_BENCH_KEEP=1` keeps the trees.
//!
//! Each run is measured by a fresh copy of this binary started as
//! `kustomize --measure-child PROGRAM ARGS...`: it starts the program once, waits for it, and
//! prints the wall time and the program's peak resident set (`getrusage(RUSAGE_CHILDREN)`, the
//! largest child it waited for, which is the only one).

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use nix::sys::resource::{UsageWho, getrusage};

/// Timed runs per tool on the small and medium trees, unless `SLUICE_BENCH_RUNS` says.
const RUNS: usize = 30;
/// Timed runs per tool on the large tree: kubectl takes minutes per run there (its build time
/// grows with the square of the number of objects).
const RUNS_LARGE: usize = 3;
/// Untimed runs per tool before the timed ones (page cache, CPU frequency), besides the run
/// that checks the outputs. None on the large tree.
const WARMUP: usize = 2;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("--measure-child") {
        measure_child(&args[1..])
    } else {
        run(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The child side: run the program once, print `WALL_NANOS PEAK_RSS_KIB EXIT_CODE`.
fn measure_child(command: &[String]) -> Result<()> {
    let (program, args) = command
        .split_first()
        .context("--measure-child needs a program")?;
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("start {program}"))?;
    let wall = start.elapsed();
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).context("getrusage")?;
    println!(
        "{} {} {}",
        wall.as_nanos(),
        usage.max_rss(),
        status.code().unwrap_or(-1)
    );
    Ok(())
}

struct Tree {
    name: &'static str,
    describe: String,
    dir: PathBuf,
    runs: usize,
}

#[derive(Default)]
struct Samples {
    wall: Vec<Duration>,
    rss_kib: Vec<u64>,
}

fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let runs_override = match std::env::var("SLUICE_BENCH_RUNS") {
        Ok(runs) => Some(runs.parse::<usize>().context("SLUICE_BENCH_RUNS")?),
        Err(_) => quick.then_some(3),
    };

    let kubectl = common::kubectl().map_err(anyhow::Error::msg)?;
    let sluice = sluice_binary();
    let workdir = tempfile::Builder::new()
        .prefix("sluice-kustomize-bench")
        .tempdir()?;

    let mut trees = vec![
        Tree {
            name: "small",
            describe: String::new(),
            dir: workdir.path().join("small"),
            runs: RUNS,
        },
        Tree {
            name: "medium",
            describe: String::new(),
            dir: workdir.path().join("medium"),
            runs: RUNS,
        },
        Tree {
            name: "large",
            describe: String::new(),
            dir: workdir.path().join("large"),
            runs: RUNS_LARGE,
        },
    ];
    trees.retain(|tree| filters.is_empty() || filters.iter().any(|f| tree.name.contains(*f)));
    for tree in &mut trees {
        tree.describe = match tree.name {
            "small" => small_tree(&tree.dir)?,
            "medium" => medium_tree(&tree.dir)?,
            _ => large_tree(&tree.dir)?,
        };
        if let Some(runs) = runs_override {
            tree.runs = runs;
        }
    }

    println!("kubectl: {} ({})", kubectl.display(), version(&kubectl));
    match &sluice {
        Ok(path) => println!("sluice:  {}", path.display()),
        Err(why) => println!("sluice:  not measured: {why}"),
    }
    println!("machine: {} CPUs, {}", cpus(), os());
    println!();

    let mut table = String::from(
        "| tree | tool | runs | mean | ± stddev | min | median | peak RSS (median) | peak RSS (max) |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let mut summary = String::new();
    for tree in &trees {
        println!("== {}: {}", tree.name, tree.describe);
        let expected = output_of(&kubectl, &tree.dir)?;
        let documents = expected.matches("\n---\n").count() + usize::from(!expected.is_empty());
        println!(
            "   kubectl prints {documents} documents, {} bytes",
            expected.len()
        );
        let sluice = match &sluice {
            Ok(path) => match output_of(path, &tree.dir) {
                Ok(actual) if actual == expected => {
                    println!("   sluice prints the same bytes");
                    Some(path)
                }
                Ok(actual) => {
                    println!(
                        "   sluice's output DIFFERS from kubectl's ({} bytes); timings still shown\n{}",
                        actual.len(),
                        common::describe_text_difference(&expected, &actual)
                    );
                    Some(path)
                }
                Err(error) => {
                    println!("   sluice failed, not measured: {error:#}");
                    None
                }
            },
            Err(_) => None,
        };

        let mut kubectl_samples = Samples::default();
        let mut sluice_samples = Samples::default();
        let warmup = if tree.name == "large" { 0 } else { WARMUP };
        for round in 0..warmup + tree.runs {
            let timed = round >= warmup;
            // Interleaved, so that both tools see the same machine.
            let (wall, rss) = measure(&kubectl, &tree.dir)?;
            if timed {
                kubectl_samples.wall.push(wall);
                kubectl_samples.rss_kib.push(rss);
            }
            if let Some(sluice) = sluice {
                let (wall, rss) = measure(sluice, &tree.dir)?;
                if timed {
                    sluice_samples.wall.push(wall);
                    sluice_samples.rss_kib.push(rss);
                }
            }
        }
        table.push_str(&row(tree.name, "kubectl kustomize", &kubectl_samples));
        if sluice.is_some() {
            table.push_str(&row(tree.name, "sluice kustomize", &sluice_samples));
            let speedup = mean(&kubectl_samples.wall).as_secs_f64()
                / mean(&sluice_samples.wall).as_secs_f64();
            let memory = median_u64(&kubectl_samples.rss_kib) as f64
                / median_u64(&sluice_samples.rss_kib).max(1) as f64;
            let _ = writeln!(
                summary,
                "- {}: sluice is {speedup:.1}x faster (mean wall time) and uses {memory:.1}x less \
                 peak memory (median peak RSS)",
                tree.name
            );
        }
    }
    println!();
    println!("{table}");
    println!("{summary}");

    if std::env::var_os("SLUICE_BENCH_KEEP").is_some_and(|v| v == "1") {
        let kept = workdir.keep();
        println!("trees kept in {}", kept.display());
    }
    Ok(())
}

/// One measured run of `PROGRAM kustomize DIR` through a fresh measuring child.
fn measure(program: &Path, dir: &Path) -> Result<(Duration, u64)> {
    let me = std::env::current_exe()?;
    let output = Command::new(me)
        .arg("--measure-child")
        .arg(program)
        .arg("kustomize")
        .arg(dir)
        .output()?;
    if !output.status.success() {
        bail!(
            "the measuring child failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [wall, rss, code] = fields[..] else {
        bail!("unexpected measurement {text:?}");
    };
    if code != "0" {
        bail!(
            "{} kustomize {} exited with {code}",
            program.display(),
            dir.display()
        );
    }
    Ok((Duration::from_nanos(wall.parse()?), rss.parse()?))
}

/// What `PROGRAM kustomize DIR` prints.
fn output_of(program: &Path, dir: &Path) -> Result<String> {
    let output = Command::new(program).arg("kustomize").arg(dir).output()?;
    if !output.status.success() {
        bail!(
            "{} kustomize {} failed: {}",
            program.display(),
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// `$SLUICE_BIN`, else `sluice` built in release mode next to this bench.
fn sluice_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("SLUICE_BIN").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("SLUICE_BIN={} is not a file", path.display()))
        };
    }
    // This bench is <target>/release/deps/kustomize-HASH.
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let target = me
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .ok_or("cannot tell the target directory")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "sluice-cli",
            "--bin",
            "sluice",
        ])
        .arg("--target-dir")
        .arg(target)
        .current_dir(common::workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let binary = target.join("release/sluice");
    if status.success() && binary.is_file() {
        Ok(binary)
    } else {
        Err("`cargo build --release -p sluice-cli` did not produce a sluice binary".to_owned())
    }
}

fn row(tree: &str, tool: &str, samples: &Samples) -> String {
    let mut sorted = samples.wall.clone();
    sorted.sort();
    format!(
        "| {tree} | {tool} | {} | {} | {} | {} | {} | {} | {} |\n",
        samples.wall.len(),
        ms(mean(&samples.wall)),
        ms(stddev(&samples.wall)),
        ms(sorted.first().copied().unwrap_or_default()),
        ms(sorted.get(sorted.len() / 2).copied().unwrap_or_default()),
        mib(median_u64(&samples.rss_kib)),
        mib(samples.rss_kib.iter().copied().max().unwrap_or(0)),
    )
}

fn mean(samples: &[Duration]) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.iter().sum::<Duration>() / u32::try_from(samples.len()).unwrap_or(u32::MAX)
}

fn stddev(samples: &[Duration]) -> Duration {
    if samples.len() < 2 {
        return Duration::ZERO;
    }
    let mean = mean(samples).as_secs_f64();
    let variance = samples
        .iter()
        .map(|s| (s.as_secs_f64() - mean).powi(2))
        .sum::<f64>()
        / (samples.len() - 1) as f64;
    Duration::from_secs_f64(variance.sqrt())
}

fn median_u64(samples: &[u64]) -> u64 {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn version(kubectl: &Path) -> String {
    Command::new(kubectl)
        .args(["version", "--client"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .replace('\n', "; ")
                .trim_end_matches("; ")
                .to_owned()
        })
        .unwrap_or_default()
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn os() -> String {
    fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                line.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_owned())
            })
        })
        .unwrap_or_else(|| std::env::consts::OS.to_owned())
}

// ---------------------------------------------------------------------------------------------
// The trees.

fn write(root: &Path, path: &str, contents: &str) -> Result<()> {
    let path = root.join(path);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(&path, contents).with_context(|| format!("write {}", path.display()))
}

fn deployment(name: &str, image: &str, config: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      serviceAccountName: {name}
      containers:
      - name: {name}
        image: {image}
        ports:
        - containerPort: 8080
          name: http
        envFrom:
        - configMapRef:
            name: {config}
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
      volumes:
      - name: config
        configMap:
          name: {config}
"
    )
}

fn service(name: &str) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: {name}
  ports:
  - name: http
    port: 80
    targetPort: http
"
    )
}

fn config_map(name: &str, index: usize) -> String {
    format!(
        "apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  INDEX: \"{index}\"
  LOG_LEVEL: info
  settings.yaml: |
    feature: {index}
    enabled: true
"
    )
}

fn service_account(name: &str) -> String {
    format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n")
}

/// A base with a Deployment, Service and ConfigMap, and an overlay with two patches (one
/// strategic merge, one JSON 6902) and a ConfigMap generator.
fn small_tree(root: &Path) -> Result<String> {
    let base = [
        deployment("web", "nginx:1.25", "web-config"),
        service("web"),
        config_map("web-config", 0),
        service_account("web"),
    ]
    .join("---\n");
    write(root, "base/resources.yaml", &base)?;
    write(
        root,
        "base/kustomization.yaml",
        "resources:\n- resources.yaml\n",
    )?;
    write(
        root,
        "overlay/kustomization.yaml",
        "namespace: prod
namePrefix: prod-
resources:
- ../base
configMapGenerator:
- name: web-env
  literals:
  - MODE=production
  - REPLICAS=3
patches:
- path: replicas.yaml
- target:
    kind: Deployment
    name: web
  patch: |-
    - op: replace
      path: /spec/template/spec/containers/0/image
      value: nginx:1.27
",
    )?;
    write(
        root,
        "overlay/replicas.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
    )?;
    write(root, "kustomization.yaml", "resources:\n- overlay\n")?;
    Ok("a base of 4 objects, an overlay with 2 patches and a ConfigMap generator".to_owned())
}

/// One base of 10 objects used by 10 overlays (namespace, prefix, labels, images, a patch, a
/// generator each), all built from one root.
fn medium_tree(root: &Path) -> Result<String> {
    let mut base = vec![
        deployment("api", "example.com/api:1.0.0", "api-config"),
        service("api"),
        config_map("api-config", 0),
        service_account("api"),
    ];
    base.push(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: api
rules:
- apiGroups: [\"\"]
  resources: [configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: api
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: api
subjects:
- kind: ServiceAccount
  name: api
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: api
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: api
  minReplicas: 2
  maxReplicas: 10
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: api
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: api
spec:
  rules:
  - host: api.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: api
            port:
              number: 80
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api
spec:
  podSelector:
    matchLabels:
      app: api
  policyTypes: [Ingress]
"
        .to_owned(),
    );
    write(root, "base/resources.yaml", &base.join("---\n"))?;
    write(
        root,
        "base/kustomization.yaml",
        "resources:\n- resources.yaml\n",
    )?;
    let mut top = String::from("resources:\n");
    for overlay in 0..10 {
        let _ = writeln!(top, "- overlays/env{overlay:02}");
        write(
            root,
            &format!("overlays/env{overlay:02}/kustomization.yaml"),
            &format!(
                "namespace: env{overlay:02}
namePrefix: env{overlay:02}-
labels:
- pairs:
    environment: env{overlay:02}
  includeSelectors: true
commonAnnotations:
  owner: team-{overlay}
images:
- name: example.com/api
  newTag: 1.{overlay}.0
resources:
- ../../base
configMapGenerator:
- name: api-env
  literals:
  - ENVIRONMENT=env{overlay:02}
  - SHARD={overlay}
patches:
- patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: api
    spec:
      template:
        spec:
          containers:
          - name: api
            env:
            - name: ENVIRONMENT
              value: env{overlay:02}
"
            ),
        )?;
    }
    write(root, "kustomization.yaml", &top)?;
    Ok("a base of 10 objects used by 10 overlays, 110 objects".to_owned())
}

/// About 4,000 objects: 40 apps of 25 Deployment + Service + ConfigMap + ServiceAccount sets
/// each, with a prefix, labels, a generator and a patch per app, and a namespace and
/// annotations at the root.
fn large_tree(root: &Path) -> Result<String> {
    const APPS: usize = 40;
    const SETS: usize = 25;
    let mut top = String::from(
        "namespace: large\ncommonAnnotations:\n  generated-by: sluice-bench\nresources:\n",
    );
    for app in 0..APPS {
        let _ = writeln!(top, "- app{app:02}");
        let mut objects = Vec::with_capacity(SETS * 4);
        for set in 0..SETS {
            let name = format!("svc{set:02}");
            objects.push(deployment(
                &name,
                &format!("example.com/app{app:02}:{set}"),
                &format!("{name}-config"),
            ));
            objects.push(service(&name));
            objects.push(config_map(&format!("{name}-config"), set));
            objects.push(service_account(&name));
        }
        write(
            root,
            &format!("app{app:02}/resources.yaml"),
            &objects.join("---\n"),
        )?;
        write(
            root,
            &format!("app{app:02}/kustomization.yaml"),
            &format!(
                "namePrefix: app{app:02}-
labels:
- pairs:
    app.kubernetes.io/part-of: app{app:02}
resources:
- resources.yaml
configMapGenerator:
- name: shared
  literals:
  - APP=app{app:02}
patches:
- target:
    kind: Deployment
  patch: |-
    - op: replace
      path: /spec/replicas
      value: 2
"
            ),
        )?;
    }
    write(root, "kustomization.yaml", &top)?;
    Ok(format!(
        "{APPS} apps of {} objects and a generator each, {} objects",
        SETS * 4,
        APPS * (SETS * 4 + 1)
    ))
}
