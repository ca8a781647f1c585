//! The embedded store: every object as JSON bytes under a key, one global revision that
//! every write increments (it becomes the objects' `resourceVersion`), a watch history for
//! resuming watches, and consistent snapshots for paged lists.
//!
//! Durability: a write is appended to the write-ahead log and `fdatasync`ed before the
//! caller sees it succeed, so an acknowledged write survives `kill -9`. The log is split
//! into segments; after enough bytes a snapshot of all objects is written in the background
//! and the segments it covers are deleted. On start the snapshot is loaded and the segments
//! replayed, which also rebuilds the watch history since the snapshot.
//!
//! All objects are held in memory in a persistent ordered map (`imbl::OrdMap`): cloning it
//! is O(1), which makes list snapshots for `continue` tokens and disk snapshots cheap.
//!
//! Writes are serialised: [`Store::write`] runs the caller's closure under the writer lock
//! with the current entry and the revision the write will get, so read-modify-write with
//! preconditions (resourceVersion conflicts, patches) is atomic.
//!
//! Group commit: a write is *staged* under the writer lock (its record appended to the log
//! without a sync, and applied to the writer's own view of the objects, which the next
//! write's closure sees), then the writer lock is released and the write waits until a
//! `fdatasync` that started after its append has finished. The first waiter to find no
//! sync running becomes the leader: it takes every write staged so far, syncs once, and
//! *publishes* them (to the readers' state, the watch history and the watchers) in
//! revision order; writers that staged meanwhile wait for the next sync. So concurrent
//! writers share one `fdatasync`, while nobody (reader, watcher or writer's caller) sees a
//! write before it is durable. The wait runs outside the async runtime's worker threads
//! ([`tokio::task::block_in_place`] on a multi-threaded runtime), so a slow disk does not
//! stall other requests. If a sync fails, the staged writes may or may not be on disk: the
//! store refuses every later write (and the writes waiting) until it is reopened, which
//! recovers whatever the log holds; no failed write was acknowledged.

mod wal;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use imbl::OrdMap;
use tokio::sync::broadcast;

use wal::{Op, Record, Wal};

/// The store's logical clock: incremented by every write.
pub type Revision = u64;

/// A stored value and the revision of its last modification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Revision of the write that produced this value.
    pub revision: Revision,
    /// The value (an object serialized as JSON).
    pub value: Bytes,
}

/// What a watch event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// A key was created.
    Added,
    /// A key's value changed.
    Modified,
    /// A key was removed; the event carries the value's final state.
    Deleted,
}

/// One change, as delivered to watchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventType,
    /// The key that changed.
    pub key: Arc<str>,
    /// The revision of the change.
    pub revision: Revision,
    /// The new value, or for a deletion the final state.
    pub value: Bytes,
    /// The value before the change (absent for `Added`), so watchers with selectors can
    /// tell when an object enters or leaves their view.
    pub prev: Option<Bytes>,
}

/// What a write closure decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Store this value under the key (create or replace).
    Put(Bytes),
    /// Remove the key; the bytes are the object's final state, reported to watchers.
    Delete(Bytes),
    /// Change nothing (no revision is consumed).
    Unchanged,
}

/// Errors of the store itself. Callers' own errors pass through [`Store::write`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The disk failed; the write was not applied.
    #[error("storage failure: {0}")]
    Io(String),
    /// The requested revision is older than the oldest one kept.
    #[error("revision {requested} has been compacted; the oldest available is {oldest}")]
    Compacted {
        /// The revision asked for.
        requested: Revision,
        /// The oldest revision that can still be served.
        oldest: Revision,
    },
    /// A watcher fell too far behind the writes and must relist.
    #[error("watch fell behind the event stream")]
    Lagged,
}

/// Tunables of a [`Store`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How many recent events are kept for resuming watches.
    pub history: usize,
    /// Log bytes after which a snapshot is written and old segments dropped.
    pub snapshot_after_bytes: u64,
    /// How long a list snapshot is kept for `continue` tokens.
    pub list_snapshot_ttl: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            history: 50_000,
            snapshot_after_bytes: 64 * 1024 * 1024,
            list_snapshot_ttl: Duration::from_secs(300),
        }
    }
}

/// A page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    /// The entries, in key order.
    pub items: Vec<(Arc<str>, Entry)>,
    /// The revision the whole list is consistent at.
    pub revision: Revision,
    /// When more entries follow: the last key of this page (resume after it).
    pub continue_after: Option<Arc<str>>,
}

type Objects = OrdMap<Arc<str>, Entry>;

#[derive(Debug)]
struct State {
    revision: Revision,
    objects: Objects,
    history: VecDeque<Arc<Event>>,
    /// Events with a revision above this are in `history`; watching from below it fails.
    oldest_watchable: Revision,
    /// Snapshots of `objects` at the revision of a paged list, for its `continue` tokens.
    list_snapshots: BTreeMap<Revision, (Objects, Instant)>,
}

