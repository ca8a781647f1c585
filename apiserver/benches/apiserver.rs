//! Throughput, watch latency, list time and memory of `sluice-apiserver`, measured against
//! the release binary over HTTPS with kube-rs clients, as a controller would talk to it.
//!
//! Run with `cargo bench -p sluice-apiserver --bench apiserver`. Method and results are in
//! `apiserver/BENCHMARKS.md`. Sizes can be lowered for a quick run with
//! `SLUICE_BENCH_SCALE=0.1`; `SLUICE_BENCH_SERVER=/path/to/sluice-apiserver` measures another
//! build of the server (the client side stays the same).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark may unwrap.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams};

fn scaled(n: usize) -> usize {
    let scale: f64 = std::env::var("SLUICE_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64) * scale).max(1.0) as usize
}

async fn client_for(kubeconfig: &Path) -> kube::Client {
    let text = std::fs::read_to_string(kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&text).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    kube::Client::try_from(config).unwrap()
}

async fn start_server(dir: &Path) -> (Child, std::path::PathBuf) {
    let kubeconfig = dir.join("kubeconfig");
    // Another build of the server can be measured with the same client, for comparisons.
    let binary = std::env::var_os("SLUICE_BENCH_SERVER")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_sluice-apiserver").into());
    let mut child = Command::new(binary)
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", "127.0.0.1:0", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if kubeconfig.exists() {
            let client = client_for(&kubeconfig).await;
            if Api::<ConfigMap>::namespaced(client, "default")
                .list(&ListParams::default().limit(1))
                .await
                .is_ok()
            {
                return (child, kubeconfig);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn small_config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some([("bench".to_owned(), "true".to_owned())].into()),
            ..Default::default()
        },
        data: Some(
            [
                ("value".to_owned(), value.to_owned()),
                (
                    "note".to_owned(),
                    "a small config map of about 300 bytes in JSON".to_owned(),
                ),
            ]
            .into(),
        ),
        ..Default::default()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

/// Throughput of a run of writes and the latency of each request.
struct Rate {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.0}/s (request latency p50 {:.2} ms, p99 {:.2} ms)",
            self.per_second, self.p50_ms, self.p99_ms
        )
    }
}

fn rate(count: usize, elapsed: Duration, mut latencies: Vec<f64>) -> Rate {
    latencies.sort_by(f64::total_cmp);
    Rate {
        per_second: count as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
    }
}

/// One create (`POST`) or update (a merge `PATCH`) of the ConfigMap `name`.
async fn write_one(api: &Api<ConfigMap>, name: &str, i: usize, update: bool) {
    if update {
        let patch = serde_json::json!({"data": {"value": i.to_string()}});
        api.patch(name, &Default::default(), &kube::api::Patch::Merge(patch))
            .await
            .unwrap();
    } else {
        api.create(&PostParams::default(), &small_config_map(name, "0"))
            .await
            .unwrap();
    }
}

