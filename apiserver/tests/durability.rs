//! Durability: `kill -9` the server while a client writes; after a restart every
//! acknowledged write is there, revisions keep increasing, and a watch resumes from a
//! revision seen before the crash.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams};

/// Starts the `sluice-apiserver` binary on a free port and waits until it serves.
async fn spawn_server(data_dir: &Path) -> (Child, kube::Client) {
    let kubeconfig = data_dir.join("kubeconfig");
    let _ = std::fs::remove_file(&kubeconfig);
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice-apiserver"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(&kubeconfig)
            && let Ok(config) = kube::config::Kubeconfig::from_yaml(&text)
            && let Ok(config) =
                kube::Config::from_custom_kubeconfig(config, &Default::default()).await
            && let Ok(client) = kube::Client::try_from(config)
            && Api::<ConfigMap>::namespaced(client.clone(), "default")
                .list(&ListParams::default().limit(1))
                .await
                .is_ok()
        {
            return (child, client);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not come up");
}

fn config_map(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_dash_nine() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, client) = spawn_server(dir.path()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let writer = {
        let (api, acked) = (api.clone(), Arc::clone(&acked));
        tokio::spawn(async move {
            for i in 0.. {
                let name = format!("cm-{i:05}");
                match api.create(&PostParams::default(), &config_map(&name)).await {
                    Ok(created) => {
                        let version = created.metadata.resource_version.unwrap().parse().unwrap();
                        acked.lock().unwrap().push((name, version));
                    }
                    Err(_) => break,
                }
            }
        })
    };
    // Let writes flow, then kill without warning while they continue.
    while acked.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let _ = writer.await;
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 200);

    let (mut child, client) = spawn_server(dir.path()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let stored: Vec<ConfigMap> = api.list(&ListParams::default()).await.unwrap().items;
    for (name, version) in &acked {
        let found = stored
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(name.as_str()));
        let found = found.unwrap_or_else(|| panic!("acknowledged {name} lost in the crash"));
        assert_eq!(
            found.metadata.resource_version.as_deref(),
            Some(version.to_string().as_str())
        );
    }
    let newest = acked.iter().map(|(_, v)| *v).max().unwrap();
    let after = api
        .create(&PostParams::default(), &config_map("after-restart"))
        .await
        .unwrap();
    assert!(
        after
            .metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > newest
    );

    // A watch from a revision seen before the crash resumes with the writes after it.
    let (resume_name, resume_from) = acked[acked.len() / 2].clone();
    let mut stream = api
        .watch(&WatchParams::default(), &resume_from.to_string())
        .await
        .unwrap()
        .boxed();
    let next_expected = &acked[acked.len() / 2 + 1].0;
    match stream.try_next().await.unwrap().unwrap() {
        WatchEvent::Added(cm) => assert_eq!(
            cm.metadata.name.as_ref(),
            Some(next_expected),
            "after {resume_name}"
        ),
        other => panic!("expected the next acknowledged create, got {other:?}"),
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// With group commit one `fdatasync` acknowledges many writers at once: killed while 16
/// clients write, the server still has every write any of them saw acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_concurrent_writes_survive_kill_dash_nine() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, client) = spawn_server(dir.path()).await;
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
            let acked = Arc::clone(&acked);
            tokio::spawn(async move {
                for i in 0.. {
                    let name = format!("w{w:02}-{i:05}");
                    match api.create(&PostParams::default(), &config_map(&name)).await {
                        Ok(created) => {
                            let version =
                                created.metadata.resource_version.unwrap().parse().unwrap();
                            acked.lock().unwrap().push((name, version));
                        }
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    while acked.lock().unwrap().len() < 400 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    for writer in writers {
        let _ = writer.await;
    }
    let acked = acked.lock().unwrap().clone();

    let (mut child, client) = spawn_server(dir.path()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let stored: std::collections::HashMap<String, String> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| {
            (
                c.metadata.name.unwrap(),
                c.metadata.resource_version.unwrap(),
            )
        })
        .collect();
    for (name, version) in &acked {
        assert_eq!(
            stored.get(name),
            Some(&version.to_string()),
            "acknowledged {name} lost in the crash"
        );
    }
    let mut versions: Vec<u64> = acked.iter().map(|(_, v)| *v).collect();
    versions.sort_unstable();
    versions.dedup();
    assert_eq!(
        versions.len(),
        acked.len(),
        "every write got its own revision"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