/// The write side: the log and every staged write, durable or not.
#[derive(Debug)]
struct Writer {
    wal: Wal,
    /// The objects with every staged write applied: what the next write decides on.
    head: Objects,
    /// The revision of the last staged write.
    head_revision: Revision,
    /// Staged writes not yet published, in revision order.
    staged: Vec<Arc<Event>>,
}

/// The group-commit state.
#[derive(Debug)]
struct Commit {
    /// Every write up to this revision is durable and published.
    durable: Revision,
    /// A leader is syncing and publishing (only one at a time, which keeps publication in
    /// revision order).
    syncing: bool,
    /// Set when a sync failed: every later write is refused.
    failed: Option<String>,
}

/// The embedded store. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    options: StoreOptions,
    state: RwLock<State>,
    writer: Mutex<Writer>,
    commit: Mutex<Commit>,
    /// Signalled whenever `commit` changes.
    committed: Condvar,
    /// How many group commits (`fdatasync`s of the log) ran.
    syncs: AtomicU64,
    events: broadcast::Sender<Arc<Event>>,
    /// Set while a background snapshot runs, so only one runs at a time.
    snapshotting: Arc<AtomicBool>,
}

/// What staging a write produced.
struct Staged<E> {
    /// The caller's answer once the wait is over.
    outcome: Result<Option<Arc<Event>>, E>,
    /// The revision that must be durable before answering: the staged write's own, or for
    /// an unchanged write or an error, the newest revision the decision looked at.
    wait_for: Revision,
}