async fn sequential_writes(api: &Api<ConfigMap>, prefix: &str, count: usize, update: bool) -> Rate {
    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for i in 0..count {
        let sent = Instant::now();
        write_one(api, &format!("{prefix}-{i}"), i, update).await;
        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    rate(count, started.elapsed(), latencies)
}

async fn concurrent_writes(
    kubeconfig: &Path,
    prefix: &str,
    clients: usize,
    each: usize,
    update: bool,
) -> Rate {
    let mut apis = Vec::new();
    for _ in 0..clients {
        apis.push(Api::<ConfigMap>::namespaced(
            client_for(kubeconfig).await,
            "default",
        ));
    }
    let started = Instant::now();
    let tasks: Vec<_> = apis
        .into_iter()
        .enumerate()
        .map(|(c, api)| {
            let prefix = format!("{prefix}-{c}");
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(each);
                for i in 0..each {
                    let sent = Instant::now();
                    write_one(&api, &format!("{prefix}-{i}"), i, update).await;
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(clients * each);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    rate(clients * each, started.elapsed(), latencies)
}

/// What one `pwrite` of a small record plus `fdatasync` costs in a preallocated file in
/// `dir` (as the log does it): the floor under a durable write's latency, and the ceiling
/// of a single client's durable writes per second. Returns p50 and p99 in milliseconds.
fn fdatasync_cost(dir: &Path, count: usize) -> (f64, f64) {
    use std::os::unix::fs::FileExt;
    let path = dir.join("fdatasync-probe");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let record = vec![b'x'; 700];
    file.write_all_at(&vec![0; record.len() * (count + 1)], 0)
        .unwrap();
    file.sync_all().unwrap();
    let mut times = Vec::with_capacity(count);
    for i in 0..count {
        file.write_all_at(&record, (i * record.len()) as u64)
            .unwrap();
        let started = Instant::now();
        file.sync_data().unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    drop(file);
    std::fs::remove_file(&path).unwrap();
    times.sort_by(f64::total_cmp);
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

async fn watch_latency(kubeconfig: &Path, watchers: usize, writes: usize) -> (f64, f64, f64) {
    let writer = Api::<ConfigMap>::namespaced(client_for(kubeconfig).await, "latency");
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> =
        Api::all(client_for(kubeconfig).await);
    let ns = serde_json::from_value(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "latency"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let version = writer
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let latencies = Arc::new(std::sync::Mutex::new(Vec::with_capacity(watchers * writes)));
    let mut tasks = Vec::new();
    for _ in 0..watchers {
        let api = Api::<ConfigMap>::namespaced(client_for(kubeconfig).await, "latency");
        let stream = api.watch(&WatchParams::default(), &version).await.unwrap();
        let latencies = Arc::clone(&latencies);
        tasks.push(tokio::spawn(async move {
            let mut stream = stream.boxed();
            let mut seen = 0;
            while seen < writes {
                if let Some(WatchEvent::Added(cm)) = stream.try_next().await.unwrap() {
                    let sent: u128 = cm.data.unwrap()["value"].parse().unwrap();
                    latencies
                        .lock()
                        .unwrap()
                        .push((now_micros() - sent) as f64 / 1000.0);
                    seen += 1;
                }
            }
        }));
    }
    // A steady write rate, as controllers produce, rather than a burst.
    let mut ticker = tokio::time::interval(Duration::from_millis(5));
    for i in 0..writes {
        ticker.tick().await;
        writer
            .create(
                &PostParams::default(),
                &small_config_map(&format!("w-{i}"), &now_micros().to_string()),
            )
            .await
            .unwrap();
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("watchers received every write")
            .unwrap();
    }
    let mut all = latencies.lock().unwrap().clone();
    all.sort_by(f64::total_cmp);
    (
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        percentile(&all, 1.0),
    )
}

async fn list_time(api: &Api<ConfigMap>, runs: usize) -> (f64, usize) {
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..runs {
        let started = Instant::now();
        count = api.list(&ListParams::default()).await.unwrap().items.len();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (percentile(&times, 0.5), count)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    println!(
        "sluice-apiserver benchmark (durable writes: every acknowledged write is fdatasync'ed)"
    );
    let (sync_p50, sync_p99) = fdatasync_cost(dir.path(), scaled(2000));
    println!(
        "fdatasync of a 700-byte append on this disk: p50 {sync_p50:.3} ms, p99 {sync_p99:.3} ms (at p50, at most {:.0} sequential durable writes/s)",
        1000.0 / sync_p50
    );
    let (mut server, kubeconfig) = start_server(dir.path()).await;
    let pid = server.id();
    let api = Api::<ConfigMap>::namespaced(client_for(&kubeconfig).await, "default");
    println!("RSS at start: {:.1} MiB", rss_mib(pid));

    let n = scaled(2000);
    println!(
        "sequential creates: {} ({n} ConfigMaps, one client)",
        sequential_writes(&api, "seq", n, false).await
    );
    println!(
        "sequential updates: {} ({n} merge patches, one client)",
        sequential_writes(&api, "seq", n, true).await
    );
    let each = scaled(500);
    println!(
        "concurrent creates: {} (16 clients x {each})",
        concurrent_writes(&kubeconfig, "conc", 16, each, false).await
    );
    println!(
        "concurrent updates: {} (16 clients x {each} merge patches)",
        concurrent_writes(&kubeconfig, "conc", 16, each, true).await
    );

    let writes = scaled(500);
    let (p50, p99, max) = watch_latency(&kubeconfig, 50, writes).await;
    println!(
        "watch delivery of {writes} creates to 50 watchers (from sending the write to each watcher receiving it): p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms"
    );
    // The latency step left `writes` ConfigMaps and a namespace besides the default's.
    let elsewhere = writes + 1;

    // Fill the default namespace to 10,000 ConfigMaps, then list them.
    let have = api.list(&ListParams::default()).await.unwrap().items.len();
    let target = scaled(10_000);
    if have < target {
        concurrent_writes(&kubeconfig, "fill", 16, (target - have).div_ceil(16), false).await;
    }
    let stored = api.list(&ListParams::default()).await.unwrap().items.len() + elsewhere;
    let before = rss_mib(pid);
    let (list_ms, listed) = list_time(&api, 5).await;
    println!("list of {listed} ConfigMaps: {list_ms:.1} ms (median of 5)");
    println!(
        "RSS with {stored} objects: {before:.1} MiB ({:.1} MiB after the lists)",
        rss_mib(pid)
    );

    let target = scaled(100_000);
    let each = target.saturating_sub(stored).div_ceil(16);
    let fill = concurrent_writes(&kubeconfig, "bulk", 16, each, false).await;
    println!("filled with 16 clients x {each} more creates: {fill}");
    let stored = stored + 16 * each;
    let before = rss_mib(pid);
    let (list_ms, listed) = list_time(&api, 3).await;
    println!("list of {listed} ConfigMaps: {list_ms:.1} ms (median of 3)");
    println!(
        "RSS with {stored} objects: {before:.1} MiB ({:.1} MiB after the lists)",
        rss_mib(pid)
    );

    server.kill().unwrap();
    server.wait().unwrap();
}
