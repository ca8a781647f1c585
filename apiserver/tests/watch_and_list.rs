//! Lists and watches as kube-rs' reflector machinery uses them: consistent paging, bookmarks,
//! `sendInitialEvents` streaming lists, and recovery from compaction through `410 Gone`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;

fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        data: Some([("v".to_owned(), value.to_owned())].into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn paged_lists_are_complete_and_consistent_while_writes_go_on() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "default");
    for i in 0..25 {
        api.create(
            &PostParams::default(),
            &config_map(&format!("cm-{i:02}"), "0"),
        )
        .await
        .unwrap();
    }
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(10);
    let mut first_version = None;
    loop {
        let page = api.list(&params).await.unwrap();
        // Writes between pages must not leak into later pages.
        api.create(
            &PostParams::default(),
            &config_map(&format!("late-{}", names.len()), "0"),
        )
        .await
        .unwrap();
        let version = page.metadata.resource_version.clone();
        assert_eq!(
            *first_version.get_or_insert(version.clone()),
            version,
            "every page is at the first page's resourceVersion"
        );
        names.extend(page.items.into_iter().filter_map(|c| c.metadata.name));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => {
                params = ListParams::default().limit(10).continue_token(&token)
            }
            _ => break,
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("cm-{i:02}")).collect();
    assert_eq!(names, expected);
    server.stop().await;
}

#[tokio::test]
async fn watches_with_bookmarks_receive_them() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "default");
    let version = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut stream = api
        .watch(&WatchParams::default(), &version)
        .await
        .unwrap()
        .boxed();
    let bookmark = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let WatchEvent::Bookmark(bookmark) = stream.try_next().await.unwrap().unwrap() {
                return bookmark;
            }
        }
    })
    .await
    .expect("a bookmark arrives within the bookmark interval");
    assert!(
        bookmark.metadata.resource_version.parse::<u64>().unwrap()
            >= version.parse::<u64>().unwrap()
    );
    server.stop().await;
}

#[tokio::test]
async fn streaming_lists_end_with_the_initial_events_bookmark() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "default");
    api.create(&PostParams::default(), &config_map("existing", "1"))
        .await
        .unwrap();
    let mut stream = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.try_next().await.unwrap().unwrap() {
                watcher::Event::InitApply(cm) => seen.push(cm.metadata.name.unwrap()),
                watcher::Event::InitDone => break,
                _ => {}
            }
        }
    })
    .await
    .expect("the initial events end");
    assert_eq!(seen, ["existing"]);
    server.stop().await;
}

/// Follows a kube-rs watcher, keeping the state it describes.
async fn follow(
    api: Api<ConfigMap>,
    state: std::sync::Arc<std::sync::Mutex<BTreeMap<String, String>>>,
    relists: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let config = watcher::Config::default().timeout(1);
    let mut stream = watcher(api, config).boxed();
    let mut pending = BTreeMap::new();
    while let Some(event) = stream.try_next().await.unwrap_or(None) {
        let value = |cm: &ConfigMap| {
            cm.data
                .as_ref()
                .and_then(|d| d.get("v").cloned())
                .unwrap_or_default()
        };
        match event {
            watcher::Event::Init => {
                relists.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                pending.clear();
            }
            watcher::Event::InitApply(cm) => {
                pending.insert(cm.metadata.name.clone().unwrap(), value(&cm));
            }
            watcher::Event::InitDone => *state.lock().unwrap() = std::mem::take(&mut pending),
            watcher::Event::Apply(cm) => {
                state
                    .lock()
                    .unwrap()
                    .insert(cm.metadata.name.clone().unwrap(), value(&cm));
            }
            watcher::Event::Delete(cm) => {
                state
                    .lock()
                    .unwrap()
                    .remove(cm.metadata.name.as_ref().unwrap());
            }
        }
    }
}

#[tokio::test]
async fn a_watcher_recovers_from_compaction_by_relisting_and_converges() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "default");
    let state = std::sync::Arc::new(std::sync::Mutex::new(BTreeMap::new()));
    let relists = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let follower = tokio::spawn(follow(api.clone(), state.clone(), relists.clone()));
    for i in 0..5 {
        api.create(&PostParams::default(), &config_map(&format!("a{i}"), "1"))
            .await
            .unwrap();
    }
    // Let the watcher catch up, then compact everything it has seen and keep writing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server
        .backend()
        .store
        .compact(server.backend().store.revision());
    for i in 0..5 {
        let patch = serde_json::json!({"data": {"v": "2"}});
        api.patch(
            &format!("a{i}"),
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(patch),
        )
        .await
        .unwrap();
    }
    api.delete("a0", &Default::default()).await.unwrap();
    // The next re-watch (after the 1 s timeout) starts from a compacted revision.
    server
        .backend()
        .store
        .compact(server.backend().store.revision());
    let expected: BTreeMap<String, String> =
        (1..5).map(|i| (format!("a{i}"), "2".to_owned())).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if *state.lock().unwrap() == expected {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "watcher did not converge: {:?}",
            state.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(relists.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    follower.abort();
    server.stop().await;
}

#[tokio::test]
async fn watching_from_a_compacted_revision_answers_410_gone() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "default");
    let created = api
        .create(&PostParams::default(), &config_map("x", "1"))
        .await
        .unwrap();
    let old = created.metadata.resource_version.unwrap();
    api.create(&PostParams::default(), &config_map("y", "1"))
        .await
        .unwrap();
    server
        .backend()
        .store
        .compact(server.backend().store.revision());
    let mut stream = api
        .watch(&WatchParams::default(), &old)
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap().unwrap() {
        WatchEvent::Error(status) => {
            assert_eq!(status.code, 410);
            assert_eq!(status.reason, "Expired");
        }
        other => panic!("expected a 410 error event, got {other:?}"),
    }
    server.stop().await;
}