impl Store {
    /// Opens the store in `dir` (created if missing), recovering every acknowledged write.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the directory cannot be used or a snapshot is corrupt.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Arc<Store>, StoreError> {
        let io = |e| StoreError::Io(format!("create {}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        let (snapshot_revision, snapshot) = wal::read_snapshot(&dir.join("snapshot"))?;
        let mut objects: Objects = snapshot
            .into_iter()
            .map(|r| {
                (
                    Arc::<str>::from(r.key),
                    Entry {
                        revision: r.revision,
                        value: r.value,
                    },
                )
            })
            .collect();
        let mut revision = snapshot_revision;
        let mut history = VecDeque::new();
        let segments = wal::segments(dir)?;
        let mut active = None;
        for (index, (_, path)) in segments.iter().enumerate() {
            let (log, records) = Wal::open(path)?;
            for record in records
                .into_iter()
                .filter(|r| r.revision > snapshot_revision)
            {
                revision = revision.max(record.revision);
                let key: Arc<str> = Arc::from(record.key.as_str());
                let prev = objects.get(&key).map(|e| e.value.clone());
                let kind = match record.op {
                    Op::Put if prev.is_some() => EventType::Modified,
                    Op::Put => EventType::Added,
                    Op::Delete => EventType::Deleted,
                };
                match record.op {
                    Op::Put => {
                        objects.insert(
                            key.clone(),
                            Entry {
                                revision: record.revision,
                                value: record.value.clone(),
                            },
                        );
                    }
                    Op::Delete => {
                        objects.remove(&key);
                    }
                }
                history.push_back(Arc::new(Event {
                    kind,
                    key,
                    revision: record.revision,
                    value: record.value,
                    prev,
                }));
            }
            if index + 1 == segments.len() {
                active = Some(log);
            }
        }
        let wal = match active {
            Some(log) => log,
            None => Wal::open(&wal::segment_path(dir, revision + 1))?.0,
        };
        let mut oldest_watchable = snapshot_revision;
        while history.len() > options.history {
            if let Some(dropped) = history.pop_front() {
                oldest_watchable = dropped.revision;
            }
        }
        let (events, _) = broadcast::channel(options.history.clamp(1024, 1 << 20));
        tracing::info!(dir = %dir.display(), revision, objects = objects.len(), "store opened");
        Ok(Arc::new(Store {
            dir: dir.to_owned(),
            options,
            writer: Mutex::new(Writer {
                wal,
                head: objects.clone(),
                head_revision: revision,
                staged: Vec::new(),
            }),
            state: RwLock::new(State {
                revision,
                objects,
                history,
                oldest_watchable,
                list_snapshots: BTreeMap::new(),
            }),
            commit: Mutex::new(Commit {
                durable: revision,
                syncing: false,
                failed: None,
            }),
            committed: Condvar::new(),
            syncs: AtomicU64::new(0),
            events,
            snapshotting: Arc::new(AtomicBool::new(false)),
        }))
    }

    /// The current revision (the revision of the last write).
    pub fn revision(&self) -> Revision {
        self.read_state().revision
    }

    /// How many keys are stored.
    pub fn len(&self) -> usize {
        self.read_state().objects.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry under `key`, if any.
    pub fn get(&self, key: &str) -> Option<Entry> {
        self.read_state().objects.get(key).cloned()
    }

    /// Lists the keys starting with `prefix`, in order, after `continue_after` when given,
    /// at most `limit` of them (0 = all).
    ///
    /// A first page (no `continue_after`) reads the current state. Following pages pass
    /// the `revision` of the first page and read the same snapshot, so a paged list is
    /// consistent even while writes go on.
    ///
    /// # Errors
    /// [`StoreError::Compacted`] when the snapshot of `at` has expired.
    pub fn list(
        &self,
        prefix: &str,
        continue_after: Option<&str>,
        at: Option<Revision>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let (objects, revision) = {
            let state = self.read_state();
            match at {
                None => (state.objects.clone(), state.revision),
                Some(at) if at == state.revision => (state.objects.clone(), at),
                Some(at) => match state.list_snapshots.get(&at) {
                    Some((objects, _)) => (objects.clone(), at),
                    None => {
                        return Err(StoreError::Compacted {
                            requested: at,
                            oldest: state.revision,
                        });
                    }
                },
            }
        };
        let start: Arc<str> = Arc::from(continue_after.unwrap_or(prefix));
        let mut items: Vec<(Arc<str>, Entry)> = Vec::new();
        let mut more = None;
        for (key, entry) in objects.range(start.clone()..) {
            if !key.starts_with(prefix) {
                break;
            }
            if continue_after.is_some_and(|after| **key == *after) {
                continue;
            }
            if limit > 0 && items.len() == limit {
                more = items.last().map(|(k, _)| k.clone());
                break;
            }
            items.push((key.clone(), entry.clone()));
        }
        if more.is_some() {
            let mut state = self.write_state();
            let ttl = self.options.list_snapshot_ttl;
            state
                .list_snapshots
                .retain(|_, (_, taken)| taken.elapsed() < ttl);
            state
                .list_snapshots
                .entry(revision)
                .or_insert_with(|| (objects, Instant::now()));
        }
        Ok(Page {
            items,
            revision,
            continue_after: more,
        })
    }

    /// Atomically reads and writes `key`: `decide` gets the current entry (if any) and the
    /// revision this write will have, and returns what to write or an error of its own.
    /// The write is durable, and visible to readers and watchers, when this returns `Ok`.
    ///
    /// `decide` runs under the writer lock: it must be quick and must not call the store.
    /// It sees every earlier write, including those still waiting for their sync; so that
    /// no answer depends on a write that could still be lost, an unchanged write or an
    /// error from `decide` is returned only once what it looked at is durable too.
    ///
    /// # Errors
    /// Whatever `decide` returns, or [`StoreError::Io`] (converted into `E`) when the write
    /// could not be made durable, in which case it was not acknowledged (and the store
    /// refuses further writes until reopened, see the module documentation).
    pub fn write<E, F>(&self, key: &str, decide: F) -> Result<Option<Arc<Event>>, E>
    where
        E: From<StoreError>,
        F: FnOnce(Option<&Entry>, Revision) -> Result<Write, E>,
    {
        let staged = self.stage(key, decide)?;
        self.wait_durable(staged.wait_for)?;
        staged.outcome
    }

    /// Runs `decide` and, when it writes, appends the record to the log (not yet synced)
    /// and applies it to the writer's view.
    fn stage<E, F>(&self, key: &str, decide: F) -> Result<Staged<E>, StoreError>
    where
        E: From<StoreError>,
        F: FnOnce(Option<&Entry>, Revision) -> Result<Write, E>,
    {
        self.refuse_if_failed()?;
        let mut guard = self.lock_writer();
        let writer = &mut *guard;
        let current = writer.head.get(key).cloned();
        let next_revision = writer.head_revision + 1;
        let observed = Staged {
            outcome: Ok(None),
            wait_for: writer.head_revision,
        };
        let exists = current.is_some();
        let (op, kind, value) = match decide(current.as_ref(), next_revision) {
            Err(error) => {
                return Ok(Staged {
                    outcome: Err(error),
                    ..observed
                });
            }
            Ok(Write::Unchanged) => return Ok(observed),
            Ok(Write::Put(value)) => (
                Op::Put,
                if exists {
                    EventType::Modified
                } else {
                    EventType::Added
                },
                value,
            ),
            Ok(Write::Delete(value)) => {
                if !exists {
                    return Ok(observed);
                }
                (Op::Delete, EventType::Deleted, value)
            }
        };
        // Held for as long as the object lives: an exact-size copy, since callers' buffers
        // (`serde_json::to_vec`) carry up to twice the bytes in spare capacity.
        let value = Bytes::copy_from_slice(&value);
        let record = Record {
            op,
            revision: next_revision,
            key: key.to_owned(),
            value: value.clone(),
        };
        if let Err(error) = writer.wal.append(std::slice::from_ref(&record)) {
            return Ok(Staged {
                outcome: Err(E::from(error)),
                ..observed
            });
        }
        let event = Arc::new(Event {
            kind,
            key: Arc::from(key),
            revision: next_revision,
            value,
            prev: current.map(|e| e.value),
        });
        match op {
            Op::Put => {
                writer.head.insert(
                    event.key.clone(),
                    Entry {
                        revision: next_revision,
                        value: event.value.clone(),
                    },
                );
            }
            Op::Delete => {
                writer.head.remove(key);
            }
        }
        writer.head_revision = next_revision;
        writer.staged.push(event.clone());
        if writer.wal.len() >= self.options.snapshot_after_bytes
            && !self.snapshotting.swap(true, Ordering::SeqCst)
        {
            // The write itself is unaffected if the snapshot cannot start: the log keeps
            // growing and the next write tries again.
            if let Err(error) = self.start_snapshot(writer) {
                tracing::error!(%error, "cannot start a snapshot");
            }
        }
        Ok(Staged {
            outcome: Ok(Some(event)),
            wait_for: next_revision,
        })
    }

    fn refuse_if_failed(&self) -> Result<(), StoreError> {
        match &self.lock_commit().failed {
            Some(failure) => Err(StoreError::Io(failure.clone())),
            None => Ok(()),
        }
    }

    /// Returns once every write up to `revision` is durable and published, syncing the
    /// log if no one else is.
    fn wait_durable(&self, revision: Revision) -> Result<(), StoreError> {
        {
            let commit = self.lock_commit();
            if let Some(failure) = &commit.failed {
                return Err(StoreError::Io(failure.clone()));
            }
            if commit.durable >= revision {
                return Ok(());
            }
        }
        off_the_runtime(|| {
            let mut commit = self.lock_commit();
            loop {
                if let Some(failure) = &commit.failed {
                    return Err(StoreError::Io(failure.clone()));
                }
                if commit.durable >= revision {
                    return Ok(());
                }
                if commit.syncing {
                    commit = self
                        .committed
                        .wait(commit)
                        .unwrap_or_else(|e| e.into_inner());
                    continue;
                }
                commit.syncing = true;
                drop(commit);
                let result = self.sync_and_publish();
                commit = self.lock_commit();
                commit.syncing = false;
                match result {
                    Ok(durable) => commit.durable = commit.durable.max(durable),
                    Err(error) => {
                        tracing::error!(%error, "the log could not be synced; refusing writes until restarted");
                        commit.failed = Some(error.to_string());
                    }
                }
                self.committed.notify_all();
            }
        })
    }

    /// The leader's work: one `fdatasync` covering every write staged so far, then their
    /// publication in revision order. Returns the revision now durable.
    fn sync_and_publish(&self) -> Result<Revision, StoreError> {
        let (file, path, revision, objects, events) = {
            let mut writer = self.lock_writer();
            let (file, path) = writer.wal.file();
            (
                file,
                path,
                writer.head_revision,
                writer.head.clone(),
                std::mem::take(&mut writer.staged),
            )
        };
        // Records in earlier segments were synced when the log rotated.
        wal::sync_file(&file, &path)?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        {
            let mut state = self.write_state();
            state.revision = revision;
            state.objects = objects;
            state.history.extend(events.iter().cloned());
            while state.history.len() > self.options.history {
                if let Some(dropped) = state.history.pop_front() {
                    state.oldest_watchable = dropped.revision;
                }
            }
        }
        for event in events {
            // No receivers is fine: nobody is watching.
            let _ = self.events.send(event);
        }
        Ok(revision)
    }

    /// How many times the log was synced for writes (group commits) since the store was
    /// opened: with concurrent writers, fewer than the writes.
    pub fn group_commits(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Starts watching keys with `prefix` for changes after revision `after`: events
    /// already in the history are replayed first, then live ones follow, in revision order.
    ///
    /// # Errors
    /// [`StoreError::Compacted`] when events after `after` are no longer all available
    /// (the client must list again), as Kubernetes answers `410 Gone`.
    pub fn watch(&self, prefix: &str, after: Revision) -> Result<Watch, StoreError> {
        let state = self.read_state();
        // Subscribe while holding the state lock: no write can slip between the history
        // copy and the subscription.
        let receiver = self.events.subscribe();
        if after < state.oldest_watchable {
            return Err(StoreError::Compacted {
                requested: after,
                oldest: state.oldest_watchable,
            });
        }
        let replay: VecDeque<Arc<Event>> = state
            .history
            .iter()
            .filter(|e| e.revision > after && e.key.starts_with(prefix))
            .cloned()
            .collect();
        Ok(Watch {
            prefix: prefix.to_owned(),
            replay,
            receiver,
            last: after,
            progress: after,
        })
    }

    /// Forgets watch history up to and including `revision` (as etcd compaction does), so
    /// watches from older revisions get [`StoreError::Compacted`]. List snapshots older
    /// than `revision` are dropped too.
    pub fn compact(&self, revision: Revision) {
        let mut state = self.write_state();
        let revision = revision.min(state.revision);
        while state
            .history
            .front()
            .is_some_and(|e| e.revision <= revision)
        {
            state.history.pop_front();
        }
        state.oldest_watchable = state.oldest_watchable.max(revision);
        state.list_snapshots.retain(|at, _| *at >= revision);
    }

    /// The oldest revision a watch can start from.
    pub fn oldest_watchable(&self) -> Revision {
        self.read_state().oldest_watchable
    }

    /// Rotates the log and writes a snapshot of the current objects in the background;
    /// once written, the segments it covers are deleted. The caller has set
    /// `snapshotting`; the background thread clears it.
    fn start_snapshot(&self, writer: &mut Writer) -> Result<(), StoreError> {
        // The snapshot holds every staged write, and the segments it replaces are deleted
        // afterwards: those writes must be durable in the old segment first.
        if let Err(error) = writer.wal.sync() {
            self.snapshotting.store(false, Ordering::SeqCst);
            return Err(error);
        }
        let (objects, revision) = (writer.head.clone(), writer.head_revision);
        let rotated = Wal::open(&wal::segment_path(&self.dir, revision + 1));
        let next = match rotated {
            Ok((next, _)) => next,
            Err(error) => {
                self.snapshotting.store(false, Ordering::SeqCst);
                return Err(error);
            }
        };
        writer.wal = next;
        let dir = self.dir.clone();
        let running = Arc::clone(&self.snapshotting);
        // A plain thread: the snapshot is disk-bound and may take a while.
        std::thread::spawn(move || {
            let result = wal::write_snapshot(
                &dir.join("snapshot"),
                revision,
                objects.iter().map(|(k, e)| (&**k, e.revision, &e.value)),
            )
            .and_then(|()| delete_segments_up_to(&dir, revision));
            if let Err(error) = result {
                tracing::error!(%error, "snapshot failed; the log keeps every record");
            }
            running.store(false, Ordering::SeqCst);
        });
        Ok(())
    }

    /// Whether a background snapshot is being written (for tests and benchmarks).
    pub fn snapshot_running(&self) -> bool {
        self.snapshotting.load(Ordering::SeqCst)
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_commit(&self) -> MutexGuard<'_, Commit> {
        self.commit.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_state(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs `wait`, which may block on the disk or on other writers, without holding up an
/// async worker thread: on a multi-threaded tokio runtime the worker's other tasks move to
/// another thread meanwhile. Elsewhere (a current-thread runtime, or no runtime) it simply
/// blocks, as any synchronous call would.
fn off_the_runtime<R>(wait: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(wait)
        }
        _ => wait(),
    }
}

/// Deletes every log segment whose records all have revisions at or below `revision`
/// (a segment ends where the next one starts).
fn delete_segments_up_to(dir: &Path, revision: Revision) -> Result<(), StoreError> {
    let segments = wal::segments(dir)?;
    for window in segments.windows(2) {
        let (_, path) = &window[0];
        let (next_first, _) = window[1];
        if next_first <= revision + 1 {
            std::fs::remove_file(path)
                .map_err(|e| StoreError::Io(format!("remove {}: {e}", path.display())))?;
        }
    }
    Ok(())
}

/// A stream of changes under a prefix, see [`Store::watch`].
#[derive(Debug)]
pub struct Watch {
    prefix: String,
    replay: VecDeque<Arc<Event>>,
    receiver: broadcast::Receiver<Arc<Event>>,
    last: Revision,
    /// Every change up to this revision has been seen by this watch (delivered or
    /// filtered out): a safe bookmark.
    progress: Revision,
}

impl Watch {
    /// The next change, in revision order.
    ///
    /// # Errors
    /// [`StoreError::Lagged`] when this watcher fell so far behind that events were lost;
    /// the caller must end the watch (clients then relist).
    pub async fn next(&mut self) -> Result<Arc<Event>, StoreError> {
        loop {
            let event = match self.replay.pop_front() {
                Some(event) => event,
                None => match self.receiver.recv().await {
                    Ok(event) => event,
                    Err(broadcast::error::RecvError::Lagged(_)) => return Err(StoreError::Lagged),
                    Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
                },
            };
            self.progress = self.progress.max(event.revision);
            // Live events may repeat what the replay already delivered.
            if event.revision <= self.last || !event.key.starts_with(&self.prefix) {
                continue;
            }
            self.last = event.revision;
            return Ok(event);
        }
    }

    /// A revision up to which this watch has seen every change: the resourceVersion a
    /// bookmark may carry. Only meaningful when [`Watch::next`] is not being awaited.
    pub fn progress(&self) -> Revision {
        self.progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(store: &Store, key: &str, value: &str) -> Revision {
        store
            .write::<StoreError, _>(key, |_, _| Ok(Write::Put(Bytes::from(value.to_owned()))))
            .unwrap()
            .unwrap()
            .revision
    }

    fn delete(store: &Store, key: &str) -> Option<Revision> {
        store
            .write::<StoreError, _>(key, |current, _| {
                Ok(current.map_or(Write::Unchanged, |e| Write::Delete(e.value.clone())))
            })
            .unwrap()
            .map(|e| e.revision)
    }

    fn open(dir: &Path) -> Arc<Store> {
        Store::open(dir, StoreOptions::default()).unwrap()
    }

    fn keys(page: &Page) -> Vec<&str> {
        page.items.iter().map(|(k, _)| &**k).collect()
    }

    #[test]
    fn every_write_gets_the_next_revision() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        assert_eq!(put(&store, "core/configmaps/a/x", "1"), 1);
        assert_eq!(put(&store, "core/configmaps/a/y", "2"), 2);
        assert_eq!(put(&store, "core/configmaps/a/x", "3"), 3);
        assert_eq!(
            store.get("core/configmaps/a/x"),
            Some(Entry {
                revision: 3,
                value: Bytes::from("3")
            })
        );
        assert_eq!(delete(&store, "core/configmaps/a/x"), Some(4));
        assert_eq!(store.get("core/configmaps/a/x"), None);
        assert_eq!(store.revision(), 4);
    }

    #[test]
    fn an_unchanged_write_consumes_no_revision_and_errors_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        put(&store, "k", "v");
        let unchanged = store
            .write::<StoreError, _>("k", |_, _| Ok(Write::Unchanged))
            .unwrap();
        assert!(unchanged.is_none());
        let refused = store.write::<StoreError, _>("k", |_, _| Err(StoreError::Lagged));
        assert!(refused.is_err());
        assert_eq!(store.revision(), 1);
        assert_eq!(delete(&store, "missing"), None);
    }

    #[test]
    fn the_write_closure_sees_the_current_entry_and_the_coming_revision() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        put(&store, "k", "v");
        store
            .write::<StoreError, _>("k", |current, next| {
                assert_eq!(current.map(|e| e.revision), Some(1));
                assert_eq!(next, 2);
                Ok(Write::Put(Bytes::from(format!("rv={next}"))))
            })
            .unwrap();
        assert_eq!(store.get("k").unwrap().value, Bytes::from("rv=2"));
    }

    #[test]
    fn lists_are_ordered_prefix_scoped_and_paged_consistently() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        for name in ["a", "b", "c", "d", "e"] {
            put(&store, &format!("core/configmaps/ns1/{name}"), name);
        }
        put(&store, "core/configmaps/ns2/z", "z");
        put(&store, "core/secrets/ns1/s", "s");
        let first = store.list("core/configmaps/ns1/", None, None, 2).unwrap();
        assert_eq!(
            keys(&first),
            ["core/configmaps/ns1/a", "core/configmaps/ns1/b"]
        );
        // Writes between pages do not show up in later pages.
        put(&store, "core/configmaps/ns1/bb", "new");
        delete(&store, "core/configmaps/ns1/e");
        let after = first.continue_after.clone().unwrap();
        let second = store
            .list(
                "core/configmaps/ns1/",
                Some(&after),
                Some(first.revision),
                2,
            )
            .unwrap();
        assert_eq!(
            keys(&second),
            ["core/configmaps/ns1/c", "core/configmaps/ns1/d"]
        );
        let after = second.continue_after.clone().unwrap();
        let third = store
            .list(
                "core/configmaps/ns1/",
                Some(&after),
                Some(first.revision),
                2,
            )
            .unwrap();
        assert_eq!(keys(&third), ["core/configmaps/ns1/e"]);
        assert!(third.continue_after.is_none());
        assert_eq!(second.revision, first.revision);
        let all = store.list("core/configmaps/", None, None, 0).unwrap();
        assert_eq!(all.items.len(), 6);
    }

    #[test]
    fn a_continue_from_an_expired_snapshot_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            list_snapshot_ttl: Duration::ZERO,
            ..Default::default()
        };
        let store = Store::open(dir.path(), options).unwrap();
        put(&store, "p/a", "1");
        put(&store, "p/b", "2");
        let first = store.list("p/", None, None, 1).unwrap();
        put(&store, "p/c", "3");
        put(&store, "p/d", "4"); // lists taken now expire the old snapshot
        let _ = store.list("p/", None, None, 1).unwrap();
        let result = store.list(
            "p/",
            first.continue_after.as_deref(),
            Some(first.revision),
            1,
        );
        assert!(
            matches!(result, Err(StoreError::Compacted { .. })),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_watch_replays_history_then_follows_live_changes_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        put(&store, "apps/deployments/ns/a", "1");
        put(&store, "core/pods/ns/p", "x");
        put(&store, "apps/deployments/ns/a", "2");
        let mut watch = store.watch("apps/deployments/", 1).unwrap();
        put(&store, "apps/deployments/ns/b", "3");
        delete(&store, "apps/deployments/ns/a");
        let mut seen = Vec::new();
        for _ in 0..3 {
            let event = watch.next().await.unwrap();
            seen.push((event.kind, event.key.to_string(), event.revision));
        }
        assert_eq!(
            seen,
            [
                (EventType::Modified, "apps/deployments/ns/a".into(), 3),
                (EventType::Added, "apps/deployments/ns/b".into(), 4),
                (EventType::Deleted, "apps/deployments/ns/a".into(), 5),
            ]
        );
    }

    #[tokio::test]
    async fn watching_from_a_compacted_revision_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        for i in 0..5 {
            put(&store, "k", &i.to_string());
        }
        store.compact(3);
        assert!(matches!(
            store.watch("", 2),
            Err(StoreError::Compacted {
                requested: 2,
                oldest: 3
            })
        ));
        let mut watch = store.watch("", 3).unwrap();
        assert_eq!(watch.next().await.unwrap().revision, 4);
    }

    #[tokio::test]
    async fn a_watcher_that_falls_behind_is_told_to_relist() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            history: 8,
            ..Default::default()
        };
        let store = Store::open(dir.path(), options).unwrap();
        let mut watch = store.watch("", 0).unwrap();
        // The channel holds at least 1024 events; overflow it.
        for i in 0..1100 {
            put(&store, "k", &i.to_string());
        }
        let mut result = Ok(());
        for _ in 0..1100 {
            if let Err(error) = watch.next().await {
                result = Err(error);
                break;
            }
        }
        assert_eq!(result, Err(StoreError::Lagged));
    }

    #[tokio::test]
    async fn everything_acknowledged_survives_a_restart_and_watches_resume() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(dir.path());
            put(&store, "a", "1");
            put(&store, "b", "2");
            delete(&store, "a");
            put(&store, "c", "3");
        }
        let store = open(dir.path());
        assert_eq!(store.revision(), 4);
        assert_eq!(store.get("a"), None);
        assert_eq!(
            store.get("c"),
            Some(Entry {
                revision: 4,
                value: Bytes::from("3")
            })
        );
        assert_eq!(
            put(&store, "d", "4"),
            5,
            "revisions keep increasing after a restart"
        );
        let mut watch = store.watch("", 2).unwrap();
        assert_eq!(watch.next().await.unwrap().kind, EventType::Deleted);
        assert_eq!(watch.next().await.unwrap().revision, 4);
        assert_eq!(watch.next().await.unwrap().revision, 5);
    }

    #[test]
    fn a_torn_tail_is_cut_and_earlier_writes_kept() {
        use std::os::unix::fs::FileExt;
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(dir.path());
            put(&store, "a", "1");
            put(&store, "b", "2");
        }
        let (_, segment) = wal::segments(dir.path()).unwrap().pop().unwrap();
        let end = Wal::open(&segment).unwrap().0.len();
        // A record header promising a payload that never made it to disk.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&segment)
            .unwrap();
        file.write_all_at(&[42, 0, 0, 0, 1, 2, 3, 9, 9], end)
            .unwrap();
        drop(file);
        let store = open(dir.path());
        assert_eq!(store.revision(), 2);
        let mut after = [0u8; 9];
        std::fs::File::open(&segment)
            .unwrap()
            .read_exact_at(&mut after, end)
            .unwrap();
        assert_eq!(after, [0; 9], "the torn bytes were cleared");
        assert_eq!(put(&store, "c", "3"), 3);
        drop(store);
        assert_eq!(open(dir.path()).get("c").unwrap().revision, 3);
    }

    fn stage_put(store: &Store, key: &str, value: &str) -> Revision {
        let staged = store
            .stage::<StoreError, _>(key, |_, _| Ok(Write::Put(Bytes::from(value.to_owned()))))
            .unwrap();
        assert!(matches!(staged.outcome, Ok(Some(_))));
        staged.wait_for
    }

    #[test]
    fn concurrent_writers_are_all_durable_after_one_group_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let mut watch = store.watch("", 0).unwrap();
        // Eight writers append their records; none has waited for its sync yet.
        let staged: Vec<Revision> = std::thread::scope(|scope| {
            let writers: Vec<_> = (0..8)
                .map(|i| {
                    let store = &store;
                    scope.spawn(move || stage_put(store, &format!("k{i}"), &i.to_string()))
                })
                .collect();
            writers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let mut sorted = staged.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=8).collect::<Vec<_>>());
        assert_eq!(
            store.revision(),
            0,
            "nothing is visible before it is durable"
        );
        assert!(store.get("k0").is_none());
        assert_eq!(store.list("", None, None, 0).unwrap().items.len(), 0);
        // They all wait at once: the first to find no sync running syncs for everyone.
        std::thread::scope(|scope| {
            for &revision in &staged {
                let store = &store;
                scope.spawn(move || store.wait_durable(revision).unwrap());
            }
        });
        assert_eq!(store.group_commits(), 1);
        assert_eq!(store.revision(), 8);
        assert_eq!(store.list("", None, None, 0).unwrap().items.len(), 8);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut seen = Vec::new();
        rt.block_on(async {
            for _ in 0..8 {
                seen.push(watch.next().await.unwrap().revision);
            }
        });
        assert_eq!(
            seen,
            (1..=8).collect::<Vec<_>>(),
            "published in revision order"
        );
        drop(store);
        let store = open(dir.path());
        assert_eq!(store.revision(), 8);
        for i in 0..8 {
            assert_eq!(
                store.get(&format!("k{i}")).unwrap().value,
                Bytes::from(i.to_string())
            );
        }
    }

    #[test]
    fn a_write_decides_on_the_staged_writes_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let first = stage_put(&store, "k", "1");
        let staged = store
            .stage::<StoreError, _>("k", |current, next| {
                assert_eq!(current.map(|e| e.revision), Some(first));
                assert_eq!(next, first + 1);
                Ok(Write::Put(Bytes::from("2")))
            })
            .unwrap();
        assert_eq!(staged.wait_for, 2);
        store.wait_durable(staged.wait_for).unwrap();
        assert_eq!(store.group_commits(), 1);
        assert_eq!(store.get("k").unwrap().value, Bytes::from("2"));
    }

    #[test]
    fn a_refusal_is_answered_only_once_what_it_looked_at_is_durable() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        stage_put(&store, "k", "1");
        // A conflict decided on a staged write must not be reported while that write could
        // still be lost: the refusal waits for its sync.
        let refused = store.write::<StoreError, _>("k", |current, _| {
            assert!(current.is_some());
            Err(StoreError::Lagged)
        });
        assert_eq!(refused, Err(StoreError::Lagged));
        assert_eq!(store.revision(), 1);
        let unchanged = store
            .write::<StoreError, _>("k", |_, _| Ok(Write::Unchanged))
            .unwrap();
        assert!(unchanged.is_none());
        assert_eq!(store.group_commits(), 1);
    }

    #[test]
    fn concurrent_writes_get_distinct_revisions_and_all_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let acknowledged: Vec<(String, Revision)> = std::thread::scope(|scope| {
            let writers: Vec<_> = (0..16)
                .map(|w| {
                    let store = &store;
                    scope.spawn(move || {
                        (0..25)
                            .map(|i| {
                                let key = format!("w{w:02}/{i:02}");
                                (key.clone(), put(store, &key, "v"))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            writers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        let mut revisions: Vec<Revision> = acknowledged.iter().map(|(_, r)| *r).collect();
        revisions.sort_unstable();
        assert_eq!(revisions, (1..=400).collect::<Vec<_>>());
        drop(store);
        let store = open(dir.path());
        for (key, revision) in &acknowledged {
            assert_eq!(store.get(key).map(|e| e.revision), Some(*revision), "{key}");
        }
    }

    #[test]
    fn snapshots_bound_the_log_and_recovery_uses_them() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            snapshot_after_bytes: 2048,
            ..Default::default()
        };
        {
            let store = Store::open(dir.path(), options.clone()).unwrap();
            for i in 0..200 {
                put(&store, &format!("k{:03}", i % 50), &"x".repeat(40));
                while store.snapshot_running() {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            delete(&store, "k007");
        }
        assert!(dir.path().join("snapshot").exists());
        assert!(
            wal::segments(dir.path()).unwrap().len() <= 2,
            "covered segments are deleted"
        );
        let store = Store::open(dir.path(), options).unwrap();
        assert_eq!(store.revision(), 201);
        assert_eq!(store.len(), 49);
        assert!(store.get("k007").is_none());
        assert_eq!(store.get("k049").unwrap().revision, 200);
    }
}
